-- Migration 4: versioned workflows side by side.
--
-- 1. The run listing also lists each run's definition: its version label (WorkflowVersion, absent for an unversioned
--    workflow) and hash (DefinitionHash), so "active runs per version" is one indexed query. The names are
--    RunStateStorage's (src/Sayiir.Grains/Persistence/RunStateStorage.cs); RunListingTests fail if they disagree. Both
--    are written before "Input" (JsonPropertyOrder on WorkflowRunState), so the bounded prefix still holds them.
--    Neither is required: a run stored before hashes were listed is listed with NULLs until its next write; this
--    migration lists the runs already stored.
-- 2. sayiir_definitions: the shape of every definition a silo has registered (by hash), kept after the definition is
--    removed from the code, so a run can still be checked and moved onto a newer version (ISayiirClient.UpgradeAsync).

ALTER TABLE OrleansStorage ADD COLUMN IF NOT EXISTS SayiirVersion text NULL;
ALTER TABLE OrleansStorage ADD COLUMN IF NOT EXISTS SayiirHash    text NULL;

-- The OUT columns change, which CREATE OR REPLACE cannot do: the trigger function calls it by name at run time, so
-- dropping and re-creating it inside this transaction leaves no gap.
DROP FUNCTION IF EXISTS sayiir_run_listing(bytea);

CREATE FUNCTION sayiir_run_listing(
    payload        bytea,
    OUT workflow   text,
    OUT status     smallint,
    OUT created_at timestamptz,
    OUT updated_at timestamptz,
    OUT whole      boolean,
    OUT version    text,
    OUT hash       text)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS
$fn$
DECLARE
    listed  CONSTANT text[] := ARRAY['WorkflowName', 'Status', 'CreatedAt', 'UpdatedAt'];
    doc     jsonb;
    head    integer;
    missing text;
BEGIN
    whole := false;
    -- As in migration 3: the prefix up to the first top-level "Input" member, looked for in the first 4 KB only.
    head := position('"Input":'::bytea IN substring(payload FROM 1 FOR 4096));
    IF head > 2 AND get_byte(payload, head - 2) = 44  -- ','
       AND position('{'::bytea IN substring(payload FROM 2 FOR head - 3)) = 0
       AND position('['::bytea IN substring(payload FROM 2 FOR head - 3)) = 0 THEN
        doc := convert_from(substring(payload FROM 1 FOR head - 2) || '}'::bytea, 'UTF8')::jsonb;
    END IF;
    IF doc IS NULL OR NOT doc ? 'Status' OR (doc ->> 'Status' <> '0' AND NOT doc ?& listed) THEN
        doc := convert_from(payload, 'UTF8')::jsonb;
        whole := true;
    END IF;
    IF NOT doc ? 'Status' THEN
        missing := '"Status"';
    ELSIF jsonb_typeof(doc -> 'Status') <> 'number' THEN
        RAISE EXCEPTION 'Sayiir run listing: the stored run state''s Status is %, not a number', doc -> 'Status'
            USING ERRCODE = 'data_exception';
    ELSIF doc ->> 'Status' <> '0' AND NOT doc ?& listed THEN
        SELECT string_agg(format('"%s"', p), ', ') INTO missing FROM unnest(listed) AS p WHERE NOT doc ? p;
    END IF;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'Sayiir run listing: the stored run state has no property %', missing
            USING ERRCODE = 'data_exception',
                  HINT = 'The engine that wrote it and this database''s listing trigger disagree on the stored shape: '
                      || 'a renamed run-state property needs a schema migration that updates sayiir_run_listing.';
    END IF;
    workflow   := doc ->> 'WorkflowName';
    status     := (doc ->> 'Status')::smallint;
    created_at := (doc ->> 'CreatedAt')::timestamptz;
    updated_at := (doc ->> 'UpdatedAt')::timestamptz;
    version    := doc ->> 'WorkflowVersion';
    hash       := doc ->> 'DefinitionHash';
END
$fn$;

CREATE OR REPLACE FUNCTION sayiir_run_listing_columns() RETURNS trigger
LANGUAGE plpgsql AS
$fn$
DECLARE
    listed record;
BEGIN
    IF NEW.PayloadBinary IS NULL THEN
        NEW.SayiirWorkflow  := NULL;
        NEW.SayiirStatus    := NULL;
        NEW.SayiirCreatedAt := NULL;
        NEW.SayiirUpdatedAt := NULL;
        NEW.SayiirVersion   := NULL;
        NEW.SayiirHash      := NULL;
        RETURN NEW;
    END IF;
    listed := sayiir_run_listing(NEW.PayloadBinary);
    NEW.SayiirWorkflow  := listed.workflow;
    NEW.SayiirStatus    := listed.status;
    NEW.SayiirCreatedAt := listed.created_at;
    NEW.SayiirUpdatedAt := listed.updated_at;
    NEW.SayiirVersion   := listed.version;
    NEW.SayiirHash      := listed.hash;
    RETURN NEW;
END
$fn$;

-- List the definition of the runs already stored. Updating the two new columns directly (not PayloadBinary) does not
-- fire the trigger, and leaves ETags and payloads untouched.
UPDATE OrleansStorage
   SET (SayiirVersion, SayiirHash) = (SELECT l.version, l.hash FROM sayiir_run_listing(PayloadBinary) AS l)
 WHERE GrainTypeString = 'sayiir-run' AND PayloadBinary IS NOT NULL;

-- Active runs per definition: a partial index over the runs that have not ended (Running 1, Waiting 2,
-- AwaitingSignal 3, Paused 4), small whatever the number of finished runs.
CREATE INDEX IF NOT EXISTS ix_sayiir_runs_active_definition
    ON OrleansStorage (ServiceId, SayiirWorkflow, SayiirHash)
    WHERE GrainTypeString = 'sayiir-run' AND SayiirStatus BETWEEN 1 AND 4;

CREATE TABLE IF NOT EXISTS sayiir_definitions
(
    service_id    varchar(150) NOT NULL,
    hash          text         NOT NULL,
    workflow      varchar(256) NOT NULL,
    version       text         NULL,
    shape         text         NOT NULL,
    registered_at timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, hash)
);
