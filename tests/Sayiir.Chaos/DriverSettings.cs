using System.Globalization;

namespace Sayiir.Chaos;

/// <summary>The driver's settings: <c>--name value</c> pairs on the command line (eng/chaos-test.sh passes them).</summary>
internal sealed class DriverSettings
{
    /// <summary>Connection string of the throwaway server's maintenance database (a fresh database is created there).</summary>
    public required string Postgres { get; init; }

    /// <summary>Work directory: silo logs, pid file, report.</summary>
    public required string WorkDir { get; init; }

    /// <summary>Path of Sayiir.Silo.dll (Release build).</summary>
    public required string SiloDll { get; init; }

    /// <summary>Path of eng/pgtest.sh and its port/dir, for the immediate restart of PostgreSQL.</summary>
    public required string PgTestScript { get; init; }

    public required int PgPort { get; init; }

    public required string PgDir { get; init; }

    public int Runs { get; init; } = 120;

    public int Kills { get; init; } = 5;

    public int Silos { get; init; } = 3;

    public int SiloPortBase { get; init; } = 11300;

    public int GatewayPortBase { get; init; } = 30300;

    /// <summary>Kill → first progress must not exceed this for any interrupted run.</summary>
    public TimeSpan ProgressBound { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>An execution that ended less than this before its silo was killed may legitimately run again (its result was not checkpointed yet).</summary>
    public TimeSpan CheckpointGrace { get; init; } = TimeSpan.FromSeconds(1);

    public int Seed { get; init; } = Environment.TickCount;

    public bool RestartPostgres { get; init; } = true;

    public static DriverSettings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected '--name value' pairs, got '{args[i]}'");
            values[args[i][2..]] = args[++i];
        }
        string Required(string name) => values.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : throw new ArgumentException($"--{name} is required");
        int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var settings = new DriverSettings
        {
            Postgres = Required("postgres"),
            WorkDir = Required("work"),
            SiloDll = Required("silo-dll"),
            PgTestScript = Required("pgtest"),
            PgPort = Int("pg-port", 55436),
            PgDir = Required("pg-dir"),
            Runs = Int("runs", 120),
            Kills = Int("kills", 5),
            Silos = Int("silos", 3),
            SiloPortBase = Int("silo-port", 11300),
            GatewayPortBase = Int("gateway-port", 30300),
            ProgressBound = TimeSpan.FromSeconds(Int("progress-bound", 15)),
            CheckpointGrace = TimeSpan.FromMilliseconds(Int("checkpoint-grace-ms", 1000)),
            Seed = Int("seed", Environment.TickCount & int.MaxValue),
            RestartPostgres = Int("restart-postgres", 1) != 0,
        };
        if (settings.Runs is < 1 or > 10_000) throw new ArgumentException($"--runs must be within [1, 10000] (was {settings.Runs})");
        if (settings.Kills is < 0 or > 100) throw new ArgumentException($"--kills must be within [0, 100] (was {settings.Kills})");
        if (settings.Silos < 2) throw new ArgumentException($"--silos must be at least 2 (was {settings.Silos})");
        return settings;
    }
}
