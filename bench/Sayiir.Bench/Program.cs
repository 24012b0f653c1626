using System.Globalization;

namespace Sayiir.Bench;

/// <summary>
/// Runs the workloads of shared/notes/benchmarks.md against a co-hosted silo, one fresh silo (and, for postgres,
/// one fresh database) per workload and backend. Prints one JSON line per run and a summary table on stdout;
/// progress and messages go to stderr. See bench/README.md.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"bench: {ex.Message}");
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        }
        Progress.Enabled = options.Progress ?? !Console.IsErrorRedirected;

        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            Log.Info("interrupted: stopping");
            interrupt.Cancel();
        };

        var specs = options.Workloads.Select(options.SpecFor).ToList();
        Log.Info($"Sayiir {RunResult.Version}, .NET {Environment.Version}, {Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}, "
            + $"load average {LoadAverage() ?? "?"}{(options.Smoke ? ", smoke mode" : "")}");

        var results = new List<RunResult>();
        var failures = 0;
        PgServer? pg = null;
        Dictionary<int, double> ceilings = [];
        try
        {
            if (options.Backends.Contains(BackendKind.Postgres) && (specs.Count > 0 || options.RecoveryRequested || options.FanoutCpuRequested))
            {
                pg = await PgServer.ProvisionAsync(options, interrupt.Token);
                if (options.CompareCeiling)
                {
                    try
                    {
                        ceilings = await PgCeiling.MeasureAsync(pg, specs.Select(CeilingClients), options.EffectiveCeilingSeconds, interrupt.Token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Log.Info($"warning: the pgbench ceiling could not be measured: {ex.Message}");
                        failures++;
                    }
                    foreach (var (clients, tps) in ceilings.OrderBy(c => c.Key))
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# pgbench ceiling (one-row upsert per transaction, -c {clients}): {tps:0.0} tps; {pg.DurabilityNote}"));
                }
            }

            foreach (var backend in options.Backends)
            {
                foreach (var spec in specs)
                {
                    interrupt.Token.ThrowIfCancellationRequested();
                    var result = await RunOneAsync(backend, spec, options, pg, interrupt.Token);
                    if (result is null)
                    {
                        failures++;
                        continue;
                    }
                    if (backend == BackendKind.Postgres && ceilings.TryGetValue(CeilingClients(spec), out var ceiling))
                    {
                        result.Set("ceiling_clients", CeilingClients(spec));
                        result.Set("ceiling_tps", ceiling, 1);
                        var perSecond = result.ExtraNumber("checkpoints_per_s");
                        result.Set("checkpoints_fraction_of_ceiling", perSecond / ceiling, 3);
                        result.KeyFigure += string.Create(CultureInfo.InvariantCulture, $"; ckpt/s = {perSecond / ceiling:0.00} x pgbench({ceiling:0})");
                    }
                    results.Add(result);
                    var line = result.ToJsonLine();
                    Console.WriteLine(line);
                    if (options.JsonFile is { } file) await File.AppendAllTextAsync(file, line + Environment.NewLine);
                    if (result.Errors > 0)
                    {
                        failures++;
                        Log.Info($"{result.Backend} {spec.Name}: {result.Errors} error(s): {string.Join(" | ", result.ErrorSamples)}");
                    }
                }
            }
            // A whole-process workload's result: kept, printed as a JSON line (and appended to --json); false when it had errors.
            async Task<bool> RecordAsync(RunResult result)
            {
                results.Add(result);
                var line = result.ToJsonLine();
                Console.WriteLine(line);
                if (options.JsonFile is { } file) await File.AppendAllTextAsync(file, line + Environment.NewLine);
                return result.Errors == 0;
            }

            if (options.RecoveryRequested && options.Backends.Contains(BackendKind.Postgres))
            {
                pg ??= await PgServer.ProvisionAsync(options, interrupt.Token);
                var spec = options.RecoverySpec();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
                var result = await Recovery.RunAsync(pg, spec, timeout.Token);
                if (result is null || !await RecordAsync(result)) failures++;
            }
            if (options.FanoutCpuRequested && options.Backends.Contains(BackendKind.Postgres))
            {
                pg ??= await PgServer.ProvisionAsync(options, interrupt.Token);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
                var result = await FanoutCpu.RunAsync(pg, options.FanoutCpuSpec(), options.CpuMs, timeout.Token);
                if (result is null || !await RecordAsync(result)) failures++;
            }
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            failures++;
        }
        catch (Exception ex)
        {
            Log.Info($"failed: {ex}");
            failures++;
        }
        finally
        {
            Progress.End();
            if (pg is not null) await pg.ShutdownAsync();
        }

        if (results.Count > 0)
        {
            Console.WriteLine();
            Console.Write(RunResult.SummaryTable(results));
        }
        if (pg is not null) Console.WriteLine($"# postgres: PostgreSQL {pg.Setting("server_version")}, {pg.DurabilityNote}, wal_sync_method={pg.Setting("wal_sync_method")}");
        if (options.RecoveryRequested && options.Backends.Contains(BackendKind.Memory))
            Console.WriteLine("# recovery, memory: not applicable - in-memory run state lives in the silo that is killed; recovery is measured on postgres");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>pgbench clients for a workload's ceiling: its concurrency, capped at Npgsql's default pool size (100).</summary>
    private static int CeilingClients(WorkloadSpec spec) => Math.Clamp(spec.Concurrency, 1, 100);

    private static async Task<RunResult?> RunOneAsync(BackendKind backend, WorkloadSpec spec, BenchOptions options, PgServer? pg, CancellationToken interrupt)
    {
        var backendName = backend == BackendKind.Memory ? "memory" : "postgres";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var load = LoadAverage();
        PgDatabase? database = null;
        BenchHost? host = null;
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var phases = new List<string>();
            void Phase(string name)
            {
                phases.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {clock.Elapsed.TotalSeconds:0.0}s"));
                clock.Restart();
            }
            if (backend == BackendKind.Postgres)
            {
                database = await pg!.CreateDatabaseAsync($"sayiir_bench_{spec.Name}", timeout.Token);
                await database.BaselineAsync(timeout.Token);
            }
            Phase("create db");
            Log.Info($"{backendName} {spec.Name}: W={spec.Workflows} S={spec.Steps} K={spec.Branches} C={spec.Concurrency}"
                + (spec.Name == "sleeping" ? string.Create(CultureInfo.InvariantCulture, $" D={spec.DelaySeconds}s") : "") + $" warm-up={spec.Warmup}");
            host = await BenchHost.StartAsync(database?.ConnectionString, Workloads.Definitions(spec), timeout.Token, options.Encryption);
            Phase("silo start");
            var context = new BenchContext(backend, host, database, timeout.Token);
            var result = await Workloads.RunAsync(context, spec);
            Phase("workload");
            // Completed runs unregister their recovery reminder just after completing: let that finish first.
            if (database is not null) await database.WaitForRemindersAsync(TimeSpan.FromSeconds(5), timeout.Token);
            else await Task.Delay(500, timeout.Token);
            await host.DisposeAsync();
            Phase("silo stop");

            var notes = new List<string>();
            result.Set("encryption", options.Encryption ? "aes-256-gcm" : "off");
            if (options.Encryption) notes.Add("encryption at rest on (UseEncryption)");
            if (backend == BackendKind.Postgres)
            {
                notes.Add(pg!.DurabilityNote);
                notes.Add($"PostgreSQL {pg.Setting("server_version")}{(pg.Provisioned ? " (throwaway server on loopback)" : "")}");
                notes.Add(pg.PoolNote);
                result.Set("fsync", pg.Setting("fsync"));
                result.Set("synchronous_commit", pg.Setting("synchronous_commit"));
                result.Set("full_page_writes", pg.Setting("full_page_writes"));
                if (await database!.CollectTotalsAsync(timeout.Token) is { } totals)
                {
                    // Over warm-up and measured runs alike (statistics are read once the silo has stopped).
                    var runs = (double)(spec.Workflows + spec.Warmup);
                    result.Set("pg_xacts_per_run", totals.XactCommit / runs, 2);
                    result.Set("pg_rows_written_per_run", totals.RowsWritten / runs, 2);
                    result.Set("pg_state_rows_written_per_run", totals.StateRowsWritten / runs, 2);
                    result.Set("pg_reminder_rows_written_per_run", totals.ReminderRowsWritten / runs, 2);
                    result.Set("state_bytes_avg", totals.AvgStateBytes, 0);
                    if (totals.Wal is { } wal)
                    {
                        result.Set("pg_wal_bytes_per_run", wal.Bytes / runs, 0);
                        result.Set("pg_wal_records_per_run", wal.Records / runs, 2);
                        result.Set("pg_wal_fpi_per_run", wal.FullPageImages / runs, 2);
                        result.Set("pg_wal_syncs_per_run", wal.Syncs / runs, 2);
                        result.Set("pg_wal_syncs_per_state_write", totals.StateRowsWritten > 0 ? (double)wal.Syncs / totals.StateRowsWritten : null, 3);
                    }
                }
            }
            else
            {
                notes.Add("in-memory storage and reminders");
            }
            notes.Add("1 silo, co-hosted client");
            if (!TieredCompilationEnabled()) notes.Add("tiered compilation off");
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores, server GC, load {load ?? "?"}"));
            result.Notes = string.Join("; ", notes);
            Phase("statistics");
            Log.Info($"{backendName} {spec.Name}: done ({string.Join(", ", phases)})");
            return result;
        }
        catch (OperationCanceledException) when (!interrupt.IsCancellationRequested)
        {
            Log.Info($"{backendName} {spec.Name}: timed out after {options.TimeoutSeconds} s");
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Info($"{backendName} {spec.Name}: failed: {ex}");
            return null;
        }
        finally
        {
            Progress.End();
            if (host is not null) await host.DisposeAsync();
            if (database is not null && !options.KeepDatabases)
            {
                try
                {
                    await database.DropAsync(CancellationToken.None);
                }
                catch (Exception ex)
                {
                    Log.Info($"warning: could not drop {database.Name}: {ex.Message}");
                }
            }
        }
    }

    // The environment variable overrides the project's runtimeconfig setting, as it does for the runtime itself.
    private static bool TieredCompilationEnabled() =>
        Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") is { Length: > 0 } variable
            ? variable != "0"
            : !AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out var enabled) || enabled;

    private static string? LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return parts.Length >= 3 ? $"{parts[0]} {parts[1]} {parts[2]}" : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
