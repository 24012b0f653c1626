using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>The foundation scenarios, run on both backends by the derived classes below.</summary>
public abstract class RunScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    [Fact]
    public async Task RunAsync_LinearFlow_ReturnsOutputOfLastTask()
    {
        var id = NewId("linear");
        var output = await Wait.ForAsync(Client.RunAsync(TestFlows.Linear, 5, id), Deadline, "the linear run");

        Assert.Equal("12", output);
        Assert.Equal(6, await Client.GetTaskResultAsync<int>(id, "add_one"));
        Assert.Equal(12, await Client.GetTaskResultAsync<int>(id, "double"));
        var status = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Completed, status.State);
        Assert.Equal(TestFlows.Linear.Hash, status.DefinitionHash);
        Assert.Equal(1, Probe.Executions(id, "add_one"));
        Assert.Equal(1, Probe.Executions(id, "double"));
        // The storage probe used by the "nothing written" tests finds real rows.
        if (Cluster.ConnectionString is { } connectionString) Assert.Equal(1, await StoredRuns.CountAsync(connectionString, id));
    }

    [Fact]
    public async Task ResumeAsync_AfterTaskFailed_RunsOnlyTheFailedAndLaterTasks()
    {
        var id = NewId("abc");
        Probe.Set(id, "fail_b");
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(TestFlows.Abc, ">", id), Deadline, "the failing run"));
        Assert.Equal("b", failed.Failure.TaskId);
        Assert.Equal(WorkflowState.Failed, (await Client.GetStatusAsync(id)).State);
        Assert.Equal(">A", await Client.GetTaskResultAsync<string>(id, "a"));

        Probe.Set(id, "fail_b", false);
        await Client.ResumeAsync(id);
        var output = await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the resumed run");

        Assert.Equal(">ABC", output);
        Assert.Equal(1, Probe.Executions(id, "a"));
        Assert.Equal(2, Probe.Executions(id, "b"));
        Assert.Equal(1, Probe.Executions(id, "c"));
    }

    [Fact]
    public async Task RunAsync_RetriesExhausted_FailsWithTaskAttemptTypeMessageAndStack()
    {
        var id = NewId("exhausted");
        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(TestFlows.AlwaysFails, 1, id), Deadline, "the failing run"));

        var status = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Failed, status.State);
        var failure = status.Failure!;
        Assert.Equal("doomed", failure.TaskId);
        Assert.Equal(3, failure.Attempt);
        Assert.Equal(typeof(InvalidOperationException).FullName, failure.ErrorType);
        Assert.Equal("boom on attempt 3", failure.Message);
        Assert.False(string.IsNullOrWhiteSpace(failure.StackTrace));
        Assert.Equal(failure, ex.Failure);
        Assert.Equal(3, Probe.Executions(id, "doomed"));
    }

    [Fact]
    public async Task RunAsync_NonRetryableException_FailsAfterTheFirstAttempt()
    {
        var id = NewId("non-retryable");
        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(TestFlows.NonRetryable, 7, id), Deadline, "the run"));

        Assert.Equal(1, ex.Failure.Attempt);
        Assert.Equal(typeof(ArgumentException).FullName, ex.Failure.ErrorType);
        Assert.Equal("bad input 7", ex.Failure.Message);
        Assert.Equal(1, Probe.Executions(id, "validate"));
    }

    [Fact]
    public async Task RunAsync_TaskSucceedsOnThirdAttempt_CompletesWithThatAttempt()
    {
        var id = NewId("flaky");
        var output = await Wait.ForAsync(Client.RunAsync(TestFlows.SucceedsOnAttempt, 3, id), Deadline, "the flaky run");

        Assert.Equal(3, output);
        Assert.Equal(3, Probe.Executions(id, "flaky"));
    }

    [Fact]
    public async Task GetStatusAsync_WhileTaskRuns_AnswersRunningWithTheTask()
    {
        var id = NewId("status");
        await Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);

        var status = await Wait.ForAsync(Client.GetStatusAsync(id), TimeSpan.FromSeconds(5), "a status answer while task b runs");

        Assert.Equal(WorkflowState.Running, status.State);
        Assert.Equal("b", status.CurrentTaskId);
        Probe.Open(id, "b");
        Assert.Equal("ABC", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the held run to finish"));
    }

    [Fact]
    public async Task CancelAsync_WhileTaskRuns_FiresTheTokenAndRecordsTheInterruptedTask()
    {
        var id = NewId("cancel");
        await Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);

        var status = await Wait.ForAsync(Client.CancelAsync(id, "no longer needed", "tester"), TimeSpan.FromSeconds(5), "the cancel answer");

        Assert.Equal(WorkflowState.Cancelled, status.State);
        Assert.Equal("b", status.Cancellation!.InterruptedTaskId);
        Assert.Equal("no longer needed", status.Cancellation.Reason);
        Assert.Equal("tester", status.Cancellation.By);
        await Probe.UntilAsync(() => Probe.EventsOf(id, "b").Any(e => e.What == "token fired"), Deadline, "task b's token to fire");
        var ex = await Assert.ThrowsAsync<WorkflowCancelledException>(() => Client.WaitForResultAsync<string>(id));
        Assert.Equal("tester", ex.Cancellation.By);
        Assert.Equal(0, Probe.Executions(id, "c"));
        // Cancelling again is a no-op; cancelling a completed run is refused.
        Assert.Equal(WorkflowState.Cancelled, (await Client.CancelAsync(id)).State);
    }

    [Fact]
    public async Task CancelAsync_CompletedRun_ThrowsInvalidRunState()
    {
        var id = NewId("cancel-done");
        await Client.RunAsync(TestFlows.Linear, 1, id);

        var ex = await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.CancelAsync(id));
        Assert.Equal(WorkflowState.Completed, ex.State);
    }

    [Fact]
    public async Task CancelAndSignal_FailedRun_ThrowInvalidRunState()
    {
        var id = NewId("cancel-failed");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(TestFlows.AlwaysFails, 1, id), Deadline, "the failing run"));

        var cancel = await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.CancelAsync(id));
        var signal = await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.SignalAsync(id, "go", 1));

        Assert.Equal(WorkflowState.Failed, cancel.State);
        Assert.Equal(WorkflowState.Failed, signal.State);
        Assert.Equal(WorkflowState.Failed, (await Client.GetStatusAsync(id)).State);
    }

    [Fact]
    public async Task RunAsync_WithMetadata_TaskContextCarriesRunDetails()
    {
        var id = NewId("context");
        var output = await Wait.ForAsync(Client.RunAsync(TestFlows.ContextEcho, 9, id,
            new StartOptions { Metadata = new Dictionary<string, string> { ["tenant"] = "acme" } }), Deadline, "the context run");

        Assert.Equal($"test_context_echo|{id}|echo|1|acme|9", output);
    }

    [Fact]
    public async Task RunAsync_NoInstanceId_GeneratesAUniqueOne()
    {
        var first = await Client.StartAsync(TestFlows.ContextEcho, 1);
        var second = await Client.StartAsync(TestFlows.ContextEcho, 2);

        Assert.False(string.IsNullOrWhiteSpace(first.InstanceId));
        Assert.NotEqual(first.InstanceId, second.InstanceId);
        Assert.EndsWith($"|{second.InstanceId}|echo|1|none|2", await Wait.ForAsync(second.GetResultAsync(), Deadline, "the second run"));
    }

    [Fact]
    public async Task RunAsync_ClassTask_IsResolvedFromDependencyInjection()
    {
        var output = await Wait.ForAsync(Client.RunAsync(TestFlows.WithService, "Ada", NewId("di")), Deadline, "the DI run");

        Assert.Equal("Hello, Ada! (attempt 1 of greet)", output);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task StartAsync_EmptyInstanceId_ThrowsInvalidInstanceId(string id)
    {
        await Assert.ThrowsAsync<InvalidInstanceIdException>(() => Client.StartAsync(TestFlows.Linear, 1, id));
    }

    [Fact]
    public async Task StartAsync_InstanceIdOver256Characters_ThrowsAndWritesNothing()
    {
        var ok = new string('x', InvalidInstanceIdException.MaxLength);
        var tooLong = ok + "y";

        var ex = await Assert.ThrowsAsync<InvalidInstanceIdException>(() => Client.StartAsync(TestFlows.Linear, 1, tooLong));
        Assert.Contains("256", ex.Message);
        if (Cluster.ConnectionString is { } connectionString) Assert.Equal(0, await StoredRuns.CountAsync(connectionString, tooLong));
        // The longest allowed id works end to end (storage columns and reminder keys hold it).
        var longest = NewId("") + ok[..(InvalidInstanceIdException.MaxLength - 33)];
        Assert.Equal("4", await Wait.ForAsync(Client.RunAsync(TestFlows.Linear, 1, longest), Deadline, "the run with a 256-character id"));
    }

    [Fact]
    public async Task StartAsync_UnknownWorkflow_ThrowsWorkflowNotFoundAndWritesNothing()
    {
        var id = NewId("unknown");
        var ex = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => Client.StartAsync("no_such_workflow", 1, id));

        Assert.Equal("no_such_workflow", ex.WorkflowName);
        await AssertNothingStoredAsync(id);
    }

    [Fact]
    public async Task StartAsync_InputOfWrongType_ThrowsPayloadSerializationAndWritesNothing()
    {
        var id = NewId("wrong-input");
        var ex = await Assert.ThrowsAsync<PayloadSerializationException>(() => Client.StartAsync(TestFlows.Linear.Name, "not a number", id));

        Assert.Equal(typeof(int).FullName, ex.TypeName);
        Assert.Contains("test_linear", ex.Context);
        await AssertNothingStoredAsync(id);
    }

    [Fact]
    public async Task RunAsync_OutputCannotBeSerialized_FailsAtOnceNamingTaskAndType()
    {
        var id = NewId("bad-output");
        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(TestFlows.BadOutput, 1, id), Deadline, "the run with a bad output"));

        Assert.Equal("bad", ex.Failure.TaskId);
        Assert.Equal(typeof(PayloadSerializationException).FullName, ex.Failure.ErrorType);
        Assert.Contains("output of task 'bad'", ex.Failure.Message);
        Assert.Contains(nameof(Unserializable), ex.Failure.Message);
        // Deterministic errors are not retried, and no half-made output is recorded.
        Assert.Equal(1, Probe.Executions(id, "bad"));
        await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<object>(id, "bad"));
        Assert.Equal(1, await Client.GetTaskResultAsync<int>(id, "ok"));
    }

    [Fact]
    public async Task StartAsync_SameInstanceIdTwice_SecondStartThrowsAlreadyExists()
    {
        var id = NewId("dup");
        await Client.RunAsync(TestFlows.Linear, 1, id);

        var ex = await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() => Client.StartAsync(TestFlows.Linear, 2, id));
        Assert.Equal(WorkflowState.Completed, ex.State);
    }

    [Fact]
    public async Task GetStatusAsync_UnknownRun_ReturnsNotFound()
    {
        var status = await Client.GetStatusAsync(NewId("nobody"));

        Assert.Equal(WorkflowState.NotFound, status.State);
        await Assert.ThrowsAsync<WorkflowRunNotFoundException>(() => Client.WaitForResultAsync<int>(status.InstanceId));
    }

    [Fact]
    public async Task GetTaskResultAsync_UnknownTaskId_ThrowsTaskResultNotFoundWithIds()
    {
        var id = NewId("unknown-task");
        await Wait.ForAsync(Client.RunAsync(TestFlows.Linear, 1, id), Deadline, "the linear run");

        // Thrown by the run's grain: the typed properties crossed the grain call.
        var ex = await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<int>(id, "no_such_task"));

        Assert.Equal(id, ex.InstanceId);
        Assert.Equal("no_such_task", ex.TaskId);
        Assert.Contains("has no task or signal wait with id 'no_such_task'", ex.Message);
        var noRun = await Assert.ThrowsAsync<WorkflowRunNotFoundException>(() => Client.GetTaskResultAsync<int>(id + "-missing", "add_one"));
        Assert.Equal(id + "-missing", noRun.InstanceId);
    }

    [Fact]
    public async Task GetTaskResultAsync_TaskNotCompletedYet_ThrowsTaskResultNotFoundSayingSo()
    {
        var id = NewId("not-yet");
        await Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);

        var ex = await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<string>(id, "c"));

        Assert.Equal(id, ex.InstanceId);
        Assert.Equal("c", ex.TaskId);
        Assert.Contains("has not completed yet", ex.Message);
        Probe.Open(id, "b");
        Assert.Equal("ABC", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the held run to finish"));
    }

    [Fact]
    public async Task RunAsync_TaskThrowsWithInnerException_FailureKeepsTheInnerFailureChain()
    {
        var id = NewId("wrapped");
        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(TestFlows.WrappedFailure, 1, id), Deadline, "the failing run"));

        var failure = ex.Failure;
        Assert.Equal(typeof(InvalidOperationException).FullName, failure.ErrorType);
        Assert.Equal("outer", failure.Message);
        Assert.False(string.IsNullOrWhiteSpace(failure.StackTrace));
        var inner = Assert.IsType<FailureDetails>(failure.InnerFailure);
        Assert.Equal(typeof(System.IO.IOException).FullName, inner.ErrorType);
        Assert.Equal("inner", inner.Message);
        Assert.Null(inner.InnerFailure);
        Assert.True(failure.IsCausedBy<System.IO.IOException>());
        Assert.True(failure.IsCausedBy<SystemException>());
        Assert.False(failure.IsCausedBy<ArgumentException>());
        Assert.Null(failure.Properties);
        // A task's own exception is described by the failure, not rebuilt.
        Assert.Null(ex.InnerException);
        Assert.Contains("---> System.IO.IOException: inner", ex.Message);
        // The status (another grain call) and the stored state carry the same chain.
        Assert.Equal(failure, (await Client.GetStatusAsync(id)).Failure);
        if (Cluster.ConnectionString is { } connectionString)
        {
            using var stored = await StoredStateAsync(connectionString, id);
            var storedInner = stored.RootElement.GetProperty("Failure").GetProperty("InnerFailure");
            Assert.Equal(typeof(System.IO.IOException).FullName, storedInner.GetProperty("ErrorType").GetString());
            Assert.Equal("inner", storedInner.GetProperty("Message").GetString());
        }
    }

    private static async Task<System.Text.Json.JsonDocument> StoredStateAsync(string connectionString, string instanceId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT payloadbinary FROM orleansstorage WHERE grainidextensionstring = @id AND graintypestring = 'sayiir-run'", connection);
        command.Parameters.AddWithValue("id", instanceId);
        return System.Text.Json.JsonDocument.Parse((byte[])(await command.ExecuteScalarAsync())!);
    }

    private async Task AssertNothingStoredAsync(string id)
    {
        Assert.Equal(WorkflowState.NotFound, (await Client.GetStatusAsync(id)).State);
        if (Cluster.ConnectionString is { } connectionString) Assert.Equal(0, await StoredRuns.CountAsync(connectionString, id));
    }
}

/// <summary>
/// The foundation scenarios that wait on engine time (retry backoffs, task timeouts), on a virtual clock: each proves
/// the wait lasted exactly its span (from the run's history instants) and then woke, in no wall time.
/// </summary>
public abstract class VirtualTimeRunScenarios(VirtualTimeFixture fixture) : VirtualTimeScenarios(fixture)
{
    private Task<T> Result<T>(string id) => Wait.ForAsync(Client.WaitForResultAsync<T>(id), Deadline, $"the result of run '{id}'");

    private async Task<List<DateTimeOffset>> AttemptStartsAsync(string id, string taskId) =>
        [.. (await Env.HistoryAsync(id)).Where(e => e.Kind == RunEventKind.TaskStarted && e.TaskId == taskId).OrderBy(e => e.Attempt).Select(e => e.At)];

    [Fact]
    public async Task RunAsync_BackoffWithMaxDelay_WaitsTheCappedDelayNotTheExponentialOne()
    {
        var id = NewId("capped");
        await Client.StartAsync(TestFlows.CappedBackoff, 0, id);

        await Env.AdvanceTimeAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(3, await Result<int>(id));
        var at = await AttemptStartsAsync(id, "capped");
        Assert.Equal(3, at.Count);
        // Uncapped, the second wait would be 300 ms × 50 = 15 s; the cap makes it 600 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(300), at[1] - at[0]);
        Assert.Equal(TimeSpan.FromMilliseconds(600), at[2] - at[1]);
        Assert.Equal(3, Probe.Executions(id, "capped"));
    }

    [Fact]
    public async Task RunAsync_AttemptExceedsTimeout_FiresTokenCountsFailureAndRetries()
    {
        var id = NewId("timeout");
        await Client.StartAsync(TestFlows.TimesOutOnce, 0, id);
        await Probe.ExecutedAsync(id, "slow", 1, Deadline);

        // The first attempt hangs; a millisecond short of its 300 ms timeout it is still running.
        Time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.Equal(WorkflowState.Running, (await Client.GetStatusAsync(id)).State);
        Time.Advance(TimeSpan.FromMilliseconds(1));
        // Settles once the timeout is recorded, then moves through the 10 ms backoff to the second attempt.
        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(10));

        Assert.Equal("attempt 2", await Result<string>(id));
        Assert.Equal(2, Probe.Executions(id, "slow"));
        // The abandoned first attempt observes its cancellation on its own thread, possibly after the run ended.
        await Probe.UntilAsync(() => Probe.EventsOf(id, "slow").Any(e => e.Attempt == 1 && e.What == "token fired"), Deadline,
            "the timed-out first attempt to see its token fire");
        var failed = (await Env.HistoryAsync(id)).Single(e => e.Kind == RunEventKind.TaskFailed);
        Assert.Equal(typeof(TaskTimeoutException).FullName, failed.ErrorType);
        Assert.Equal(TimeSpan.FromMilliseconds(300), failed.At - (await AttemptStartsAsync(id, "slow"))[0]);
    }

    [Fact]
    public async Task RunAsync_RetryWithBackoff_WaitsTheDelayBeforeTheNextAttempt()
    {
        var id = NewId("backoff");
        await Client.StartAsync(TestFlows.SlowBackoff, 0, id);
        await SettleAsync();
        var waiting = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Waiting, waiting.State);
        var failedAt = (await Env.HistoryAsync(id)).Single(e => e.Kind == RunEventKind.TaskFailed && e.Attempt == 1).At;
        Assert.Equal(failedAt + TestFlows.BackoffDelay, waiting.WakeAt);

        // A millisecond short of the 6 s backoff there is no second attempt; at its end there is.
        await Env.AdvanceTimeAsync(TestFlows.BackoffDelay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(WorkflowState.Waiting, (await Client.GetStatusAsync(id)).State);
        Assert.Equal(1, Probe.Executions(id, "flaky"));
        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1));

        Assert.Equal(2, await Result<int>(id));
        var attempts = await AttemptStartsAsync(id, "flaky");
        Assert.Equal(TestFlows.BackoffDelay, attempts[1] - attempts[0]);
    }

    [Fact]
    public async Task RunAsync_TaskAlwaysTimesOut_FailsWithTypedTimeoutCarryingRunAndNodeIds()
    {
        var id = NewId("always-timeout");
        await Client.StartAsync(TestFlows.AlwaysTimesOut, 1, id);
        // Each attempt hangs until its 200 ms timeout: the clock is moved directly once it runs (advancing would wait for it).
        await Probe.ExecutedAsync(id, "stuck", 1, Deadline);
        Time.Advance(TimeSpan.FromMilliseconds(200));
        await SettleAsync(); // the timeout is recorded and the run waits out its 10 ms backoff
        Time.Advance(TimeSpan.FromMilliseconds(10));
        await Probe.ExecutedAsync(id, "stuck", 2, Deadline);
        Time.Advance(TimeSpan.FromMilliseconds(200));

        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Result<int>(id));
        var timeout = Assert.IsType<TaskTimeoutException>(ex.InnerException);
        Assert.Equal(id, timeout.InstanceId);
        Assert.Equal("stuck", timeout.NodeId);
        Assert.Equal(TimeSpan.FromMilliseconds(200), timeout.Timeout);
        Assert.Equal(id, ex.InstanceId);
        Assert.Equal(2, ex.Failure.Attempt);
        Assert.True(ex.Failure.IsCausedBy<TaskTimeoutException>());
        var stored = (await Client.GetStatusAsync(id)).Failure!;
        Assert.Equal(ex.Failure, stored);
        Assert.Equal(id, stored.Properties!["InstanceId"]);
        Assert.Equal("stuck", stored.Properties["NodeId"]);
        Assert.Equal(2, Probe.Executions(id, "stuck"));
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryRunScenarios(MemoryClusterFixture fixture) : RunScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresRunScenarios(PostgresClusterFixture fixture) : RunScenarios(fixture.Cluster)
{
    [Fact]
    public async Task PauseAsync_RunTakenOverWhileHandled_ThrowsWorkflowRunMovedWithIdsThenWorksOnRetry()
    {
        var id = NewId("moved");
        await Client.StartAsync(FlowLanguageFlows.SignalLong, 0, id);
        // The stored row, not only the activation, must say so: a write still on its way would lose to the bump below and
        // move the run before the pause is even called.
        await Wait.UntilAsync(async () => await StoredRuns.StoredStateAsync(Cluster.ConnectionString!, id) == WorkflowState.AwaitingSignal, Deadline,
            "the run's stored row to show it awaiting its signal");
        // Another writer moves the stored row on (as a new owner would): the activation's next write loses the ETag race.
        await using (var connection = new Npgsql.NpgsqlConnection(Cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var bump = new Npgsql.NpgsqlCommand(
                "UPDATE orleansstorage SET version = version + 1 WHERE grainidextensionstring = @id AND graintypestring = 'sayiir-run'", connection);
            bump.Parameters.AddWithValue("id", id);
            Assert.Equal(1, await bump.ExecuteNonQueryAsync());
        }

        var ex = await Assert.ThrowsAsync<WorkflowRunMovedException>(() => Client.PauseAsync(id, "maintenance", "ops"));

        Assert.Equal(id, ex.InstanceId);
        Assert.Equal("Pause", ex.Operation);
        // The lost activation leaves; the call again reaches a new one, which reads the row as it now is.
        WorkflowStatus? paused = null;
        await Wait.UntilAsync(async () => (paused = await Client.PauseAsync(id, "maintenance", "ops")).State == WorkflowState.Paused,
            Deadline, "a retried pause to reach the run's new activation");
        Assert.Equal("ops", paused!.Pause!.By);
        Assert.Equal(WorkflowState.Cancelled, (await Client.CancelAsync(id)).State);
    }
}

[Collection(VirtualTimeEnvironments.Memory)]
public sealed class MemoryVirtualTimeRunScenarios(MemoryVirtualTimeFixture fixture) : VirtualTimeRunScenarios(fixture);

[Collection(VirtualTimeEnvironments.Postgres)]
public sealed class PostgresVirtualTimeRunScenarios(PostgresVirtualTimeFixture fixture) : VirtualTimeRunScenarios(fixture);
