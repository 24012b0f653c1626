using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sayiir.Bench;

/// <summary>What a workload runs against: the client, the storage meter, the run's database (postgres only).</summary>
internal sealed class BenchContext(BackendKind backend, BenchHost host, PgDatabase? database, CancellationToken cancellationToken)
{
    public BackendKind Backend { get; } = backend;

    public string BackendName => Backend == BackendKind.Memory ? "memory" : "postgres";

    public ISayiirClient Client => host.Client;

    public StorageMeter Meter => host.Meter;

    public PgDatabase? Database { get; } = database;

    public CancellationToken Token { get; } = cancellationToken;

    /// <summary>A short tag that makes this run's instance ids unique.</summary>
    public string RunTag { get; } = Guid.NewGuid().ToString("n")[..8];

    /// <summary>Marks the start of a timed window: storage writes and WAL position.</summary>
    public async Task<Window> BeginWindowAsync()
    {
        long? wal = Database is null ? null : await Database.Server.WalPositionAsync(Token);
        Meter.TakeWriteDurations();
        return new Window(Meter.Writes, wal, CpuTime(), Database?.Server.CpuTime());
    }

    /// <summary>Adds the checkpoint figures of the window to <paramref name="result"/>.</summary>
    public async Task EndWindowAsync(Window window, RunResult result, double windowSeconds, int runs)
    {
        var cpu = (CpuTime() - window.Cpu).TotalMilliseconds;
        var writes = Meter.Writes - window.Writes;
        var durations = Stats.Sorted(Meter.TakeWriteDurations());
        long? wal = Database is null || window.Wal is null ? null : await Database.Server.WalPositionAsync(Token) - window.Wal.Value;
        result.Set("checkpoints", writes);
        result.Set("checkpoints_per_run", runs > 0 ? (double)writes / runs : null, 2);
        result.Set("checkpoints_per_s", windowSeconds > 0 ? writes / windowSeconds : null, 1);
        result.Set("checkpoint_p50_ms", Stats.Percentile(durations, 50));
        result.Set("checkpoint_p99_ms", Stats.Percentile(durations, 99));
        // CPU of this process (silo, client and tasks; not PostgreSQL's): less sensitive to other load than wall time.
        result.Set("cpu_ms_per_run", runs > 0 ? cpu / runs : null);
        result.Set("cpu_cores_used", windowSeconds > 0 ? cpu / 1000 / windowSeconds : null, 2);
        // PostgreSQL's own CPU (its processes on this machine): with this process's, what a run costs the machine.
        if (window.PgCpu is { } pgBefore && Database?.Server.CpuTime() is { } pgAfter)
        {
            var pgCpu = (pgAfter - pgBefore).TotalMilliseconds;
            result.Set("pg_cpu_ms_per_run", runs > 0 ? pgCpu / runs : null);
            result.Set("pg_cpu_cores_used", windowSeconds > 0 ? pgCpu / 1000 / windowSeconds : null, 2);
        }
        if (wal is { } bytes)
        {
            result.Set("wal_bytes", bytes);
            result.Set("wal_bytes_per_run", runs > 0 ? (double)bytes / runs : null, 0);
            result.Set("wal_bytes_per_checkpoint", writes > 0 ? (double)bytes / writes : null, 0);
        }
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    internal sealed record Window(long Writes, long? Wal, TimeSpan Cpu, TimeSpan? PgCpu);
}

/// <summary>The outcome of a bounded batch of runs.</summary>
internal sealed class Batch
{
    public required double[] LatenciesMs { get; init; }

    public required bool[] Succeeded { get; init; }

    public double WallSeconds { get; set; }

    public int Errors { get; set; }

    public List<string> ErrorSamples { get; } = [];

    public List<double> SortedLatencies() => Stats.Sorted(LatenciesMs.Where((_, i) => Succeeded[i]));
}

internal static class Bounded
{
    /// <summary>
    /// Runs <paramref name="count"/> operations with at most <paramref name="concurrency"/> in flight (a semaphore
    /// taken before each start and released when the operation ends). Wall time runs from the first start to the
    /// last completion; failures are counted, not thrown.
    /// </summary>
    public static async Task<Batch> RunAsync(int count, int concurrency, Func<int, Task> operation, CancellationToken cancellationToken, bool progress = true)
    {
        var batch = new Batch { LatenciesMs = new double[count], Succeeded = new bool[count] };
        var errors = 0;
        var samples = new ConcurrentQueue<string>();
        using var gate = new SemaphoreSlim(Math.Max(1, concurrency));
        var tasks = new Task[count];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync(cancellationToken);
            tasks[i] = One(i);
        }
        await Task.WhenAll(tasks);
        batch.WallSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        batch.Errors = errors;
        batch.ErrorSamples.AddRange(samples);
        return batch;

        async Task One(int i)
        {
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                await operation(i);
                batch.LatenciesMs[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                batch.Succeeded[i] = true;
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref errors);
                if (samples.Count < 5) samples.Enqueue($"{ex.GetType().Name}: {ex.Message}");
            }
            finally
            {
                gate.Release();
                if (progress) Progress.Step();
            }
        }
    }
}
