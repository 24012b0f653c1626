-- Sayiir: PostgreSQL schema for the Orleans ADO.NET providers, part 2 of 4: grain storage
-- (Microsoft.Orleans.Persistence.AdoNet). Idempotent; needs 01-main.sql.
--
-- Contract with the provider:
--   parameters  @GrainIdHash int, @GrainIdN0 bigint, @GrainIdN1 bigint, @GrainTypeHash int,
--               @GrainTypeString text, @GrainIdExtensionString text (NULL for keys without one),
--               @ServiceId text, @GrainStateVersion int (NULL = never read/written), @PayloadBinary bytea
--   WriteToStorageKey   -> column NewGrainStateVersion: the new version, or the unchanged/NULL version on conflict
--   ReadFromStorageKey  -> columns PayloadBinary, Version (no row = no state)
--   ClearStorageKey     -> first column: the new version (no row = conflict)
--   DeleteStorageKey    -> first column: deleted version + 1 (no row = conflict)

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer       NOT NULL,
    GrainIdN0              bigint        NOT NULL,
    GrainIdN1              bigint        NOT NULL,
    GrainTypeHash          integer       NOT NULL,
    GrainTypeString        varchar(512)  NOT NULL,
    GrainIdExtensionString varchar(1024) NULL,
    ServiceId              varchar(150)  NOT NULL,
    PayloadBinary          bytea         NULL,
    ModifiedOn             timestamp     NOT NULL,
    Version                integer       NULL
);

-- The string part of a grain key (e.g. a workflow instance id) can be longer than upstream's varchar(512):
-- widen it in tables created with that size (a catalog-only change, done once).
DO $widen$
BEGIN
    IF EXISTS (SELECT 1
                 FROM information_schema.columns
                WHERE table_schema = current_schema()
                  AND table_name = 'orleansstorage'
                  AND column_name = 'grainidextensionstring'
                  AND character_maximum_length < 1024) THEN
        ALTER TABLE OrleansStorage ALTER COLUMN GrainIdExtensionString TYPE varchar(1024);
    END IF;
END
$widen$;

CREATE INDEX IF NOT EXISTS ix_orleansstorage ON OrleansStorage (GrainIdHash, GrainTypeHash);

-- Optimistic write. With an expected version, update the row holding exactly that version; without one (first
-- write), insert unless a row exists. First writers of the same grain are serialized by a transaction-scoped
-- advisory lock on the two hashes, so two racing inserts cannot both succeed (the table has no unique key:
-- the key columns are too wide for a btree index). Returns the new version, or the expected one (possibly NULL)
-- when nothing was written, which the provider reports as an InconsistentStateException.
CREATE OR REPLACE FUNCTION sayiir_orleans_write_storage(
    p_grain_id_hash   integer,
    p_grain_id_n0     bigint,
    p_grain_id_n1     bigint,
    p_grain_type_hash integer,
    p_grain_type      varchar,
    p_grain_id_ext    varchar,
    p_service_id      varchar,
    p_version         integer,
    p_payload         bytea)
    RETURNS integer
    LANGUAGE plpgsql
AS $body$
DECLARE
    v_new_version integer;
BEGIN
    IF p_version IS NOT NULL THEN
        UPDATE OrleansStorage AS s
           SET PayloadBinary = p_payload,
               ModifiedOn    = (now() AT TIME ZONE 'utc'),
               Version       = s.Version + 1
         WHERE s.GrainIdHash = p_grain_id_hash
           AND s.GrainTypeHash = p_grain_type_hash
           AND s.GrainIdN0 = p_grain_id_n0
           AND s.GrainIdN1 = p_grain_id_n1
           AND s.GrainTypeString = p_grain_type
           AND s.GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
           AND s.ServiceId = p_service_id
           AND s.Version = p_version
        RETURNING s.Version INTO v_new_version;
        RETURN coalesce(v_new_version, p_version);
    END IF;

    PERFORM pg_advisory_xact_lock(p_grain_id_hash, p_grain_type_hash);

    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
         ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type, p_grain_id_ext,
           p_service_id, p_payload, (now() AT TIME ZONE 'utc'), 1
     WHERE NOT EXISTS (
            SELECT 1
              FROM OrleansStorage AS s
             WHERE s.GrainIdHash = p_grain_id_hash
               AND s.GrainTypeHash = p_grain_type_hash
               AND s.GrainIdN0 = p_grain_id_n0
               AND s.GrainIdN1 = p_grain_id_n1
               AND s.GrainTypeString = p_grain_type
               AND s.GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
               AND s.ServiceId = p_service_id);
    IF FOUND THEN
        RETURN 1;
    END IF;
    RETURN NULL;
END
$body$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    'WriteToStorageKey',
    'SELECT sayiir_orleans_write_storage(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
        @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary) AS NewGrainStateVersion;'
),
(
    'ReadFromStorageKey',
    'SELECT s.PayloadBinary, s.Version
       FROM OrleansStorage AS s
      WHERE s.GrainIdHash = @GrainIdHash
        AND s.GrainTypeHash = @GrainTypeHash
        AND s.GrainIdN0 = @GrainIdN0
        AND s.GrainIdN1 = @GrainIdN1
        AND s.GrainTypeString = @GrainTypeString
        AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
        AND s.ServiceId = @ServiceId;'
),
(
    'ClearStorageKey',
    'UPDATE OrleansStorage AS s
        SET PayloadBinary = NULL,
            ModifiedOn    = (now() AT TIME ZONE ''utc''),
            Version       = s.Version + 1
      WHERE s.GrainIdHash = @GrainIdHash
        AND s.GrainTypeHash = @GrainTypeHash
        AND s.GrainIdN0 = @GrainIdN0
        AND s.GrainIdN1 = @GrainIdN1
        AND s.GrainTypeString = @GrainTypeString
        AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
        AND s.ServiceId = @ServiceId
        AND s.Version = @GrainStateVersion
  RETURNING s.Version AS NewGrainStateVersion;'
),
(
    'DeleteStorageKey',
    'DELETE FROM OrleansStorage AS s
      WHERE s.GrainIdHash = @GrainIdHash
        AND s.GrainTypeHash = @GrainTypeHash
        AND s.GrainIdN0 = @GrainIdN0
        AND s.GrainIdN1 = @GrainIdN1
        AND s.GrainTypeString = @GrainTypeString
        AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
        AND s.ServiceId = @ServiceId
        AND s.Version = @GrainStateVersion
  RETURNING s.Version + 1 AS NewGrainStateVersion;'
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
