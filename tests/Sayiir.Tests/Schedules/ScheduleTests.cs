using Sayiir.Hosting;
using Sayiir.Testing;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Schedules;

/// <summary>
/// Schedules on the virtual clock (both backends): ticks, overlap and catch-up policies, management through the client,
/// fire times, and validation. Each test has an environment of its own, since schedules tick as long as it lives.
/// </summary>
public sealed class ScheduleTests
{
    private static readonly DateTimeOffset T0 = SayiirTestEnvironmentOptions.DefaultStartTime;

    private static string RunId(string scheduleId, int hour, int minute = 0) => $"{scheduleId}@20000101T{hour:00}{minute:00}00Z";

    private static ScheduleSpec Hourly => ScheduleSpec.Interval(TimeSpan.FromHours(1));

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Interval_AdvanceThreeHours_StartsOneRunPerTickWithTheTickInItsId(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var id = NewId("hourly");
        var created = await env.Client.CreateScheduleAsync(id, Hourly, ScheduleFlows.Quick.Name, "in");
        Assert.Equal(T0.AddHours(1), created.NextTickAt);

        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(3));

        string[] expected = [RunId(id, 1), RunId(id, 2), RunId(id, 3)];
        Assert.Equal(expected, await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Quick.Name));
        foreach (var (run, hour) in expected.Select((r, i) => (r, i + 1)))
        {
            Assert.Single(ScheduleFlows.Executions(run));
            Assert.Equal(id, ScheduleFlows.ScheduleOf(run));
            Assert.Equal($"in|{T0.AddHours(hour).UtcDateTime:o}", await env.Client.WaitForResultAsync<string>(run));
            Assert.Equal(T0.AddHours(hour), (await env.Client.GetStatusAsync(run)).CreatedAt);
        }
        var info = await env.Client.GetScheduleAsync(id);
        Assert.Equal(T0.AddHours(3), info.LastTickAt);
        Assert.Equal(RunId(id, 3), info.LastRunId);
        Assert.Equal(T0.AddHours(4), info.NextTickAt);
        Assert.Equal(3, info.RunsStarted);
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Tick_RunWithTheTicksIdAlreadyStarted_JoinsItInsteadOfStartingAnother(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var id = NewId("collapse");
        await env.Client.CreateScheduleAsync(id, Hourly, ScheduleFlows.Quick.Name, "scheduled");
        // As a start of the same tick by an earlier activation that crashed before recording it would have left it.
        await env.Client.RunAsync(ScheduleFlows.Quick, "earlier", RunId(id, 1));

        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(1));

        Assert.Equal([RunId(id, 1)], await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Quick.Name));
        Assert.Single(ScheduleFlows.Executions(RunId(id, 1)));
        Assert.Equal("earlier|manual", await env.Client.WaitForResultAsync<string>(RunId(id, 1)));
        var info = await env.Client.GetScheduleAsync(id);
        Assert.Equal(RunId(id, 1), info.LastRunId);
        Assert.Equal(T0.AddHours(1), info.LastTickAt);
    }

    [Theory]
    [InlineData(Backend.Memory, ScheduleOverlapPolicy.Skip)]
    [InlineData(Backend.Postgres, ScheduleOverlapPolicy.Skip)]
    [InlineData(Backend.Memory, ScheduleOverlapPolicy.AllowAll)]
    [InlineData(Backend.Postgres, ScheduleOverlapPolicy.AllowAll)]
    [InlineData(Backend.Memory, ScheduleOverlapPolicy.CancelPrevious)]
    [InlineData(Backend.Postgres, ScheduleOverlapPolicy.CancelPrevious)]
    public async Task Overlap_RunsLastNinetyMinutesOnHourlyTicks_FollowsThePolicy(Backend backend, ScheduleOverlapPolicy policy)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var id = NewId($"overlap-{policy}");
        await env.Client.CreateScheduleAsync(id, Hourly with { Overlap = policy }, ScheduleFlows.Slow.Name, "in");

        // Runs take 90 minutes: each tick after the first finds the previous run still active.
        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(4));

        var runs = await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Slow.Name);
        var states = new Dictionary<string, WorkflowState>();
        foreach (var run in runs) states[run] = (await env.Client.GetStatusAsync(run)).State;
        switch (policy)
        {
            case ScheduleOverlapPolicy.Skip:
                // 01:00 runs until 02:30, so 02:00 is skipped; 03:00 runs until 04:30, so 04:00 is skipped.
                Assert.Equal([RunId(id, 1), RunId(id, 3)], runs);
                Assert.Equal(WorkflowState.Completed, states[RunId(id, 1)]);
                Assert.Equal(WorkflowState.Waiting, states[RunId(id, 3)]);
                break;
            case ScheduleOverlapPolicy.AllowAll:
                Assert.Equal([RunId(id, 1), RunId(id, 2), RunId(id, 3), RunId(id, 4)], runs);
                Assert.Equal(WorkflowState.Completed, states[RunId(id, 2)]);
                Assert.Equal(WorkflowState.Waiting, states[RunId(id, 4)]);
                break;
            case ScheduleOverlapPolicy.CancelPrevious:
                Assert.Equal([RunId(id, 1), RunId(id, 2), RunId(id, 3), RunId(id, 4)], runs);
                Assert.All(runs.Take(3), run => Assert.Equal(WorkflowState.Cancelled, states[run]));
                Assert.Equal(WorkflowState.Waiting, states[RunId(id, 4)]);
                Assert.Equal($"schedule {id}", (await env.Client.GetStatusAsync(RunId(id, 3))).Cancellation!.By);
                break;
        }
        foreach (var run in runs) Assert.Single(ScheduleFlows.Executions(run));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Overlap_BufferOne_StartsTheBufferedTickWhenThePreviousRunEnds(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var id = NewId("overlap-buffer");
        await env.Client.CreateScheduleAsync(id, Hourly with { Overlap = ScheduleOverlapPolicy.BufferOne }, ScheduleFlows.Slow.Name, "in");

        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(3.5));

        // 01:00 runs until 02:30; the 02:00 tick waits for it and starts then (the run keeps its tick's id). At 03:00 that
        // run is still active, so 03:00 is buffered behind it.
        Assert.Equal([RunId(id, 1), RunId(id, 2)], await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Slow.Name));
        Assert.Equal(WorkflowState.Completed, (await env.Client.GetStatusAsync(RunId(id, 1))).State);
        var second = await env.Client.GetStatusAsync(RunId(id, 2));
        Assert.Equal(WorkflowState.Waiting, second.State);
        Assert.Equal(T0.AddHours(2.5), second.CreatedAt);
        var info = await env.Client.GetScheduleAsync(id);
        Assert.Equal(T0.AddHours(3), info.BufferedTickAt);
        Assert.Equal(RunId(id, 2), info.LastRunId);

        // At 04:00 the 02:00 run ends and the buffered 03:00 tick starts; the 04:00 tick finds it active and is buffered.
        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(0.75));
        Assert.Equal(string.Join(",", [RunId(id, 1), RunId(id, 2), RunId(id, 3)]), string.Join(",", await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Slow.Name)));
        Assert.Single(ScheduleFlows.Executions(RunId(id, 3)));
    }

    [Theory]
    [InlineData(Backend.Memory, ScheduleCatchUpPolicy.Skip)]
    [InlineData(Backend.Postgres, ScheduleCatchUpPolicy.Skip)]
    [InlineData(Backend.Memory, ScheduleCatchUpPolicy.RunOnce)]
    [InlineData(Backend.Postgres, ScheduleCatchUpPolicy.RunOnce)]
    [InlineData(Backend.Memory, ScheduleCatchUpPolicy.RunAll)]
    [InlineData(Backend.Postgres, ScheduleCatchUpPolicy.RunAll)]
    public async Task CatchUp_FiveTicksMissed_FollowsThePolicy(Backend backend, ScheduleCatchUpPolicy policy)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var id = NewId($"catchup-{policy}");
        // AllowAll: catch-up runs start one after another, each while the previous may still run.
        await env.Client.CreateScheduleAsync(id, Hourly with { CatchUp = policy, CatchUpLimit = 3, Overlap = ScheduleOverlapPolicy.AllowAll },
            ScheduleFlows.Quick.Name, "in");

        // The clock jumps past five ticks at once, as it does for a cluster that was down: by 05:30 every tick is late.
        env.Env.Time.Advance(TimeSpan.FromHours(5.5));
        await env.Env.AdvanceTimeAsync(TimeSpan.Zero);
        await Wait.UntilAsync(async () => (await env.Client.GetScheduleAsync(id)).NextTickAt == T0.AddHours(6), Deadline, "the schedule to handle its missed ticks");
        await env.Env.AdvanceTimeAsync(TimeSpan.Zero);

        var runs = await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Quick.Name);
        switch (policy)
        {
            case ScheduleCatchUpPolicy.Skip:
                Assert.Empty(runs);
                break;
            case ScheduleCatchUpPolicy.RunOnce:
                Assert.Equal([RunId(id, 5)], runs);
                break;
            case ScheduleCatchUpPolicy.RunAll:
                // The bound: the three most recent missed ticks.
                Assert.Equal([RunId(id, 3), RunId(id, 4), RunId(id, 5)], runs);
                break;
        }
        foreach (var run in runs) Assert.Equal(WorkflowState.Completed, (await env.Client.GetStatusAsync(run)).State);

        // Back on time: the next tick runs whatever the policy.
        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(0.5));
        Assert.Contains(RunId(id, 6), await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Quick.Name));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Jitter_DelaysTheStartButKeepsTheTicksId(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var id = NewId("jitter");
        var info = await env.Client.CreateScheduleAsync(id, Hourly with { Jitter = TimeSpan.FromMinutes(30) }, ScheduleFlows.Quick.Name, "in");
        var delay = info.NextStartAt!.Value - info.NextTickAt!.Value;
        Assert.InRange(delay, TimeSpan.Zero, TimeSpan.FromMinutes(30));

        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(1) + delay);

        var run = await env.Client.GetStatusAsync(RunId(id, 1));
        Assert.Equal(WorkflowState.Completed, run.State);
        Assert.Equal(T0.AddHours(1) + delay, run.CreatedAt);
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task ClientOperations_CreateUpdatePauseResumeTriggerListDelete_Work(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var client = env.Client;
        var id = NewId("managed");
        var created = await client.CreateScheduleAsync(id, Hourly, ScheduleFlows.Quick.Name, "in");
        Assert.Equal(ScheduleState.Active, created.State);
        Assert.Equal(ScheduleFlows.Quick.Name, created.WorkflowName);
        Assert.False(created.DeclaredInCode);
        Assert.Equal(T0, created.CreatedAt);
        Assert.Contains(await client.ListSchedulesAsync(), s => s.ScheduleId == id);
        await Assert.ThrowsAsync<ScheduleAlreadyExistsException>(() => client.CreateScheduleAsync(id, Hourly, ScheduleFlows.Quick.Name, "again"));

        var updated = await client.UpdateScheduleAsync(id, ScheduleSpec.Interval(TimeSpan.FromMinutes(30)));
        Assert.Equal(TimeSpan.FromMinutes(30), updated.Spec.Every);
        Assert.Equal(T0.AddMinutes(30), updated.NextTickAt);
        Assert.Equal([T0.AddMinutes(30), T0.AddMinutes(60), T0.AddMinutes(90)], await client.GetScheduleFireTimesAsync(id, 3));
        await env.Env.AdvanceTimeAsync(TimeSpan.FromMinutes(30));
        Assert.Equal([$"{id}@20000101T003000Z"], await ScheduleFlows.RunIdsAsync(client, id, ScheduleFlows.Quick.Name));

        // Updated mid-interval to a spec whose earlier instants (00:40, 00:50) passed since the last tick: none is due.
        await env.Env.AdvanceTimeAsync(TimeSpan.FromMinutes(25));
        var tenMinutes = await client.UpdateScheduleAsync(id, ScheduleSpec.Interval(TimeSpan.FromMinutes(10)) with { CatchUp = ScheduleCatchUpPolicy.RunAll });
        Assert.Equal(T0.AddMinutes(60), tenMinutes.NextTickAt);
        await env.Env.AdvanceTimeAsync(TimeSpan.Zero);
        Assert.Single(await ScheduleFlows.RunIdsAsync(client, id, ScheduleFlows.Quick.Name));
        await client.UpdateScheduleAsync(id, ScheduleSpec.Interval(TimeSpan.FromMinutes(30)));

        var paused = await client.PauseScheduleAsync(id, "maintenance");
        Assert.Equal(ScheduleState.Paused, paused.State);
        Assert.Equal("maintenance", paused.PauseReason);
        Assert.Null(paused.NextTickAt);
        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(2));
        Assert.Single(await ScheduleFlows.RunIdsAsync(client, id, ScheduleFlows.Quick.Name));

        // Triggered now, even while paused; it becomes the last run.
        var triggered = await client.TriggerScheduleAsync(id);
        Assert.Equal($"{id}@manual-20000101T025500Z", triggered.InstanceId);
        Assert.Equal("in|manual", await client.WaitForResultAsync<string>(triggered.InstanceId));
        Assert.Equal(triggered.InstanceId, (await client.GetScheduleAsync(id)).LastRunId);

        // Resumed: the ticks passed while paused are not caught up.
        var resumed = await client.ResumeScheduleAsync(id);
        Assert.Equal(ScheduleState.Active, resumed.State);
        Assert.Equal(T0.AddHours(3), resumed.NextTickAt);
        await env.Env.AdvanceTimeAsync(TimeSpan.FromMinutes(30));
        Assert.Equal([$"{id}@20000101T003000Z", $"{id}@20000101T030000Z", triggered.InstanceId],
            await ScheduleFlows.RunIdsAsync(client, id, ScheduleFlows.Quick.Name));
        Assert.Equal(3, (await client.GetScheduleAsync(id)).RunsStarted);

        await client.DeleteScheduleAsync(id);
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => client.GetScheduleAsync(id));
        Assert.DoesNotContain(await client.ListSchedulesAsync(), s => s.ScheduleId == id);
        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(2));
        Assert.Equal(3, (await ScheduleFlows.RunIdsAsync(client, id, ScheduleFlows.Quick.Name)).Count);
        // The runs it started stay.
        Assert.Equal(WorkflowState.Completed, (await client.GetStatusAsync($"{id}@20000101T030000Z")).State);
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task ClientOperations_UnknownSchedule_ThrowScheduleNotFound(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var client = env.Client;
        var id = NewId("missing");
        List<Func<Task>> calls =
        [
            () => client.GetScheduleAsync(id),
            () => client.UpdateScheduleAsync(id, Hourly),
            () => client.PauseScheduleAsync(id),
            () => client.ResumeScheduleAsync(id),
            () => client.DeleteScheduleAsync(id),
            () => client.TriggerScheduleAsync(id),
            () => client.GetScheduleFireTimesAsync(id, 5),
        ];
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ScheduleNotFoundException>(call);
            Assert.Equal(id, error.ScheduleId);
        }
        Assert.DoesNotContain(await client.ListSchedulesAsync(), s => s.ScheduleId == id);
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task CreateScheduleAsync_BadInput_ThrowsTypedErrorAndWritesNothing(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend);
        var client = env.Client;
        var id = NewId("bad");
        (ScheduleSpec Spec, string Named)[] bad =
        [
            (ScheduleSpec.Cron("not a cron"), "'not a cron'"),
            (ScheduleSpec.Cron("61 * * * *"), "'61 * * * *'"),
            (ScheduleSpec.Cron("0 2 * * * * *"), "'0 2 * * * * *'"),
            (ScheduleSpec.Interval(TimeSpan.FromMilliseconds(500)), "shorter than one second"),
            (Hourly with { CatchUpLimit = 0 }, "CatchUpLimit 0"),
            (Hourly with { Jitter = TimeSpan.FromHours(2) }, "Jitter"),
        ];
        foreach (var (spec, named) in bad)
        {
            var error = await Assert.ThrowsAsync<InvalidScheduleException>(() => client.CreateScheduleAsync(id, spec, ScheduleFlows.Quick.Name, "in"));
            Assert.Equal(id, error.ScheduleId);
            Assert.Contains(named, error.Message, StringComparison.Ordinal);
        }
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => client.CreateScheduleAsync(id, Hourly, "no_such_workflow", "in"));
        await Assert.ThrowsAsync<PayloadSerializationException>(() => client.CreateScheduleAsync(id, Hourly, ScheduleFlows.Quick.Name, 42));
        await Assert.ThrowsAsync<InvalidScheduleException>(() => client.CreateScheduleAsync(new string('x', 201), Hourly, ScheduleFlows.Quick.Name, "in"));
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => client.GetScheduleAsync(id));
        Assert.Empty(await client.ListSchedulesAsync());

        await client.CreateScheduleAsync(id, Hourly, ScheduleFlows.Quick.Name, "in");
        var refused = await Assert.ThrowsAsync<InvalidScheduleException>(() => client.UpdateScheduleAsync(id, ScheduleSpec.Cron("0 25 * * *")));
        Assert.Contains("'0 25 * * *'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(Hourly, (await client.GetScheduleAsync(id)).Spec);
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task AutoAdvance_AwaitedRunWaitsNinetyMinutes_HourlyTickOnTheWayRunsOnTime(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend, o => o.AutoAdvance = true);
        var id = NewId("auto");
        await env.Client.CreateScheduleAsync(id, Hourly, ScheduleFlows.Quick.Name, "in");

        await env.Client.RunAsync(ScheduleFlows.Slow, "awaited", NewId("awaited"));

        // The clock stopped at 01:00 for the tick (not skipped past it), then at 01:30 for the awaited run, and no further.
        Assert.Equal(T0.AddMinutes(90), env.Env.Now);
        Assert.Equal([RunId(id, 1)], await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Quick.Name));
        Assert.Equal(T0.AddHours(1), (await env.Client.GetStatusAsync(RunId(id, 1))).CreatedAt);
    }

    [Fact]
    public void AddSchedule_BadCronExpression_ThrowsAtDeclaration()
    {
        var error = Assert.Throws<InvalidScheduleException>(() =>
            new SayiirSiloBuilder().AddSchedule("nightly-report", ScheduleSpec.Cron("0 2 * *"), ScheduleFlows.Quick, "in"));
        Assert.Equal("nightly-report", error.ScheduleId);
        Assert.Contains("'0 2 * *'", error.Message, StringComparison.Ordinal);
        var zone = Assert.Throws<InvalidScheduleException>(() =>
            new SayiirSiloBuilder().AddSchedule("nightly-report", ScheduleSpec.Cron("0 2 * * *", TimeZoneInfo.CreateCustomTimeZone("Nowhere/Land", TimeSpan.Zero, "x", "x")), ScheduleFlows.Quick, "in"));
        Assert.Contains("'Nowhere/Land'", zone.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task GetScheduleFireTimesAsync_CronInBerlinAcrossDaylightSavingChanges_FollowsLocalTime(Backend backend)
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        await using var env = await ScheduleEnvironment.StartAsync(backend, o => o.StartTime = new DateTimeOffset(2027, 3, 26, 12, 0, 0, TimeSpan.Zero));
        var id = NewId("berlin");
        await env.Client.CreateScheduleAsync(id, ScheduleSpec.Cron("30 2 * * *", berlin), ScheduleFlows.Quick.Name, "in");

        var spring = await env.Client.GetScheduleFireTimesAsync(id, 4);
        DateTimeOffset[] expectedSpring =
        [
            new(2027, 3, 27, 1, 30, 0, TimeSpan.Zero),  // 02:30 CET (UTC+1)
            new(2027, 3, 28, 1, 0, 0, TimeSpan.Zero),   // 02:30 does not exist that night: the first instant after the gap, 03:00 CEST
            new(2027, 3, 29, 0, 30, 0, TimeSpan.Zero),  // 02:30 CEST (UTC+2)
            new(2027, 3, 30, 0, 30, 0, TimeSpan.Zero),
        ];
        Assert.Equal(expectedSpring, spring);

        // The autumn change through the virtual clock: 02:30 occurs twice on 31 October and ticks once.
        env.Env.Time.SetUtcNow(new DateTimeOffset(2027, 10, 29, 12, 0, 0, TimeSpan.Zero));
        await env.Client.UpdateScheduleAsync(id, ScheduleSpec.Cron("30 2 * * *", berlin) with { CatchUp = ScheduleCatchUpPolicy.Skip });
        var autumn = await env.Client.GetScheduleFireTimesAsync(id, 3);
        DateTimeOffset[] expectedAutumn =
        [
            new(2027, 10, 30, 0, 30, 0, TimeSpan.Zero), // 02:30 CEST
            new(2027, 10, 31, 0, 30, 0, TimeSpan.Zero), // the first 02:30 (CEST) only
            new(2027, 11, 1, 1, 30, 0, TimeSpan.Zero),  // 02:30 CET
        ];
        Assert.Equal(expectedAutumn, autumn);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => env.Client.GetScheduleFireTimesAsync(id, 0));

        // Six fields: seconds first.
        var seconds = NewId("seconds");
        await env.Client.CreateScheduleAsync(seconds, ScheduleSpec.Cron("*/20 * * * * *"), ScheduleFlows.Quick.Name, "in");
        var now = env.Env.Now;
        Assert.Equal([now.AddSeconds(20), now.AddSeconds(40), now.AddSeconds(60)], await env.Client.GetScheduleFireTimesAsync(seconds, 3));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task AddSchedule_DeclaredOnEverySilo_IsOneScheduleThatTicksOnce(Backend backend)
    {
        var id = NewId("declared");
        await using var env = await ScheduleEnvironment.StartAsync(backend, o =>
        {
            o.Silos = 2;
            o.AddSchedule(id, ScheduleSpec.Cron("0 * * * *"), ScheduleFlows.Quick, "declared");
        });

        var schedule = Assert.Single(await env.Client.ListSchedulesAsync());
        Assert.Equal(id, schedule.ScheduleId);
        Assert.True(schedule.DeclaredInCode);
        Assert.Equal("0 * * * *", schedule.Spec.CronExpression);
        await env.Env.AdvanceTimeAsync(TimeSpan.FromHours(2));
        Assert.Equal([RunId(id, 1), RunId(id, 2)], await ScheduleFlows.RunIdsAsync(env.Client, id, ScheduleFlows.Quick.Name));
        Assert.Equal($"declared|{T0.AddHours(2).UtcDateTime:o}", await env.Client.WaitForResultAsync<string>(RunId(id, 2)));
    }
}
