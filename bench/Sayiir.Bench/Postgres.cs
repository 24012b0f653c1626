using System.Globalization;
using System.Diagnostics;
using System.Text;
using Npgsql;
using Sayiir.Persistence;

namespace Sayiir.Bench;

/// <summary>
/// The PostgreSQL server of the postgres backend: given with <c>--postgres</c>, or provisioned with
/// <c>eng/pgtest.sh</c> on its own port and directory and then switched to durable settings (fsync, synchronous
/// commit and full-page writes on), which are verified and reported.
/// </summary>
internal sealed class PgServer
{
    private readonly string? _repoRoot;
    private readonly BenchOptions _options;

    private PgServer(string adminConnectionString, bool startedByUs, string? repoRoot, BenchOptions options)
    {
        AdminConnectionString = adminConnectionString;
        StartedByUs = startedByUs;
        _repoRoot = repoRoot;
        _options = options;
    }

    public string AdminConnectionString { get; }

    public bool StartedByUs { get; }

    public bool Provisioned => _repoRoot is not null;

    public Dictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);

    public string Setting(string name) => Settings.GetValueOrDefault(name, "?");

    /// <summary>Durability settings for the JSON notes, e.g. "fsync=on; synchronous_commit=on; full_page_writes=on".</summary>
    public string DurabilityNote =>
        $"fsync={Setting("fsync")}; synchronous_commit={Setting("synchronous_commit")}; full_page_writes={Setting("full_page_writes")}";

    /// <summary>The connection pool bound of the silo's connections, for the notes.</summary>
    public string PoolNote => $"Npgsql pool max {new NpgsqlConnectionStringBuilder(AdminConnectionString).MaxPoolSize}";

    public static async Task<PgServer> ProvisionAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        PgServer server;
        if (options.Postgres is { } given)
        {
            if (options.PoolSize is { } pool) given = new NpgsqlConnectionStringBuilder(given) { MaxPoolSize = pool }.ConnectionString;
            server = new PgServer(given, startedByUs: false, repoRoot: null, options);
            Log.Info($"using the PostgreSQL server of --postgres ({PostgresTarget.Describe(given)}); its settings are not changed");
        }
        else
        {
            var repo = FindRepoRoot() ?? throw new InvalidOperationException(
                "eng/pgtest.sh not found (run from the repository, or pass --postgres CONNSTR)");
            var env = PgtestEnv(options);
            var running = (await RunAsync("bash", [Path.Combine(repo, "eng", "pgtest.sh"), "status"], env, repo, cancellationToken)).ExitCode == 0;
            Log.Info(running
                ? $"reusing the bench PostgreSQL server on 127.0.0.1:{options.PgPort} ({options.PgDir})"
                : $"starting a throwaway durable PostgreSQL server on 127.0.0.1:{options.PgPort} ({options.PgDir})");
            var start = await RunAsync("bash", [Path.Combine(repo, "eng", "pgtest.sh"), "start"], env, repo, cancellationToken);
            if (start.ExitCode != 0) throw new InvalidOperationException($"eng/pgtest.sh start failed:\n{start.StdErr}");
            var admin = $"Host=127.0.0.1;Port={options.PgPort};Username=postgres;Database=postgres;Maximum Pool Size={options.PoolSize ?? 16}";
            server = new PgServer(admin, startedByUs: !running, repo, options);
            // pgtest.sh writes fsync/synchronous_commit/full_page_writes = off into postgresql.conf; ALTER SYSTEM
            // (postgresql.auto.conf) overrides it. All three take effect on reload.
            await server.ExecuteAsync("ALTER SYSTEM SET fsync = on", cancellationToken);
            await server.ExecuteAsync("ALTER SYSTEM SET synchronous_commit = on", cancellationToken);
            await server.ExecuteAsync("ALTER SYSTEM SET full_page_writes = on", cancellationToken);
            await server.ExecuteAsync("SELECT pg_reload_conf()", cancellationToken);
            await Task.Delay(500, cancellationToken);
            NpgsqlConnection.ClearAllPools();
        }

        foreach (var name in new[] { "server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers", "max_connections" })
        {
            server.Settings[name] = await server.ScalarAsync<string>($"SHOW {name}", cancellationToken) ?? "?";
        }
        server.Settings["server_version"] = server.Setting("server_version").Split(' ')[0];
        if (server.Provisioned && (server.Setting("fsync") != "on" || server.Setting("synchronous_commit") != "on" || server.Setting("full_page_writes") != "on"))
            throw new InvalidOperationException($"the provisioned server is not durable: {server.DurabilityNote}");
        if (server.Setting("synchronous_commit") != "on")
            Log.Info($"warning: synchronous_commit={server.Setting("synchronous_commit")}: benchmarks.md asks for synchronous_commit=on");
        Log.Info($"PostgreSQL {server.Setting("server_version")}: {server.DurabilityNote}; wal_sync_method={server.Setting("wal_sync_method")}");
        return server;
    }

    /// <summary>Stops the server if this process started it (unless <c>--keep-server</c>).</summary>
    public async Task ShutdownAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (!StartedByUs || _options.KeepServer || _repoRoot is null) return;
        var stop = await RunAsync("bash", [Path.Combine(_repoRoot, "eng", "pgtest.sh"), "stop"], PgtestEnv(_options), _repoRoot, CancellationToken.None);
        if (stop.ExitCode != 0) Log.Info($"warning: eng/pgtest.sh stop failed: {stop.StdErr.Trim()}");
        else Log.Info("stopped the bench PostgreSQL server");
    }

    /// <summary>A fresh database named <paramref name="prefix"/>_suffix; the server's own database when CREATE DATABASE is refused.</summary>
    public async Task<PgDatabase> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken)
    {
        var name = $"{prefix}_{Guid.NewGuid():n}"[..Math.Min(63, prefix.Length + 13)].ToLowerInvariant();
        try
        {
            await ExecuteAsync($"CREATE DATABASE \"{name}\"", cancellationToken);
        }
        catch (PostgresException ex) when (!Provisioned)
        {
            Log.Info($"warning: CREATE DATABASE refused ({ex.MessageText}); using the database of --postgres as is");
            return new PgDatabase(this, AdminConnectionString, new NpgsqlConnectionStringBuilder(AdminConnectionString).Database ?? "", created: false);
        }
        var connectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        return new PgDatabase(this, connectionString, name, created: true);
    }

    /// <summary>Bytes of WAL generated so far by the whole server (the current insert LSN).</summary>
    /// <summary>
    /// CPU time used so far by the server's processes when the bench started it on this machine (null otherwise): the
    /// postmaster, its live children (backends, WAL writer, checkpointer…) and the children it has already reaped.
    /// </summary>
    public TimeSpan? CpuTime()
    {
        if (!Provisioned) return null;
        try
        {
            var pidFile = Directory.EnumerateFiles(_options.PgDir, "postmaster.pid", SearchOption.AllDirectories).FirstOrDefault();
            if (pidFile is null || !int.TryParse(File.ReadLines(pidFile).First(), out var postmaster)) return null;
            long ticks = 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(dir, "stat"));
                }
                catch (IOException)
                {
                    continue; // gone meanwhile
                }
                // Fields after the command's closing parenthesis: state ppid … utime(14) stime(15) cutime(16) cstime(17).
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ppid = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (pid == postmaster)
                {
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                        + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
                }
                else if (ppid == postmaster)
                {
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
            }
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ: 100 on Linux
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public Task<long> WalPositionAsync(CancellationToken cancellationToken) =>
        ScalarAsync<long>("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint", cancellationToken);

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<T?> ScalarAsync<T>(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default : (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, string> PgtestEnv(BenchOptions options) => new(StringComparer.Ordinal)
    {
        ["PGTEST_PORT"] = options.PgPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PGTEST_DIR"] = options.PgDir,
    };

    internal static string? FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "eng", "pgtest.sh"))) return dir.FullName;
            }
        }
        return null;
    }

    internal static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? env, string? workingDirectory, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (env is not null)
        {
            foreach (var (k, v) in env) info.Environment[k] = v;
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>One run's database.</summary>
internal sealed class PgDatabase(PgServer server, string connectionString, string name, bool created)
{
    private static bool _reportedLeak;
    private WalStats? _walBaseline;

    public string ConnectionString { get; } = connectionString;

    public string Name { get; } = name;

    public PgServer Server { get; } = server;

    /// <summary>Reads the server's pg_stat_wal counters before the silo starts (pools cleared, so they are flushed).</summary>
    public async Task BaselineAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection.ClearAllPools();
        await Task.Delay(200, cancellationToken);
        _walBaseline = await ReadWalStatsAsync(cancellationToken);
    }

    /// <summary>Waits (up to <paramref name="limit"/>) until no recovery reminder is left: completed runs unregister theirs just after completing.</summary>
    public async Task WaitForRemindersAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        while (clock.Elapsed < limit)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM orleansreminderstable", connection);
            if ((long)(await command.ExecuteScalarAsync(cancellationToken))! == 0) return;
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// Totals of the database since it was created, read after the silo was disposed: backends flush their
    /// statistics lazily, so the pools are cleared and the backends' exit awaited first.
    /// </summary>
    public async Task<PgTotals?> CollectTotalsAsync(CancellationToken cancellationToken)
    {
        if (!created) return null;
        NpgsqlConnection.ClearAllPools();
        var others = await WaitForSessionsToEndAsync(TimeSpan.FromSeconds(1), cancellationToken);
        if (others > 0)
        {
            // Sessions still open after the silo was disposed belong to connection pools nobody disposed; ending
            // them makes their backends flush their statistics (idle backends flush only every 10 s).
            var who = await Server.ScalarAsync<string>(
                $"SELECT string_agg(DISTINCT left(regexp_replace(query, '\\s+', ' ', 'g'), 40), ' | ') FROM pg_stat_activity WHERE datname = '{Name}' AND pid <> pg_backend_pid()", cancellationToken);
            if (!_reportedLeak)
            {
                _reportedLeak = true;
                Log.Info($"note: {others} PostgreSQL session(s) stayed open after the silo was disposed (last query: {who}); terminating them");
            }
            await Server.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Name}' AND pid <> pg_backend_pid()", cancellationToken);
            others = await WaitForSessionsToEndAsync(TimeSpan.FromSeconds(5), cancellationToken);
            if (others > 0) Log.Info($"warning: {others} session(s) still open on {Name}: its statistics may be incomplete");
        }
        await Task.Delay(300, cancellationToken);
        var wal = await ReadWalStatsAsync(cancellationToken);
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        const string Sql = """
            SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
                   coalesce((SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables), 0)::bigint,
                   coalesce((SELECT n_tup_ins + n_tup_upd FROM pg_stat_user_tables WHERE relname = 'orleansstorage'), 0),
                   coalesce((SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relname = 'orleansreminderstable'), 0),
                   (SELECT avg(octet_length(payloadbinary))::float8 FROM orleansstorage),
                   (SELECT count(*) FROM orleansstorage)
            """;
        await using var command = new NpgsqlCommand(Sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new PgTotals(
            reader.GetInt64(0),
            reader.GetInt64(1),
            reader.GetInt64(2),
            reader.GetInt64(3),
            reader.IsDBNull(4) ? null : reader.GetDouble(4),
            reader.GetInt64(5),
            _walBaseline is { } before ? wal - before : null);
    }

    private async Task<long> WaitForSessionsToEndAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var sessions = await Server.ScalarAsync<long>(
                $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{Name}' AND pid <> pg_backend_pid()", cancellationToken);
            if (sessions == 0 || clock.Elapsed >= limit) return sessions;
            await Task.Delay(100, cancellationToken);
        }
    }

    private async Task<WalStats> ReadWalStatsAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Server.AdminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT wal_records, wal_fpi, wal_bytes::bigint, wal_write, wal_sync FROM pg_stat_wal", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new WalStats(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    public async Task DropAsync(CancellationToken cancellationToken)
    {
        if (!created) return;
        NpgsqlConnection.ClearAllPools();
        await Server.ExecuteAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", cancellationToken);
    }
}

/// <summary>Server-wide pg_stat_wal counters.</summary>
internal sealed record WalStats(long Records, long FullPageImages, long Bytes, long Writes, long Syncs)
{
    public static WalStats operator -(WalStats a, WalStats b) =>
        new(a.Records - b.Records, a.FullPageImages - b.FullPageImages, a.Bytes - b.Bytes, a.Writes - b.Writes, a.Syncs - b.Syncs);
}

/// <summary>Statistics of a run's database (warm-up and measured runs together, plus schema installation), and the server's WAL counters over the same span.</summary>
internal sealed record PgTotals(long XactCommit, long RowsWritten, long StateRowsWritten, long ReminderRowsWritten, double? AvgStateBytes, long StateRows, WalStats? Wal);

/// <summary>pgbench's one-row upsert: the durable-transaction ceiling of the server at a given concurrency.</summary>
internal static class PgCeiling
{
    private const string Script = """
        \set id random(1, 100000)
        INSERT INTO bench_ceiling (id, v) VALUES (:id, now()) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v;
        """;

    public static async Task<Dictionary<int, double>> MeasureAsync(PgServer server, IEnumerable<int> concurrencies, double seconds, CancellationToken cancellationToken)
    {
        var results = new Dictionary<int, double>();
        var pgbench = FindPgbench() ?? throw new InvalidOperationException("pgbench not found (PATH or /usr/lib/postgresql/*/bin)");
        var db = await server.CreateDatabaseAsync("sayiir_bench_ceiling", cancellationToken);
        var scriptFile = Path.Combine(Path.GetTempPath(), $"sayiir-bench-ceiling-{Environment.ProcessId}.sql");
        try
        {
            await using (var connection = new NpgsqlConnection(db.ConnectionString))
            {
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand("""
                    DROP TABLE IF EXISTS bench_ceiling;
                    CREATE TABLE bench_ceiling (id int PRIMARY KEY, v timestamptz NOT NULL);
                    INSERT INTO bench_ceiling SELECT g, now() FROM generate_series(1, 100000) g;
                    """, connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
                await using var vacuum = new NpgsqlCommand("VACUUM ANALYZE bench_ceiling", connection);
                await vacuum.ExecuteNonQueryAsync(cancellationToken);
            }
            await File.WriteAllTextAsync(scriptFile, Script + "\n", cancellationToken);
            var b = new NpgsqlConnectionStringBuilder(db.ConnectionString);
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!string.IsNullOrEmpty(b.Password)) env["PGPASSWORD"] = b.Password;
            foreach (var clients in concurrencies.Distinct().Order())
            {
                var threads = Math.Min(2, clients);
                Log.Info($"pgbench one-row upsert: -c {clients} -j {threads} -T {seconds:0.#}");
                var run = await PgServer.RunAsync(pgbench,
                [
                    "-n", "-M", "prepared", "-f", scriptFile, "-c", Inv(clients), "-j", Inv(threads), "-T", Inv((int)Math.Ceiling(seconds)),
                    "-h", b.Host ?? "127.0.0.1", "-p", Inv(b.Port), "-U", b.Username ?? "postgres", b.Database ?? "postgres",
                ], env, null, cancellationToken);
                var tps = ParseTps(run.StdOut);
                if (run.ExitCode != 0 || tps is null)
                {
                    Log.Info($"warning: pgbench failed (exit {run.ExitCode}): {run.StdErr.Trim()}");
                    continue;
                }
                results[clients] = tps.Value;
            }
        }
        finally
        {
            File.Delete(scriptFile);
            await db.DropAsync(CancellationToken.None);
        }
        return results;
    }

    private static string Inv(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static double? ParseTps(string output)
    {
        foreach (var line in output.Split('\n'))
        {
            var trimmed = line.Trim();
            if (!trimmed.StartsWith("tps = ", StringComparison.Ordinal)) continue;
            var number = new StringBuilder();
            foreach (var c in trimmed[6..])
            {
                if (char.IsDigit(c) || c == '.') number.Append(c);
                else break;
            }
            if (double.TryParse(number.ToString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var tps))
                return tps;
        }
        return null;
    }

    private static string? FindPgbench()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "pgbench");
            if (File.Exists(candidate)) return candidate;
        }
        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "pgbench")).Where(File.Exists).Order().LastOrDefault()
            : null;
    }
}
