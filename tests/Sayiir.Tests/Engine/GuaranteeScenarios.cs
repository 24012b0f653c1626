using Sayiir.Runtime;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.GuaranteeFlows;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>The README's guarantees that need a cluster: idempotency keys, resume, history, prompt checkpoints, start before wake.</summary>
public abstract class GuaranteeScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    private Task<T> Result<T>(string id) => Wait.ForAsync(Client.WaitForResultAsync<T>(id), Deadline, $"the result of run '{id}'");

    // ----- idempotency keys

    [Fact]
    public async Task IdempotencyKey_RetriedTask_SameOnEveryAttempt()
    {
        var id = NewId("key-retry");
        var output = await Wait.ForAsync(Client.RunAsync(KeyedFlaky, 0, id), Deadline, "the flaky run");

        var seen = KeyLog.Of(id, "flaky_keyed");
        Assert.Equal([1, 2, 3], seen.Select(s => s.Attempt));
        Assert.Single(seen.Select(s => s.Key).Distinct());
        Assert.Equal(seen[0].Key, output);
        Assert.Contains(id, output, StringComparison.Ordinal);
        Assert.All(seen, s => Assert.Null(s.LoopIteration));
    }

    [Fact]
    public async Task IdempotencyKey_TaskInsideLoop_DistinctPerIterationWithIterationNumber()
    {
        var id = NewId("key-loop");
        await Wait.ForAsync(Client.RunAsync(KeyedLoop, 3, id), Deadline, "the loop run");

        var iterations = KeyLog.Of(id, "iterate");
        Assert.Equal([1, 2, 3], iterations.Select(s => s.LoopIteration));
        Assert.Equal(3, iterations.Select(s => s.Key).Distinct().Count());
        Assert.Null(KeyLog.Of(id, "before_loop").Single().LoopIteration);
        Assert.Null(KeyLog.Of(id, "after_loop").Single().LoopIteration);
    }

    [Fact]
    public async Task IdempotencyKey_OtherInstanceOrTerminateExisting_Differs()
    {
        var first = NewId("key-a");
        var other = NewId("key-b");
        var keyA = await Wait.ForAsync(Client.RunAsync(KeyedOnce, 0, first), Deadline, "run a");
        var keyB = await Wait.ForAsync(Client.RunAsync(KeyedOnce, 0, other), Deadline, "run b");
        await Client.StartAsync(KeyedOnce, 0, first, new StartOptions { OnConflict = ConflictPolicy.TerminateExisting });
        var keyAgain = await Result<string>(first);

        Assert.NotEqual(keyA, keyB);
        // A new run of the same instance id is a new logical execution: its effects must not be deduplicated away.
        Assert.NotEqual(keyA, keyAgain);
    }

    // ----- resume is "make sure it progresses"

    [Fact]
    public async Task ResumeAsync_CompletedRun_ReturnsStatusAndKeepsOutput()
    {
        var id = NewId("resume-done");
        var key = await Wait.ForAsync(Client.RunAsync(KeyedOnce, 0, id), Deadline, "the run");

        var status = await Client.ResumeAsync(id);

        Assert.Equal(WorkflowState.Completed, status.State);
        Assert.Equal(key, await Result<string>(id));
        Assert.Single(KeyLog.Of(id, "keyed"));
    }

    [Fact]
    public async Task ResumeAsync_CancelledRun_ReturnsCancelled()
    {
        var id = NewId("resume-cancelled");
        await Client.StartAsync(KeyedThenSignal, 1, id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to wait for its signal");
        await Client.CancelAsync(id, "test", "tests");

        var status = await Client.ResumeAsync(id);

        Assert.Equal(WorkflowState.Cancelled, status.State);
    }

    [Fact]
    public async Task ResumeAsync_RunWaitingForSignal_ChangesNothingAndRunStillCompletes()
    {
        var id = NewId("resume-waiting");
        await Client.StartAsync(KeyedThenSignal, 1, id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to wait for its signal");

        var status = await Client.ResumeAsync(id);
        Assert.Equal(WorkflowState.AwaitingSignal, status.State);
        await Client.SignalAsync(id, "go", "went");

        Assert.Equal("went", await Result<string>(id));
        Assert.Single(KeyLog.Of(id, "keyed"));
    }

    [Fact]
    public async Task ResumeAsync_UnknownRun_ThrowsNotFound()
    {
        await Assert.ThrowsAsync<WorkflowRunNotFoundException>(() => Client.ResumeAsync(NewId("resume-unknown")));
    }

    // ----- start before wake

    [Fact]
    public async Task StartAsync_WakesInterleaved_FirstTaskRunsOnlyAfterTheStartIsSaved()
    {
        var ids = Enumerable.Range(0, 20).Select(i => NewId($"start-wake-{i}")).ToList();
        if (Cluster.ConnectionString is { } store)
        {
            foreach (var id in ids) Stores[id] = store;
        }
        var grains = ids.Select(id => Cluster.Cluster.Client.GetGrain<IWorkflowGrain>(id)).ToList();

        // Each start races a burst of wakes (what reminders and the recovery watcher send) on the same run.
        await Task.WhenAll(ids.Select((id, i) => Task.WhenAll(
            Enumerable.Range(0, 5).Select(_ => grains[i].WakeAsync()).Append(Client.StartAsync(RowCheck, i, id)))));

        var outputs = await Wait.ForAsync(Task.WhenAll(ids.Select(id => Client.WaitForResultAsync<int>(id))), Deadline, "the raced runs");
        Assert.Equal(ids.Select((_, i) => (i + 1) * 2), outputs);
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "first")));
        if (Cluster.ConnectionString is not null)
            Assert.All(ids, id => Assert.Equal("rows=1", Probe.EventsOf(id, "first").Single().What));
    }
}

/// <summary>The guarantees whose runs wait on engine time (a delay), on a virtual clock.</summary>
public abstract class VirtualTimeGuaranteeScenarios(VirtualTimeFixture fixture) : VirtualTimeScenarios(fixture)
{
    private Task<T> Result<T>(string id) => Wait.ForAsync(Client.WaitForResultAsync<T>(id), Deadline, $"the result of run '{id}'");

    [Fact]
    public async Task GetHistoryAsync_ForkDelaySignalRun_CompleteAndOrderedRightAfterCompletion()
    {
        var id = NewId("history-full");
        await Client.StartAsync(ForkDelaySignal, 1, id);
        await Client.SignalAsync(id, "go", 5);
        // The napping branch's 300 ms delay passes on the virtual clock.
        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(52, await Result<int>(id));

        var history = await Client.GetHistoryAsync(id);

        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(e => e.Sequence));
        Assert.Equal(RunEventKind.RunStarted, history[0].Kind);
        Assert.Equal(RunEventKind.Completed, history[^1].Kind);
        Assert.Single(history, e => e.Kind == RunEventKind.Completed);
        foreach (var completed in history.Where(e => e.Kind == RunEventKind.TaskCompleted))
        {
            Assert.Contains(history, e => e.Kind == RunEventKind.TaskStarted && e.TaskId == completed.TaskId && e.Sequence < completed.Sequence);
        }
        string[] tasks = ["after_go", "first", "join", "post_nap", "pre_nap"];
        Assert.Equal(tasks, history.Where(e => e.Kind == RunEventKind.TaskCompleted).Select(e => e.TaskId!).Order(StringComparer.Ordinal));
        Assert.Single(history, e => e.Kind == RunEventKind.DelayStarted && e.TaskId == "nap");
        Assert.Single(history, e => e.Kind == RunEventKind.DelayWoken && e.TaskId == "nap");
        Assert.Contains(history, e => e.Kind == RunEventKind.SignalReceived);
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryGuaranteeScenarios(MemoryClusterFixture fixture) : GuaranteeScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresGuaranteeScenarios(PostgresClusterFixture fixture) : GuaranteeScenarios(fixture.Cluster)
{
    [Fact]
    public async Task Fork_BranchFinishesWhileSiblingWaits_StoredWithinOneWrite()
    {
        var id = NewId("prompt");
        await Client.StartAsync(ForkFastAndSignal, 1, id);
        // GetTaskResultAsync answers at once (not found until the task has finished), so poll it.
        await Wait.UntilAsync(async () =>
        {
            try { return await Client.GetTaskResultAsync<int>(id, "fast") == 2; }
            catch (TaskResultNotFoundException) { return false; }
        }, Deadline, "task 'fast' to finish with output 2");

        // The sibling waits for a signal nobody sends yet: only a prompt checkpoint can put "fast" in the row.
        await Wait.UntilAsync(async () => (await StoredRuns.DoneStepsAsync(Cluster.ConnectionString!, id)).Contains("fast"),
            TimeSpan.FromSeconds(5), "the stored row to hold the finished branch while its sibling waits");
        Assert.Equal(WorkflowState.AwaitingSignal, (await Client.GetStatusAsync(id)).State);

        await Client.SignalAsync(id, "go", 40);
        Assert.Equal(42, await Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the run"));
        Assert.Equal(1, Probe.Executions(id, "fast"));
    }
}

[Collection(VirtualTimeEnvironments.Memory)]
public sealed class MemoryVirtualTimeGuaranteeScenarios(MemoryVirtualTimeFixture fixture) : VirtualTimeGuaranteeScenarios(fixture);

[Collection(VirtualTimeEnvironments.Postgres)]
public sealed class PostgresVirtualTimeGuaranteeScenarios(PostgresVirtualTimeFixture fixture) : VirtualTimeGuaranteeScenarios(fixture);
