using Microsoft.Extensions.Time.Testing;
using Sayiir.Runtime;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>Crash and restart scenarios: each test owns its cluster, so it can kill silos freely.</summary>
public sealed class RecoveryTests
{
    private static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RetryBackoff_SiloHostingRunKilled_ResumesOnSurvivorWithoutResettingAttemptOrWait()
    {
        // Real time: the survivor takes the run over through reminders and the membership watcher, on Orleans' clock.
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("backoff-kill");
        await cluster.Client.StartAsync(TestFlows.SlowBackoff, 0, id);
        await Probe.UntilAsync(() => Probe.EventsOf(id, "flaky").Any(e => e.Attempt == 1), LongDeadline, "attempt 1 to fail");
        var first = Probe.EventsOf(id, "flaky").Single(e => e.Attempt == 1);
        // The retry checkpoint is written right after the failure: wait until the run is parked in its backoff.
        await Wait.UntilAsync(async () => (await cluster.Client.GetStatusAsync(id)).UpdatedAt > first.At, LongDeadline, "the retry checkpoint");

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(first.What));

        var output = await Wait.ForAsync(cluster.Client.WaitForResultAsync<int>(id), LongDeadline, "the run to finish on the surviving silo");
        Assert.Equal(2, output);
        var second = Probe.EventsOf(id, "flaky").Single(e => e.Attempt == 2);
        Assert.NotEqual(first.What, second.What);
        var gap = second.At - first.At;
        // Not earlier than the durable due instant, and not a fresh 6 s wait started after the takeover.
        Assert.True(gap >= TestFlows.BackoffDelay - TimeSpan.FromMilliseconds(50), $"attempt 2 started {gap} after attempt 1, before the backoff ended");
        Assert.True(gap < TestFlows.BackoffDelay + TimeSpan.FromSeconds(4), $"attempt 2 started {gap} after attempt 1: the wait was restarted");
        Assert.Equal(2, Probe.Executions(id, "flaky"));
    }

    [Fact]
    public async Task Run_SiloRunningTaskKilled_ReactivatesOnSurvivorAndSkipsCompletedTasks()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("task-kill");
        await cluster.Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", LongDeadline);
        var silo = Probe.EventsOf(id, "b").Single().What;
        Probe.Open(id, "b");
        // The open gate lets the re-dispatched B pass; the killed silo's attempt never reports back.
        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(silo));

        var output = await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), LongDeadline, "the run to finish after the kill");

        Assert.Equal("ABC", output);
        Assert.Equal(1, Probe.Executions(id, "a"));
        Assert.InRange(Probe.Executions(id, "b"), 1, 2);
        Assert.Equal(1, Probe.Executions(id, "c"));
    }

    [Fact]
    public async Task Runs_TwoOfThreeSilosKilledMidTask_AllTwoHundredCompleteWithoutRerunningCheckpointedTasks()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { Silos = 3 });
        var ids = Enumerable.Range(0, 200).Select(i => NewId($"mass-{i}")).ToList();
        await Task.WhenAll(ids.Select((id, i) => cluster.Client.StartAsync(TestFlows.Held, $"r{i}:", id)));
        // Every run has checkpointed A and is inside B (held at its gate) on the silo hosting it.
        await Task.WhenAll(ids.Select(id => Probe.WaitStartedAsync(id, "b", LongDeadline)));
        var byHost = ids.GroupBy(id => Probe.EventsOf(id, "b").Single().What).OrderByDescending(g => g.Count()).ToList();
        var victims = byHost.Take(2).Select(g => g.Key).ToList();
        var interrupted = byHost.Take(2).SelectMany(g => g).ToHashSet();

        await Task.WhenAll(victims.Select(victim => cluster.Cluster.KillSiloAsync(cluster.SiloAt(victim))));
        foreach (var id in ids) Probe.Open(id, "b");

        var outputs = await Wait.ForAsync(Task.WhenAll(ids.Select(id => cluster.Client.WaitForResultAsync<string>(id))), LongDeadline,
            $"all 200 runs to finish after {interrupted.Count} of them lost their silo");
        Assert.Equal(ids.Select((_, i) => $"r{i}:ABC"), outputs);
        Assert.NotEmpty(interrupted);
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "a")));
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "c")));
        // B was never checkpointed before the kills, so it runs again once per interruption: a run moved to the other
        // victim just before that one died runs it a third time.
        Assert.All(ids, id => Assert.True(Probe.Executions(id, "b") <= (interrupted.Contains(id) ? 1 + victims.Count : 1),
            $"{id}: b ran {Probe.Executions(id, "b")} times: {string.Join(" ; ", Probe.EventsOf(id, "b").Select(e => $"{e.Attempt}@{e.What}@{e.At:HH:mm:ss.fff}"))} victims {string.Join(",", victims)}"));
        // The interrupted runs' B ran again, on a silo that was not killed.
        Assert.All(interrupted, id => Assert.DoesNotContain(Probe.EventsOf(id, "b")[^1].What, victims));
    }

    [Fact]
    public async Task Runs_HealthyActivationsDeactivatedWhileTasksRun_HandedOverWithoutRerunningThem()
    {
        // What a lost grain-directory partition does to a healthy run (Orleans deactivates activations whose directory
        // entry was on a dead silo, and the next call creates a new activation, possibly before the old one is gone),
        // forced here through the management grain while every run's task is held, with calls arriving meanwhile.
        using var handoffs = new HandoffCounter(TestFlows.HandoffHeld.Name);
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { Silos = 3 });
        var ids = Enumerable.Range(0, 30).Select(i => NewId($"handoff-{i}")).ToList();
        await Task.WhenAll(ids.Select((id, i) => cluster.Client.StartAsync(TestFlows.HandoffHeld, $"r{i}:", id)));
        await Task.WhenAll(ids.Select(id => Probe.WaitStartedAsync(id, "b", LongDeadline)));

        var management = cluster.Cluster.Client.GetGrain<IManagementGrain>(0);
        var grains = ids.Select(id => cluster.Cluster.Client.GetGrain<IWorkflowGrain>(id)).ToList();
        var deactivations = grains.Select(g => management.DeactivateGrain(g.GetGrainId())).ToList();
        await handoffs.UntilAsync(n => n >= ids.Count, LongDeadline, "every run's activation to start handing over with b in flight");
        // Calls during the hand-off: a wake (what the recovery watcher and reminders send) and a status read.
        var calls = grains.Select(g => Task.WhenAll(g.WakeAsync(), g.GetStatusAsync())).ToList();
        foreach (var id in ids) Probe.Open(id, "b");
        await Wait.ForAsync(Task.WhenAll(deactivations.Concat(calls)), LongDeadline, "the deactivations and the calls made meanwhile");

        var outputs = await Wait.ForAsync(Task.WhenAll(ids.Select(id => cluster.Client.WaitForResultAsync<string>(id))), LongDeadline,
            "every run to finish in its new activation");
        Assert.Equal(ids.Select((_, i) => $"r{i}:ABC"), outputs);
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "a")));
        Assert.All(ids, id => Assert.True(Probe.Executions(id, "b") == 1,
            $"{id}: b ran {Probe.Executions(id, "b")} times: {string.Join(" ; ", Probe.EventsOf(id, "b").Select(e => $"{e.Attempt}@{e.What}@{e.At:HH:mm:ss.fff}"))}"));
        Assert.All(ids, id => Assert.DoesNotContain(Probe.EventsOf(id, "b"), e => e.What == "token fired"));
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "c")));
        foreach (var id in ids)
        {
            var history = await cluster.Client.GetHistoryAsync(id);
            // b's completion was saved by the old activation; the new one took over (Recovered) and ran only c.
            Assert.Single(history, e => e.Kind == RunEventKind.TaskCompleted && e.TaskId == "b");
            var completedB = history.Single(e => e.Kind == RunEventKind.TaskCompleted && e.TaskId == "b").Sequence;
            Assert.Contains(history, e => e.Kind == RunEventKind.Recovered && e.Sequence > completedB);
        }
    }

    [Fact]
    public async Task Run_SiloStoppedGracefullyWhileTaskRuns_TaskFinishesThereAndIsNotRerun()
    {
        using var handoffs = new HandoffCounter(TestFlows.HandoffHeld.Name);
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("graceful-stop");
        await cluster.Client.StartAsync(TestFlows.HandoffHeld, "", id);
        await Probe.WaitStartedAsync(id, "b", LongDeadline);
        var host = Probe.EventsOf(id, "b").Single().What;

        // A shutdown is not a crash: the run waits for b (within the hand-off window), saves it, then lets go.
        var stopping = cluster.Cluster.StopSiloAsync(cluster.SiloAt(host));
        await handoffs.UntilAsync(n => n > 0, LongDeadline, "the stopping silo to start handing the run over");
        Probe.Open(id, "b");
        await Wait.ForAsync(stopping, LongDeadline, "the silo to stop");

        var output = await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), LongDeadline, "the run to finish on the other silo");
        Assert.Equal("ABC", output);
        Assert.Equal(1, Probe.Executions(id, "b"));
        Assert.DoesNotContain(Probe.EventsOf(id, "b"), e => e.What == "token fired");
        Assert.Equal(1, Probe.Executions(id, "c"));
    }

    [Fact]
    public async Task IdempotencyKey_TaskReExecutedAfterItsSiloDied_SameKeyAsTheLostExecution()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("key-kill");
        await cluster.Client.StartAsync(GuaranteeFlows.KeyedStuckOnce, 0, id);
        await Probe.WaitStartedAsync(id, "stuck_keyed", LongDeadline);
        var lost = KeyLog.Of(id, "stuck_keyed").Single();

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(lost.Silo));

        var output = await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), LongDeadline, "the run to finish after the kill");
        var seen = KeyLog.Of(id, "stuck_keyed");
        Assert.Equal(2, seen.Count);
        Assert.NotEqual(seen[0].Silo, seen[1].Silo);
        // The same logical step: a payment API given this key would not charge twice.
        Assert.Equal(seen[0].Key, seen[1].Key);
        Assert.Equal(seen[0].Key, output);
    }

    [Fact]
    public async Task Run_FullClusterRestart_CompletesWithoutRerunningCheckpointedTasks()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_restart");
        var settings = new ClusterSettings { ConnectionString = database.ConnectionString, Silos = 1 };
        var id = NewId("restart");
        await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            await before.Client.StartAsync(TestFlows.Held, "", id);
            await Probe.WaitStartedAsync(id, "b", LongDeadline);
        }

        // Every silo is gone; a new cluster on the same database and service id must pick the run up unasked.
        Probe.Open(id, "b");
        await using var after = await SayiirCluster.StartAsync(Backend.Postgres, settings);
        // No client call touches the run until it has finished: its recovery reminder alone must bring it back.
        await Probe.UntilAsync(() => Probe.Executions(id, "c") == 1, LongDeadline, "the recovery reminder to resume the run and run c");
        var output = await Wait.ForAsync(after.Client.WaitForResultAsync<string>(id), LongDeadline, "the run to finish after the restart");

        Assert.Equal("ABC", output);
        Assert.Equal(1, Probe.Executions(id, "a"));
        Assert.Equal(2, Probe.Executions(id, "b"));
        Assert.Equal(1, Probe.Executions(id, "c"));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task RunAsync_TaskLongerThanResponseTimeout_Completes(Backend backend)
    {
        // Real time: the task must outlive Orleans' response timeout, which runs on Orleans' clock, not the engine's.
        await using var cluster = await SayiirCluster.StartAsync(backend, new ClusterSettings { Silos = 1, ResponseTimeout = TimeSpan.FromSeconds(2) });

        var output = await Wait.ForAsync(cluster.Client.RunAsync(TestFlows.Sleeper, 5000, NewId("long")), LongDeadline, "a 5 s task under a 2 s response timeout");

        Assert.Equal("slept 5000 ms", output);
    }

    [Fact]
    public async Task Fork_SiloKilledMidFork_RerunsOnlyUnfinishedBranchTasks()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("fork-kill");
        await cluster.Client.StartAsync(FlowLanguageFlows.ForkHeld, 10, id);
        await Probe.WaitStartedAsync(id, "held_task", LongDeadline);
        await Probe.ExecutedAsync(id, "fast_task", 1, LongDeadline);
        // The fast branch's output is checkpointed before the held branch's next step; force that write by waiting
        // for the recorded output.
        await Wait.UntilAsync(async () => { try { return await cluster.Client.GetTaskResultAsync<int>(id, "fast_task") == 11; } catch (TaskResultNotFoundException) { return false; } },
            LongDeadline, "the fast branch's output");
        var silo = Probe.EventsOf(id, "held_task").Single().What;
        Probe.Open(id, "held_task");
        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(silo));

        Assert.Equal(23, await Wait.ForAsync(cluster.Client.WaitForResultAsync<int>(id), LongDeadline, "the fork to finish after the kill"));
        Assert.InRange(Probe.Executions(id, "held_task"), 1, 2);
        Assert.InRange(Probe.Executions(id, "fast_task"), 1, 2);
    }

    [Fact]
    public async Task Loop_SiloKilledMidLoop_ResumesSameIterationWithSameInput()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("loop-kill");
        await cluster.Client.StartAsync(FlowLanguageFlows.LoopHeld, 1, id);
        await Probe.WaitStartedAsync(id, "step", LongDeadline);
        var silo = Probe.EventsOf(id, "step").Single(e => e.What.StartsWith("3@", StringComparison.Ordinal)).What[2..];
        Probe.Open(id, "step");
        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(silo));

        Assert.Equal(5, await Wait.ForAsync(cluster.Client.WaitForResultAsync<int>(id), LongDeadline, "the loop to finish after the kill"));
        var inputs = Probe.EventsOf(id, "step").Select(e => int.Parse(e.What.Split('@')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        // Iterations 1 and 2 ran once; iteration 3 may run twice (crash before its checkpoint) with the same input 3.
        Assert.Equal(1, inputs.Count(i => i == 1));
        Assert.Equal(1, inputs.Count(i => i == 2));
        Assert.InRange(inputs.Count(i => i == 3), 1, 2);
        Assert.Equal(1, inputs.Count(i => i == 4));
        Assert.Equal(1, inputs.Count(i => i == 5));
    }

    [Fact]
    public async Task Delay_FullClusterRestartDuringDelay_WakesAtTheStoredInstant()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_delay");
        // One virtual engine clock across both clusters: the delay ends only when the test moves it.
        var time = new FakeTimeProvider(Epoch);
        var settings = new ClusterSettings { ConnectionString = database.ConnectionString, Silos = 1, EngineClock = time };
        var id = NewId("delay-restart");
        DateTimeOffset wakeAt;
        await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            await before.Client.StartAsync(FlowLanguageFlows.LongDelayed, 1, id);
            await Wait.UntilAsync(async () => (await before.Client.GetStatusAsync(id)).State == WorkflowState.Waiting, LongDeadline, "the run to park on its delay");
            wakeAt = (await before.Client.GetStatusAsync(id)).WakeAt!.Value;
            Assert.Equal(Epoch + FlowLanguageFlows.LongDelay, wakeAt);
        }

        // The outage lasts 3 of the delay's 5 virtual seconds: a wait restarted on recovery would end 3 s late.
        time.Advance(TimeSpan.FromSeconds(3));
        await using var after = await SayiirCluster.StartAsync(Backend.Postgres, settings);
        var result = after.Client.WaitForResultAsync<int>(id);
        // The new activation takes the run over (Running) before it parks again: no harness here to settle it.
        WorkflowStatus? recovered = null;
        await Wait.UntilAsync(async () => (recovered = await after.Client.GetStatusAsync(id)).State == WorkflowState.Waiting, LongDeadline, "the recovered run to park on its delay again");
        Assert.Equal(wakeAt, recovered!.WakeAt);
        time.Advance(wakeAt - time.GetUtcNow() - TimeSpan.FromMilliseconds(1));
        Assert.Equal(WorkflowState.Waiting, (await after.Client.GetStatusAsync(id)).State);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, await Wait.ForAsync(result, LongDeadline, "the delayed run after the restart"));

        var woke = (await after.Client.GetHistoryAsync(id)).Single(e => e.Kind == RunEventKind.TaskStarted && e.TaskId == "end").At;
        Assert.Equal(wakeAt, woke);
    }

    [Fact]
    public async Task SignalTimeout_FullClusterRestartWhileAwaiting_TimesOutAtTheStoredInstant()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_signal_restart");
        var time = new FakeTimeProvider(Epoch);
        var settings = new ClusterSettings { ConnectionString = database.ConnectionString, Silos = 1, EngineClock = time };
        var id = NewId("signal-restart");
        DateTimeOffset timeoutAt;
        await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            await before.Client.StartAsync(FlowLanguageFlows.SignalDefaultLong, 1, id);
            await Wait.UntilAsync(async () => (await before.Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, LongDeadline, "the run to park on its signal");
            timeoutAt = (await before.Client.GetStatusAsync(id)).SignalTimeoutAt!.Value;
            Assert.Equal(Epoch + FlowLanguageFlows.LongDelay, timeoutAt);
        }

        // 3 virtual seconds pass while no silo runs: a timeout restarted on recovery would fire 3 s late.
        time.Advance(TimeSpan.FromSeconds(3));
        await using var after = await SayiirCluster.StartAsync(Backend.Postgres, settings);
        var result = after.Client.WaitForResultAsync<int>(id);
        // The new activation takes the run over (Running) before it parks again: no harness here to settle it.
        WorkflowStatus? recovered = null;
        await Wait.UntilAsync(async () => (recovered = await after.Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, LongDeadline, "the recovered run to await its signal again");
        Assert.Equal(timeoutAt, recovered!.SignalTimeoutAt);
        time.Advance(timeoutAt - time.GetUtcNow() - TimeSpan.FromMilliseconds(1));
        Assert.Equal(WorkflowState.AwaitingSignal, (await after.Client.GetStatusAsync(id)).State);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(70, await Wait.ForAsync(result, LongDeadline, "the run to time out after the restart"));

        var resumed = (await after.Client.GetHistoryAsync(id)).Single(e => e.Kind == RunEventKind.TaskStarted && e.TaskId == "after").At;
        Assert.Equal(timeoutAt, resumed);
    }

    [Fact]
    public async Task ResumeAsync_DefinitionChangedSinceStart_ThrowsMismatchNamingBothHashesAndLeavesRunUntouched()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_hash");
        var id = NewId("hash");
        var v1Settings = new ClusterSettings { ConnectionString = database.ConnectionString, Silos = 1 };
        string storedHash;
        await using (var v1 = await SayiirCluster.StartAsync(Backend.Postgres, v1Settings))
        {
            Probe.Set(id, "fail_b");
            await Assert.ThrowsAsync<WorkflowFailedException>(() => v1.Client.RunAsync(TestFlows.Abc, ">", id));
            storedHash = (await v1.Client.GetStatusAsync(id)).DefinitionHash!;
        }

        var changed = Flow.Create<string>(TestFlows.Abc.Name)
            .Then("a", (string s) => s)
            .Then("b", (string s) => s, o => o.Retry = RetryPolicy.Fixed(5, TimeSpan.FromSeconds(1)))
            .Then("c", (string s) => s)
            .Build();
        await using var v2 = await SayiirCluster.StartAsync(Backend.Postgres,
            v1Settings with { Workflows = [changed] });

        var ex = await Assert.ThrowsAsync<DefinitionMismatchException>(() => v2.Client.ResumeAsync(id));

        Assert.Equal(storedHash, ex.StoredHash);
        Assert.Equal(changed.Hash, ex.CurrentHash);
        Assert.Contains(storedHash, ex.Message);
        Assert.Contains(changed.Hash, ex.Message);
        var status = await v2.Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Failed, status.State);
        Assert.Equal(storedHash, status.DefinitionHash);
        Assert.Equal("b", status.Failure!.TaskId);
    }

    [Fact]
    public async Task WaitForResult_ActiveRunWhoseDefinitionChangedAcrossRestart_ThrowsMismatchAndLeavesRunUntouched()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_hash_active");
        var id = NewId("hash-active");
        var v1Settings = new ClusterSettings { ConnectionString = database.ConnectionString, Silos = 1 };
        await using (var v1 = await SayiirCluster.StartAsync(Backend.Postgres, v1Settings))
        {
            await v1.Client.StartAsync(TestFlows.Held, "", id);
            await Probe.WaitStartedAsync(id, "b", LongDeadline);
        }
        Probe.Open(id, "b");

        var changed = Flow.Create<string>(TestFlows.Held.Name)
            .Then("a", (string s) => s)
            .Then("b", (string s) => s + "B2")
            .Build();
        await using var v2 = await SayiirCluster.StartAsync(Backend.Postgres, v1Settings with { Workflows = [changed] });

        var ex = await Assert.ThrowsAsync<DefinitionMismatchException>(() => Wait.ForAsync(v2.Client.WaitForResultAsync<string>(id), LongDeadline, "the blocked run"));

        Assert.Equal(TestFlows.Held.Hash, ex.StoredHash);
        Assert.Equal(changed.Hash, ex.CurrentHash);
        var status = await v2.Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Running, status.State);
        Assert.Equal(TestFlows.Held.Hash, status.DefinitionHash);
        Assert.Equal(0, Probe.Executions(id, "c"));
    }

    [Fact]
    public async Task Run_WithoutRecoveryReminderWhenItsSiloDies_WatcherFindsItInStorage()
    {
        // A start whose reminder registration is still going on in the background (a silo's reminder service can take
        // tens of seconds to come up) must not be stranded by a crash: the watcher also wakes the runs listed as active.
        // The reminder is registered at start here (delay zero), then removed, as if its registration had not landed; a
        // run younger than the default delay has none to begin with (Run_SiloKilledWhileRemindersAreSlow covers that).
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings
        {
            RecoveryReminderPeriod = TimeSpan.FromMinutes(1),
            Sayiir = s => s.Configure(o => o.RecoveryReminderDelay = TimeSpan.Zero),
        });
        var id = NewId("no-reminder");
        await cluster.Client.StartAsync(TestFlows.StuckOnce, "", id);
        await Probe.WaitStartedAsync(id, "b", LongDeadline);
        Assert.Equal(1, await StoredRuns.DeleteReminderAsync(cluster.ConnectionString!, id));
        var silo = Probe.EventsOf(id, "b").Single().What;

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(silo));

        await Probe.UntilAsync(() => Probe.Executions(id, "c") == 1, TimeSpan.FromSeconds(20), "the watcher to resume the run that has no reminder");
        Assert.Equal("ABC", await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), LongDeadline, "the run's result"));
    }

    [Fact]
    public async Task Run_SiloKilledWhileRemindersAreSlow_MembershipWatcherWakesItWithinSeconds()
    {
        // A one-minute reminder period: only the membership watcher can bring the run back this fast.
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { RecoveryReminderPeriod = TimeSpan.FromMinutes(1) });
        var id = NewId("watcher");
        await cluster.Client.StartAsync(TestFlows.StuckOnce, "", id);
        await Probe.WaitStartedAsync(id, "b", LongDeadline);
        var silo = Probe.EventsOf(id, "b").Single().What;
        var killedAt = DateTimeOffset.UtcNow;

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(silo));

        // No client call touches the run meanwhile (a call would activate it too): only task c's execution shows progress.
        // Task c counts its execution before it records its silo: wait for the record, which comes last.
        await Probe.UntilAsync(() => Probe.EventsOf(id, "c").Count == 1, TimeSpan.FromSeconds(20), "the watcher to resume the run (task c to run)");
        var elapsed = DateTimeOffset.UtcNow - killedAt;
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"resumed {elapsed} after the kill");
        Assert.NotEqual(silo, Probe.EventsOf(id, "c").Single().What);
        Assert.Equal("ABC", await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), LongDeadline, "the run's result"));
    }
}
