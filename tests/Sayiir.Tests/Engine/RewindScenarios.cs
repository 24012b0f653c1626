using System.Text.Json;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>Rewinding ended and paused runs to just before a completed step, on both backends.</summary>
public abstract class RewindScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    [Fact]
    public async Task RewindAsync_FailedAtStep4AfterAFix_RerunsSteps3And4Only()
    {
        var id = NewId("rewind-failed");
        Probe.Set(id, "broken");
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(RewindFlows.FourSteps, 1, id), Deadline, "the run failing at step 4"));
        Assert.Equal("s4", failed.Failure.TaskId);

        // The fix is deployed: step 4 works now.
        Probe.Set(id, "broken", false);
        var status = await Client.RewindAsync(id, "s3", "bug 42 fixed", "alice");
        var output = await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run");

        Assert.Equal(WorkflowState.Running, status.State);
        Assert.Null(status.Failure);
        Assert.Equal("result 104", output);
        Assert.Equal(1, Probe.Executions(id, "s1"));
        Assert.Equal(1, Probe.Executions(id, "s2"));
        Assert.Equal(2, Probe.Executions(id, "s3"));
        Assert.Equal(2, Probe.Executions(id, "s4"));
        var final = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Completed, final.State);
        Assert.Null(final.Failure);
        Assert.Equal(104, await Client.GetTaskResultAsync<int>(id, "s3"));
    }

    [Fact]
    public async Task GetHistoryAsync_AfterRewind_ShowsTheRewoundEventAndMarksTheSupersededEvents()
    {
        var id = NewId("rewind-history");
        Probe.Set(id, "broken");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(RewindFlows.FourSteps, 1, id), Deadline, "the failing run"));
        Probe.Set(id, "broken", false);
        await Client.RewindAsync(id, "s3", "bug 42 fixed", "alice");
        await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run");

        var history = await Client.GetHistoryAsync(id);

        var rewound = Assert.Single(history, e => e.Kind == RunEventKind.Rewound);
        Assert.Equal("s3", rewound.TaskId);
        Assert.False(rewound.Superseded);
        var lines = rewound.Detail!.Split('\n');
        Assert.Equal(["s3", "s4"], JsonSerializer.Deserialize<string[]>(lines[0])!);
        Assert.Equal("alice: bug 42 fixed", lines[1]);
        // Before the rewind: steps 1 and 2 stand, step 3's completion and step 4's failure are superseded.
        Assert.All(history.Where(e => e.TaskId is "s1" or "s2"), e => Assert.False(e.Superseded));
        var s3Completions = history.Where(e => e.Kind == RunEventKind.TaskCompleted && e.TaskId == "s3").ToList();
        Assert.Equal(2, s3Completions.Count);
        Assert.True(s3Completions[0].Superseded);
        Assert.True(s3Completions[0].Sequence < rewound.Sequence);
        Assert.False(s3Completions[1].Superseded);
        Assert.True(s3Completions[1].Sequence > rewound.Sequence);
        Assert.True(history.Single(e => e.Kind == RunEventKind.TaskFailed && e.TaskId == "s4").Superseded);
        Assert.All(history.Where(e => e.TaskId == "s4" && e.Sequence < rewound.Sequence && e.Kind != RunEventKind.Failed), e => Assert.True(e.Superseded));
        // The run's own events are not a node's outcome: the Failed event stays as it was, followed by the Rewound one.
        Assert.False(history.Single(e => e.Kind == RunEventKind.Failed).Superseded);
        Assert.All(history.Where(e => e.Sequence > rewound.Sequence), e => Assert.False(e.Superseded));
        Assert.Equal(RunEventKind.Completed, history[^1].Kind);
    }

    [Fact]
    public async Task RewindAsync_ReRun_GetsNewIdempotencyKeysForTheSupersededSteps()
    {
        var id = NewId("rewind-keys");
        Probe.Set(id, "broken");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(RewindFlows.FourSteps, 1, id), Deadline, "the failing run"));
        Probe.Set(id, "broken", false);
        await Client.RewindAsync(id, "s3");
        await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run");

        var s3 = KeyLog.Of(id, "s3");
        var s4 = KeyLog.Of(id, "s4");
        Assert.Equal(2, s3.Count);
        Assert.Equal(2, s4.Count);
        Assert.NotEqual(s3[0].Key, s3[1].Key);
        Assert.NotEqual(s4[0].Key, s4[1].Key);
        Assert.NotEqual(s3[1].Key, s4[1].Key);
    }

    [Fact]
    public async Task RewindAsync_CompletedRun_RerunsFromTheStepAndTheOutputChanges()
    {
        var id = NewId("rewind-completed");
        Assert.Equal("result 104", await Wait.ForAsync(Client.RunAsync(RewindFlows.FourSteps, 1, id), Deadline, "the first run"));

        Probe.Set(id, "v2");
        var status = await Client.RewindAsync(id, "s3");
        var output = await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run");

        Assert.Equal(WorkflowState.Running, status.State);
        Assert.Equal("result 1004", output);
        Assert.Equal(1004, await Client.GetTaskResultAsync<int>(id, "s3"));
        Assert.Equal(1, Probe.Executions(id, "s2"));
        Assert.Equal(2, Probe.Executions(id, "s3"));
        Assert.Equal(2, Probe.Executions(id, "s4"));
        // The run is listed as what it is now, not as it ended the first time.
        await Wait.UntilAsync(async () => (await Client.ListRunsAsync(new RunQuery { WorkflowName = RewindFlows.FourSteps.Name, States = [WorkflowState.Completed] }))
            .Runs.Any(r => r.InstanceId == id && r.UpdatedAt >= status.UpdatedAt), Deadline, "the listing to show the rewound run completed again");
    }

    [Fact]
    public async Task RewindAsync_CancelledRun_ContinuesAndWaitsForANewSignal()
    {
        var id = NewId("rewind-cancelled");
        await Client.StartAsync(RewindFlows.Signalled, "order", id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to await its signal");
        await Client.CancelAsync(id, "wrong order", "bob");

        var status = await Client.RewindAsync(id, "prepare");

        Assert.Equal(WorkflowState.Running, status.State);
        Assert.Null(status.Cancellation);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the rewound run to await its signal");
        Assert.Equal("order prepared #2", await Client.GetTaskResultAsync<string>(id, "prepare"));
        await Client.SignalAsync(id, "go", "now");
        Assert.Equal("go: now", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run"));
        Assert.Equal(2, Probe.Executions(id, "prepare"));
    }

    [Fact]
    public async Task RewindAsync_BeforeAConsumedSignal_WaitsForANewOne()
    {
        var id = NewId("rewind-signal");
        await Client.StartAsync(RewindFlows.Signalled, "order", id);
        await Client.SignalAsync(id, "go", "first");
        Assert.Equal("go: first", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the first run"));

        await Client.RewindAsync(id, "wait_go");

        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the rewound run to await a new signal");
        await Client.SignalAsync(id, "go", "second");
        Assert.Equal("go: second", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run"));
        Assert.Equal(1, Probe.Executions(id, "prepare"));
        Assert.Equal(2, Probe.Executions(id, "finish"));
    }

    [Fact]
    public async Task RewindAsync_PausedRun_StaysPausedUntilUnpaused()
    {
        var id = NewId("rewind-paused");
        await Client.StartAsync(RewindFlows.Signalled, "order", id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to await its signal");
        await Client.PauseAsync(id, "investigating", "carol");

        var status = await Client.RewindAsync(id, "prepare", "re-prepare", "carol");

        Assert.Equal(WorkflowState.Paused, status.State);
        Assert.Equal(WorkflowState.Paused, (await Client.GetStatusAsync(id)).State);
        // The superseded step has not run again yet.
        var notYet = await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<string>(id, "prepare"));
        Assert.Contains("not completed yet", notYet.Message, StringComparison.Ordinal);
        Assert.Equal(1, Probe.Executions(id, "prepare"));

        await Client.UnpauseAsync(id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the unpaused run to await its signal");
        Assert.Equal("order prepared #2", await Client.GetTaskResultAsync<string>(id, "prepare"));
        await Client.SignalAsync(id, "go", "now");
        Assert.Equal("go: now", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the unpaused run"));
    }

    [Fact]
    public async Task RewindAsync_RunningRun_ThrowsInvalidRunStateAndChangesNothing()
    {
        var id = NewId("rewind-running");
        await Client.StartAsync(RewindFlows.Signalled, "order", id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to await its signal");
        var before = await Client.GetHistoryAsync(id);

        var ex = await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.RewindAsync(id, "prepare"));

        Assert.Equal(id, ex.InstanceId);
        Assert.Equal(WorkflowState.AwaitingSignal, ex.State);
        Assert.Contains("Pause it first", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before.Count, (await Client.GetHistoryAsync(id)).Count);
        await Client.SignalAsync(id, "go", "now");
        Assert.Equal("go: now", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the run"));
        Assert.Equal(1, Probe.Executions(id, "prepare"));
    }

    [Fact]
    public async Task RewindAsync_PausedRunWithATaskStillRunning_ThrowsInvalidRunStateUntilItStops()
    {
        var id = NewId("rewind-paused-busy");
        await Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);
        await Client.PauseAsync(id);

        var ex = await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.RewindAsync(id, "a"));

        Assert.Equal(WorkflowState.Paused, ex.State);
        Assert.Contains("Task(s) b still run", ex.Message, StringComparison.Ordinal);
        Probe.Open(id, "b");
        await Client.UnpauseAsync(id);
        Assert.Equal("ABC", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the unpaused run"));
        Assert.Equal(1, Probe.Executions(id, "a"));
    }

    [Theory]
    [InlineData("s4", "has not completed")]
    [InlineData("no_such_step", "has no step with that id")]
    public async Task RewindAsync_InvalidStep_ThrowsInvalidRewindStepListingTheValidStepsAndChangesNothing(string step, string reason)
    {
        var id = NewId("rewind-invalid");
        Probe.Set(id, "broken");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(RewindFlows.FourSteps, 1, id), Deadline, "the failing run"));
        var before = await Client.GetHistoryAsync(id);

        var ex = await Assert.ThrowsAsync<InvalidRewindStepException>(() => Client.RewindAsync(id, step));

        Assert.Equal(id, ex.InstanceId);
        Assert.Equal(step, ex.StepId);
        Assert.Equal(["s1", "s2", "s3"], ex.ValidSteps);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Contains("s1, s2, s3", ex.Message, StringComparison.Ordinal);
        var status = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Failed, status.State);
        Assert.Equal("s4", status.Failure!.TaskId);
        Assert.Equal(before.Count, (await Client.GetHistoryAsync(id)).Count);
        if (Cluster.ConnectionString is { } connectionString)
            Assert.Equal(WorkflowState.Failed, await StoredRuns.StoredStateAsync(connectionString, id));
    }

    [Fact]
    public async Task RewindAsync_StepInsideALoopBody_ThrowsPointingAtTheLoop()
    {
        var id = NewId("rewind-loop-body");
        Assert.Equal("finished 3", await Wait.ForAsync(Client.RunAsync(RewindFlows.LoopThenDelay, 0, id), Deadline, "the loop run"));
        var before = await Client.GetHistoryAsync(id);

        var ex = await Assert.ThrowsAsync<InvalidRewindStepException>(() => Client.RewindAsync(id, "tick"));

        Assert.Contains("inside loop 'repeat'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["start", "repeat", "nap", "finish"], ex.ValidSteps);
        Assert.Equal(WorkflowState.Completed, (await Client.GetStatusAsync(id)).State);
        Assert.Equal(before.Count, (await Client.GetHistoryAsync(id)).Count);
    }

    [Fact]
    public async Task RewindAsync_AfterALoopAndADelay_RebuildsTheirOutputsForTheRerunStep()
    {
        var id = NewId("rewind-after-loop");
        Assert.Equal("finished 3", await Wait.ForAsync(Client.RunAsync(RewindFlows.LoopThenDelay, 0, id), Deadline, "the loop run"));

        // "finish" needs the delay's output, which is the loop's value: neither is archived.
        await Client.RewindAsync(id, "finish");

        Assert.Equal("finished 3", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run"));
        Assert.Equal(3, Probe.Executions(id, "tick"));
        Assert.Equal(2, Probe.Executions(id, "finish"));
    }

    [Fact]
    public async Task RewindAsync_Loop_RunsItAgainFromIterationOne()
    {
        var id = NewId("rewind-loop");
        await Wait.ForAsync(Client.RunAsync(RewindFlows.LoopThenDelay, 0, id), Deadline, "the loop run");

        await Client.RewindAsync(id, "repeat");

        Assert.Equal("finished 3", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run"));
        Assert.Equal(1, Probe.Executions(id, "start"));
        Assert.Equal(6, Probe.Executions(id, "tick"));
        Assert.Equal(2, Probe.Executions(id, "finish"));
    }

    [Fact]
    public async Task RewindAsync_StepInOneForkBranch_DoesNotRerunTheOtherBranch()
    {
        var id = NewId("rewind-fork");
        Assert.Equal("sum 20", await Wait.ForAsync(Client.RunAsync(RewindFlows.Forked, 1, id), Deadline, "the fork run"));

        Probe.Set(id, "v2");
        await Client.RewindAsync(id, "l2");

        Assert.Equal("sum 200", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run"));
        Assert.Equal(1, Probe.Executions(id, "start"));
        Assert.Equal(1, Probe.Executions(id, "l1"));
        Assert.Equal(1, Probe.Executions(id, "r1"));
        Assert.Equal(2, Probe.Executions(id, "l2"));
        Assert.Equal(2, Probe.Executions(id, "join"));
        Assert.Equal(2, Probe.Executions(id, "after"));
        var rewound = (await Client.GetHistoryAsync(id)).Single(e => e.Kind == RunEventKind.Rewound);
        Assert.Equal(["l2", "join", "after"], JsonSerializer.Deserialize<string[]>(rewound.Detail!)!);
    }

    [Fact]
    public async Task RewindAsync_Route_ChoosesTheBranchAgain()
    {
        var id = NewId("rewind-route");
        Assert.Equal("served at regular", await Wait.ForAsync(Client.RunAsync(RewindFlows.Routed, id, id), Deadline, "the route run"));

        Probe.Set(id, "vip");
        await Client.RewindAsync(id, "tier");

        Assert.Equal("served at vip", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the rewound run"));
        Assert.Equal(2, RewindFlows.SelectorCalls[id]);
        Assert.Equal(1, Probe.Executions(id, "regular_desk"));
        Assert.Equal(1, Probe.Executions(id, "vip_desk"));
        Assert.Equal("vip", await Client.GetTaskResultAsync<string>(id, "tier"));
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryRewindScenarios(MemoryClusterFixture fixture) : RewindScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresRewindScenarios(PostgresClusterFixture fixture) : RewindScenarios(fixture.Cluster);
