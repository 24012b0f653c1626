-- Sayiir: PostgreSQL schema for the Orleans ADO.NET providers, part 1 of 4 (always installed).
--
-- The Orleans ADO.NET providers (clustering, grain storage, reminders) issue no SQL of their own: at start-up
-- each one reads `SELECT QueryKey, QueryText FROM OrleansQuery` and runs the query texts it finds there, binding
-- named parameters (@GrainIdHash, @DeploymentId, ...) and reading result columns by name. The files of this
-- folder create the tables those texts use and (re)write the texts.
--
-- Every statement is idempotent (IF NOT EXISTS / CREATE OR REPLACE / upsert of the query texts), so the whole
-- set can be re-run at every start-up; PostgresSchemaInstaller runs it in one transaction under an advisory lock.
-- Our helper functions are named sayiir_orleans_* so they never clash with functions left by Orleans' own
-- upstream scripts in a database that was set up with those.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL,
    QueryText varchar(8000) NOT NULL,

    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);
