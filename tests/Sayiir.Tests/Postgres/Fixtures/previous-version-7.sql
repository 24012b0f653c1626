--
-- PostgreSQL database dump
--

\restrict n5n76W6fLjJSSDDyQIsLwRom7MPUP0aLYaJ1AByLcg7dXnZ0znfiD6AuMizMO5u

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: sayiir_orleans_write_storage(integer, bigint, bigint, integer, character varying, character varying, character varying, integer, bytea); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.sayiir_orleans_write_storage(p_grain_id_hash integer, p_grain_id_n0 bigint, p_grain_id_n1 bigint, p_grain_type_hash integer, p_grain_type character varying, p_grain_id_ext character varying, p_service_id character varying, p_version integer, p_payload bytea) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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
$$;


--
-- Name: sayiir_run_columns(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.sayiir_run_columns() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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
$$;


--
-- Name: sayiir_run_listing(bytea); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.sayiir_run_listing(payload bytea, OUT workflow text, OUT status smallint, OUT created_at timestamp with time zone, OUT updated_at timestamp with time zone, OUT whole boolean, OUT version text, OUT hash text) RETURNS record
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
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
$$;


--
-- Name: sayiir_run_listing_columns(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.sayiir_run_listing_columns() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: orleansquery; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orleansquery (
    querykey character varying(64) NOT NULL,
    querytext character varying(8000) NOT NULL
);


--
-- Name: orleansreminderstable; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orleansreminderstable (
    serviceid character varying(150) NOT NULL,
    grainid character varying(1024) NOT NULL,
    remindername character varying(150) NOT NULL,
    starttime timestamp(3) with time zone NOT NULL,
    period bigint NOT NULL,
    grainhash integer NOT NULL,
    version integer NOT NULL
);


--
-- Name: orleansstorage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orleansstorage (
    grainidhash integer NOT NULL,
    grainidn0 bigint NOT NULL,
    grainidn1 bigint NOT NULL,
    graintypehash integer NOT NULL,
    graintypestring character varying(512) NOT NULL,
    grainidextensionstring character varying(1024),
    serviceid character varying(150) NOT NULL,
    payloadbinary bytea,
    modifiedon timestamp without time zone NOT NULL,
    version integer,
    sayiirworkflow character varying(256),
    sayiirstatus smallint,
    sayiircreatedat timestamp with time zone,
    sayiirupdatedat timestamp with time zone,
    sayiirversion text,
    sayiirhash text
);


--
-- Name: sayiir_definitions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sayiir_definitions (
    service_id character varying(150) NOT NULL,
    hash text NOT NULL,
    workflow character varying(256) NOT NULL,
    version text,
    shape text NOT NULL,
    registered_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: sayiir_history; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sayiir_history (
    id bigint NOT NULL,
    service_id character varying(150) NOT NULL,
    instance_id character varying(1024) NOT NULL,
    at timestamp with time zone NOT NULL,
    kind smallint NOT NULL,
    task_id text,
    attempt integer,
    duration_ms double precision,
    detail text,
    error_type text,
    message text,
    output bytea,
    seq bigint
);


--
-- Name: sayiir_history_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.sayiir_history_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: sayiir_history_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.sayiir_history_id_seq OWNED BY public.sayiir_history.id;


--
-- Name: sayiir_schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sayiir_schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: sayiir_history id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sayiir_history ALTER COLUMN id SET DEFAULT nextval('public.sayiir_history_id_seq'::regclass);


--
-- Data for Name: orleansquery; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.orleansquery VALUES
	('WriteToStorageKey', 'SELECT sayiir_orleans_write_storage(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
        @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary) AS NewGrainStateVersion;'),
	('ReadFromStorageKey', 'SELECT s.PayloadBinary, s.Version
       FROM OrleansStorage AS s
      WHERE s.GrainIdHash = @GrainIdHash
        AND s.GrainTypeHash = @GrainTypeHash
        AND s.GrainIdN0 = @GrainIdN0
        AND s.GrainIdN1 = @GrainIdN1
        AND s.GrainTypeString = @GrainTypeString
        AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
        AND s.ServiceId = @ServiceId;'),
	('ClearStorageKey', 'UPDATE OrleansStorage AS s
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
  RETURNING s.Version AS NewGrainStateVersion;'),
	('DeleteStorageKey', 'DELETE FROM OrleansStorage AS s
      WHERE s.GrainIdHash = @GrainIdHash
        AND s.GrainTypeHash = @GrainTypeHash
        AND s.GrainIdN0 = @GrainIdN0
        AND s.GrainIdN1 = @GrainIdN1
        AND s.GrainTypeString = @GrainTypeString
        AND s.GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
        AND s.ServiceId = @ServiceId
        AND s.Version = @GrainStateVersion
  RETURNING s.Version + 1 AS NewGrainStateVersion;'),
	('UpsertReminderRowKey', 'INSERT INTO OrleansRemindersTable AS r (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
     VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
     ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
        SET StartTime = EXCLUDED.StartTime,
            Period    = EXCLUDED.Period,
            GrainHash = EXCLUDED.GrainHash,
            Version   = r.Version + 1
     RETURNING r.Version AS Version;'),
	('ReadReminderRowsKey', 'SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
       FROM OrleansRemindersTable AS r
      WHERE r.ServiceId = @ServiceId
        AND r.GrainId = @GrainId;'),
	('ReadReminderRowKey', 'SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
       FROM OrleansRemindersTable AS r
      WHERE r.ServiceId = @ServiceId
        AND r.GrainId = @GrainId
        AND r.ReminderName = @ReminderName;'),
	('ReadRangeRows1Key', 'SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
       FROM OrleansRemindersTable AS r
      WHERE r.ServiceId = @ServiceId
        AND r.GrainHash > @BeginHash
        AND r.GrainHash <= @EndHash;'),
	('ReadRangeRows2Key', 'SELECT r.GrainId, r.ReminderName, r.StartTime, r.Period, r.Version
       FROM OrleansRemindersTable AS r
      WHERE r.ServiceId = @ServiceId
        AND (r.GrainHash > @BeginHash OR r.GrainHash <= @EndHash);'),
	('DeleteReminderRowKey', 'WITH deleted AS (
         DELETE FROM OrleansRemindersTable AS r
          WHERE r.ServiceId = @ServiceId
            AND r.GrainId = @GrainId
            AND r.ReminderName = @ReminderName
            AND r.Version = @Version
         RETURNING 1)
     SELECT count(*)::integer AS row_count FROM deleted;'),
	('DeleteReminderRowsKey', 'DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;');


--
-- Data for Name: orleansreminderstable; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.orleansreminderstable VALUES
	('sayiir-upgrade-fixture', 'workflow/upgrade-awaiting', 'sayiir-recovery', '2026-12-02 18:48:12.998+00', 1000, 1458719650, 0),
	('sayiir-upgrade-fixture', 'workflow/upgrade-buffered', 'sayiir-recovery', '2026-12-02 18:48:13.077+00', 1000, 399930185, 0),
	('sayiir-upgrade-fixture', 'workflow/upgrade-napping', 'sayiir-recovery', '2026-12-02 18:48:13.169+00', 1000, -2132711313, 0),
	('sayiir-upgrade-fixture', 'workflow/upgrade-fork', 'sayiir-recovery', '2026-12-02 18:48:13.714+00', 1000, 707266389, 0),
	('sayiir-upgrade-fixture', 'workflow/upgrade-short-nap', 'sayiir-recovery', '2026-12-02 18:48:13.861+00', 1000, -369959840, 0);


--
-- Data for Name: orleansstorage; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.orleansstorage VALUES
	(-1865916230, 0, 0, 1482883450, 'sayiir-run', 'upgrade-completed', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f617070726f76616c222c22446566696e6974696f6e48617368223a22666233363933333861353362303766303830653139376239222c22537461747573223a352c22437265617465644174223a22323032362d31322d30325431383a34383a31302e373933363335332b30303a3030222c22557064617465644174223a22323032362d31322d30325431383a34383a31312e3633343933322b30303a3030222c22496e707574223a22496d4d69222c224f7574707574223a22496d4e76626d5a70636d316c5a4342696553426962324969222c224f757470757473223a7b2266696e697368223a22496d4e76626d5a70636d316c5a4342696553426962324969227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2262663030373232322d393264612d346561302d623537312d653738376365616635303364222c22446f6e65223a5b2270726570617265222c22636865636b222c22776169745f617070726f7665222c22617070726f766564222c22776169745f636f6e6669726d222c2266696e697368225d2c224e6578744576656e74536571223a31372c2250656e64696e674576656e7473223a5b7b22536571223a31322c224576656e74223a7b224174223a22323032362d31322d30325431383a34383a31312e353835393235352b30303a3030222c224b696e64223a372c225461736b4964223a22776169745f636f6e6669726d222c2244657461696c223a22636f6e6669726d222c2253657175656e6365223a302c2253757065727365646564223a66616c73657d7d2c7b22536571223a31332c224576656e74223a7b224174223a22323032362d31322d30325431383a34383a31312e353835393237362b30303a3030222c224b696e64223a31362c225461736b4964223a22776169745f636f6e6669726d222c2244657461696c223a22636f6e6669726d222c2253657175656e6365223a302c2253757065727365646564223a66616c73657d2c224f7574707574223a22496d4a765969493d227d2c7b22536571223a31342c224576656e74223a7b224174223a22323032362d31322d30325431383a34383a31312e363131303138392b30303a3030222c224b696e64223a312c225461736b4964223a2266696e697368222c22417474656d7074223a312c2253657175656e6365223a302c2253757065727365646564223a66616c73657d7d2c7b22536571223a31352c224576656e74223a7b224174223a22323032362d31322d30325431383a34383a31312e3631323134342b30303a3030222c224b696e64223a322c225461736b4964223a2266696e697368222c22417474656d7074223a312c224475726174696f6e223a2230303a30303a30302e30303033323330222c2253657175656e6365223a302c2253757065727365646564223a66616c73657d7d2c7b22536571223a31362c224576656e74223a7b224174223a22323032362d31322d30325431383a34383a31312e363334393138352b30303a3030222c224b696e64223a31312c2253657175656e6365223a302c2253757065727365646564223a66616c73657d7d5d2c2252756e4964223a2234356565313439612d633365362d343764302d613461312d346431643064623831613038222c225265776f756e64223a7b7d2c22556e646f223a5b5d2c22436f6d70656e736174696e67223a66616c73652c22556e646f4661696c6564223a5b5d7d', '2026-12-02 18:48:11.668527', 7, 'upgrade_approval', 5, '2026-12-02 18:48:10.793635+00', '2026-12-02 18:48:11.634932+00', NULL, 'fb369338a53b07f080e197b9'),
	(-1714943150, 0, 0, 1482883450, 'sayiir-run', 'upgrade-failed', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f617070726f76616c222c22446566696e6974696f6e48617368223a22666233363933333861353362303766303830653139376239222c22537461747573223a362c22437265617465644174223a22323032362d31322d30325431383a34383a31312e373739303235362b30303a3030222c22557064617465644174223a22323032362d31322d30325431383a34383a31312e383638323135342b30303a3030222c22496e707574223a22496d5969222c224f757470757473223a7b2270726570617265223a22496d5a3863484a6c634746795a575169227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b7d2c224661696c757265223a7b225461736b4964223a22636865636b222c22417474656d7074223a312c224572726f7254797065223a2253797374656d2e496e76616c69644f7065726174696f6e457863657074696f6e222c224d657373616765223a22636865636b207265667573656420667c7072657061726564222c22537461636b5472616365223a222020206174205361796969722e54657374732e496e6672617374727563747572652e55706772616465466c6f77732e5c75303033435c7530303345632e5c75303033432e6363746f725c7530303345625f5f385f3128537472696e6720732c205461736b436f6e74657874206374782920696e202f776f726b2f77742d66697874757265372f74657374732f5361796969722e54657374732f496e6672617374727563747572652f55706772616465466c6f77732e63733a6c696e652032345c6e2020206174205361796969722e466c6f774275696c6465725c7530303630322e5c75303033435c7530303345635f5f446973706c6179436c617373395f305c7530303630312e5c75303033435c75303033435468656e5c7530303345625f5f305c7530303345642e4d6f76654e657874282920696e202f776f726b2f77742d66697874757265372f7372632f5361796969722e4162737472616374696f6e732f446566696e6974696f6e732f466c6f772e63733a6c696e652035385c6e2d2d2d20456e64206f6620737461636b2074726163652066726f6d2070726576696f7573206c6f636174696f6e202d2d2d5c6e2020206174205361796969722e52756e74696d652e417474656d70744578656375746f722e52756e55736572436f64654173796e63285461736b417474656d70745265717565737420726571756573742c205461736b4e6f6465206e6f64652c204f626a65637420696e7075742c204f626a656374207461736b4f75747075742c205461736b417474656d70744c6f67676572206c6f676765722c2043616e63656c6c6174696f6e546f6b656e2063616e63656c6c6174696f6e546f6b656e2920696e202f776f726b2f77742d66697874757265372f7372632f5361796969722e477261696e732f52756e74696d652f5461736b576f726b6572477261696e2e63733a6c696e6520323833222c224174223a22323032362d31322d30325431383a34383a31312e383339303535372b30303a3030227d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2264333732623131332d616533362d343766622d393031352d326664636637376237396337222c22446f6e65223a5b2270726570617265225d2c224e6578744576656e74536571223a372c2250656e64696e674576656e7473223a5b7b22536571223a342c224576656e74223a7b224174223a22323032362d31322d30325431383a34383a31312e3833303937382b30303a3030222c224b696e64223a312c225461736b4964223a22636865636b222c22417474656d7074223a312c2253657175656e6365223a302c2253757065727365646564223a66616c73657d7d2c7b22536571223a352c224576656e74223a7b224174223a22323032362d31322d30325431383a34383a31312e383636333030372b30303a3030222c224b696e64223a332c225461736b4964223a22636865636b222c22417474656d7074223a312c224475726174696f6e223a2230303a30303a30302e30323834333330222c224572726f7254797065223a2253797374656d2e496e76616c69644f7065726174696f6e457863657074696f6e222c224d657373616765223a22636865636b207265667573656420667c7072657061726564222c2253657175656e6365223a302c2253757065727365646564223a66616c73657d7d2c7b22536571223a362c224576656e74223a7b224174223a22323032362d31322d30325431383a34383a31312e383638323037342b30303a3030222c224b696e64223a31322c225461736b4964223a22636865636b222c22417474656d7074223a312c224572726f7254797065223a2253797374656d2e496e76616c69644f7065726174696f6e457863657074696f6e222c224d657373616765223a22636865636b207265667573656420667c7072657061726564222c2253657175656e6365223a302c2253757065727365646564223a66616c73657d7d5d2c2252756e4964223a2262363266613366382d623661362d343433622d623764662d626136363838653465666433222c225265776f756e64223a7b7d2c22556e646f223a5b5d2c22436f6d70656e736174696e67223a66616c73652c22556e646f4661696c6564223a5b5d7d', '2026-12-02 18:48:11.904578', 3, 'upgrade_approval', 6, '2026-12-02 18:48:11.779026+00', '2026-12-02 18:48:11.868215+00', NULL, 'fb369338a53b07f080e197b9'),
	(-1603822975, 0, 0, 1482883450, 'sayiir-run', 'upgrade-short-nap', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f73686f72745f6e6170222c22446566696e6974696f6e48617368223a22303933363234373961316131353738646435346134653565222c22537461747573223a322c22437265617465644174223a22323032362d31322d30325431383a34383a31322e383532363936392b30303a3030222c22557064617465644174223a22323032362d31322d30325431383a34383a31332e333933323232362b30303a3030222c22496e707574223a22496e4d69222c224f757470757473223a7b226265666f72655f6e6170223a22496e4e3864476c795a575169227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b226e6170223a22323032362d31322d30325431383a34383a34322e383535363134332b30303a3030227d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2238616466653531612d613234392d346433652d383930392d636135616366316566613262222c22446f6e65223a5b226265666f72655f6e6170225d2c224e6578744576656e74536571223a352c2250656e64696e674576656e7473223a5b5d2c2252756e4964223a2261366639303966392d323630372d343833372d383262312d653532616666383464616539222c225265776f756e64223a7b7d2c22556e646f223a5b5d2c22436f6d70656e736174696e67223a66616c73652c22556e646f4661696c6564223a5b5d7d', '2026-12-02 18:48:13.396174', 3, 'upgrade_short_nap', 2, '2026-12-02 18:48:12.852697+00', '2026-12-02 18:48:13.393223+00', NULL, '09362479a1a1578dd54a4e5e'),
	(478415279, 0, 0, 1482883450, 'sayiir-run', 'upgrade-awaiting', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f617070726f76616c222c22446566696e6974696f6e48617368223a22666233363933333861353362303766303830653139376239222c22537461747573223a332c22437265617465644174223a22323032362d31322d30325431383a34383a31312e393638363134372b30303a3030222c22557064617465644174223a22323032362d31322d30325431383a34383a31332e333638373234352b30303a3030222c22496e707574223a22496e6369222c224f757470757473223a7b22636865636b223a22496e643863484a6c634746795a5752385932686c5932746c5a43493d227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2238316431386137312d356162652d343436302d393765362d303639343235623930653861222c22446f6e65223a5b2270726570617265222c22636865636b225d2c224e6578744576656e74536571223a372c2250656e64696e674576656e7473223a5b5d2c2252756e4964223a2264666139653961372d623263662d346639372d386366652d613437613038356538633365222c225265776f756e64223a7b7d2c22556e646f223a5b5d2c22436f6d70656e736174696e67223a66616c73652c22556e646f4661696c6564223a5b5d7d', '2026-12-02 18:48:13.396174', 4, 'upgrade_approval', 3, '2026-12-02 18:48:11.968615+00', '2026-12-02 18:48:13.368724+00', NULL, 'fb369338a53b07f080e197b9'),
	(-1168960434, 0, 0, 1482883450, 'sayiir-run', 'upgrade-napping', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f6c6f6e675f6e6170222c22446566696e6974696f6e48617368223a22386561333235633535323837303164663362626436316330222c22537461747573223a322c22437265617465644174223a22323032362d31322d30325431383a34383a31322e313136393731342b30303a3030222c22557064617465644174223a22323032362d31322d30325431383a34383a31332e333638393232312b30303a3030222c22496e707574223a22496d3469222c224f757470757473223a7b226265666f72655f6e6170223a22496d353864476c795a575169227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b226e6170223a22323132362d31312d30385431383a34383a31322e313337373436392b30303a3030227d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2236656138313338622d336662322d346564352d623362632d613364313734373533613031222c22446f6e65223a5b226265666f72655f6e6170225d2c224e6578744576656e74536571223a352c2250656e64696e674576656e7473223a5b5d2c2252756e4964223a2261636639643862362d643939612d343264622d386364322d613732336432303134376636222c225265776f756e64223a7b7d2c22556e646f223a5b5d2c22436f6d70656e736174696e67223a66616c73652c22556e646f4661696c6564223a5b5d7d', '2026-12-02 18:48:13.388179', 3, 'upgrade_long_nap', 2, '2026-12-02 18:48:12.116971+00', '2026-12-02 18:48:13.368922+00', NULL, '8ea325c5528701df3bbd61c0'),
	(-384080, 0, 0, 1482883450, 'sayiir-run', 'upgrade-buffered', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f617070726f76616c222c22446566696e6974696f6e48617368223a22666233363933333861353362303766303830653139376239222c22537461747573223a332c22437265617465644174223a22323032362d31322d30325431383a34383a31322e303330343731392b30303a3030222c22557064617465644174223a22323032362d31322d30325431383a34383a31332e333637393736312b30303a3030222c22496e707574223a22496d4969222c224f757470757473223a7b22636865636b223a22496d4a3863484a6c634746795a5752385932686c5932746c5a43493d227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b22636f6e6669726d223a5b22496d5668636d783549474e68636d397349673d3d225d7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2233313836663966642d633639662d346631632d613438392d306661343763306535346132222c22446f6e65223a5b2270726570617265222c22636865636b225d2c224e6578744576656e74536571223a382c2250656e64696e674576656e7473223a5b5d2c2252756e4964223a2237636330373065322d633634622d346661632d396435332d353937646638326662643138222c225265776f756e64223a7b7d2c22556e646f223a5b5d2c22436f6d70656e736174696e67223a66616c73652c22556e646f4661696c6564223a5b5d7d', '2026-12-02 18:48:13.392118', 5, 'upgrade_approval', 3, '2026-12-02 18:48:12.030472+00', '2026-12-02 18:48:13.367976+00', NULL, 'fb369338a53b07f080e197b9'),
	(1782055317, 0, 0, 1482883450, 'sayiir-run', 'upgrade-fork', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f666f726b222c22446566696e6974696f6e48617368223a22303661616462383037313965643238303137613361316465222c22537461747573223a332c22437265617465644174223a22323032362d31322d30325431383a34383a31322e3138313533322b30303a3030222c22557064617465644174223a22323032362d31322d30325431383a34383a31332e333933353435362b30303a3030222c22496e707574223a224e413d3d222c224f757470757473223a7b22666173745f7461736b223a224e513d3d222c2267617465645f6265666f7265223a224e44413d227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2239623238633635652d653637332d346230362d393034622d323935336263663335336238222c22446f6e65223a5b22666173745f7461736b222c2267617465645f6265666f7265225d2c224e6578744576656e74536571223a372c2250656e64696e674576656e7473223a5b5d2c2252756e4964223a2237363066373537322d363634662d343939612d393433302d653133386331356161633835222c225265776f756e64223a7b7d2c22556e646f223a5b5d2c22436f6d70656e736174696e67223a66616c73652c22556e646f4661696c6564223a5b5d7d', '2026-12-02 18:48:13.396174', 4, 'upgrade_fork', 3, '2026-12-02 18:48:12.181532+00', '2026-12-02 18:48:13.393546+00', NULL, '06aadb80719ed28017a3a1de');


--
-- Data for Name: sayiir_definitions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sayiir_definitions VALUES
	('sayiir-upgrade-fixture', 'fb369338a53b07f080e197b9', 'upgrade_approval', NULL, '{"prepare":"Task at 0","check":"Task at 1","wait_approve":"Signal at 2","approved":"Task at 3","wait_confirm":"Signal at 4","finish":"Task at 5"}', '2026-12-02 18:48:06.392891+00'),
	('sayiir-upgrade-fixture', '8ea325c5528701df3bbd61c0', 'upgrade_long_nap', NULL, '{"before_nap":"Task at 0","nap":"Delay at 1","after_nap":"Task at 2"}', '2026-12-02 18:48:06.392891+00'),
	('sayiir-upgrade-fixture', '09362479a1a1578dd54a4e5e', 'upgrade_short_nap', NULL, '{"before_nap":"Task at 0","nap":"Delay at 1","after_nap":"Task at 2"}', '2026-12-02 18:48:06.392891+00'),
	('sayiir-upgrade-fixture', '06aadb80719ed28017a3a1de', 'upgrade_fork', NULL, '{"split":"Fork at 0","fast_task":"Task at 0/fast/0","gated_before":"Task at 0/gated/0","wait_release":"Signal at 0/gated/1","gated_after":"Task at 0/gated/2","join":"Join at 0/join"}', '2026-12-02 18:48:06.392891+00');


--
-- Data for Name: sayiir_history; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sayiir_history VALUES
	(1, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:10.795546+00', 0, NULL, NULL, NULL, 'fb369338a53b07f080e197b9', NULL, NULL, NULL, 1),
	(2, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.179052+00', 1, 'prepare', 1, NULL, NULL, NULL, NULL, NULL, 2),
	(3, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.347867+00', 2, 'prepare', 1, 14.8029, NULL, NULL, NULL, '\x22637c707265706172656422', 3),
	(4, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.383015+00', 1, 'check', 1, NULL, NULL, NULL, NULL, NULL, 4),
	(5, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.397894+00', 2, 'check', 1, 13.4636, NULL, NULL, NULL, '\x22637c70726570617265647c636865636b656422', 5),
	(6, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.413098+00', 15, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, NULL, 6),
	(7, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.442493+00', 7, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, NULL, 7),
	(8, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.442585+00', 16, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, '\x22616c69636522', 8),
	(9, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.530287+00', 1, 'approved', 1, NULL, NULL, NULL, NULL, NULL, 9),
	(10, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.531117+00', 2, 'approved', 1, 0.2638, NULL, NULL, NULL, '\x22617070726f76656420627920616c69636522', 10),
	(11, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.531148+00', 15, 'wait_confirm', NULL, NULL, 'confirm', NULL, NULL, NULL, 11),
	(12, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.585925+00', 7, 'wait_confirm', NULL, NULL, 'confirm', NULL, NULL, NULL, 12),
	(13, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.585927+00', 16, 'wait_confirm', NULL, NULL, 'confirm', NULL, NULL, '\x22626f6222', 13),
	(14, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.611018+00', 1, 'finish', 1, NULL, NULL, NULL, NULL, NULL, 14),
	(15, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.612144+00', 2, 'finish', 1, 0.323, NULL, NULL, NULL, '\x22636f6e6669726d656420627920626f6222', 15),
	(16, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 18:48:11.634918+00', 11, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 16),
	(17, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 18:48:11.779042+00', 0, NULL, NULL, NULL, 'fb369338a53b07f080e197b9', NULL, NULL, NULL, 1),
	(18, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 18:48:11.785453+00', 1, 'prepare', 1, NULL, NULL, NULL, NULL, NULL, 2),
	(19, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 18:48:11.785999+00', 2, 'prepare', 1, 0.1379, NULL, NULL, NULL, '\x22667c707265706172656422', 3),
	(20, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 18:48:11.830978+00', 1, 'check', 1, NULL, NULL, NULL, NULL, NULL, 4),
	(21, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 18:48:11.8663+00', 3, 'check', 1, 28.433, NULL, 'System.InvalidOperationException', 'check refused f|prepared', NULL, 5),
	(22, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 18:48:11.868207+00', 12, 'check', 1, NULL, NULL, 'System.InvalidOperationException', 'check refused f|prepared', NULL, 6),
	(23, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 18:48:11.968625+00', 0, NULL, NULL, NULL, 'fb369338a53b07f080e197b9', NULL, NULL, NULL, 1),
	(24, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 18:48:11.971251+00', 1, 'prepare', 1, NULL, NULL, NULL, NULL, NULL, 2),
	(25, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 18:48:11.971625+00', 2, 'prepare', 1, 0.0624, NULL, NULL, NULL, '\x22777c707265706172656422', 3),
	(26, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 18:48:11.979297+00', 1, 'check', 1, NULL, NULL, NULL, NULL, NULL, 4),
	(27, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 18:48:11.979731+00', 2, 'check', 1, 0.0782, NULL, NULL, NULL, '\x22777c70726570617265647c636865636b656422', 5),
	(28, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 18:48:11.979826+00', 15, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, NULL, 6),
	(29, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 18:48:12.030484+00', 0, NULL, NULL, NULL, 'fb369338a53b07f080e197b9', NULL, NULL, NULL, 1),
	(30, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 18:48:12.046095+00', 1, 'prepare', 1, NULL, NULL, NULL, NULL, NULL, 2),
	(31, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 18:48:12.046578+00', 2, 'prepare', 1, 0.0869, NULL, NULL, NULL, '\x22627c707265706172656422', 3),
	(32, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 18:48:12.066358+00', 1, 'check', 1, NULL, NULL, NULL, NULL, NULL, 4),
	(33, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 18:48:12.066887+00', 2, 'check', 1, 0.0937, NULL, NULL, NULL, '\x22627c70726570617265647c636865636b656422', 5),
	(34, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 18:48:12.06693+00', 15, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, NULL, 6),
	(35, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 18:48:12.105753+00', 7, NULL, NULL, NULL, 'confirm', NULL, NULL, NULL, 7),
	(36, 'sayiir-upgrade-fixture', 'upgrade-napping', '2026-12-02 18:48:12.116981+00', 0, NULL, NULL, NULL, '8ea325c5528701df3bbd61c0', NULL, NULL, NULL, 1),
	(37, 'sayiir-upgrade-fixture', 'upgrade-napping', '2026-12-02 18:48:12.125425+00', 1, 'before_nap', 1, NULL, NULL, NULL, NULL, NULL, 2),
	(38, 'sayiir-upgrade-fixture', 'upgrade-napping', '2026-12-02 18:48:12.126305+00', 2, 'before_nap', 1, 0.3241, NULL, NULL, NULL, '\x226e7c746972656422', 3),
	(39, 'sayiir-upgrade-fixture', 'upgrade-napping', '2026-12-02 18:48:12.139524+00', 5, 'nap', NULL, NULL, '2126-11-08T18:48:12.1377469+00:00', NULL, NULL, NULL, 4),
	(40, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 18:48:12.181548+00', 0, NULL, NULL, NULL, '06aadb80719ed28017a3a1de', NULL, NULL, NULL, 1),
	(41, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 18:48:12.194595+00', 1, 'fast_task', 1, NULL, NULL, NULL, NULL, NULL, 2),
	(42, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 18:48:12.194901+00', 1, 'gated_before', 1, NULL, NULL, NULL, NULL, NULL, 3),
	(43, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 18:48:12.205454+00', 2, 'fast_task', 1, 0.2818, NULL, NULL, NULL, '\x35', 4),
	(44, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 18:48:12.706883+00', 2, 'gated_before', 1, 508.0768, NULL, NULL, NULL, '\x3430', 5),
	(45, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 18:48:12.706965+00', 15, 'wait_release', NULL, NULL, 'release', NULL, NULL, NULL, 6),
	(46, 'sayiir-upgrade-fixture', 'upgrade-short-nap', '2026-12-02 18:48:12.852707+00', 0, NULL, NULL, NULL, '09362479a1a1578dd54a4e5e', NULL, NULL, NULL, 1),
	(47, 'sayiir-upgrade-fixture', 'upgrade-short-nap', '2026-12-02 18:48:12.854944+00', 1, 'before_nap', 1, NULL, NULL, NULL, NULL, NULL, 2),
	(48, 'sayiir-upgrade-fixture', 'upgrade-short-nap', '2026-12-02 18:48:12.855588+00', 2, 'before_nap', 1, 0.2718, NULL, NULL, NULL, '\x22737c746972656422', 3),
	(49, 'sayiir-upgrade-fixture', 'upgrade-short-nap', '2026-12-02 18:48:12.855633+00', 5, 'nap', NULL, NULL, '2026-12-02T18:48:42.8556143+00:00', NULL, NULL, NULL, 4);


--
-- Data for Name: sayiir_schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sayiir_schema_migrations VALUES
	(1, 'baseline', '2026-12-02 18:48:01.436499+00'),
	(2, 'history-seq', '2026-12-02 18:48:01.436499+00'),
	(3, 'run-listing', '2026-12-02 18:48:01.436499+00'),
	(4, 'workflow-versions', '2026-12-02 18:48:01.436499+00'),
	(5, 'listing-indexes', '2026-12-02 18:48:01.436499+00'),
	(6, 'queued-runs', '2026-12-02 18:48:01.436499+00'),
	(7, 'compensating-runs', '2026-12-02 18:48:01.436499+00');


--
-- Name: sayiir_history_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.sayiir_history_id_seq', 49, true);


--
-- Name: orleansquery orleansquery_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orleansquery
    ADD CONSTRAINT orleansquery_key PRIMARY KEY (querykey);


--
-- Name: orleansreminderstable pk_reminderstable_serviceid_grainid_remindername; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orleansreminderstable
    ADD CONSTRAINT pk_reminderstable_serviceid_grainid_remindername PRIMARY KEY (serviceid, grainid, remindername);


--
-- Name: sayiir_definitions sayiir_definitions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sayiir_definitions
    ADD CONSTRAINT sayiir_definitions_pkey PRIMARY KEY (service_id, hash);


--
-- Name: sayiir_history sayiir_history_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sayiir_history
    ADD CONSTRAINT sayiir_history_pkey PRIMARY KEY (id);


--
-- Name: sayiir_schema_migrations sayiir_schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sayiir_schema_migrations
    ADD CONSTRAINT sayiir_schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: ix_orleansreminderstable_grainhash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orleansreminderstable_grainhash ON public.orleansreminderstable USING btree (serviceid, grainhash);


--
-- Name: ix_orleansstorage; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orleansstorage ON public.orleansstorage USING btree (grainidhash, graintypehash);


--
-- Name: ix_sayiir_history_run; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_history_run ON public.sayiir_history USING btree (service_id, instance_id, id);


--
-- Name: ix_sayiir_runs_active_definition; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_runs_active_definition ON public.orleansstorage USING btree (serviceid, sayiirworkflow, sayiirhash) WHERE (((graintypestring)::text = 'sayiir-run'::text) AND (sayiirstatus = ANY (ARRAY[1, 2, 3, 4, 8, 9])));


--
-- Name: ix_sayiir_runs_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_runs_created ON public.orleansstorage USING btree (serviceid, sayiircreatedat DESC, grainidextensionstring DESC) INCLUDE (sayiirstatus, sayiirworkflow) WHERE ((graintypestring)::text = 'sayiir-run'::text);


--
-- Name: ix_sayiir_runs_instance; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_runs_instance ON public.orleansstorage USING btree (serviceid, grainidextensionstring COLLATE "C") INCLUDE (sayiirstatus) WHERE ((graintypestring)::text = 'sayiir-run'::text);


--
-- Name: ix_sayiir_runs_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_runs_status ON public.orleansstorage USING btree (serviceid, sayiirstatus, sayiircreatedat DESC, grainidextensionstring DESC) WHERE ((graintypestring)::text = 'sayiir-run'::text);


--
-- Name: ix_sayiir_runs_workflow; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_runs_workflow ON public.orleansstorage USING btree (serviceid, sayiirworkflow, sayiircreatedat DESC, grainidextensionstring DESC) INCLUDE (sayiirstatus) WHERE ((graintypestring)::text = 'sayiir-run'::text);


--
-- Name: ux_sayiir_history_run_seq; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ux_sayiir_history_run_seq ON public.sayiir_history USING btree (service_id, instance_id, seq) WHERE (seq IS NOT NULL);


--
-- Name: orleansstorage sayiir_run_columns; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER sayiir_run_columns BEFORE INSERT OR UPDATE OF payloadbinary ON public.orleansstorage FOR EACH ROW WHEN (((new.graintypestring)::text = 'sayiir-run'::text)) EXECUTE FUNCTION public.sayiir_run_listing_columns();


--
-- PostgreSQL database dump complete
--

\unrestrict n5n76W6fLjJSSDDyQIsLwRom7MPUP0aLYaJ1AByLcg7dXnZ0znfiD6AuMizMO5u

