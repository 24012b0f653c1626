using System.Globalization;

namespace Sayiir.Bench;

/// <summary>Where runs are stored.</summary>
internal enum BackendKind
{
    Memory,
    Postgres,
}

/// <summary>The resolved parameters of one workload.</summary>
/// <param name="Name">The workload name, as in the JSON line.</param>
/// <param name="Workflows">W: measured runs.</param>
/// <param name="Steps">S: sequential tasks (outside fork branches).</param>
/// <param name="Branches">K: fork branches (fanout only).</param>
/// <param name="Concurrency">C: runs in flight (linear, fanout, latency, bigstate), signals in flight (signal), starts in flight (sleeping).</param>
/// <param name="DelaySeconds">D: the delay of the sleeping workload.</param>
/// <param name="Warmup">Runs executed before the measurement and not counted.</param>
internal sealed record WorkloadSpec(string Name, int Workflows, int Steps, int Branches, int Concurrency, double DelaySeconds, int Warmup);

/// <summary>Command-line options.</summary>
internal sealed class BenchOptions
{
    /// <summary>Every workload run by <c>--workload all</c>, in order.</summary>
    public static readonly string[] AllWorkloads = ["linear", "fanout", "signal", "sleeping", "latency", "bigstate", "longchain", "listing"];

    public List<string> Workloads { get; } = [];

    public List<BackendKind> Backends { get; } = [];

    /// <summary>
    /// <c>recovery</c> is run (after the other workloads): explicitly, or by <c>all</c> outside smoke mode (it needs a
    /// build of the silo host and ~30 s).
    /// </summary>
    public bool RecoveryRequested { get; private set; }

    /// <summary><c>fanout-cpu</c> is run (after the other workloads, PostgreSQL only): only when named.</summary>
    public bool FanoutCpuRequested { get; private set; }

    /// <summary>Milliseconds of CPU work per branch of <c>fanout-cpu</c>.</summary>
    public int CpuMs { get; private set; } = 200;

    public int? Workflows { get; private set; }

    public int? Steps { get; private set; }

    public int? Branches { get; private set; }

    public int? Concurrency { get; private set; }

    public double? DelaySeconds { get; private set; }

    public int? Warmup { get; private set; }

    public string? Postgres { get; private set; }

    public bool CompareCeiling { get; private set; }

    public double? CeilingSeconds { get; private set; }

    public bool Smoke { get; private set; }

    /// <summary>Whether to draw the progress line; default: when stderr is a terminal.</summary>
    public bool? Progress { get; private set; }

    public bool KeepDatabases { get; private set; }

    /// <summary>Encryption at rest (UseEncryption with a random key) on the silo of every workload.</summary>
    public bool Encryption { get; private set; }

    public bool KeepServer { get; private set; }

    public int PgPort { get; private set; } = 55433;

    /// <summary>Npgsql <c>Maximum Pool Size</c> of the engine's connections: default 16 on the provisioned server.</summary>
    public int? PoolSize { get; private set; }

    public string PgDir { get; private set; } = "/tmp/sayiir-bench-pg";

    public double TimeoutSeconds { get; private set; } = 900;

    public string? JsonFile { get; private set; }

    public bool Help { get; private set; }

    public const string Usage = """
        Sayiir benchmark suite: one co-hosted silo in this process, runs started through ISayiirClient.

        usage: dotnet run -c Release --project bench/Sayiir.Bench -- [options]

          --workload LIST       linear|fanout|signal|sleeping|latency|bigstate|longchain|listing|recovery|fanout-cpu|all (comma-separated;
                                default all; all includes recovery except with --smoke). listing stores W runs and times
                                the dashboard's runs page, counts and chart over them. recovery runs eng/cluster-test.sh:
                                two Sayiir.Silo processes on the bench PostgreSQL, one killed with SIGKILL (postgres
                                backend only: in-memory state dies with its silo); -W sets its runs (default 40).
                                fanout-cpu (only when named, postgres only): runs of 24 branches of --cpu-ms CPU work with
                                cluster placement on 1 then 3 Sayiir.Silo processes; -W sequential runs each (default 5)
          --cpu-ms N            CPU work per fanout-cpu branch in milliseconds (default 200)
          --backend LIST        memory|postgres|all (default all)
          -W, --workflows N     measured runs per workload (defaults: linear 2000, fanout 300, signal 1000,
                                sleeping 10000, latency 500, bigstate 10, longchain 2, listing 100000,
                                recovery 40)
          -S, --steps N         sequential tasks (linear 4, latency 4, bigstate 50, longchain 2000)
          -K, --branches N      fork branches (fanout 10)
          -C, --concurrency N   runs in flight (linear 64, fanout 32, latency 1, bigstate 1); signals in flight
                                (signal: default W, all at once); starts in flight (sleeping 64)
          -D, --delay SECONDS   delay of the sleeping workload (default 5)
          --warmup N            runs before the measurement, not counted (default: per workload)
          --postgres CONNSTR    use this PostgreSQL server (a fresh database per run when the user may CREATE
                                DATABASE); default: provision a durable throwaway server with eng/pgtest.sh
          --pg-port N           port of the provisioned server (default 55433)
          --pool N              Npgsql Maximum Pool Size of the silo's connections (default 16 on the provisioned
                                server, sized for its 2 cores; with --postgres, the string's own setting)
          --pg-dir DIR          directory of the provisioned server (default /tmp/sayiir-bench-pg)
          --keep-server         leave the provisioned server running at exit
          --keep-db             keep each run's database (default: dropped after the run)
          --encryption          encryption at rest (UseEncryption, AES-256-GCM with a random key) on every silo
          --compare-ceiling     measure pgbench one-row-upsert tps at each run's concurrency and report our
                                checkpoints/s as a fraction of it
          --ceiling-seconds S   pgbench duration (default 10)
          --smoke               tiny W for every workload on both backends (< 60 s)
          --timeout SECONDS     per workload (default 900)
          --json FILE           also append the JSON lines to FILE
          --progress            draw the live progress line on stderr even when it is not a terminal
          --no-progress         no progress line (default when stderr is redirected)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        string? workloads = null;
        string? backends = null;
        var pendingAllRecovery = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
                ? v : throw new ArgumentException($"{arg} needs a non-negative integer");
            double Double() => double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0
                ? v : throw new ArgumentException($"{arg} needs a non-negative number");
            switch (arg)
            {
                case "--workload" or "--workloads": workloads = Value(); break;
                case "--backend" or "--backends": backends = Value(); break;
                case "-W" or "--workflows": o.Workflows = Int(); break;
                case "-S" or "--steps": o.Steps = Int(); break;
                case "-K" or "--branches": o.Branches = Int(); break;
                case "-C" or "--concurrency": o.Concurrency = Int(); break;
                case "-D" or "--delay": o.DelaySeconds = Double(); break;
                case "--warmup": o.Warmup = Int(); break;
                case "--cpu-ms": o.CpuMs = Int(); break;
                case "--postgres": o.Postgres = Value(); break;
                case "--pg-port": o.PgPort = Int(); break;
                case "--pool": o.PoolSize = Int() is var pool and > 0 ? pool : throw new ArgumentException("--pool needs at least 1"); break;
                case "--pg-dir": o.PgDir = Value(); break;
                case "--keep-server": o.KeepServer = true; break;
                case "--keep-db": o.KeepDatabases = true; break;
                case "--encryption": o.Encryption = true; break;
                case "--compare-ceiling": o.CompareCeiling = true; break;
                case "--ceiling-seconds": o.CeilingSeconds = Double(); break;
                case "--smoke": o.Smoke = true; break;
                case "--timeout": o.TimeoutSeconds = Double(); break;
                case "--json": o.JsonFile = Value(); break;
                case "--no-progress": o.Progress = false; break;
                case "--progress": o.Progress = true; break;
                case "-h" or "--help": o.Help = true; break;
                default: throw new ArgumentException($"unknown option '{arg}' (see --help)");
            }
        }

        foreach (var w in Split(workloads ?? "all"))
        {
            switch (w)
            {
                case "all":
                    o.Workloads.AddRange(AllWorkloads);
                    pendingAllRecovery = true;
                    break;
                case "recovery":
                    o.RecoveryRequested = true;
                    break;
                case "fanout-cpu":
                    o.FanoutCpuRequested = true;
                    break;
                default:
                    if (!AllWorkloads.Contains(w)) throw new ArgumentException($"unknown workload '{w}'");
                    o.Workloads.Add(w);
                    break;
            }
        }
        if (pendingAllRecovery && !o.Smoke) o.RecoveryRequested = true;
        var distinct = o.Workloads.Distinct().ToList();
        o.Workloads.Clear();
        o.Workloads.AddRange(distinct);

        foreach (var b in Split(backends ?? "all"))
        {
            switch (b)
            {
                case "all": o.Backends.Add(BackendKind.Memory); o.Backends.Add(BackendKind.Postgres); break;
                case "memory": o.Backends.Add(BackendKind.Memory); break;
                case "postgres": o.Backends.Add(BackendKind.Postgres); break;
                default: throw new ArgumentException($"unknown backend '{b}'");
            }
        }
        var backendList = o.Backends.Distinct().ToList();
        o.Backends.Clear();
        o.Backends.AddRange(backendList);

        if (o.Concurrency == 0) throw new ArgumentException("--concurrency must be at least 1");
        return o;
    }

    private static IEnumerable<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant());

    /// <summary>The parameters of <paramref name="workload"/>: the defaults of benchmarks.md (or the smoke ones), then the command line.</summary>
    public WorkloadSpec SpecFor(string workload)
    {
        var spec = (workload, Smoke) switch
        {
            ("linear", false) => new WorkloadSpec("linear", 2000, 4, 0, 64, 0, 200),
            ("linear", true) => new WorkloadSpec("linear", 40, 4, 0, 8, 0, 5),
            ("fanout", false) => new WorkloadSpec("fanout", 300, 2, 10, 32, 0, 30),
            ("fanout", true) => new WorkloadSpec("fanout", 10, 2, 4, 4, 0, 2),
            ("signal", false) => new WorkloadSpec("signal", 1000, 2, 0, 0, 0, 50),
            ("signal", true) => new WorkloadSpec("signal", 20, 2, 0, 0, 0, 2),
            ("sleeping", false) => new WorkloadSpec("sleeping", 10000, 2, 0, 64, 5, 100),
            ("sleeping", true) => new WorkloadSpec("sleeping", 50, 2, 0, 16, 1, 5),
            ("latency", false) => new WorkloadSpec("latency", 500, 4, 0, 1, 0, 50),
            ("latency", true) => new WorkloadSpec("latency", 20, 4, 0, 1, 0, 3),
            ("bigstate", false) => new WorkloadSpec("bigstate", 10, 50, 0, 1, 0, 1),
            ("bigstate", true) => new WorkloadSpec("bigstate", 2, 50, 0, 1, 0, 1),
            ("longchain", false) => new WorkloadSpec("longchain", 2, 2000, 0, 1, 0, 0),
            ("longchain", true) => new WorkloadSpec("longchain", 1, 200, 0, 1, 0, 0),
            ("listing", false) => new WorkloadSpec("listing", 100_000, 1, 0, 256, 0, 0),
            ("listing", true) => new WorkloadSpec("listing", 2000, 1, 0, 64, 0, 0),
            _ => throw new ArgumentException($"unknown workload '{workload}'"),
        };
        var shapeHasSteps = workload is "linear" or "latency" or "bigstate" or "longchain";
        spec = spec with
        {
            Workflows = Workflows ?? spec.Workflows,
            Steps = shapeHasSteps ? Steps ?? spec.Steps : spec.Steps,
            Branches = workload == "fanout" ? Branches ?? spec.Branches : spec.Branches,
            Concurrency = Concurrency ?? spec.Concurrency,
            DelaySeconds = workload == "sleeping" ? DelaySeconds ?? spec.DelaySeconds : 0,
            Warmup = Warmup ?? spec.Warmup,
        };
        // Signal: by default every signal is sent at once.
        if (workload == "signal" && spec.Concurrency == 0) spec = spec with { Concurrency = Math.Max(1, spec.Workflows) };
        if (spec.Steps < 1) throw new ArgumentException($"{workload}: --steps must be at least 1");
        if (workload == "fanout" && spec.Branches < 1) throw new ArgumentException("fanout: --branches must be at least 1");
        return spec;
    }

    /// <summary>The parameters of the recovery workload: W runs of the 8-step cluster workflow.</summary>
    public WorkloadSpec RecoverySpec() => new("recovery", Workflows ?? 40, 8, 0, Workflows ?? 40, 0, 0);

    /// <summary>The parameters of the fanout-cpu workload: W sequential runs per cluster size.</summary>
    public WorkloadSpec FanoutCpuSpec() => new("fanout-cpu", Workflows ?? 5, 1, 0, 1, 0, 1);

    /// <summary>pgbench duration.</summary>
    public double EffectiveCeilingSeconds => CeilingSeconds ?? (Smoke ? 3 : 10);
}
