using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Sayiir.Runtime;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Concurrency;

/// <summary>
/// Cluster-wide concurrency limits: per workflow (active runs) and per task concurrency key (running attempts). What
/// runs at once is measured from inside the tasks; each test owns its cluster (the limits are silo configuration).
/// </summary>
public sealed class ConcurrencyLimitTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string PartnerKey = "conc-partner";

    // Input: the test's meter name. The task holds until the test opens its gate (Probe).
    private static readonly WorkflowDefinition<string, string> Limited = Flow.Create<string>("conc_limited")
        .Then<string>("work", async (string meter, TaskContext ctx) =>
        {
            Probe.Record(ctx, ctx.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString());
            using (Meter.Of(meter).Enter(ctx.InstanceId)) await Probe.HoldAsync(ctx);
            return meter;
        })
        .Build();

    // An active run that holds its slot without running anything: it waits for a signal.
    private static readonly WorkflowDefinition<string, string> Parked = Flow.Create<string>("conc_parked")
        .Then("work", (string meter, TaskContext ctx) =>
        {
            using (Meter.Of(meter).Enter(ctx.InstanceId)) return Task.FromResult(meter);
        })
        .WaitForSignal<string>("wait", "go")
        .Build();

    private static readonly WorkflowDefinition<string, string> KeyedA = KeyedFlow("conc_keyed_a");
    private static readonly WorkflowDefinition<string, string> KeyedB = KeyedFlow("conc_keyed_b");

    // Two workflows whose "call" task shares one concurrency key; "prepare" has none and is never held back.
    private static WorkflowDefinition<string, string> KeyedFlow(string name) => Flow.Create<string>(name)
        .Then("prepare", (string meter, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(meter); })
        .Then<string>("call", async (string meter, TaskContext ctx) =>
        {
            using (Meter.Of(meter).Enter(ctx.InstanceId)) await Probe.HoldAsync(ctx);
            return meter;
        }, o => o.ConcurrencyKey = PartnerKey)
        .Build();

    // Its keyed task fails its first attempt, then retries after a minute of engine time.
    private static readonly WorkflowDefinition<string, string> KeyedFlaky = Flow.Create<string>("conc_keyed_flaky")
        .Then<string>("call", (string meter, TaskContext ctx) =>
        {
            using (Meter.Of(meter).Enter(ctx.InstanceId))
                return ctx.Attempt == 1 ? throw new InvalidOperationException("partner busy") : Task.FromResult(meter);
        }, o =>
        {
            o.ConcurrencyKey = PartnerKey;
            o.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMinutes(1));
        })
        .Build();

    private static ClusterSettings Settings(int limit, int silos = 1) => new()
    {
        Silos = silos,
        Workflows = [Limited, Parked, KeyedA, KeyedB, KeyedFlaky],
        Sayiir = s => s.LimitConcurrency(Limited.Name, limit).LimitConcurrency(Parked.Name, limit).LimitConcurrencyKey(PartnerKey, limit),
    };

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task LimitConcurrency_FiftyStartsWithLimitTwo_AtMostTwoRunAndAllCompleteInStartOrder(Backend backend)
    {
        // Three silos: the runs spread over them, the gate lives on one.
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(limit: 2, silos: 3));
        var client = cluster.Client;
        var meter = NewId("fifty");
        var ids = Enumerable.Range(0, 50).Select(i => NewId($"fifty-{i}")).ToList();
        // One after another: the order the starts were accepted is the order they must run in.
        foreach (var id in ids)
        {
            var started = await client.StartAsync(Limited, meter, id);
            Assert.Contains(started.StartStatus.State, new[] { WorkflowState.Running, WorkflowState.Queued });
        }

        // Runs 0 and 1 hold the slots; every other run is accepted and queued, in status, listing and history.
        await Meter.UntilAsync(() => Meter.Of(meter).Entered == 2, Deadline, "the first two runs to start their task");
        var waiting = await client.GetStatusAsync(ids[49]);
        Assert.Equal(WorkflowState.Queued, waiting.State);
        Assert.Null(waiting.ConcurrencyKey);
        await Wait.UntilAsync(async () => (await client.ListRunsAsync(new RunQuery { WorkflowName = Limited.Name, States = [WorkflowState.Queued], PageSize = 100 })).Runs.Count == 48,
            Deadline, "48 runs listed as Queued");
        var queuedEvent = Assert.Single(await client.GetHistoryAsync(ids[49]), e => e.Kind == RunEventKind.Queued);
        Assert.Equal("workflow", queuedEvent.Detail);
        Assert.Equal(2, Meter.Of(meter).Entered);

        // One slot frees at a time: the next run to start must be the oldest queued one.
        var handovers = System.Diagnostics.Stopwatch.StartNew();
        for (var k = 0; k < ids.Count; k++)
        {
            var expected = Math.Min(k + 2, ids.Count);
            await Meter.UntilAsync(() => Meter.Of(meter).Entered >= expected, Deadline, $"run {expected - 1} to start after {k} runs finished");
            AssertStartOrder(ids, Meter.Of(meter).Order, expected, limit: 2);
            Probe.Open(ids[k], "work");
        }

        var outputs = await Wait.ForAsync(Task.WhenAll(ids.Select(id => client.WaitForResultAsync<string>(id))), Deadline, "all 50 runs to complete");
        output.WriteLine($"{backend}: 48 slot hand-overs (a run's end to the next run's task) in {handovers.ElapsedMilliseconds} ms, {handovers.ElapsedMilliseconds / 48.0:0.0} ms each");
        Assert.All(outputs, o => Assert.Equal(meter, o));
        Assert.Equal(2, Meter.Of(meter).Max);
        AssertStartOrder(ids, Meter.Of(meter).Order, ids.Count, limit: 2);
        var history = await client.GetHistoryAsync(ids[49]);
        Assert.Equal([RunEventKind.RunStarted, RunEventKind.Queued, RunEventKind.Dequeued, RunEventKind.TaskStarted],
            history.Select(e => e.Kind).Where(k => k != RunEventKind.Recovered).Take(4));
        await GateEmptyAsync(cluster, ConcurrencyGates.ForWorkflow(Limited.Name));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task LimitConcurrency_QueuedRunCancelled_LeavesTheQueueAndNeverRuns(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(limit: 1));
        var client = cluster.Client;
        var meter = NewId("cancel");
        var (holder, cancelled, next) = (NewId("cancel-holder"), NewId("cancel-queued"), NewId("cancel-next"));
        await client.StartAsync(Parked, meter, holder);
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(holder)).State == WorkflowState.AwaitingSignal, Deadline, "the first run to hold the slot");
        Assert.Equal(WorkflowState.Queued, (await client.StartAsync(Parked, meter, cancelled)).StartStatus.State);
        Assert.Equal(WorkflowState.Queued, (await client.StartAsync(Parked, meter, next)).StartStatus.State);

        var status = await client.CancelAsync(cancelled, "not needed", "ops");

        Assert.Equal(WorkflowState.Cancelled, status.State);
        Assert.Null(status.Cancellation!.InterruptedTaskId);
        var gate = await GateAsync(cluster, ConcurrencyGates.ForWorkflow(Parked.Name));
        Assert.DoesNotContain(gate.Queue, h => h.Contains(cancelled, StringComparison.Ordinal));
        Assert.Single(gate.Queue);
        await client.SignalAsync(holder, "go", "done");
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(next)).State == WorkflowState.AwaitingSignal, Deadline, "the next queued run to get the slot");
        Assert.Equal([holder, next], Meter.Of(meter).Order);
        Assert.Equal(WorkflowState.Cancelled, (await client.GetStatusAsync(cancelled)).State);
        Assert.Contains(await client.GetHistoryAsync(cancelled), e => e.Kind == RunEventKind.Cancelled);
        await client.SignalAsync(next, "go", "done");
        Assert.Equal("done", await Wait.ForAsync(client.WaitForResultAsync<string>(next), Deadline, "the next run"));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task LimitConcurrencyKey_TwoWorkflowsSharingAKey_AtMostLimitAttemptsRunAndWaitersShowTheKey(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(limit: 2, silos: 3));
        var client = cluster.Client;
        var meter = NewId("keyed");
        var ids = Enumerable.Range(0, 12).Select(i => NewId($"keyed-{i}")).ToList();
        await Task.WhenAll(ids.Select((id, i) => client.StartAsync(i % 2 == 0 ? KeyedA : KeyedB, meter, id)));

        // Every run got past its unlimited first task; two hold the key, ten wait for it.
        await Probe.UntilAsync(() => ids.All(id => Probe.Executions(id, "prepare") == 1), Deadline, "every run to prepare");
        await Meter.UntilAsync(() => Meter.Of(meter).Entered == 2, Deadline, "two runs to call the partner");
        await Wait.UntilAsync(async () => (await Task.WhenAll(ids.Select(id => client.GetStatusAsync(id)))).Count(s => s.State == WorkflowState.Queued) == 10,
            Deadline, "ten runs queued for the key");
        var queued = (await Task.WhenAll(ids.Select(id => client.GetStatusAsync(id)))).Where(s => s.State == WorkflowState.Queued).ToList();
        Assert.All(queued, s => Assert.Equal(PartnerKey, s.ConcurrencyKey));
        var queuedEvent = Assert.Single(await client.GetHistoryAsync(queued[0].InstanceId), e => e.Kind == RunEventKind.Queued);
        Assert.Equal(("call", PartnerKey), (queuedEvent.TaskId, queuedEvent.Detail));
        Assert.Equal(2, Meter.Of(meter).Entered);

        foreach (var id in ids) Probe.Open(id, "call");
        await Wait.ForAsync(Task.WhenAll(ids.Select(id => client.WaitForResultAsync<string>(id))), Deadline, "all twelve runs to complete");

        Assert.Equal(12, Meter.Of(meter).Entered);
        Assert.Equal(2, Meter.Of(meter).Max);
        await GateEmptyAsync(cluster, ConcurrencyGates.ForKey(PartnerKey));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task LimitConcurrencyKey_AttemptInRetryBackoff_HoldsNoSlot(Backend backend)
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(limit: 1) with { EngineClock = clock });
        var client = cluster.Client;
        var meter = NewId("backoff");
        var (flaky, other) = (NewId("backoff-flaky"), NewId("backoff-other"));
        await client.StartAsync(KeyedFlaky, meter, flaky);
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(flaky)).State == WorkflowState.Waiting, Deadline, "the failed attempt's retry backoff");

        // The only slot of the key is free while the flaky run waits out its backoff.
        await client.StartAsync(KeyedA, meter, other);
        await Meter.UntilAsync(() => Meter.Of(meter).Entered == 2, Deadline, "the other run's keyed task to start during the backoff");
        Assert.Equal(WorkflowState.Waiting, (await client.GetStatusAsync(flaky)).State);
        Probe.Open(other, "call");
        Assert.Equal(meter, await Wait.ForAsync(client.WaitForResultAsync<string>(other), Deadline, "the other run"));
        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(meter, await Wait.ForAsync(client.WaitForResultAsync<string>(flaky), Deadline, "the retried attempt"));
        Assert.Equal([flaky, other, flaky], Meter.Of(meter).Order);
        Assert.Equal(1, Meter.Of(meter).Max);
    }

    [Fact]
    public async Task LimitConcurrency_SiloRunningAHolderKilled_ItsSlotComesBackAndAllComplete()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings(limit: 2, silos: 3));
        var client = cluster.Client;
        var meter = NewId("kill");
        var ids = Enumerable.Range(0, 10).Select(i => NewId($"kill-{i}")).ToList();
        foreach (var id in ids) await client.StartAsync(Limited, meter, id);
        await Meter.UntilAsync(() => Meter.Of(meter).Entered == 2, Deadline, "two runs to hold the slots");
        var victim = Probe.EventsOf(ids[0], "work").Single().What;

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(victim));

        // Run 0 is taken over by a survivor and runs its task again, still within its own slot (the attempt on the
        // dead silo never reports back); nobody else got in meanwhile.
        await Probe.UntilAsync(() => Probe.EventsOf(ids[0], "work").Count(e => e.What != victim) == 1, LongDeadline, "run 0 to run again on a survivor");
        Assert.Equal(WorkflowState.Queued, (await client.GetStatusAsync(ids[2])).State);
        Probe.Open(ids[0], "work");
        Probe.Open(ids[1], "work");
        // Both slots serve the queue again: runs 2 and 3 run side by side.
        await Probe.UntilAsync(() => Probe.EventsOf(ids[2], "work").Count > 0 && Probe.EventsOf(ids[3], "work").Count > 0, LongDeadline, "runs 2 and 3 to take the two slots");
        foreach (var id in ids) Probe.Open(id, "work");

        await Wait.ForAsync(Task.WhenAll(ids.Select(id => client.WaitForResultAsync<string>(id))), LongDeadline, "all ten runs to complete after the kill");
        await GateEmptyAsync(cluster, ConcurrencyGates.ForWorkflow(Limited.Name));
    }

    [Fact]
    public async Task LimitConcurrency_QueuedRunAcrossAFullClusterRestart_StaysQueuedAndRunsWhenTheSlotFrees()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_queued_restart");
        var settings = Settings(limit: 1) with { ConnectionString = database.ConnectionString };
        var meter = NewId("restart");
        var (holder, queued) = (NewId("restart-holder"), NewId("restart-queued"));
        await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            await before.Client.StartAsync(Parked, meter, holder);
            await Wait.UntilAsync(async () => (await before.Client.GetStatusAsync(holder)).State == WorkflowState.AwaitingSignal, Deadline, "the first run to hold the slot");
            Assert.Equal(WorkflowState.Queued, (await before.Client.StartAsync(Parked, meter, queued)).StartStatus.State);
        }

        // Every silo is gone: a new cluster on the same database finds the run still queued, and runs it once the slot frees.
        await using var after = await SayiirCluster.StartAsync(Backend.Postgres, settings);
        Assert.Equal(WorkflowState.Queued, (await after.Client.GetStatusAsync(queued)).State);
        Assert.Equal([holder], Meter.Of(meter).Order);
        await after.Client.SignalAsync(holder, "go", "done");
        await Wait.UntilAsync(async () => (await after.Client.GetStatusAsync(queued)).State == WorkflowState.AwaitingSignal, LongDeadline, "the queued run to get the slot after the restart");
        await after.Client.SignalAsync(queued, "go", "done");

        Assert.Equal("done", await Wait.ForAsync(after.Client.WaitForResultAsync<string>(queued), Deadline, "the formerly queued run"));
        Assert.Equal([holder, queued], Meter.Of(meter).Order);
        Assert.Equal(1, Meter.Of(meter).Max);
        var kinds = (await after.Client.GetHistoryAsync(queued)).Select(e => e.Kind).ToList();
        Assert.True(kinds.IndexOf(RunEventKind.Queued) < kinds.IndexOf(RunEventKind.Dequeued), string.Join(",", kinds));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Gate_HolderWhoseRunEndedWithoutReleasing_IsReclaimedWhenSomeoneWaits(Backend backend)
    {
        // A release lost to a crash between the run's last write and the release call: the gate still lists a holder
        // whose run has ended.
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(limit: 1));
        var client = cluster.Client;
        var meter = NewId("ended");
        var ended = NewId("ended-run");
        await client.StartAsync(Parked, meter, ended);
        await client.SignalAsync(ended, "go", "done");
        await Wait.ForAsync(client.WaitForResultAsync<string>(ended), Deadline, "the first run to end");
        var gate = Gates(cluster).GetGrain<IConcurrencyGateGrain>(ConcurrencyGates.ForWorkflow(Parked.Name));
        await Wait.UntilAsync(async () => (await gate.SnapshotAsync()).Holders.Count == 0, Deadline, "the first run's release");
        Assert.True(await gate.AcquireAsync(new GateHolder { InstanceId = ended, RunId = Guid.NewGuid() }, 1));
        var id = NewId("ended-next");

        Assert.Equal(WorkflowState.Queued, (await client.StartAsync(Parked, meter, id)).StartStatus.State);

        await Wait.UntilAsync(async () => (await client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to get the reclaimed slot");
        Assert.Single((await gate.SnapshotAsync()).Holders, h => h.Contains(id, StringComparison.Ordinal));
        // Ended, so the cluster stops without handing an active run over.
        await client.SignalAsync(id, "go", "done");
        Assert.Equal("done", await Wait.ForAsync(client.WaitForResultAsync<string>(id), Deadline, "the run"));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Gate_HolderWhoseRunNeverSavedItsStart_IsReclaimedAfterTheStartGrace(Backend backend)
    {
        // A start that reached the gate, then crashed before saving its run (or is still saving it: hence the grace).
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(limit: 1) with { EngineClock = clock });
        var gate = Gates(cluster).GetGrain<IConcurrencyGateGrain>(ConcurrencyGates.ForWorkflow(Parked.Name));
        Assert.True(await gate.AcquireAsync(new GateHolder { InstanceId = NewId("never-saved"), RunId = Guid.NewGuid() }, 1));
        var meter = NewId("reclaim");
        var id = NewId("reclaim-run");

        Assert.Equal(WorkflowState.Queued, (await cluster.Client.StartAsync(Parked, meter, id)).StartStatus.State);
        clock.Advance(ConcurrencyGateGrain.StartGrace);

        await Wait.UntilAsync(async () => (await cluster.Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to get the reclaimed slot");
        Assert.Single((await gate.SnapshotAsync()).Holders, h => h.Contains(id, StringComparison.Ordinal));
        await cluster.Client.SignalAsync(id, "go", "done");
        Assert.Equal("done", await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), Deadline, "the run"));
    }

    private static IGrainFactory Gates(SayiirCluster cluster) => cluster.Cluster.Client.ServiceProvider.GetRequiredService<IGrainFactory>();

    // The first `limit` runs got their slots at once and may enter their task in any order; every later one got the
    // single slot its predecessor freed, so from there the order is the order of the starts.
    private static void AssertStartOrder(IReadOnlyList<string> started, IReadOnlyList<string> entered, int count, int limit)
    {
        Assert.Equal(count, entered.Count);
        Assert.Equal(started.Take(limit).Order(StringComparer.Ordinal), entered.Take(limit).Order(StringComparer.Ordinal));
        Assert.Equal(started.Skip(limit).Take(count - limit), entered.Skip(limit));
    }

    // A run's end is visible to its waiting client before the run gives its slot back: wait for the release too.
    private static Task GateEmptyAsync(SayiirCluster cluster, string gate) =>
        Wait.UntilAsync(async () => await GateAsync(cluster, gate) is { Holders.Count: 0, Queue.Count: 0 }, Deadline, $"gate {gate} to hold and queue nothing");

    private static Task<GateSnapshot> GateAsync(SayiirCluster cluster, string gate) =>
        Gates(cluster).GetGrain<IConcurrencyGateGrain>(gate).SnapshotAsync();

    /// <summary>What ran at once, measured inside the tasks: the number in flight, its maximum, and who entered in which order.</summary>
    private sealed class Meter
    {
        private static readonly ConcurrentDictionary<string, Meter> Meters = new();
        private static readonly ChangeSignal Changed = new();
        private readonly ConcurrentQueue<string> _order = new();
        private int _current;
        private int _max;

        public static Meter Of(string name) => Meters.GetOrAdd(name, _ => new Meter());

        /// <summary>Returns once <paramref name="condition"/> over the meters holds (re-checked on every entry).</summary>
        public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) => Changed.UntilAsync(condition, timeout, what);

        public int Max => Volatile.Read(ref _max);

        public int Entered => _order.Count;

        public IReadOnlyList<string> Order => [.. _order];

        public IDisposable Enter(string instanceId)
        {
            var now = Interlocked.Increment(ref _current);
            for (var max = Volatile.Read(ref _max); now > max; max = Volatile.Read(ref _max))
                if (Interlocked.CompareExchange(ref _max, now, max) == max) break;
            _order.Enqueue(instanceId);
            Changed.Notify();
            return new Exit(this);
        }

        private sealed class Exit(Meter meter) : IDisposable
        {
            public void Dispose() => Interlocked.Decrement(ref meter._current);
        }
    }
}
