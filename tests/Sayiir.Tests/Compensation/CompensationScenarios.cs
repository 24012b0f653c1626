using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Compensation;

/// <summary>
/// Compensation on both backends: a failure (or a cancel with compensation) undoes every completed compensable step,
/// the latest completion first, each exactly once, counted from inside the steps.
/// </summary>
public abstract class CompensationScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    [Fact]
    public async Task RunAsync_FourthStepFails_UndoesThreeTwoOneOnceEachAndEndsCompensated()
    {
        var id = NewId("saga-fail");

        var ex = await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Client.RunAsync(SagaFlows.Four, "fail", id));

        Assert.Equal("s4", ex.Failure!.TaskId);
        Assert.Contains("shipping refused the parcel", ex.Failure.Message, StringComparison.Ordinal);
        Assert.Null(ex.Cancellation);
        Assert.Equal(["s3", "s2", "s1"], SagaLedger.Undone(id));
        // Each undo step got its task's input and output.
        Assert.Contains("undo:s2:fail|1->fail|1|2", SagaLedger.Of(id));
        Assert.Contains("undo:s1:fail->fail|1", SagaLedger.Of(id));
        var status = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Compensated, status.State);
        Assert.True(status.IsTerminal);
        Assert.Null(status.CompensationFailures);
        var history = await Client.GetHistoryAsync(id);
        var started = Assert.Single(history, e => e.Kind == RunEventKind.CompensationStarted);
        Assert.Equal("s4", started.TaskId);
        Assert.Equal(["s3", "s2", "s1"], history.Where(e => e.Kind == RunEventKind.CompensationTaskCompleted).Select(e => e.TaskId));
        Assert.Equal(RunEventKind.Compensated, history[^1].Kind);
        Assert.DoesNotContain(history, e => e.Kind == RunEventKind.Failed);
        Assert.Equal(1, (await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = id, States = [WorkflowState.Compensated] })).Total);
    }

    [Fact]
    public async Task RunAsync_NoFailure_CompletesWithoutUndoing()
    {
        var id = NewId("saga-ok");

        Assert.Equal("ok|1|2|3|4", await Client.RunAsync(SagaFlows.Four, "ok", id));

        Assert.Empty(SagaLedger.Undone(id));
        Assert.DoesNotContain(await Client.GetHistoryAsync(id), e => e.Kind == RunEventKind.CompensationStarted);
    }

    [Fact]
    public async Task RewindAsync_CompletedRunThenFails_UndoesEveryExecutionIncludingTheSupersededOne()
    {
        var id = NewId("saga-rewind");
        await Client.RunAsync(SagaFlows.Four, "ok", id);
        Probe.Set(id, SagaFlows.FailS4);

        await Client.RewindAsync(id, "s3");

        await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, $"{id} to compensate after the rewind"));
        // s3 ran twice (the rewind superseded the first execution, whose effect stands): each execution is undone once.
        Assert.Equal(["s3", "s3", "s2", "s1"], SagaLedger.Undone(id));
    }

    [Fact]
    public async Task CancelAsync_WithCompensation_UndoesCompletedStepsAndEndsCompensated()
    {
        var id = NewId("saga-cancel");
        await Client.StartAsync(SagaFlows.Four, "hold", id);
        await Probe.WaitStartedAsync(id, "s4", Deadline);

        var status = await Client.CancelAsync(id, "customer changed their mind", "support", compensate: true);

        Assert.True(status.State is WorkflowState.Compensating or WorkflowState.Compensated, status.State.ToString());
        var ex = await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, $"{id} to compensate"));
        Assert.Null(ex.Failure);
        Assert.Equal("support", ex.Cancellation!.By);
        Assert.Equal("customer changed their mind", ex.Cancellation.Reason);
        Assert.Equal(["s3", "s2", "s1"], SagaLedger.Undone(id));
        var started = Assert.Single(await Client.GetHistoryAsync(id), e => e.Kind == RunEventKind.CompensationStarted);
        Assert.StartsWith("cancelled", started.Detail, StringComparison.Ordinal);
        // Ended: a second cancel is refused, like on any ended run.
        await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.CancelAsync(id));
    }

    [Fact]
    public async Task CancelAsync_WithoutCompensation_CancelsWithoutUndoing()
    {
        var id = NewId("saga-cancel-plain");
        await Client.StartAsync(SagaFlows.Four, "hold", id);
        await Probe.WaitStartedAsync(id, "s4", Deadline);

        await Client.CancelAsync(id);

        await Assert.ThrowsAsync<WorkflowCancelledException>(() => Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, $"{id} to be cancelled"));
        Assert.Empty(SagaLedger.Undone(id));
    }

    [Fact]
    public async Task CancelAsync_WithCompensationButNothingToUndo_EndsCancelled()
    {
        var id = NewId("saga-cancel-nothing");
        await Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);

        await Client.CancelAsync(id, compensate: true);

        await Assert.ThrowsAsync<WorkflowCancelledException>(() => Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, $"{id} to be cancelled"));
        Assert.DoesNotContain(await Client.GetHistoryAsync(id), e => e.Kind == RunEventKind.CompensationStarted);
    }

    [Fact]
    public async Task CancelAsync_WhileCompensating_IsRefusedAndTheUndoGoesOn()
    {
        var id = NewId("saga-cancel-undoing");
        await Client.StartAsync(SagaFlows.Four, "hold-undo2", id);
        await Probe.WaitStartedAsync(id, "s2", Deadline);
        Assert.Equal(WorkflowState.Compensating, (await Client.GetStatusAsync(id)).State);
        Assert.Equal(1, (await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = id, States = [WorkflowState.Compensating] })).Total);

        var refused = await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.CancelAsync(id, compensate: true));

        Assert.Equal(WorkflowState.Compensating, refused.State);
        Probe.Open(id, "s2");
        await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, $"{id} to compensate"));
        Assert.Equal(["s3", "s2", "s1"], SagaLedger.Undone(id));
    }

    [Fact]
    public async Task RunAsync_UndoStepFailsOnce_IsRetriedAndTheRunCompensates()
    {
        var id = NewId("saga-flaky");

        await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Client.RunAsync(SagaFlows.Four, "undo-flaky", id));

        Assert.Equal(["s3", "s2", "s2", "s1"], SagaLedger.Undone(id));
        var history = await Client.GetHistoryAsync(id);
        var failed = Assert.Single(history, e => e.Kind == RunEventKind.CompensationTaskFailed);
        Assert.Equal(("s2", 1), (failed.TaskId, failed.Attempt));
        Assert.Equal(2, history.Single(e => e.Kind == RunEventKind.CompensationTaskCompleted && e.TaskId == "s2").Attempt);
    }

    [Fact]
    public async Task RunAsync_UndoStepFailsForGood_ReportsItUndoesTheRestAndEndsFailed()
    {
        var id = NewId("saga-broken");

        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Client.RunAsync(SagaFlows.Four, "undo-broken", id));

        // Retried per its own policy (2 attempts), then reported; s1 is still undone.
        Assert.Equal(["s3", "s2", "s2", "s1"], SagaLedger.Undone(id));
        Assert.Equal("s4", ex.Failure.TaskId);
        var undoFailure = Assert.Single(ex.CompensationFailures);
        Assert.Equal(("s2", 2), (undoFailure.TaskId, undoFailure.Attempt));
        Assert.Contains("refund refused", undoFailure.Message, StringComparison.Ordinal);
        var status = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Failed, status.State);
        Assert.Equal("s2", Assert.Single(status.CompensationFailures!).TaskId);
        var end = (await Client.GetHistoryAsync(id))[^1];
        Assert.Equal(RunEventKind.Failed, end.Kind);
        Assert.Equal("compensation failed: s2", end.Detail);
        // Its steps were undone: none may be taken as done again.
        await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.RewindAsync(id, "s3"));
    }

    [Fact]
    public async Task ResumeAsync_AfterAnUndoStepFailed_RunsOnlyThatUndoAgainAndEndsCompensated()
    {
        var id = NewId("saga-fixable");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Client.RunAsync(SagaFlows.Four, "undo-fixable", id));
        Assert.Equal(["s3", "s2", "s2", "s1"], SagaLedger.Undone(id));

        Probe.Set(id, SagaFlows.FixUndo2);
        await Client.ResumeAsync(id);

        await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, $"{id} to compensate after the resume"));
        Assert.Equal(["s3", "s2", "s2", "s1", "s2"], SagaLedger.Undone(id));
        Assert.Null((await Client.GetStatusAsync(id)).CompensationFailures);
        // The steps themselves never ran again.
        Assert.Equal(4, SagaLedger.Of(id).Count(e => e.StartsWith("do:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RunAsync_ForkBranchFails_UndoesCompletedBranchStepsInReverseCompletionOrder()
    {
        var id = NewId("saga-fork");

        await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Client.RunAsync(SagaFlows.Fork, "in", id));

        var history = await Client.GetHistoryAsync(id);
        var completed = history.Where(e => e.Kind == RunEventKind.TaskCompleted).Select(e => e.TaskId!).ToList();
        // c1 was in flight when b2 failed: it was not cancelled but let finish (after the run began compensating), and
        // undone first, as the latest completion.
        Assert.Equal(["a1", "a2", "b1", "c1"], completed.Order());
        var compensating = history.Single(e => e.Kind == RunEventKind.CompensationStarted);
        Assert.Equal("b2", compensating.TaskId);
        Assert.True(history.Single(e => e.Kind == RunEventKind.TaskCompleted && e.TaskId == "c1").Sequence > compensating.Sequence, "c1 completed after the run began compensating");
        Assert.Equal("c1", SagaLedger.Undone(id)[0]);
        Assert.Equal(Enumerable.Reverse(completed), SagaLedger.Undone(id));
        Assert.Equal(4, SagaLedger.Undone(id).Distinct().Count());
    }

    [Fact]
    public async Task RunAsync_CompensableStepInALoop_UndoesEveryIterationLatestFirst()
    {
        var id = NewId("saga-loop");

        await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Client.RunAsync(SagaFlows.Loop, 0, id));

        Assert.Equal(["undo#3:reserve:2->3", "undo#2:reserve:1->2", "undo#1:reserve:0->1"],
            SagaLedger.Of(id).Where(e => e.StartsWith("undo", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RunAsync_CompensableTaskClass_UndoneWithItsOwnIdempotencyKey()
    {
        var id = NewId("saga-class");

        await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Client.RunAsync(SagaFlows.Class, "ada", id));

        var undo = Assert.Single(SagaLedger.Of(id), e => e.StartsWith("undo:", StringComparison.Ordinal));
        Assert.StartsWith("undo:seat:ada->seat-for-ada:True:", undo, StringComparison.Ordinal);
        Assert.EndsWith("/seat/undo", undo, StringComparison.Ordinal);
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryCompensationScenarios(MemoryClusterFixture fixture) : CompensationScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresCompensationScenarios(PostgresClusterFixture fixture) : CompensationScenarios(fixture.Cluster);
