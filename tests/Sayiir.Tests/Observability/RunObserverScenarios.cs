using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Observability;

/// <summary>
/// <see cref="IRunObserver"/> on the shared clusters, which register a recording, a throwing and a blocking observer
/// (the last two act only on runs of their own id prefix).
/// </summary>
public abstract class RunObserverScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    [Fact]
    public async Task RunObserver_RunParksThenCompletes_ToldEachStateChangeOnceInOrder()
    {
        var id = NewId("observed-parked");
        await Client.StartAsync(ObserverFlows.Parked, 0, id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to await its signal");
        await Client.SignalAsync(id, "go", 4);
        Assert.Equal(4, await Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the signalled run"));

        await Wait.UntilAsync(() => RecordingRunObserver.Of(id).Any(c => c.State == WorkflowState.Completed), Deadline, "the observer to hear of the completion");
        var changes = RecordingRunObserver.Of(id);

        Assert.Equal(
            [(WorkflowState.NotFound, WorkflowState.Running), (WorkflowState.Running, WorkflowState.AwaitingSignal),
             (WorkflowState.AwaitingSignal, WorkflowState.Running), (WorkflowState.Running, WorkflowState.Completed)],
            changes.Select(c => (c.PreviousState, c.State)));
        Assert.All(changes, c =>
        {
            Assert.Equal("obs_parked", c.WorkflowName);
            Assert.Equal(ObserverFlows.Parked.Hash, c.DefinitionHash);
            Assert.Null(c.Failure);
            Assert.Null(c.Cancellation);
        });
        Assert.True(changes.Zip(changes.Skip(1)).All(p => p.First.At <= p.Second.At), "changes are not in time order");
        // Reported after the write: the last change carries the instant the run's final state was saved.
        Assert.Equal((await Client.GetStatusAsync(id)).UpdatedAt, changes[^1].At);
    }

    [Fact]
    public async Task RunObserver_FailedRun_ToldWithTheFailure()
    {
        var id = NewId("observed-failed");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(ObserverFlows.Observed, -3, id), Deadline, "the failing run"));

        await Wait.UntilAsync(() => RecordingRunObserver.Of(id).Any(c => c.State == WorkflowState.Failed), Deadline, "the observer to hear of the failure");
        var failed = RecordingRunObserver.Of(id)[^1];

        Assert.Equal(WorkflowState.Failed, failed.State);
        Assert.Equal(WorkflowState.Running, failed.PreviousState);
        Assert.Equal("check", failed.Failure!.TaskId);
        Assert.Equal(typeof(ArgumentException).FullName, failed.Failure.ErrorType);
        Assert.Equal("negative input -3", failed.Failure.Message);
        Assert.Single(RecordingRunObserver.Of(id), c => c.State == WorkflowState.Failed);
    }

    [Fact]
    public async Task RunObserver_AnotherObserverThrows_RunAndOtherObserversUnaffected()
    {
        var id = NewId(ThrowingRunObserver.Prefix);
        await Client.StartAsync(ObserverFlows.Parked, 0, id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to await its signal");

        var status = await Client.CancelAsync(id, "not needed", "tester");

        Assert.Equal(WorkflowState.Cancelled, status.State);
        await Wait.UntilAsync(() => RecordingRunObserver.Of(id).Any(c => c.State == WorkflowState.Cancelled), Deadline, "the recording observer to hear of the cancel");
        var cancelled = RecordingRunObserver.Of(id)[^1];
        Assert.Equal(WorkflowState.AwaitingSignal, cancelled.PreviousState);
        Assert.Equal("not needed", cancelled.Cancellation!.Reason);
        Assert.Equal("tester", cancelled.Cancellation.By);
        Assert.Equal("wait_go", cancelled.Cancellation.InterruptedTaskId);
    }

    [Fact]
    public async Task RunObserver_AnotherObserverBlocks_RunCompletesAndOtherObserversAreTold()
    {
        var id = NewId(BlockingRunObserver.Prefix);
        try
        {
            // The blocking observer holds the run's first change until the gate opens; the run must not wait for it.
            Assert.Equal(2, await Wait.ForAsync(Client.RunAsync(ObserverFlows.Observed, 2, id), Deadline, "the run while an observer blocks"));
            await Wait.UntilAsync(() => RecordingRunObserver.Of(id).Any(c => c.State == WorkflowState.Completed), Deadline, "the recording observer to hear of the completion");
            Assert.Equal(1, BlockingRunObserver.SeenCount(id));
        }
        finally
        {
            BlockingRunObserver.Open(id);
        }
        await Wait.UntilAsync(() => BlockingRunObserver.SeenCount(id) == 2, Deadline, "the blocking observer to be given the completion once unblocked");
        Assert.Equal([WorkflowState.Running, WorkflowState.Completed], RecordingRunObserver.Of(id).Select(c => c.State));
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryRunObserverScenarios(MemoryClusterFixture fixture) : RunObserverScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresRunObserverScenarios(PostgresClusterFixture fixture) : RunObserverScenarios(fixture.Cluster);
