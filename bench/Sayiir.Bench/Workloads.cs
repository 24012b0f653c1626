using System.Diagnostics;

namespace Sayiir.Bench;

/// <summary>The workloads of benchmarks.md (plus latency and bigstate), each: warm-up, then the measured phase.</summary>
internal static class Workloads
{
    public static IReadOnlyList<WorkflowDefinition> Definitions(WorkloadSpec spec) => spec.Name switch
    {
        "linear" or "latency" or "longchain" => [BenchFlows.Linear(spec.Steps)],
        "fanout" => [BenchFlows.Fanout(spec.Branches)],
        "signal" => [BenchFlows.Signal()],
        "sleeping" => [BenchFlows.Sleeping(TimeSpan.FromSeconds(spec.DelaySeconds))],
        "bigstate" => [BenchFlows.BigState(spec.Steps)],
        Listing.Name => Listing.Definitions(),
        _ => throw new ArgumentException($"unknown workload '{spec.Name}'"),
    };

    public static Task<RunResult> RunAsync(BenchContext ctx, WorkloadSpec spec) => spec.Name switch
    {
        "linear" or "latency" => LinearAsync(ctx, spec),
        "fanout" => FanoutAsync(ctx, spec),
        "signal" => SignalAsync(ctx, spec),
        "sleeping" => SleepingAsync(ctx, spec),
        "bigstate" => BigStateAsync(ctx, spec),
        "longchain" => LongChainAsync(ctx, spec),
        Listing.Name => Listing.RunAsync(ctx, spec),
        _ => throw new ArgumentException($"unknown workload '{spec.Name}'"),
    };

    // ----- linear / latency: W runs of S sequential tasks, at most C in flight -----------------------------------

    private static async Task<RunResult> LinearAsync(BenchContext ctx, WorkloadSpec spec)
    {
        var steps = spec.Steps;
        var result = await ToCompletionAsync(ctx, spec, BenchFlows.Linear(steps), steps, (input, output) => output == input + steps);
        var stepP50 = result.P50Ms / steps;
        result.Set("step_p50_ms", stepP50);
        result.Set("step_p99_ms", result.P99Ms / steps);
        result.KeyFigure = $"step p50/p99 {RunResult.Ms(stepP50)}/{RunResult.Ms(result.P99Ms / steps)} ms";
        return result;
    }

    // ----- fanout: one task, a fork of K one-task branches, a join summing them ---------------------------------

    private static async Task<RunResult> FanoutAsync(BenchContext ctx, WorkloadSpec spec)
    {
        var k = spec.Branches;
        var result = await ToCompletionAsync(ctx, spec, BenchFlows.Fanout(k), k + 2, (input, output) => output == k * (input + 2));
        result.KeyFigure = $"{k + 2} tasks/run";
        return result;
    }

    // ----- bigstate: S tasks with 10 KB outputs; WAL bytes per checkpoint -------------------------------------

    private static async Task<RunResult> BigStateAsync(BenchContext ctx, WorkloadSpec spec)
    {
        var result = await ToCompletionAsync(ctx, spec, BenchFlows.BigState(spec.Steps), spec.Steps, (_, output) => output.Length == BenchFlows.BlobLength);
        result.Set("output_bytes_per_task", BenchFlows.BlobLength);
        var perCheckpoint = result.ExtraNumber("wal_bytes_per_checkpoint");
        result.KeyFigure = perCheckpoint is { } b
            ? $"WAL {b / 1024:0.0} KB/ckpt ({result.ExtraNumber("wal_bytes_per_run") / 1048576:0.00} MB/run)"
            : "WAL n/a (memory)";
        return result;
    }

    // ----- longchain: S = 2,000 sequential tasks; does a checkpoint's cost grow with the steps already done? ------

    private static async Task<RunResult> LongChainAsync(BenchContext ctx, WorkloadSpec spec)
    {
        var steps = spec.Steps;
        var result = await ToCompletionAsync(ctx, spec, BenchFlows.Linear(steps), steps, (input, output) => output == input + steps);
        result.Set("step_p50_ms", result.P50Ms / steps);
        // The final state's size is state_bytes_avg (read once the silo has stopped).
        result.KeyFigure = result.ExtraNumber("wal_bytes_per_checkpoint") is { } wal
            ? $"WAL {wal:0} B/ckpt over {steps} steps; step p50 {RunResult.Ms(result.P50Ms / steps)} ms"
            : $"step p50 {RunResult.Ms(result.P50Ms / steps)} ms";
        return result;
    }

    /// <summary>Warm-up, then W runs (start, await the output, check it) with at most C in flight.</summary>
    private static async Task<RunResult> ToCompletionAsync<TOut>(BenchContext ctx, WorkloadSpec spec, WorkflowDefinition<int, TOut> flow,
        int tasksPerRun, Func<int, TOut, bool> check)
    {
        async Task One(string id, int input)
        {
            var handle = await ctx.Client.StartAsync(flow, input, id, cancellationToken: ctx.Token);
            var output = await handle.GetResultAsync(ctx.Token);
            if (!check(input, output)) throw new InvalidOperationException($"run {id}: unexpected output {Describe(output)}");
        }

        var label = $"{ctx.BackendName} {spec.Name}";
        var warmupErrors = 0;
        if (spec.Warmup > 0)
        {
            Progress.Begin($"{label} warm-up", spec.Warmup);
            var warm = await Bounded.RunAsync(spec.Warmup, spec.Concurrency, i => One($"{spec.Name}-{ctx.RunTag}-w{i}", i), ctx.Token);
            Progress.End();
            warmupErrors = warm.Errors;
        }

        var window = await ctx.BeginWindowAsync();
        Progress.Begin(label, spec.Workflows);
        var batch = await Bounded.RunAsync(spec.Workflows, spec.Concurrency, i => One($"{spec.Name}-{ctx.RunTag}-m{i}", i), ctx.Token);
        Progress.End();

        var result = new RunResult { Backend = ctx.BackendName, Spec = spec, TasksPerRun = tasksPerRun, WallSeconds = batch.WallSeconds };
        var latencies = batch.SortedLatencies();
        result.P50Ms = Stats.Percentile(latencies, 50);
        result.P99Ms = Stats.Percentile(latencies, 99);
        result.Errors = batch.Errors + warmupErrors;
        result.ErrorSamples.AddRange(batch.ErrorSamples);
        await ctx.EndWindowAsync(window, result, batch.WallSeconds, spec.Workflows);
        result.Set("max_ms", latencies.Count > 0 ? latencies[^1] : null);
        return result;
    }

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s when s.Length > 40 => $"string of length {s.Length}",
        _ => value.ToString() ?? "",
    };

    // ----- signal: start all, wait until all are parked, send every signal; signal-send -> completion ----------

    private const int StartConcurrency = 64;

    private static async Task<RunResult> SignalAsync(BenchContext ctx, WorkloadSpec spec)
    {
        var flow = BenchFlows.Signal();
        var result = new RunResult { Backend = ctx.BackendName, Spec = spec, TasksPerRun = 1 };
        if (spec.Warmup > 0)
        {
            var warm = new RunResult { Backend = ctx.BackendName, Spec = spec with { Workflows = spec.Warmup }, TasksPerRun = 1 };
            await SignalPhaseAsync(ctx, spec with { Workflows = spec.Warmup, Concurrency = Math.Min(spec.Concurrency, spec.Warmup) }, flow, "w", warm, measure: false);
            result.Errors += warm.Errors;
        }
        await SignalPhaseAsync(ctx, spec, flow, "m", result, measure: true);
        var signalP50 = result.P50Ms;
        result.Set("signal_p50_ms", signalP50);
        result.Set("signal_p99_ms", result.P99Ms);
        result.KeyFigure = $"signal->done p50/p99 {RunResult.Ms(signalP50)}/{RunResult.Ms(result.P99Ms)} ms";
        return result;
    }

    private static async Task SignalPhaseAsync(BenchContext ctx, WorkloadSpec spec, WorkflowDefinition<int, int> flow, string phase, RunResult result, bool measure)
    {
        var count = spec.Workflows;
        var label = $"{ctx.BackendName} signal{(measure ? "" : " warm-up")}";
        var ids = Enumerable.Range(0, count).Select(i => $"signal-{ctx.RunTag}-{phase}{i}").ToArray();

        // 1. Start every run (not timed as part of the signal phase).
        Progress.Begin($"{label}: start", count);
        var starts = await Bounded.RunAsync(count, StartConcurrency, i => ctx.Client.StartAsync(flow, i, ids[i], cancellationToken: ctx.Token), ctx.Token);
        Progress.End();
        Absorb(result, starts);

        // 2. Poll statuses until every started run is parked on the signal.
        var parkClock = Stopwatch.StartNew();
        var pending = Enumerable.Range(0, count).Where(i => starts.Succeeded[i]).ToHashSet();
        var live = pending.ToArray();
        Progress.Begin($"{label}: wait until parked", pending.Count);
        while (pending.Count > 0)
        {
            var round = pending.ToArray();
            var states = new WorkflowState[round.Length];
            await Bounded.RunAsync(round.Length, 128, async j => states[j] = (await ctx.Client.GetStatusAsync(ids[round[j]], ctx.Token)).State, ctx.Token, progress: false);
            for (var j = 0; j < round.Length; j++)
            {
                if (states[j] == WorkflowState.AwaitingSignal)
                {
                    pending.Remove(round[j]);
                    Progress.Step();
                }
                else if (states[j] is WorkflowState.Completed or WorkflowState.Failed or WorkflowState.Cancelled or WorkflowState.NotFound)
                {
                    pending.Remove(round[j]);
                    live = live.Where(x => x != round[j]).ToArray();
                    result.AddError($"run {ids[round[j]]} is {states[j]} instead of AwaitingSignal");
                }
            }
            if (pending.Count > 0) await Task.Delay(20, ctx.Token);
        }
        Progress.End();
        var parkSeconds = parkClock.Elapsed.TotalSeconds;

        // 3. Listen for every completion, then send every signal (at most C in flight).
        var sent = new long[count];
        var done = new long[count];
        var completed = new bool[count];
        Progress.Begin($"{label}: signal", live.Length);
        var waiters = live.Select(async i =>
        {
            try
            {
                var output = await ctx.Client.WaitForResultAsync<int>(ids[i], ctx.Token);
                done[i] = Stopwatch.GetTimestamp();
                if (output != i + 1) throw new InvalidOperationException($"run {ids[i]}: unexpected output {output}");
                completed[i] = true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                result.AddError($"{ex.GetType().Name}: {ex.Message}");
            }
            finally
            {
                Progress.Step();
            }
        }).ToArray();
        var window = measure ? await ctx.BeginWindowAsync() : null;
        var sends = await Bounded.RunAsync(live.Length, spec.Concurrency, j =>
        {
            sent[live[j]] = Stopwatch.GetTimestamp();
            return ctx.Client.SignalAsync(ids[live[j]], "go", live[j], ctx.Token);
        }, ctx.Token, progress: false);
        await Task.WhenAll(waiters);
        Progress.End();
        Absorb(result, sends);
        if (!measure) return;

        var ok = live.Where(i => completed[i]).ToArray();
        var latencies = Stats.Sorted(ok.Select(i => Stopwatch.GetElapsedTime(sent[i], done[i]).TotalMilliseconds));
        var firstSend = live.Length > 0 ? live.Min(i => sent[i]) : 0;
        var lastDone = ok.Length > 0 ? ok.Max(i => done[i]) : firstSend;
        result.WallSeconds = Stopwatch.GetElapsedTime(firstSend, lastDone).TotalSeconds;
        result.P50Ms = Stats.Percentile(latencies, 50);
        result.P99Ms = Stats.Percentile(latencies, 99);
        await ctx.EndWindowAsync(window!, result, result.WallSeconds, count);
        var sendLatencies = sends.SortedLatencies();
        result.Set("signal_call_p50_ms", Stats.Percentile(sendLatencies, 50));
        result.Set("signal_call_p99_ms", Stats.Percentile(sendLatencies, 99));
        result.Set("start_phase_s", starts.WallSeconds);
        result.Set("starts_per_s", starts.WallSeconds > 0 ? count / starts.WallSeconds : null, 1);
        result.Set("park_wait_s", parkSeconds);
    }

    private static void Absorb(RunResult result, Batch batch)
    {
        lock (result)
        {
            result.Errors += batch.Errors;
            foreach (var sample in batch.ErrorSamples.Where(_ => result.ErrorSamples.Count < 5)) result.ErrorSamples.Add(sample);
        }
    }

    // ----- sleeping: one task, delay D, one task; wake lateness and resident memory while parked --------------

    private static async Task<RunResult> SleepingAsync(BenchContext ctx, WorkloadSpec spec)
    {
        var delay = TimeSpan.FromSeconds(spec.DelaySeconds);
        var flow = BenchFlows.Sleeping(delay);
        var result = new RunResult { Backend = ctx.BackendName, Spec = spec, TasksPerRun = 2 };
        if (spec.Warmup > 0)
        {
            var warm = new RunResult { Backend = ctx.BackendName, Spec = spec with { Workflows = spec.Warmup }, TasksPerRun = 2 };
            await SleepPhaseAsync(ctx, spec with { Workflows = spec.Warmup }, flow, "w", warm, measure: false);
            result.Errors += warm.Errors;
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        await SleepPhaseAsync(ctx, spec, flow, "m", result, measure: true);
        return result;
    }

    private static async Task SleepPhaseAsync(BenchContext ctx, WorkloadSpec spec, WorkflowDefinition<int, int> flow, string phase, RunResult result, bool measure)
    {
        var count = spec.Workflows;
        var delayMs = spec.DelaySeconds * 1000;
        var label = $"{ctx.BackendName} sleeping{(measure ? "" : " warm-up")}";
        var ids = Enumerable.Range(0, count).Select(i => $"sleep-{ctx.RunTag}-{phase}{i}").ToArray();
        var begun = new long[count];
        var done = new long[count];
        var completed = new bool[count];
        var startedCount = 0;
        long allStartedAt = 0;
        SleepMarks.Reset();
        var rssBaseline = Environment.WorkingSet;

        // Sample resident memory while runs are parked: at the peak number of parked runs, and the overall peak.
        var peakParked = 0;
        long rssAtPeakParked = rssBaseline, heapAtPeakParked = GC.GetTotalMemory(false), rssMax = rssBaseline;
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                var parked = SleepMarks.FirstCount - SleepMarks.SecondCount;
                var rss = Environment.WorkingSet;
                rssMax = Math.Max(rssMax, rss);
                if (parked > peakParked)
                {
                    peakParked = parked;
                    rssAtPeakParked = rss;
                    heapAtPeakParked = GC.GetTotalMemory(false);
                }
                try { await Task.Delay(100, stopSampling.Token); }
                catch (OperationCanceledException) { break; }
            }
        });

        var window = measure ? await ctx.BeginWindowAsync() : null;
        Progress.Begin(label, count);
        using var gate = new SemaphoreSlim(Math.Max(1, spec.Concurrency));
        var runs = new Task[count];
        var t0 = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync(ctx.Token);
            runs[i] = One(i);
        }
        await Task.WhenAll(runs);
        Progress.End();
        await stopSampling.CancelAsync();
        await sampler;
        if (!measure) return;

        async Task One(int i)
        {
            try
            {
                WorkflowHandle<int> handle;
                begun[i] = Stopwatch.GetTimestamp();
                try
                {
                    handle = await ctx.Client.StartAsync(flow, i, ids[i], cancellationToken: ctx.Token);
                }
                finally
                {
                    gate.Release();
                    if (Interlocked.Increment(ref startedCount) == count) allStartedAt = Stopwatch.GetTimestamp();
                }
                var output = await handle.GetResultAsync(ctx.Token);
                done[i] = Stopwatch.GetTimestamp();
                if (output != i + 2) throw new InvalidOperationException($"run {ids[i]}: unexpected output {output}");
                completed[i] = true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                result.AddError($"{ex.GetType().Name}: {ex.Message}");
            }
            finally
            {
                Progress.Step();
            }
        }

        var ok = Enumerable.Range(0, count).Where(i => completed[i]).ToArray();
        var lastDone = ok.Length > 0 ? ok.Max(i => done[i]) : t0;
        result.WallSeconds = Stopwatch.GetElapsedTime(t0, lastDone).TotalSeconds;
        var lateness = new List<double>(ok.Length);
        var missingMarks = 0;
        foreach (var i in ok)
        {
            if (SleepMarks.FirstEnded.TryGetValue(ids[i], out var first) && SleepMarks.SecondStarted.TryGetValue(ids[i], out var second))
                lateness.Add(Stopwatch.GetElapsedTime(first, second).TotalMilliseconds - delayMs);
            else missingMarks++;
        }
        lateness.Sort();
        var runLatencies = Stats.Sorted(ok.Select(i => Stopwatch.GetElapsedTime(begun[i], done[i]).TotalMilliseconds));
        result.P50Ms = Stats.Percentile(lateness, 50);
        result.P99Ms = Stats.Percentile(lateness, 99);
        await ctx.EndWindowAsync(window!, result, result.WallSeconds, count);
        result.Set("wake_p50_ms", result.P50Ms);
        result.Set("wake_p99_ms", result.P99Ms);
        result.Set("wake_max_ms", lateness.Count > 0 ? lateness[^1] : null);
        result.Set("wake_min_ms", lateness.Count > 0 ? lateness[0] : null);
        result.Set("run_p50_ms", Stats.Percentile(runLatencies, 50));
        result.Set("run_p99_ms", Stats.Percentile(runLatencies, 99));
        result.Set("start_phase_s", allStartedAt > 0 ? Stopwatch.GetElapsedTime(t0, allStartedAt).TotalSeconds : null);
        result.Set("parked_peak", peakParked);
        result.Set("rss_mb", rssAtPeakParked / 1048576.0, 1);
        result.Set("rss_baseline_mb", rssBaseline / 1048576.0, 1);
        result.Set("rss_max_mb", rssMax / 1048576.0, 1);
        result.Set("managed_heap_mb", heapAtPeakParked / 1048576.0, 1);
        result.Set("kb_per_parked_run", peakParked > 0 ? (rssAtPeakParked - rssBaseline) / 1024.0 / peakParked : null, 2);
        if (missingMarks > 0) result.Set("runs_without_marks", missingMarks);
        result.KeyFigure = $"wake p50/p99 {RunResult.Ms(result.P50Ms)}/{RunResult.Ms(result.P99Ms)} ms; rss {rssAtPeakParked / 1048576.0:0} MB @ {peakParked} parked";
    }
}
