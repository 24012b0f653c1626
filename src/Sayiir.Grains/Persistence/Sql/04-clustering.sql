-- Sayiir: PostgreSQL schema for the Orleans ADO.NET providers, part 4 of 4: cluster membership
-- (Microsoft.Orleans.Clustering.AdoNet). Idempotent; needs 01-main.sql.
--
-- Contract with the provider:
--   parameters  @DeploymentId text, @Address text, @Port int, @Generation int, @SiloName text, @HostName text,
--               @Status int, @ProxyPort int, @SuspectTimes text, @StartTime timestamptz (UTC),
--               @IAmAliveTime timestamptz (UTC), @Version int (the table version the silo last read)
--   read queries -> columns DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort,
--                   SuspectTimes, StartTime, IAmAliveTime, Version; the version row is returned even when no
--                   silo row matches (membership columns NULL)
--   InsertMembershipVersionKey, InsertMembershipKey, UpdateMembershipKey -> one column, > 0 on success
--   GatewaysQueryKey -> columns Address, ProxyPort, Generation

-- One row per cluster (DeploymentId = ClusterId); Version is bumped by every membership change.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150)   NOT NULL,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer        NOT NULL DEFAULT 0,

    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation.
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150)   NOT NULL,
    Address      varchar(45)    NOT NULL,
    Port         integer        NOT NULL,
    Generation   integer        NOT NULL,
    SiloName     varchar(150)   NOT NULL,
    HostName     varchar(150)   NOT NULL,
    Status       integer        NOT NULL,
    ProxyPort    integer        NULL,
    SuspectTimes varchar(8000)  NULL,
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,

    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Inserts a silo row if the table version is still p_version and the row does not exist yet, then bumps the
-- version. The version row is locked first, so concurrent membership changes of a cluster are serialized.
-- Returns 1 on success, 0 otherwise (nothing changed).
CREATE OR REPLACE FUNCTION sayiir_orleans_insert_membership(
    p_deployment_id  varchar,
    p_address        varchar,
    p_port           integer,
    p_generation     integer,
    p_silo_name      varchar,
    p_host_name      varchar,
    p_status         integer,
    p_proxy_port     integer,
    p_start_time     timestamptz,
    p_i_am_alive     timestamptz,
    p_version        integer)
    RETURNS integer
    LANGUAGE plpgsql
AS $body$
DECLARE
    v_current integer;
BEGIN
    SELECT v.Version INTO v_current
      FROM OrleansMembershipVersionTable AS v
     WHERE v.DeploymentId = p_deployment_id
       FOR UPDATE;
    IF NOT FOUND OR v_current IS DISTINCT FROM p_version THEN
        RETURN 0;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port,
         p_start_time, p_i_am_alive)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipVersionTable AS v
       SET Timestamp = now(),
           Version   = v.Version + 1
     WHERE v.DeploymentId = p_deployment_id;
    RETURN 1;
END
$body$;

-- Updates a silo row if the table version is still p_version and the row exists, then bumps the version.
-- Returns 1 on success, 0 otherwise (nothing changed).
CREATE OR REPLACE FUNCTION sayiir_orleans_update_membership(
    p_deployment_id  varchar,
    p_address        varchar,
    p_port           integer,
    p_generation     integer,
    p_status         integer,
    p_suspect_times  varchar,
    p_i_am_alive     timestamptz,
    p_version        integer)
    RETURNS integer
    LANGUAGE plpgsql
AS $body$
DECLARE
    v_current integer;
BEGIN
    SELECT v.Version INTO v_current
      FROM OrleansMembershipVersionTable AS v
     WHERE v.DeploymentId = p_deployment_id
       FOR UPDATE;
    IF NOT FOUND OR v_current IS DISTINCT FROM p_version THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipTable AS m
       SET Status       = p_status,
           SuspectTimes = p_suspect_times,
           IAmAliveTime = p_i_am_alive
     WHERE m.DeploymentId = p_deployment_id
       AND m.Address = p_address
       AND m.Port = p_port
       AND m.Generation = p_generation;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipVersionTable AS v
       SET Timestamp = now(),
           Version   = v.Version + 1
     WHERE v.DeploymentId = p_deployment_id;
    RETURN 1;
END
$body$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    'InsertMembershipVersionKey',
    'WITH inserted AS (
         INSERT INTO OrleansMembershipVersionTable (DeploymentId)
         VALUES (@DeploymentId)
         ON CONFLICT (DeploymentId) DO NOTHING
         RETURNING 1)
     SELECT count(*)::integer AS row_count FROM inserted;'
),
(
    'InsertMembershipKey',
    'SELECT sayiir_orleans_insert_membership(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
        @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS row_count;'
),
(
    'UpdateMembershipKey',
    'SELECT sayiir_orleans_update_membership(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
        @IAmAliveTime, @Version) AS row_count;'
),
(
    -- Never expected to fail; the result is not checked.
    'UpdateIAmAlivetimeKey',
    'UPDATE OrleansMembershipTable AS m
        SET IAmAliveTime = @IAmAliveTime
      WHERE m.DeploymentId = @DeploymentId
        AND m.Address = @Address
        AND m.Port = @Port
        AND m.Generation = @Generation;'
),
(
    'MembershipReadRowKey',
    'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
            m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
       FROM OrleansMembershipVersionTable AS v
       LEFT JOIN OrleansMembershipTable AS m
              ON m.DeploymentId = v.DeploymentId
             AND m.Address = @Address
             AND m.Port = @Port
             AND m.Generation = @Generation
      WHERE v.DeploymentId = @DeploymentId;'
),
(
    'MembershipReadAllKey',
    'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
            m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
       FROM OrleansMembershipVersionTable AS v
       LEFT JOIN OrleansMembershipTable AS m ON m.DeploymentId = v.DeploymentId
      WHERE v.DeploymentId = @DeploymentId;'
),
(
    'DeleteMembershipTableEntriesKey',
    'DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
     DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;'
),
(
    -- Active silos only (@Status = 3) that accept client connections.
    'GatewaysQueryKey',
    'SELECT m.Address, m.ProxyPort, m.Generation
       FROM OrleansMembershipTable AS m
      WHERE m.DeploymentId = @DeploymentId
        AND m.Status = @Status
        AND m.ProxyPort > 0;'
),
(
    -- Removes rows of silos that are not Active (3) and have not reported alive since @IAmAliveTime.
    'CleanupDefunctSiloEntriesKey',
    'DELETE FROM OrleansMembershipTable
      WHERE DeploymentId = @DeploymentId
        AND IAmAliveTime < @IAmAliveTime
        AND Status <> 3;'
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
