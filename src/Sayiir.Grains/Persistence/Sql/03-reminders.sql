-- Sayiir: PostgreSQL schema for the Orleans ADO.NET providers, part 3 of 4: reminders
-- (Microsoft.Orleans.Reminders.AdoNet). Idempotent; needs 01-main.sql.
--
-- Contract with the provider:
--   parameters  @ServiceId text, @GrainId text, @ReminderName text, @StartTime timestamptz (UTC),
--               @Period int or bigint (milliseconds), @GrainHash int, @BeginHash int, @EndHash int, @Version int
--   read queries          -> columns GrainId, ReminderName, StartTime, Period (bigint), Version
--   UpsertReminderRowKey  -> column Version: the row's new version
--   DeleteReminderRowKey  -> one column, > 0 when the row with that version was deleted

CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    varchar(150)   NOT NULL,
    GrainId      varchar(1024)  NOT NULL,
    ReminderName varchar(150)   NOT NULL,
    StartTime    timestamptz(3) NOT NULL,
    Period       bigint         NOT NULL,
    GrainHash    integer        NOT NULL,
    Version      integer        NOT NULL,

    CONSTRAINT PK_RemindersTable_ServiceId_GrainId_ReminderName PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Upstream's varchar(150) is too short for grain ids built from long workflow instance ids ("type/key"):
-- widen it in tables created with that size (a catalog-only change, done once).
DO $widen$
BEGIN
    IF EXISTS (SELECT 1
                 FROM information_schema.columns
                WHERE table_schema = current_schema()
                  AND table_name = 'orleansreminderstable'
                  AND column_name = 'grainid'
                  AND character_maximum_length < 1024) THEN
        ALTER TABLE OrleansRemindersTable ALTER COLUMN GrainId TYPE varchar(1024);
    END IF;
END
$widen$;

-- Each silo loads the reminders of its ring range (ReadRangeRows1Key/ReadRangeRows2Key).
CREATE INDEX IF NOT EXISTS ix_orleansreminderstable_grainhash ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    'UpsertReminderRowKey',
    'INSERT INTO OrleansRemindersTable AS r (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
     VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
     ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
        SET StartTime = EXCLUDED.StartTime,
            Period    = EXCLUDED.Period,
            GrainHash = EXCLUDED.GrainHash,
            Version   = r.Version + 1
     RETURNING r.Version AS Version;'
),
(
    'ReadReminderRowsKey',
    'SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
       FROM OrleansRemindersTable AS r
      WHERE r.ServiceId = @ServiceId
        AND r.GrainId = @GrainId;'
),
(
    'ReadReminderRowKey',
    'SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
       FROM OrleansRemindersTable AS r
      WHERE r.ServiceId = @ServiceId
        AND r.GrainId = @GrainId
        AND r.ReminderName = @ReminderName;'
),
(
    -- Range (BeginHash, EndHash] when BeginHash < EndHash.
    'ReadRangeRows1Key',
    'SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
       FROM OrleansRemindersTable AS r
      WHERE r.ServiceId = @ServiceId
        AND r.GrainHash > @BeginHash
        AND r.GrainHash <= @EndHash;'
),
(
    -- Range that wraps around the ring: (BeginHash, max] and [min, EndHash].
    'ReadRangeRows2Key',
    'SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
       FROM OrleansRemindersTable AS r
      WHERE r.ServiceId = @ServiceId
        AND (r.GrainHash > @BeginHash OR r.GrainHash <= @EndHash);'
),
(
    'DeleteReminderRowKey',
    'WITH deleted AS (
         DELETE FROM OrleansRemindersTable AS r
          WHERE r.ServiceId = @ServiceId
            AND r.GrainId = @GrainId
            AND r.ReminderName = @ReminderName
            AND r.Version = @Version
         RETURNING 1)
     SELECT count(*)::integer AS row_count FROM deleted;'
),
(
    'DeleteReminderRowsKey',
    'DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;'
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
