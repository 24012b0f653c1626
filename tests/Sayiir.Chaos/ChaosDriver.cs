using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using Sayiir.Hosting;

namespace Sayiir.Chaos;

/// <summary>One run the driver started.</summary>
internal sealed class RunRecord(int index, string instanceId, long seed)
{
    public int Index { get; } = index;
    public string InstanceId { get; } = instanceId;
    public long Seed { get; } = seed;
    public DateTimeOffset? StartReturnedAt { get; set; }
    public DateTimeOffset? SignalSentAt { get; set; }
    public bool SignalEarly { get; set; }
    public long? Output { get; set; }
    public string? Error { get; set; }
    public IReadOnlyList<RunHistoryEvent>? History { get; set; }
    public WorkflowStatus? Status { get; set; }
}

/// <summary>One SIGKILL.</summary>
internal sealed record KillRecord(int Number, string Silo, int Pid, DateTimeOffset At, string Replacement);

/// <summary>One row of <c>chaos_exec</c>.</summary>
internal sealed record Execution(long Id, string InstanceId, string TaskId, int Attempt, int Pid, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string? Outcome, int LogRetries);

/// <summary>Runs the chaos scenario and hands the evidence to <see cref="Invariants"/>.</summary>
internal sealed class ChaosDriver(DriverSettings settings, Stopwatch clock) : IAsyncDisposable
{
    // The same fast failure-detection settings as eng/cluster-test.sh (SILO_TIMINGS).
    private static readonly string[] SiloTimings =
    [
        "--Sayiir:Membership:ProbeTimeout", "00:00:01",
        "--Sayiir:Membership:NumMissedProbesLimit", "2",
        "--Sayiir:Membership:IAmAliveTablePublishTimeout", "00:00:02",
        "--Sayiir:Membership:NumMissedTableIAmAliveLimit", "2",
        "--Sayiir:Membership:TableRefreshTimeout", "00:00:02",
        "--Sayiir:RecoveryReminderPeriod", "00:00:02",
    ];

    private readonly Random _random = new(settings.Seed);
    private readonly List<SiloProcess> _silos = [];
    private readonly List<Task> _siloStartups = [];
    private readonly List<KillRecord> _kills = [];
    private readonly ConcurrentDictionary<string, (int Count, string First)> _clientRetries = new();
    private readonly string _clusterId = $"chaos-{Environment.ProcessId}-{Random.Shared.Next(100_000)}";
    private readonly HashSet<int> _portsHandedOut = [];
    private IHost? _client;
    private string _cs = "";
    private string? _database;
    private int _nextPort;
    private bool _disposed;
    private int _killCount;
    private (DateTimeOffset At, TimeSpan Took)? _pgRestart;

    private void Say(string message) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chaos [{clock.Elapsed.TotalSeconds,5:F1}s]: {message}"));

    public async Task<List<string>> RunAsync()
    {
        using var abort = new CancellationTokenSource();
        var ct = abort.Token;
        await CreateDatabaseAsync(ct);

        // ----- the cluster ------------------------------------------------------------------------------------
        var moduleDll = typeof(ChaosModule).Assembly.Location;
        for (var i = 0; i < settings.Silos; i++) StartSilo();
        await Task.WhenAll(_siloStartups);
        await WaitForAsync(async () => await ActiveSilosAsync(ct) >= settings.Silos, TimeSpan.FromSeconds(60),
            $"the membership table to show {settings.Silos} active silos", ct);
        Say($"{settings.Silos} silos active: {string.Join(", ", _silos.Select(s => $"{s.Name} pid {s.Pid} (silo {s.SiloPort}, gateway {s.GatewayPort}) up {(s.UpAt!.Value - s.StartedAt).TotalSeconds:F1} s"))}");
        var sayiir = await StartClientAsync(ct);

        // ----- runs and chaos, concurrently --------------------------------------------------------------------
        // Runs are started in K+1 equal batches: batch k (paced over ~6.5 s, the mean kill interval) only once k
        // kills have happened, so every kill finds runs in flight however long start-ups and restarts take.
        var phases = settings.Kills + 1;
        var perPhase = (settings.Runs + phases - 1) / phases;
        var pace = TimeSpan.FromSeconds(6.5) / perPhase;
        var runs = Enumerable.Range(1, settings.Runs)
            .Select(i => new RunRecord(i, $"chaos-{settings.Seed}-{i:D4}", ((long)settings.Seed * 10_000) + i)).ToList();
        using var runDeadline = new CancellationTokenSource();
        var runTasks = new List<Task>();
        var starting = Task.Run(async () =>
        {
            foreach (var run in runs)
            {
                var phase = (run.Index - 1) / perPhase;
                if (Volatile.Read(ref _killCount) < phase)
                    await WaitForAsync(() => Task.FromResult(Volatile.Read(ref _killCount) >= phase), TimeSpan.FromSeconds(180), $"kill #{phase} (to start the next batch of runs)", ct);
                lock (runTasks) runTasks.Add(DriveRunAsync(sayiir, run, runDeadline.Token));
                await Task.Delay(pace, ct);   // load shaping, not synchronisation
            }
        }, ct);
        Say($"starting {settings.Runs} runs in {phases} batches of {perPhase} (one per {pace.TotalMilliseconds:F0} ms); {settings.Kills} kills every 5-8 s; PostgreSQL restart: {(settings.RestartPostgres ? "once, mid-way" : "off")}");

        await ChaosAsync(ct);
        await starting;
        Say($"chaos over; {_silos.Count(s => s.KilledAt is null)} silos alive; waiting for every run to complete");

        // ----- every run completes -----------------------------------------------------------------------------
        var completionLimit = TimeSpan.FromSeconds(150);
        runDeadline.CancelAfter(completionLimit);
        Task[] all;
        lock (runTasks) all = [.. runTasks];
        await Task.WhenAll(all);
        var notDone = runs.Where(r => r.Output is null).ToList();
        if (notDone.Count > 0)
        {
            var states = new List<string>();
            foreach (var run in notDone.Take(10))
            {
                string state;
                try
                {
                    using var statusLimit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    state = (await sayiir.GetStatusAsync(run.InstanceId, statusLimit.Token)).State.ToString();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    state = $"status unknown ({ex.GetType().Name})";
                }
                states.Add($"{run.InstanceId}: {run.Error ?? "not finished"} [{state}]");
            }
            throw new ChaosFailure($"{notDone.Count}/{runs.Count} runs did not complete within {completionLimit.TotalSeconds:F0} s after the chaos: {string.Join("; ", states)}");
        }
        Say($"all {runs.Count} runs completed");

        // ----- settle: no execution still running on a live silo ----------------------------------------------
        var killedPids = _kills.Select(k => k.Pid).ToArray();
        var settled = await TryWaitForAsync(async () => await UnfinishedOnLiveSilosAsync(killedPids, ct) == 0, TimeSpan.FromSeconds(20), ct);
        if (!settled) Say("WARNING: executions still without an end on live silos after 20 s (reported by invariant e)");

        // ----- history and status of every run (history is written in batches: wait for each run's Completed) --
        using var historyLimit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Parallel.ForEachAsync(runs, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = historyLimit.Token }, async (run, token) =>
        {
            var until = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(20);
            while (true)
            {
                run.History = await RetryAsync(c => sayiir.GetHistoryAsync(run.InstanceId, c), "history", token);
                if (run.History.Any(e => e.Kind == RunEventKind.Completed) || DateTimeOffset.UtcNow > until) break;
                await Task.Delay(200, token);   // polling for a condition, bounded by `until`
            }
            run.Status = await RetryAsync(c => sayiir.GetStatusAsync(run.InstanceId, c), "status", token);
        });

        var executions = await ReadExecutionsAsync(ct);
        var report = new Invariants(settings, runs, executions, _kills, _pgRestart, _silos, _clientRetries);
        return report.CheckAndPrint(Say);
    }

    // ----- chaos ------------------------------------------------------------------------------------------------

    private async Task ChaosAsync(CancellationToken ct)
    {
        await WaitForAsync(async () => await InFlightAsync(ct) >= 3, TimeSpan.FromSeconds(60), "3 task executions in flight before the first kill", ct);
        var restartAfter = settings.RestartPostgres ? Math.Max(1, (settings.Kills + 1) / 2) : -1;
        if (settings.Kills == 0 && settings.RestartPostgres) await RestartPostgresAsync(ct);
        for (var k = 1; k <= settings.Kills; k++)
        {
            if (k > 1)
            {
                var pause = TimeSpan.FromMilliseconds(5000 + _random.Next(3001));   // the kill cadence (a timer by design)
                if (k - 1 == restartAfter)
                {
                    await Task.Delay(pause / 2, ct);
                    await RestartPostgresAsync(ct);
                    var rest = pause / 2 - _pgRestart!.Value.Took;
                    if (rest > TimeSpan.Zero) await Task.Delay(rest, ct);
                }
                else
                {
                    await Task.Delay(pause, ct);
                }
            }
            await WaitForAsync(() => Task.FromResult(_silos.Count(s => s.IsUp) >= 2), TimeSpan.FromSeconds(60),
                "two started silos (one to kill, one to survive)", ct);
            // A random started silo, preferring those executing tasks right now (a kill of an idle silo tests little).
            var candidates = _silos.Where(s => s.IsUp).ToList();
            var busy = new List<SiloProcess>();
            foreach (var silo in candidates)
            {
                if (await InFlightAsync(ct, silo.Pid) > 0) busy.Add(silo);
            }
            if (busy.Count > 0) candidates = busy;
            var victim = candidates[_random.Next(candidates.Count)];
            var inFlight = await InFlightAsync(ct, victim.Pid);
            var at = victim.Kill();
            var replacement = StartSilo();
            _kills.Add(new KillRecord(k, victim.Name, victim.Pid, at, replacement.Name));
            Interlocked.Increment(ref _killCount);
            Say($"kill #{k}: SIGKILL {victim.Name} (pid {victim.Pid}) with {inFlight} execution(s) in flight on it; replacement {replacement.Name} on silo port {replacement.SiloPort}, gateway {replacement.GatewayPort}");
        }
        if (settings.RestartPostgres && settings.Kills == 1)
        {
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            await RestartPostgresAsync(ct);
        }
        // The replacements must have joined (or failed loudly) before the drain.
        await Task.WhenAll(_siloStartups);
    }

    private async Task RestartPostgresAsync(CancellationToken ct)
    {
        // Not while a silo is starting: Sayiir.Silo's start-up does not survive losing its database (it exits,
        // naming it), and that is not what this test is about.
        await WaitForAsync(() => Task.FromResult(_silos.All(s => s.KilledAt is not null || s.UpAt is not null)), TimeSpan.FromSeconds(60),
            "every replacement silo to finish starting before the PostgreSQL restart", ct);
        var at = DateTimeOffset.UtcNow;
        var info = new ProcessStartInfo("bash", [settings.PgTestScript, "restart-immediate"]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["PGTEST_PORT"] = settings.PgPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["PGTEST_DIR"] = settings.PgDir;
        using var process = Process.Start(info) ?? throw new ChaosFailure("cannot run eng/pgtest.sh restart-immediate");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(limit.Token);
        var took = DateTimeOffset.UtcNow - at;
        if (process.ExitCode != 0)
            throw new ChaosFailure($"eng/pgtest.sh restart-immediate failed (status {process.ExitCode}): {(await stderr).Trim()} {(await stdout).Trim()}");
        _pgRestart = (at, took);
        var messages = string.Join(" | ", (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Say($"PostgreSQL restarted with an immediate (crash) shutdown in {took.TotalSeconds:F1} s ({messages})");
    }

    private SiloProcess StartSilo()
    {
        var n = _silos.Count + 1;
        var siloPort = FreePort(settings.SiloPortBase + _nextPort);
        var gatewayPort = FreePort(settings.GatewayPortBase + _nextPort);
        _nextPort++;
        var silo = SiloProcess.Start($"silo-{n}", settings, _clusterId, _cs, siloPort, gatewayPort, SiloTimings, typeof(ChaosModule).Assembly.Location);
        _silos.Add(silo);
        _siloStartups.Add(silo.WaitUpAsync(TimeSpan.FromSeconds(90), CancellationToken.None));
        return silo;
    }

    private int FreePort(int from)
    {
        for (var port = from; port < from + 1000; port++)
        {
            if (_portsHandedOut.Contains(port)) continue;
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                _portsHandedOut.Add(port);
                return port;
            }
            catch (SocketException)
            {
                // in use: try the next one
            }
        }
        throw new ChaosFailure($"no free port in [{from}, {from + 1000})");
    }

    // ----- one run: start, signal at a random time, wait for the result ----------------------------------------

    private async Task DriveRunAsync(ISayiirClient sayiir, RunRecord run, CancellationToken ct)
    {
        try
        {
            // About a third of the signals go out at once (before the run reaches its wait: buffered), the rest later.
            TimeSpan signalDelay;
            lock (_random) signalDelay = _random.Next(3) == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(200 + _random.Next(3300));
            await RetryAsync(c => sayiir.StartAsync(ChaosWorkflow.Definition, run.Seed, run.InstanceId,
                new StartOptions { OnConflict = ConflictPolicy.UseExisting }, c), "start", ct);
            run.StartReturnedAt = DateTimeOffset.UtcNow;
            var signal = SignalAsync(sayiir, run, signalDelay, ct);
            run.Output = await RetryAsync(c => sayiir.WaitForResultAsync<long>(run.InstanceId, c), "wait", ct);
            await signal;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            run.Error ??= "not finished in time";
        }
        catch (SayiirException ex)
        {
            run.Error = $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    private async Task SignalAsync(ISayiirClient sayiir, RunRecord run, TimeSpan delay, CancellationToken ct)
    {
        if (delay > TimeSpan.Zero) await Task.Delay(delay, ct);   // a random send time, by design
        run.SignalEarly = delay == TimeSpan.Zero;
        var tries = 0;
        await RetryAsync(async c =>
        {
            try
            {
                tries++;
                await sayiir.SignalAsync(run.InstanceId, ChaosWorkflow.SignalName, ChaosWorkflow.SignalPayload(run.Seed), c);
            }
            catch (InvalidRunStateException) when (tries > 1)
            {
                // An earlier try landed (its reply was lost) and the run has completed since.
            }
            return true;
        }, "signal", ct);
        run.SignalSentAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Retries calls that failed because a silo, a gateway or the database went away.</summary>
    private async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, string what, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                return await call(ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && (ex is not SayiirException || ex is SayiirStorageUnavailableException))
            {
                var first = ex.Message.Length > 160 ? ex.Message[..160] + "…" : ex.Message;
                _clientRetries.AddOrUpdate($"{what}: {ex.GetType().Name}", (1, first), (_, n) => (n.Count + 1, n.First));
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    // ----- client -----------------------------------------------------------------------------------------------

    private async Task<ISayiirClient> StartClientAsync(CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder([]);
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning", ["Logging:LogLevel:Orleans"] = "None", ["Logging:LogLevel:Npgsql"] = "None" },
        });
        var connectDeadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        builder.UseOrleansClient(client => client
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = _clusterId;
                o.ServiceId = "sayiir-chaos";
            })
            // Replacement silos must become gateways for this client quickly: the originals all die eventually.
            .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1))
            // A call lost with a dead silo is retried after 15 s rather than Orleans' 30 s (every call here is safe to repeat).
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(15))
            .UseSayiirPostgresClustering(_cs)
            .UseConnectionRetryFilter(async (_, token) =>
            {
                if (DateTimeOffset.UtcNow >= connectDeadline) return false;
                await Task.Delay(TimeSpan.FromMilliseconds(500), token);
                return true;
            }));
        builder.Services.AddSayiirClient();
        _client = builder.Build();
        await _client.StartAsync(ct);
        Say("client connected");
        return _client.Services.GetRequiredService<ISayiirClient>();
    }

    // ----- PostgreSQL -------------------------------------------------------------------------------------------

    private async Task CreateDatabaseAsync(CancellationToken ct)
    {
        _database = $"sayiir_chaos_{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}_{Environment.ProcessId}";
        await using (var admin = new NpgsqlConnection(settings.Postgres))
        {
            await admin.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_database}\"", admin);
            await create.ExecuteNonQueryAsync(ct);
            // Commits must survive PostgreSQL's crash-restart: pgtest.sh's synchronous_commit=off could lose the
            // last few hundred ms of acknowledged writes (WAL still in shared memory), which would look like an
            // engine fault. fsync=off is harmless here: the operating system does not crash, only the server.
            await using var sync = new NpgsqlCommand("ALTER SYSTEM SET synchronous_commit = on", admin);
            await sync.ExecuteNonQueryAsync(ct);
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", admin);
            await reload.ExecuteNonQueryAsync(ct);
        }
        _cs = new NpgsqlConnectionStringBuilder(settings.Postgres) { Database = _database, MaxPoolSize = 16 }.ConnectionString;
        await using var db = new NpgsqlConnection(_cs);
        await db.OpenAsync(ct);
        await using var table = new NpgsqlCommand(ExecLog.CreateTableSql, db);
        await table.ExecuteNonQueryAsync(ct);
        Say($"fresh database {_database}; chaos_exec created; synchronous_commit on");
    }

    private async Task<T> QueryAsync<T>(string sql, Func<NpgsqlCommand, Task<T>> run, CancellationToken ct)
    {
        // Tolerates the PostgreSQL restart like everything else.
        var until = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_cs);
                await connection.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand(sql, connection);
                return await run(cmd);
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or SocketException && DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(200, ct);
            }
        }
    }

    private Task<long> ActiveSilosAsync(CancellationToken ct) =>
        QueryAsync("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = $1 AND status = 3", async cmd =>
        {
            cmd.Parameters.AddWithValue(_clusterId);
            return (long)(await cmd.ExecuteScalarAsync(ct))!;
        }, ct);

    private Task<long> InFlightAsync(CancellationToken ct, int? pid = null) =>
        QueryAsync("SELECT count(*) FROM chaos_exec WHERE ended_at IS NULL AND ($1 = 0 OR pid = $1)", async cmd =>
        {
            cmd.Parameters.AddWithValue(pid ?? 0);
            return (long)(await cmd.ExecuteScalarAsync(ct))!;
        }, ct);

    private Task<long> UnfinishedOnLiveSilosAsync(int[] killedPids, CancellationToken ct) =>
        QueryAsync("SELECT count(*) FROM chaos_exec WHERE ended_at IS NULL AND NOT (pid = ANY($1))", async cmd =>
        {
            cmd.Parameters.AddWithValue(killedPids);
            return (long)(await cmd.ExecuteScalarAsync(ct))!;
        }, ct);

    private Task<List<Execution>> ReadExecutionsAsync(CancellationToken ct) =>
        QueryAsync("SELECT id, instance_id, task_id, attempt, pid, started_at, ended_at, outcome, log_retries FROM chaos_exec ORDER BY id", async cmd =>
        {
            var list = new List<Execution>();
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                list.Add(new Execution(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4),
                    reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
                    reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetInt32(8)));
            }
            return list;
        }, ct);

    // ----- waiting on conditions --------------------------------------------------------------------------------

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan limit, string what, CancellationToken ct)
    {
        if (!await TryWaitForAsync(condition, limit, ct))
            throw new ChaosFailure($"timed out after {limit.TotalSeconds:F0} s waiting for {what}");
    }

    private static async Task<bool> TryWaitForAsync(Func<Task<bool>> condition, TimeSpan limit, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + limit;
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline) return false;
            await Task.Delay(100, ct);
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_client is not null)
        {
            try
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _client.StopAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
            {
                // best effort
            }
            _client.Dispose();
        }
        await Task.WhenAll(_silos.Where(s => s.KilledAt is null).Select(s => s.StopAsync(TimeSpan.FromSeconds(5))));
    }
}
