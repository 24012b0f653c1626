using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Sayiir.Hosting;
using Sayiir.Runtime.Schedules;
using Sayiir.Tests.Infrastructure;
using Xunit.Abstractions;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Schedules;

/// <summary>
/// Schedules across restarts and silo deaths on PostgreSQL (the in-memory default does not survive a restart): each test
/// owns its cluster and database.
/// </summary>
public sealed class ScheduleClusterTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // One service id per test: a restarted cluster reads the rows its predecessor wrote (rows are keyed by service id).
    private static ClusterSettings Settings(string connectionString, TimeProvider? clock, Action<SayiirSiloBuilder>? sayiir = null) =>
        new() { Silos = 1, ServiceId = "sayiir-sched-" + connectionString.GetHashCode(StringComparison.Ordinal), ConnectionString = connectionString,
            Workflows = ScheduleFlows.All, EngineClock = clock, Sayiir = sayiir };

    private static async Task WaitCompletedAsync(ISayiirClient client, string runId, string what) =>
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(runId)).State == WorkflowState.Completed, LongDeadline, what);

    [Fact]
    public async Task AddSchedule_RedeployedWithChangedExpression_IsUpdatedNotDuplicated()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("sayiir_sched_redeploy");
        try
        {
            var clock = new FakeTimeProvider(T0);
            var id = NewId("nightly-report");
            DateTimeOffset updatedAt;
            await using (var first = await SayiirCluster.StartAsync(Backend.Postgres,
                Settings(connectionString, clock, s => s.AddSchedule(id, ScheduleSpec.Cron("0 2 * * *"), ScheduleFlows.Quick, "v1"))))
            {
                var declared = Assert.Single(await first.Client.ListSchedulesAsync());
                Assert.Equal("0 2 * * *", declared.Spec.CronExpression);
                clock.Advance(TimeSpan.FromHours(2));
                await WaitCompletedAsync(first.Client, $"{id}@20300101T020000Z", "the 02:00 run");
            }

            // The next deploy declares another expression and input for the same id.
            await using (var second = await SayiirCluster.StartAsync(Backend.Postgres,
                Settings(connectionString, clock, s => s.AddSchedule(id, ScheduleSpec.Cron("0 3 * * *"), ScheduleFlows.Quick, "v2"))))
            {
                var schedule = Assert.Single(await second.Client.ListSchedulesAsync());
                Assert.Equal(id, schedule.ScheduleId);
                Assert.Equal("0 3 * * *", schedule.Spec.CronExpression);
                Assert.Equal(T0, schedule.CreatedAt);
                Assert.Equal(T0.AddHours(2), schedule.LastTickAt);
                Assert.Equal(1, schedule.RunsStarted);
                Assert.Equal(T0.AddHours(3), schedule.NextTickAt);
                updatedAt = schedule.UpdatedAt;
                clock.Advance(TimeSpan.FromHours(1));
                await WaitCompletedAsync(second.Client, $"{id}@20300101T030000Z", "the 03:00 run of the updated schedule");
                Assert.Equal($"v2|{T0.AddHours(3).UtcDateTime:o}", await second.Client.WaitForResultAsync<string>($"{id}@20300101T030000Z"));
            }

            // The same declaration again changes nothing.
            await using (var third = await SayiirCluster.StartAsync(Backend.Postgres,
                Settings(connectionString, clock, s => s.AddSchedule(id, ScheduleSpec.Cron("0 3 * * *"), ScheduleFlows.Quick, "v2"))))
            {
                var schedule = Assert.Single(await third.Client.ListSchedulesAsync());
                Assert.Equal(updatedAt, schedule.UpdatedAt);
                Assert.Equal(2, schedule.RunsStarted);
            }
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Schedule_ClusterDownOverSeveralTicks_ListedAndCaughtUpAfterFullRestart()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("sayiir_sched_restart");
        try
        {
            var clock = new FakeTimeProvider(T0);
            var id = NewId("hourly");
            var spec = ScheduleSpec.Interval(TimeSpan.FromHours(1)) with
            {
                Overlap = ScheduleOverlapPolicy.AllowAll,
                CatchUp = ScheduleCatchUpPolicy.RunAll,
                CatchUpLimit = 3,
            };
            await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, Settings(connectionString, clock)))
            {
                await before.Client.CreateScheduleAsync(id, spec, ScheduleFlows.Quick.Name, "in");
                clock.Advance(TimeSpan.FromHours(1));
                await WaitCompletedAsync(before.Client, $"{id}@20300101T010000Z", "the 01:00 run");
            }

            // The whole cluster is down from 01:00 to 06:30: the ticks of 02:00 to 06:00 pass unseen.
            clock.Advance(TimeSpan.FromHours(5.5));
            await using var after = await SayiirCluster.StartAsync(Backend.Postgres, Settings(connectionString, clock));

            Assert.Equal(id, Assert.Single(await after.Client.ListSchedulesAsync()).ScheduleId);
            // Woken at start-up (not at its first reminder tick): the three most recent missed ticks run, oldest first.
            foreach (var hour in new[] { 4, 5, 6 }) await WaitCompletedAsync(after.Client, $"{id}@20300101T0{hour}0000Z", $"the caught-up {hour:00}:00 run");
            var runs = await ScheduleFlows.RunIdsAsync(after.Client, id, ScheduleFlows.Quick.Name);
            Assert.Equal([$"{id}@20300101T010000Z", $"{id}@20300101T040000Z", $"{id}@20300101T050000Z", $"{id}@20300101T060000Z"], runs);
            var info = await after.Client.GetScheduleAsync(id);
            Assert.Equal(T0.AddHours(6), info.LastTickAt);
            Assert.Equal(T0.AddHours(7), info.NextTickAt);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Tick_WorkflowNoLongerRegistered_IsSkippedAndTheScheduleGoesOn()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("sayiir_sched_removed");
        try
        {
            var clock = new FakeTimeProvider(T0);
            var id = NewId("orphaned");
            await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, Settings(connectionString, clock)))
                await before.Client.CreateScheduleAsync(id, ScheduleSpec.Interval(TimeSpan.FromHours(1)), ScheduleFlows.Quick.Name, "in");

            // Redeployed without the workflow: each tick is refused for good, logged and skipped.
            await using var after = await SayiirCluster.StartAsync(Backend.Postgres, Settings(connectionString, clock) with { Workflows = [ScheduleFlows.Slow] });
            clock.Advance(TimeSpan.FromHours(1));
            await Wait.UntilAsync(async () => (await after.Client.GetScheduleAsync(id)).NextTickAt == T0.AddHours(2), LongDeadline, "the 01:00 tick to be handled");
            clock.Advance(TimeSpan.FromHours(1));
            await Wait.UntilAsync(async () => (await after.Client.GetScheduleAsync(id)).NextTickAt == T0.AddHours(3), LongDeadline, "the 02:00 tick to be handled");

            var info = await after.Client.GetScheduleAsync(id);
            Assert.Equal(0, info.RunsStarted);
            Assert.Null(info.LastRunId);
            Assert.Equal(WorkflowState.NotFound, (await after.Client.GetStatusAsync($"{id}@20300101T010000Z")).State);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task OneSecondInterval_SiloHostingScheduleKilledMidway_OneRunPerTickNoneMissingNoneDoubled()
    {
        // Real time on three PostgreSQL silos.
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { Silos = 3, Workflows = ScheduleFlows.All });
        var client = cluster.Client;
        var id = NewId("every-second");
        var spec = ScheduleSpec.Interval(TimeSpan.FromSeconds(1)) with
        {
            // Runs of a killed silo stay active until recovered: later ticks must not wait for them.
            Overlap = ScheduleOverlapPolicy.AllowAll,
            // Ticks due while the schedule moves to a survivor start late rather than never.
            CatchUp = ScheduleCatchUpPolicy.RunAll,
            CatchUpLimit = 100,
        };
        var wall = Stopwatch.StartNew();
        var created = await client.CreateScheduleAsync(id, spec, ScheduleFlows.Quick.Name, "tick");
        var first = created.NextTickAt!.Value;
        await Wait.UntilAsync(async () => (await client.GetScheduleAsync(id)).LastTickAt >= first.AddSeconds(4), Deadline, "the first five ticks");

        var grains = cluster.Cluster.Client;
        var host = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain<IScheduleGrain>(id));
        var victim = cluster.Cluster.Silos.Single(s => s.SiloAddress.Equals(host));
        var killedAt = DateTimeOffset.UtcNow;
        await cluster.Cluster.KillSiloAsync(victim);
        output.WriteLine($"killed {victim.SiloAddress} (hosting the schedule) at {(killedAt - first).TotalSeconds:0.0} s after the first tick");

        await Wait.UntilAsync(async () => (await client.GetScheduleAsync(id)).LastTickAt >= first.AddSeconds(10), LongDeadline, "ticks to go on past 10 s on the survivors");
        var paused = await client.PauseScheduleAsync(id, "end of test");
        var last = paused.LastTickAt!.Value;
        var expected = Enumerable.Range(0, (int)(last - first).TotalSeconds + 1).Select(i => ScheduleTimes.RunId(id, first.AddSeconds(i))).ToList();
        await Wait.UntilAsync(async () =>
        {
            foreach (var run in expected)
                if ((await client.GetStatusAsync(run)).State != WorkflowState.Completed) return false;
            return true;
        }, LongDeadline, $"the {expected.Count} runs of ticks {first:HH:mm:ss} to {last:HH:mm:ss} to complete");

        // One run per tick: none missing, none extra (the listing counts runs by instance id).
        var runs = await ScheduleFlows.RunIdsAsync(client, id, ScheduleFlows.Quick.Name);
        Assert.Equal(expected.Order(StringComparer.Ordinal), runs);
        // None doubled: each run's task executed once, or twice only when the first execution was on the killed silo.
        var victimAddress = victim.SiloAddress.ToString();
        var reExecuted = 0;
        foreach (var run in runs)
        {
            var executions = ScheduleFlows.Executions(run);
            if (executions.Count == 1) continue;
            Assert.True(executions.Count == 2 && executions[0] == victimAddress, $"run {run} executed {executions.Count} times on {string.Join(", ", executions)}");
            reExecuted++;
        }
        var gaps = runs.Select(r => client.GetStatusAsync(r)).ToList();
        var created2 = (await Task.WhenAll(gaps)).Select(s => s.CreatedAt!.Value).Order().ToList();
        var longestGap = created2.Zip(created2.Skip(1), (a, b) => b - a).Max();
        output.WriteLine($"{runs.Count} ticks, {runs.Count} runs, {reExecuted} re-executed after the kill, longest gap between run starts {longestGap.TotalSeconds:0.0} s, {wall.Elapsed.TotalSeconds:0.0} s in all");
    }
}
