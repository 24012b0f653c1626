using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>
/// SayiirOptions.MaxPayloadBytes (default 4 MB) on both backends: an input, a signal or a task output over it is refused
/// with <see cref="PayloadTooLargeException"/>, and nothing of it is stored.
/// </summary>
public abstract class PayloadLimitScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    private const int DefaultLimit = 4 * 1024 * 1024;
    private const int OverLimit = DefaultLimit + 1024;

    [Fact]
    public async Task StartAsync_InputOverTheLimit_ThrowsPayloadTooLargeAndStoresNothing()
    {
        var id = NewId("too-large-input");

        var ex = await Assert.ThrowsAsync<PayloadTooLargeException>(() => Client.StartAsync(TestFlows.Sized, new string('x', OverLimit), id));

        Assert.Equal($"input of workflow '{TestFlows.Sized.Name}'", ex.Context);
        Assert.Equal(DefaultLimit, ex.Limit);
        Assert.True(ex.Size > ex.Limit, $"size {ex.Size} should be over the limit");
        Assert.Contains("SayiirOptions.MaxPayloadBytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(WorkflowState.NotFound, (await Client.GetStatusAsync(id)).State);
        Assert.Equal(0, (await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = id })).Total);
        // The id is still free.
        await Client.StartAsync(TestFlows.Sized, "small", id);
        await Client.CancelAsync(id);
    }

    [Fact]
    public async Task SignalAsync_PayloadOverTheLimit_RefusedAndTheRunStillWaits()
    {
        var id = NewId("too-large-signal");
        await Client.StartAsync(TestFlows.Sized, "small", id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, $"{id} to await its signal");

        var ex = await Assert.ThrowsAsync<PayloadTooLargeException>(() => Client.SignalAsync(id, "more", new string('y', OverLimit)));

        Assert.Equal("payload of signal 'more'", ex.Context);
        Assert.Equal(WorkflowState.AwaitingSignal, (await Client.GetStatusAsync(id)).State);
        Assert.DoesNotContain(await Client.GetHistoryAsync(id), e => e.Kind == RunEventKind.SignalReceived);
        await Client.SignalAsync(id, "more", "fits");
        Assert.Equal("fits", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, $"{id} to complete with the signal that fits"));
    }

    [Fact]
    public async Task RunAsync_TaskOutputOverTheLimit_FailsTheRunWithoutRetryOrCheckpoint()
    {
        var id = NewId("too-large-output");

        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Client.RunAsync(TestFlows.Sized, $"big:{OverLimit}", id));

        Assert.Equal("render", ex.Failure.TaskId);
        Assert.Equal(1, ex.Failure.Attempt);
        Assert.True(ex.Failure.IsCausedBy<PayloadTooLargeException>(), ex.Failure.ErrorType);
        Assert.Contains("output of task 'render'", ex.Failure.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<string>(id, "render"));
        var history = await Client.GetHistoryAsync(id);
        Assert.DoesNotContain(history, e => e.Kind == RunEventKind.TaskCompleted);
        Assert.DoesNotContain(history, e => e.Kind == RunEventKind.RetryScheduled);
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryPayloadLimitScenarios(MemoryClusterFixture fixture) : PayloadLimitScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresPayloadLimitScenarios(PostgresClusterFixture fixture) : PayloadLimitScenarios(fixture.Cluster);
