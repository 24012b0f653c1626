--
-- PostgreSQL database dump
--

\restrict N4DA2ZGYNf5jg6AR3M9D9YhrLZmEDYwPyTSDJdsxFvVMepfzThH5OxzubCeEHVt

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
    sayiirupdatedat timestamp with time zone
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
    output bytea
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
	('sayiir-upgrade-fixture', 'workflow/upgrade-awaiting', 'sayiir-recovery', '2026-12-02 03:21:06.624+00', 1000, 1458719650, 0),
	('sayiir-upgrade-fixture', 'workflow/upgrade-buffered', 'sayiir-recovery', '2026-12-02 03:21:06.675+00', 1000, 399930185, 0),
	('sayiir-upgrade-fixture', 'workflow/upgrade-napping', 'sayiir-recovery', '2026-12-02 03:21:06.724+00', 1000, -2132711313, 0),
	('sayiir-upgrade-fixture', 'workflow/upgrade-fork', 'sayiir-recovery', '2026-12-02 03:21:06.803+00', 1000, 707266389, 0),
	('sayiir-upgrade-fixture', 'workflow/upgrade-short-nap', 'sayiir-recovery', '2026-12-02 03:21:07.476+00', 1000, -369959840, 0);


--
-- Data for Name: orleansstorage; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.orleansstorage VALUES
	(478415279, 0, 0, 1482883450, 'sayiir-run', 'upgrade-awaiting', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f617070726f76616c222c22446566696e6974696f6e48617368223a22666233363933333861353362303766303830653139376239222c22537461747573223a332c22437265617465644174223a22323032362d31322d30325430333a32313a30352e3633363532362b30303a3030222c22557064617465644174223a22323032362d31322d30325430333a32313a30352e363531343337332b30303a3030222c22496e707574223a22496e6369222c224f757470757473223a7b22636865636b223a22496e643863484a6c634746795a5752385932686c5932746c5a43493d227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2233333866393139362d626535372d346133342d393565642d636663613264333930636235222c22446f6e65223a5b2270726570617265222c22636865636b225d7d', '2026-12-02 03:21:05.651754', 3, 'upgrade_approval', 3, '2026-12-02 03:21:05.636526+00', '2026-12-02 03:21:05.651437+00'),
	(-1865916230, 0, 0, 1482883450, 'sayiir-run', 'upgrade-completed', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f617070726f76616c222c22446566696e6974696f6e48617368223a22666233363933333861353362303766303830653139376239222c22537461747573223a352c22437265617465644174223a22323032362d31322d30325430333a32313a30342e393835393339322b30303a3030222c22557064617465644174223a22323032362d31322d30325430333a32313a30352e353231343434372b30303a3030222c22496e707574223a22496d4d69222c224f7574707574223a22496d4e76626d5a70636d316c5a4342696553426962324969222c224f757470757473223a7b2266696e697368223a22496d4e76626d5a70636d316c5a4342696553426962324969222c22776169745f636f6e6669726d223a22496d4a765969493d227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2233643036383837642d623535662d343334342d383938362d393630336265376262393433222c22446f6e65223a5b2270726570617265222c22636865636b222c22776169745f617070726f7665222c22617070726f766564222c22776169745f636f6e6669726d222c2266696e697368225d7d', '2026-12-02 03:21:05.524062', 7, 'upgrade_approval', 5, '2026-12-02 03:21:04.985939+00', '2026-12-02 03:21:05.521445+00'),
	(-1714943150, 0, 0, 1482883450, 'sayiir-run', 'upgrade-failed', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f617070726f76616c222c22446566696e6974696f6e48617368223a22666233363933333861353362303766303830653139376239222c22537461747573223a362c22437265617465644174223a22323032362d31322d30325430333a32313a30352e353838363739382b30303a3030222c22557064617465644174223a22323032362d31322d30325430333a32313a30352e363036353732322b30303a3030222c22496e707574223a22496d5969222c224f757470757473223a7b2270726570617265223a22496d5a3863484a6c634746795a575169227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b7d2c224661696c757265223a7b225461736b4964223a22636865636b222c22417474656d7074223a312c224572726f7254797065223a2253797374656d2e496e76616c69644f7065726174696f6e457863657074696f6e222c224d657373616765223a22636865636b207265667573656420667c7072657061726564222c22537461636b5472616365223a222020206174205361796969722e54657374732e496e6672617374727563747572652e55706772616465466c6f77732e5c75303033435c7530303345632e5c75303033432e6363746f725c7530303345625f5f375f3128537472696e6720732c205461736b436f6e74657874206374782920696e202f776f726b2f77742d757067726164652f74657374732f5361796969722e54657374732f496e6672617374727563747572652f55706772616465466c6f77732e63733a6c696e652032315c6e2020206174205361796969722e466c6f774275696c6465725c7530303630322e5c75303033435c7530303345635f5f446973706c6179436c617373395f305c7530303630312e5c75303033435c75303033435468656e5c7530303345625f5f305c7530303345642e4d6f76654e657874282920696e202f776f726b2f77742d757067726164652f7372632f5361796969722e4162737472616374696f6e732f446566696e6974696f6e732f466c6f772e63733a6c696e652034355c6e2d2d2d20456e64206f6620737461636b2074726163652066726f6d2070726576696f7573206c6f636174696f6e202d2d2d5c6e2020206174205361796969722e52756e74696d652e5461736b576f726b6572477261696e2e52756e55736572436f64654173796e63285461736b417474656d70745265717565737420726571756573742c205461736b4e6f6465206e6f64652c204f626a65637420696e7075742c2043616e63656c6c6174696f6e546f6b656e2063616e63656c6c6174696f6e546f6b656e2920696e202f776f726b2f77742d757067726164652f7372632f5361796969722e477261696e732f52756e74696d652f5461736b576f726b6572477261696e2e63733a6c696e6520313636222c224174223a22323032362d31322d30325430333a32313a30352e363034393535372b30303a3030227d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2263653962656565322d636162352d346538652d623936632d383239633737626535313337222c22446f6e65223a5b2270726570617265225d7d', '2026-12-02 03:21:05.609744', 3, 'upgrade_approval', 6, '2026-12-02 03:21:05.58868+00', '2026-12-02 03:21:05.606572+00'),
	(-1603822975, 0, 0, 1482883450, 'sayiir-run', 'upgrade-short-nap', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f73686f72745f6e6170222c22446566696e6974696f6e48617368223a22303933363234373961316131353738646435346134653565222c22537461747573223a322c22437265617465644174223a22323032362d31322d30325430333a32313a30362e343738303233322b30303a3030222c22557064617465644174223a22323032362d31322d30325430333a32313a30362e3438313734382b30303a3030222c22496e707574223a22496e4d69222c224f757470757473223a7b226265666f72655f6e6170223a22496e4e3864476c795a575169227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b226e6170223a22323032362d31322d30325430333a32313a33362e343831373338352b30303a3030227d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2265643565616135352d336534342d343465382d396564652d316230316263393839353761222c22446f6e65223a5b226265666f72655f6e6170225d7d', '2026-12-02 03:21:06.482171', 2, 'upgrade_short_nap', 2, '2026-12-02 03:21:06.478023+00', '2026-12-02 03:21:06.481748+00'),
	(-384080, 0, 0, 1482883450, 'sayiir-run', 'upgrade-buffered', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f617070726f76616c222c22446566696e6974696f6e48617368223a22666233363933333861353362303766303830653139376239222c22537461747573223a332c22437265617465644174223a22323032362d31322d30325430333a32313a30352e363737313837352b30303a3030222c22557064617465644174223a22323032362d31322d30325430333a32313a30352e373137373239362b30303a3030222c22496e707574223a22496d4969222c224f757470757473223a7b22636865636b223a22496d4a3863484a6c634746795a5752385932686c5932746c5a43493d227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b22636f6e6669726d223a5b22496d5668636d783549474e68636d397349673d3d225d7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2235303734623863382d356462322d343666352d613235612d646133386338643833623330222c22446f6e65223a5b2270726570617265222c22636865636b225d7d', '2026-12-02 03:21:05.720066', 4, 'upgrade_approval', 3, '2026-12-02 03:21:05.677188+00', '2026-12-02 03:21:05.71773+00'),
	(-1168960434, 0, 0, 1482883450, 'sayiir-run', 'upgrade-napping', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f6c6f6e675f6e6170222c22446566696e6974696f6e48617368223a22386561333235633535323837303164663362626436316330222c22537461747573223a322c22437265617465644174223a22323032362d31322d30325430333a32313a30352e373235363333332b30303a3030222c22557064617465644174223a22323032362d31322d30325430333a32313a30352e373331343239382b30303a3030222c22496e707574223a22496d3469222c224f757470757473223a7b226265666f72655f6e6170223a22496d353864476c795a575169227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b226e6170223a22323132362d31312d30385430333a32313a30352e373330363233352b30303a3030227d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2234653730373362302d306637302d346639322d396439632d353037633334613431666231222c22446f6e65223a5b226265666f72655f6e6170225d7d', '2026-12-02 03:21:05.736384', 2, 'upgrade_long_nap', 2, '2026-12-02 03:21:05.725633+00', '2026-12-02 03:21:05.73143+00'),
	(1782055317, 0, 0, 1482883450, 'sayiir-run', 'upgrade-fork', 'sayiir-upgrade-fixture', '\x7b22576f726b666c6f774e616d65223a22757067726164655f666f726b222c22446566696e6974696f6e48617368223a22303661616462383037313965643238303137613361316465222c22537461747573223a332c22437265617465644174223a22323032362d31322d30325430333a32313a30352e3830343630382b30303a3030222c22557064617465644174223a22323032362d31322d30325430333a32313a30362e333435363933352b30303a3030222c22496e707574223a224e413d3d222c224f757470757473223a7b22666173745f7461736b223a224e513d3d222c2267617465645f6265666f7265223a224e44413d227d2c2252657472696573223a7b7d2c224c6f6f7073223a7b7d2c22446561646c696e6573223a7b7d2c225369676e616c73223a7b7d2c224d65746164617461223a7b7d2c225772697465546f6b656e223a2232323239653666352d613365622d343338642d613634302d303263353134636330326563222c22446f6e65223a5b22666173745f7461736b222c2267617465645f6265666f7265225d7d', '2026-12-02 03:21:06.350592', 2, 'upgrade_fork', 3, '2026-12-02 03:21:05.804608+00', '2026-12-02 03:21:06.345694+00');


--
-- Data for Name: sayiir_history; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sayiir_history VALUES
	(1, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.163044+00', 0, NULL, NULL, NULL, 'fb369338a53b07f080e197b9', NULL, NULL, NULL),
	(2, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.213081+00', 1, 'prepare', 1, NULL, NULL, NULL, NULL, NULL),
	(3, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.328917+00', 2, 'prepare', 1, 16.7462, NULL, NULL, NULL, '\x22637c707265706172656422'),
	(4, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.368906+00', 1, 'check', 1, NULL, NULL, NULL, NULL, NULL),
	(5, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.391373+00', 2, 'check', 1, 1.5505, NULL, NULL, NULL, '\x22637c70726570617265647c636865636b656422'),
	(6, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.430867+00', 15, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, NULL),
	(7, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.486669+00', 16, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, '\x22616c69636522'),
	(8, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.491181+00', 7, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, NULL),
	(9, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.491949+00', 1, 'approved', 1, NULL, NULL, NULL, NULL, NULL),
	(10, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.497017+00', 2, 'approved', 1, 0.1601, NULL, NULL, NULL, '\x22617070726f76656420627920616c69636522'),
	(11, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.501783+00', 15, 'wait_confirm', NULL, NULL, 'confirm', NULL, NULL, NULL),
	(12, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.513559+00', 16, 'wait_confirm', NULL, NULL, 'confirm', NULL, NULL, '\x22626f6222'),
	(13, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.517451+00', 7, 'wait_confirm', NULL, NULL, 'confirm', NULL, NULL, NULL),
	(14, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.517558+00', 1, 'finish', 1, NULL, NULL, NULL, NULL, NULL),
	(15, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.518+00', 2, 'finish', 1, 0.1617, NULL, NULL, NULL, '\x22636f6e6669726d656420627920626f6222'),
	(16, 'sayiir-upgrade-fixture', 'upgrade-completed', '2026-12-02 03:21:05.533693+00', 11, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(17, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 03:21:05.590302+00', 0, NULL, NULL, NULL, 'fb369338a53b07f080e197b9', NULL, NULL, NULL),
	(18, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 03:21:05.590666+00', 1, 'prepare', 1, NULL, NULL, NULL, NULL, NULL),
	(19, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 03:21:05.590934+00', 2, 'prepare', 1, 0.0386, NULL, NULL, NULL, '\x22667c707265706172656422'),
	(20, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 03:21:05.593579+00', 1, 'check', 1, NULL, NULL, NULL, NULL, NULL),
	(21, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 03:21:05.605449+00', 3, 'check', 1, 11.3462, NULL, 'System.InvalidOperationException', 'check refused f|prepared', NULL),
	(22, 'sayiir-upgrade-fixture', 'upgrade-failed', '2026-12-02 03:21:05.614442+00', 12, 'check', 1, NULL, NULL, 'System.InvalidOperationException', 'check refused f|prepared', NULL),
	(23, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 03:21:05.644601+00', 0, NULL, NULL, NULL, 'fb369338a53b07f080e197b9', NULL, NULL, NULL),
	(24, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 03:21:05.644788+00', 1, 'prepare', 1, NULL, NULL, NULL, NULL, NULL),
	(25, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 03:21:05.645152+00', 2, 'prepare', 1, 0.0575, NULL, NULL, NULL, '\x22777c707265706172656422'),
	(26, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 03:21:05.651067+00', 1, 'check', 1, NULL, NULL, NULL, NULL, NULL),
	(27, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 03:21:05.651413+00', 2, 'check', 1, 0.0487, NULL, NULL, NULL, '\x22777c70726570617265647c636865636b656422'),
	(28, 'sayiir-upgrade-fixture', 'upgrade-awaiting', '2026-12-02 03:21:05.652413+00', 15, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, NULL),
	(29, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 03:21:05.684553+00', 0, NULL, NULL, NULL, 'fb369338a53b07f080e197b9', NULL, NULL, NULL),
	(30, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 03:21:05.684791+00', 1, 'prepare', 1, NULL, NULL, NULL, NULL, NULL),
	(31, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 03:21:05.68509+00', 2, 'prepare', 1, 0.0542, NULL, NULL, NULL, '\x22627c707265706172656422'),
	(32, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 03:21:05.69009+00', 1, 'check', 1, NULL, NULL, NULL, NULL, NULL),
	(33, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 03:21:05.69088+00', 2, 'check', 1, 0.1138, NULL, NULL, NULL, '\x22627c70726570617265647c636865636b656422'),
	(34, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 03:21:05.691699+00', 15, 'wait_approve', NULL, NULL, 'approve', NULL, NULL, NULL),
	(35, 'sayiir-upgrade-fixture', 'upgrade-buffered', '2026-12-02 03:21:05.721008+00', 7, NULL, NULL, NULL, 'confirm', NULL, NULL, NULL),
	(36, 'sayiir-upgrade-fixture', 'upgrade-napping', '2026-12-02 03:21:05.72705+00', 0, NULL, NULL, NULL, '8ea325c5528701df3bbd61c0', NULL, NULL, NULL),
	(37, 'sayiir-upgrade-fixture', 'upgrade-napping', '2026-12-02 03:21:05.727165+00', 1, 'before_nap', 1, NULL, NULL, NULL, NULL, NULL),
	(38, 'sayiir-upgrade-fixture', 'upgrade-napping', '2026-12-02 03:21:05.727904+00', 2, 'before_nap', 1, 0.4652, NULL, NULL, NULL, '\x226e7c746972656422'),
	(39, 'sayiir-upgrade-fixture', 'upgrade-napping', '2026-12-02 03:21:05.744993+00', 5, 'nap', NULL, NULL, '2126-11-08T03:21:05.7306235+00:00', NULL, NULL, NULL),
	(40, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 03:21:05.83347+00', 0, NULL, NULL, NULL, '06aadb80719ed28017a3a1de', NULL, NULL, NULL),
	(41, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 03:21:05.835581+00', 1, 'fast_task', 1, NULL, NULL, NULL, NULL, NULL),
	(42, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 03:21:05.835729+00', 1, 'gated_before', 1, NULL, NULL, NULL, NULL, NULL),
	(43, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 03:21:05.845891+00', 2, 'fast_task', 1, 6.4936, NULL, NULL, NULL, '\x35'),
	(44, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 03:21:06.345537+00', 2, 'gated_before', 1, 505.3646, NULL, NULL, NULL, '\x3430'),
	(45, 'sayiir-upgrade-fixture', 'upgrade-fork', '2026-12-02 03:21:06.351463+00', 15, 'wait_release', NULL, NULL, 'release', NULL, NULL, NULL),
	(46, 'sayiir-upgrade-fixture', 'upgrade-short-nap', '2026-12-02 03:21:06.480606+00', 0, NULL, NULL, NULL, '09362479a1a1578dd54a4e5e', NULL, NULL, NULL),
	(47, 'sayiir-upgrade-fixture', 'upgrade-short-nap', '2026-12-02 03:21:06.480887+00', 1, 'before_nap', 1, NULL, NULL, NULL, NULL, NULL),
	(48, 'sayiir-upgrade-fixture', 'upgrade-short-nap', '2026-12-02 03:21:06.481711+00', 2, 'before_nap', 1, 0.483, NULL, NULL, NULL, '\x22737c746972656422'),
	(49, 'sayiir-upgrade-fixture', 'upgrade-short-nap', '2026-12-02 03:21:06.484808+00', 5, 'nap', NULL, NULL, '2026-12-02T03:21:36.4817385+00:00', NULL, NULL, NULL);


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
-- Name: sayiir_history sayiir_history_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sayiir_history
    ADD CONSTRAINT sayiir_history_pkey PRIMARY KEY (id);


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
-- Name: ix_sayiir_runs_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_runs_created ON public.orleansstorage USING btree (serviceid, sayiircreatedat DESC, grainidextensionstring DESC) WHERE ((graintypestring)::text = 'sayiir-run'::text);


--
-- Name: ix_sayiir_runs_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_runs_status ON public.orleansstorage USING btree (serviceid, sayiirstatus, sayiircreatedat DESC, grainidextensionstring DESC) WHERE ((graintypestring)::text = 'sayiir-run'::text);


--
-- Name: ix_sayiir_runs_workflow; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sayiir_runs_workflow ON public.orleansstorage USING btree (serviceid, sayiirworkflow, sayiircreatedat DESC, grainidextensionstring DESC) WHERE ((graintypestring)::text = 'sayiir-run'::text);


--
-- Name: orleansstorage sayiir_run_columns; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER sayiir_run_columns BEFORE INSERT OR UPDATE OF payloadbinary ON public.orleansstorage FOR EACH ROW WHEN (((new.graintypestring)::text = 'sayiir-run'::text)) EXECUTE FUNCTION public.sayiir_run_columns();


--
-- PostgreSQL database dump complete
--

\unrestrict N4DA2ZGYNf5jg6AR3M9D9YhrLZmEDYwPyTSDJdsxFvVMepfzThH5OxzubCeEHVt

