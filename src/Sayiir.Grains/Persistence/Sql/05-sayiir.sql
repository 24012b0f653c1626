-- Sayiir's own objects, installed with the storage part.
--
-- Run listing: four columns on the run's state row, set by a trigger from the row's JSON payload inside the same
-- statement that writes the state, so a listed run always shows exactly its stored state, and listing costs no
-- extra write. Only rows of the run state (GrainTypeString = 'sayiir-run') are touched.
ALTER TABLE OrleansStorage ADD COLUMN IF NOT EXISTS SayiirWorkflow  varchar(256) NULL;
ALTER TABLE OrleansStorage ADD COLUMN IF NOT EXISTS SayiirStatus    smallint     NULL;
ALTER TABLE OrleansStorage ADD COLUMN IF NOT EXISTS SayiirCreatedAt timestamptz  NULL;
ALTER TABLE OrleansStorage ADD COLUMN IF NOT EXISTS SayiirUpdatedAt timestamptz  NULL;

-- Superseded by migration 3 (Migrations/0003-run-listing.sql), which points the trigger at sayiir_run_listing_columns():
-- this function is still created here, and no longer called once that migration has run.
CREATE OR REPLACE FUNCTION sayiir_run_columns() RETURNS trigger
LANGUAGE plpgsql AS
$fn$
DECLARE
    doc jsonb;
    head integer;
BEGIN
    IF NEW.PayloadBinary IS NULL THEN
        NEW.SayiirStatus := NULL;
        RETURN NEW;
    END IF;
    -- The engine writes the listed fields first, then "Input". Parse only that prefix: a whole state may hold large
    -- outputs. The marker cannot occur earlier, inside a string value, because quotes there are escaped. A state
    -- in another layout (an older writer) lacks "UpdatedAt" in the prefix and is parsed whole.
    head := position('"Input":'::bytea IN NEW.PayloadBinary);
    IF head > 2 AND get_byte(NEW.PayloadBinary, head - 2) = 44 THEN
        doc := convert_from(substring(NEW.PayloadBinary FROM 1 FOR head - 2) || '}'::bytea, 'UTF8')::jsonb;
    END IF;
    IF doc IS NULL OR NOT doc ? 'UpdatedAt' THEN
        doc := convert_from(NEW.PayloadBinary, 'UTF8')::jsonb;
    END IF;
    NEW.SayiirWorkflow  := doc ->> 'WorkflowName';
    NEW.SayiirStatus    := (doc ->> 'Status')::smallint;
    NEW.SayiirCreatedAt := (doc ->> 'CreatedAt')::timestamptz;
    NEW.SayiirUpdatedAt := (doc ->> 'UpdatedAt')::timestamptz;
    RETURN NEW;
END
$fn$;

DO $trigger$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'sayiir_run_columns'
                      AND tgrelid = 'orleansstorage'::regclass) THEN
        CREATE TRIGGER sayiir_run_columns
            BEFORE INSERT OR UPDATE OF PayloadBinary ON OrleansStorage
            FOR EACH ROW WHEN (NEW.GrainTypeString = 'sayiir-run')
            EXECUTE FUNCTION sayiir_run_columns();
    END IF;
END
$trigger$;

-- Keyset paging newest first, with or without a workflow or state filter. Partial: only run rows are indexed.
-- The updated-at column is deliberately not indexed, so ordinary checkpoints stay HOT updates.
CREATE INDEX IF NOT EXISTS ix_sayiir_runs_created
    ON OrleansStorage (ServiceId, SayiirCreatedAt DESC, GrainIdExtensionString DESC) WHERE GrainTypeString = 'sayiir-run';
CREATE INDEX IF NOT EXISTS ix_sayiir_runs_workflow
    ON OrleansStorage (ServiceId, SayiirWorkflow, SayiirCreatedAt DESC, GrainIdExtensionString DESC) WHERE GrainTypeString = 'sayiir-run';
CREATE INDEX IF NOT EXISTS ix_sayiir_runs_status
    ON OrleansStorage (ServiceId, SayiirStatus, SayiirCreatedAt DESC, GrainIdExtensionString DESC) WHERE GrainTypeString = 'sayiir-run';

-- Run history: append-only, one row per event, in insertion order.
CREATE TABLE IF NOT EXISTS sayiir_history
(
    id          bigserial        PRIMARY KEY,
    service_id  varchar(150)     NOT NULL,
    instance_id varchar(1024)    NOT NULL,
    at          timestamptz      NOT NULL,
    kind        smallint         NOT NULL,
    task_id     text             NULL,
    attempt     integer          NULL,
    duration_ms double precision NULL,
    detail      text             NULL,
    error_type  text             NULL,
    message     text             NULL
);

-- A completed task's output is archived here; the run's state then drops it once no later step needs it, so a
-- checkpoint rewrites what the continuation needs, not the run's whole past.
ALTER TABLE sayiir_history ADD COLUMN IF NOT EXISTS output bytea NULL;

CREATE INDEX IF NOT EXISTS ix_sayiir_history_run ON sayiir_history (service_id, instance_id, id);

