using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.FlowLanguageFlows;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>Every node kind and control operation, on both backends (derived classes below).</summary>
public abstract class FlowScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    private Task<T> Run<T, TIn>(WorkflowDefinition<TIn, T> flow, TIn input, string id) =>
        Wait.ForAsync(Client.RunAsync(flow, input, id), Deadline, $"run '{id}' of {flow.Name}");

    // ----- fork / join

    [Fact]
    public async Task Fork_TwoBranches_JoinSumsTypedOutputs()
    {
        Assert.Equal(25, await Run(ForkSum, 5, NewId("fork")));
    }

    [Fact]
    public async Task Fork_BranchChainsWithoutJoin_OutputsResultsByBranchName()
    {
        var id = NewId("chains");
        var results = await Run(ForkChains, 5, id);

        Assert.Equal(18, results.Get<int>("left"));
        Assert.Equal("r=20", results.Get<string>("right"));
        Assert.Equal(6, await Client.GetTaskResultAsync<int>(id, "l1"));
    }

    [Fact]
    public async Task Fork_BranchesHeldAtGates_RunConcurrently()
    {
        var id = NewId("concurrent");
        await Client.StartAsync(ForkConcurrent, 0, id);

        // Both must be running at once: a sequential fork would never start the second while the first is held.
        await Probe.WaitStartedAsync(id, "g1", Deadline);
        await Probe.WaitStartedAsync(id, "g2", Deadline);
        var status = await Client.GetStatusAsync(id);
        Assert.Contains("g1", status.CurrentTaskId);
        Assert.Contains("g2", status.CurrentTaskId);
        Probe.Open(id, "g1");
        Probe.Open(id, "g2");
        Assert.Equal("1+2", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the concurrent fork"));
    }

    [Theory]
    [InlineData("vip", "vip:o1")]
    [InlineData("regular", "regular:o1")]
    [InlineData("unknown-tier", "other:o1")]
    public async Task Route_Key_PicksNamedOrDefaultBranch(string tier, string expected)
    {
        Assert.Equal(expected, await Run(RouteByTier, new Order("o1", tier), NewId("route")));
    }

    [Fact]
    public async Task Route_NoBranchAndNoDefault_FailsWithTypedErrorCarryingRunNodeAndKey()
    {
        var id = NewId("no-route");
        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Run(RouteNoDefault, "zzz", id));

        Assert.Equal(typeof(NoRouteBranchException).FullName, ex.Failure.ErrorType);
        Assert.Contains("no branch for key 'zzz'", ex.Failure.Message);
        var noRoute = Assert.IsType<NoRouteBranchException>(ex.InnerException);
        Assert.Equal(id, noRoute.InstanceId);
        Assert.Equal("pick", noRoute.NodeId);
        Assert.Equal("zzz", noRoute.Key);
        // The status read later rebuilds the same typed error.
        var failed = new WorkflowFailedException(id, (await Client.GetStatusAsync(id)).Failure!);
        Assert.Equal("zzz", Assert.IsType<NoRouteBranchException>(failed.InnerException).Key);
    }

    [Fact]
    public async Task Route_ResumedAfterBranchFailure_DoesNotReevaluateTheKey()
    {
        var id = NewId("route-resume");
        var order = new Order(id, "vip");
        Probe.Set(id, "fail_vip");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Run(RouteByTier, order, id));
        Probe.Set(id, "fail_vip", false);

        await Client.ResumeAsync(id);

        Assert.Equal($"vip:{id}", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the resumed route"));
        Assert.Equal(1, SelectorCalls[id]);
        Assert.Equal(2, Probe.Executions(id, "vip_task"));
    }

    // ----- loop

    [Fact]
    public async Task Loop_Countdown_IteratesUntilDone()
    {
        var id = NewId("countdown");
        Assert.Equal(0, await Run(Countdown, 3, id));

        Assert.Equal(4, Probe.Executions(id, "step"));
        Assert.Equal(["3", "2", "1", "0"], Probe.EventsOf(id, "step").Select(e => e.What));
    }

    [Fact]
    public async Task Loop_ExitWithLast_ReturnsLastValueAtTheLimit()
    {
        Assert.Equal(31, await Run(ExitWithLast, 1, NewId("exit-last")));
    }

    [Fact]
    public async Task Loop_FailAtLimit_FailsWithTypedErrorCarryingRunNodeAndLimit()
    {
        var id = NewId("limit");
        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Run(LoopLimit, 0, id));

        Assert.Equal("forever", ex.Failure.TaskId);
        Assert.Equal(typeof(LoopLimitExceededException).FullName, ex.Failure.ErrorType);
        Assert.Contains("'forever'", ex.Failure.Message);
        Assert.Contains("3 iteration", ex.Failure.Message);
        var limit = Assert.IsType<LoopLimitExceededException>(ex.InnerException);
        Assert.Equal(id, limit.InstanceId);
        Assert.Equal("forever", limit.NodeId);
        Assert.Equal(3, limit.MaxIterations);
        Assert.True((await Client.GetStatusAsync(id)).Failure!.IsCausedBy<LoopLimitExceededException>());
    }

    [Fact]
    public async Task Loop_InsideForkAndForkInsideLoop_ComputeTogether()
    {
        // 40 → (halve to 1) + 40 = 41; then doubled each round (inc + dec = 2x) until ≥ 100: 41 → 82 → 164.
        Assert.Equal(164, await Run(LoopsAndForks, 40, NewId("nested")));
    }

    // ----- child flows

    [Fact]
    public async Task ThenFlow_NestedChildFlows_RunInlineAndCheckpoint()
    {
        var id = NewId("child");
        Assert.Equal("=104", await Run(WithChild, 1, id));

        Assert.Equal(4, await Client.GetTaskResultAsync<int>(id, "child_double"));
        Assert.Equal(104, await Client.GetTaskResultAsync<int>(id, "gc_inc"));
    }

    [Fact]
    public async Task Signal_SentWhileWaiting_BecomesTheNextInput()
    {
        var id = NewId("approve");
        await Client.StartAsync(Approval, "order-1", id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to await 'approve'");
        var parked = await Client.GetStatusAsync(id);
        Assert.Equal("approve", parked.SignalName);
        Assert.Null(parked.SignalTimeoutAt);

        await Client.SignalAsync(id, "approve", "alice");

        Assert.Equal("approved by alice", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the approved run"));
    }

    [Fact]
    public async Task Signal_SentBeforeTheRunStarts_IsBufferedAndConsumedWithoutParking()
    {
        var id = NewId("early");
        await Client.SignalAsync(id, "approve", "bob");
        Assert.Equal(WorkflowState.NotFound, (await Client.GetStatusAsync(id)).State);

        Assert.Equal("approved by bob", await Run(Approval, "order-2", id));
    }

    [Fact]
    public async Task Signal_SameNameTwice_DeliveredInFifoOrder()
    {
        var id = NewId("fifo");
        await Client.SignalAsync(id, "item", "first");
        await Client.SignalAsync(id, "item", "second");

        var output = await Run(TwoSignals, 0, id);

        Assert.Equal("second", output);
        Assert.Equal("first", await Client.GetTaskResultAsync<string>(id, "keep_first"));
    }

    [Fact]
    public async Task Signal_ToCompletedRun_ThrowsInvalidRunState()
    {
        var id = NewId("sig-done");
        await Run(ForkSum, 1, id);

        var ex = await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.SignalAsync(id, "go", 1));
        Assert.Equal(WorkflowState.Completed, ex.State);
    }

    // ----- pause / unpause

    [Fact]
    public async Task Pause_WhileTaskRuns_StopsAtNextBoundaryUntilUnpaused()
    {
        var id = NewId("pause");
        await Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);

        var paused = await Client.PauseAsync(id, "maintenance", "ops");
        Assert.Equal(WorkflowState.Paused, paused.State);
        Assert.Equal("ops", paused.Pause!.By);
        Probe.Open(id, "b");
        // The running task finishes and is checkpointed, but the next one does not start.
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).CurrentTaskId is null && Probe.Executions(id, "b") == 1,
            Deadline, "task b to finish while paused");
        await Wait.UntilAsync(async () => { try { return await Client.GetTaskResultAsync<string>(id, "b") == "AB"; } catch (TaskResultNotFoundException) { return false; } },
            Deadline, "task b's output to be recorded");
        // Checkpointed while paused, not at unpause: a crash during the pause must not re-run b.
        if (Cluster.ConnectionString is { } connectionString)
            await Wait.UntilAsync(async () => (await StoredRuns.DoneStepsAsync(connectionString, id)).Contains("b"), Deadline,
                "task b to be checkpointed in storage while the run is paused");
        Assert.Equal(0, Probe.Executions(id, "c"));
        Assert.Equal(WorkflowState.Paused, (await Client.GetStatusAsync(id)).State);

        await Client.UnpauseAsync(id);

        Assert.Equal("ABC", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the unpaused run"));
    }

    [Fact]
    public async Task Cancel_WhilePaused_CancelsTheRun()
    {
        var id = NewId("pause-cancel");
        await Client.StartAsync(Approval, "x", id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to park");
        await Client.PauseAsync(id);

        var status = await Client.CancelAsync(id, "abandon", "tester");

        Assert.Equal(WorkflowState.Cancelled, status.State);
        Assert.Null(status.Pause);
    }

    [Fact]
    public async Task Pause_TerminalRun_ThrowsInvalidRunState()
    {
        var id = NewId("pause-done");
        await Run(ForkSum, 1, id);

        await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.PauseAsync(id));
    }

    // ----- conflict policies

    [Fact]
    public async Task Start_UseExisting_ReturnsExistingRunAndRunsNothing()
    {
        var id = NewId("use-existing");
        await Client.StartAsync(Approval, "first", id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the first run to park");

        var handle = await Client.StartAsync(Approval, "second", id, new StartOptions { OnConflict = ConflictPolicy.UseExisting });

        Assert.Equal(WorkflowState.AwaitingSignal, handle.StartStatus.State);
        Assert.Equal(1, Probe.Executions(id, "request"));
        Assert.Equal("first", await Client.GetTaskResultAsync<string>(id, "request"));
    }

    [Fact]
    public async Task Start_TerminateExisting_DiscardsOldRunAndStartsFresh()
    {
        var id = NewId("terminate");
        await Client.StartAsync(TestFlows.Held, "old", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);

        await Client.StartAsync(TestFlows.Linear.Name, 1, id, new StartOptions { OnConflict = ConflictPolicy.TerminateExisting });

        Assert.Equal("4", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the fresh run"));
        await Probe.UntilAsync(() => Probe.EventsOf(id, "b").Any(e => e.What == "token fired"), Deadline, "the old run's task token to fire");
        Assert.Equal(0, Probe.Executions(id, "c"));
    }

    [Fact]
    public async Task Start_TerminateExisting_DropsTheOldRunsUnconsumedSignals()
    {
        var id = NewId("terminate-signals");
        await Client.StartAsync(TestFlows.Held, "old", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);
        await Client.SignalAsync(id, "approve", "meant for the old run");

        await Client.StartAsync(Approval, "new", id, new StartOptions { OnConflict = ConflictPolicy.TerminateExisting });

        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline,
            "the fresh run to wait for its own signal");
        await Client.SignalAsync(id, "approve", "carol");
        Assert.Equal("approved by carol", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the fresh run"));
    }

    [Fact]
    public async Task Start_FiftyConcurrentStartsOfOneId_YieldExactlyOneRun()
    {
        var id = NewId("fifty");
        var starts = Enumerable.Range(0, 50).Select(async i =>
        {
            try
            {
                await Client.StartAsync(Approval, $"start-{i}", id);
                return true;
            }
            catch (WorkflowAlreadyExistsException)
            {
                return false;
            }
        }).ToList();

        var results = await Task.WhenAll(starts);

        Assert.Single(results, r => r);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the one run to park");
        Assert.Equal(1, Probe.Executions(id, "request"));
    }
}

/// <summary>
/// The flow-language scenarios that wait on engine time (delays, signal timeouts, a task timeout and its retry), on a
/// virtual clock: each proves the wait lasted exactly its span and then woke, in no wall time.
/// </summary>
public abstract class VirtualTimeFlowScenarios(VirtualTimeFixture fixture) : VirtualTimeScenarios(fixture)
{
    private Task<T> Result<T>(string id) => Wait.ForAsync(Client.WaitForResultAsync<T>(id), Deadline, $"the result of run '{id}'");

    [Fact]
    public async Task Fork_BranchFailsAfterItsRetriesAndTimeouts_FailsTheRun()
    {
        var id = NewId("fork-fail");
        await Client.StartAsync(ForkFails, 1, id);
        await Probe.ExecutedAsync(id, "slow_then_bad", 1, Deadline);

        // The first attempt hangs: only its 300 ms per-attempt timeout inside the branch cuts it; then the 10 ms backoff.
        Time.Advance(TimeSpan.FromMilliseconds(300));
        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(10));

        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Result<int>(id));
        Assert.Equal("slow_then_bad", ex.Failure.TaskId);
        Assert.Equal(2, ex.Failure.Attempt);
        Assert.Equal("branch broke", ex.Failure.Message);
        Assert.Equal(2, Probe.Executions(id, "slow_then_bad"));
        var history = await Env.HistoryAsync(id);
        Assert.Equal(typeof(TaskTimeoutException).FullName, history.Single(e => e.Kind == RunEventKind.TaskFailed && e.Attempt == 1).ErrorType);
    }

    [Fact]
    public async Task Delay_ParksWithWakeInstantThenCompletes()
    {
        var id = NewId("delay");
        var started = Env.Now;
        await Client.StartAsync(Delayed, 7, id);

        await SettleAsync();
        var waiting = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Waiting, waiting.State);
        Assert.Equal(started + TimeSpan.FromSeconds(2), waiting.WakeAt);

        // A millisecond short of the 2 s delay the run still sleeps; at the wake instant it runs on.
        await Env.AdvanceTimeAsync(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(WorkflowState.Waiting, (await Client.GetStatusAsync(id)).State);
        Assert.Empty(Probe.EventsOf(id, "after"));
        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1));

        Assert.Equal("after 7", await Result<string>(id));
        Assert.Equal(waiting.WakeAt, (await Env.HistoryAsync(id)).Single(e => e.Kind == RunEventKind.TaskStarted && e.TaskId == "after").At);
    }

    [Fact]
    public async Task Delay_AsLastNode_CompletesWithItsInput()
    {
        var id = NewId("delay-last");
        var started = Env.Now;
        await Client.StartAsync(DelayLast, "abc", id);

        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(200));

        Assert.Equal("ABC", await Result<string>(id));
        Assert.Equal(started + TimeSpan.FromMilliseconds(200), (await Env.HistoryAsync(id)).Single(e => e.Kind == RunEventKind.Completed).At);
    }

    [Fact]
    public async Task CancelAsync_DuringDelay_CancelsTheRun()
    {
        var id = NewId("cancel-delay");
        await Client.StartAsync(LongDelayed, 1, id);
        await SettleAsync();
        Assert.Equal(WorkflowState.Waiting, (await Client.GetStatusAsync(id)).State);

        var status = await Client.CancelAsync(id, "stop waiting", "tester");

        Assert.Equal(WorkflowState.Cancelled, status.State);
        Assert.Equal("long_nap", status.Cancellation!.InterruptedTaskId);
        await Assert.ThrowsAsync<WorkflowCancelledException>(() => Client.WaitForResultAsync<int>(id));
        Assert.Empty(Probe.EventsOf(id, "end"));
    }

    // ----- signals

    [Fact]
    public async Task Signal_AwaitingWithTimeout_StatusShowsNameAndTimeoutInstant()
    {
        var id = NewId("sig-status");
        var started = Env.Now;
        await Client.StartAsync(SignalLong, 0, id);
        await SettleAsync();

        var status = await Client.GetStatusAsync(id);

        Assert.Equal(WorkflowState.AwaitingSignal, status.State);
        Assert.Equal("go", status.SignalName);
        Assert.Equal(started + TimeSpan.FromMinutes(10), status.SignalTimeoutAt);
        await Client.SignalAsync(id, "go", 5);
        Assert.Equal(5, await Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the signalled run"));
    }

    [Fact]
    public async Task Signal_TimeoutWithoutDefault_FailsWithTypedSignalTimeoutCarryingRunAndNodeIds()
    {
        var id = NewId("sig-timeout");
        await Client.StartAsync(SignalTimeout, 0, id);
        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(299));
        Assert.Equal(WorkflowState.AwaitingSignal, (await Client.GetStatusAsync(id)).State);

        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1));

        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Result<int>(id));
        Assert.Equal(typeof(SignalTimeoutException).FullName, ex.Failure.ErrorType);
        Assert.Equal("wait_go", ex.Failure.TaskId);
        var timeout = Assert.IsType<SignalTimeoutException>(ex.InnerException);
        Assert.Equal(id, timeout.InstanceId);
        Assert.Equal("wait_go", timeout.NodeId);
        Assert.Equal("go", timeout.SignalName);
        Assert.Equal(TimeSpan.FromMilliseconds(300), timeout.Timeout);
    }

    [Fact]
    public async Task Signal_TimeoutWithDefault_ContinuesWithTheDefault()
    {
        var id = NewId("sig-default");
        await Client.StartAsync(SignalDefault, 0, id);

        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(300));

        Assert.Equal(43, await Result<int>(id));
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryFlowScenarios(MemoryClusterFixture fixture) : FlowScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresFlowScenarios(PostgresClusterFixture fixture) : FlowScenarios(fixture.Cluster);

[Collection(VirtualTimeEnvironments.Memory)]
public sealed class MemoryVirtualTimeFlowScenarios(MemoryVirtualTimeFixture fixture) : VirtualTimeFlowScenarios(fixture);

[Collection(VirtualTimeEnvironments.Postgres)]
public sealed class PostgresVirtualTimeFlowScenarios(PostgresVirtualTimeFixture fixture) : VirtualTimeFlowScenarios(fixture);
