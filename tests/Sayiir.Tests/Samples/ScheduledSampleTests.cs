using Sayiir.Samples.Scheduled;
using Sayiir.Testing;
using Sayiir.Tests.Infrastructure;
using Sayiir.Tests.Schedules;

namespace Sayiir.Tests.Samples;

/// <summary>The Scheduled sample's workflow and code-declared schedule, on the virtual clock (both backends).</summary>
public sealed class ScheduledSampleTests
{
    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Scheduled_SixVirtualSeconds_ThreeReportsOneForEachTick(Backend backend)
    {
        await using var env = await ScheduleEnvironment.StartAsync(backend, o =>
            o.AddSchedule(HeartbeatReport.ScheduleId, HeartbeatReport.Schedule, HeartbeatReport.Definition, HeartbeatReport.Input));
        var start = SayiirTestEnvironmentOptions.DefaultStartTime;

        await env.Env.AdvanceTimeAsync(TimeSpan.FromSeconds(6));

        string[] ticks = ["20000101T000002Z", "20000101T000004Z", "20000101T000006Z"];
        Assert.Equal(ticks.Select(t => $"{HeartbeatReport.ScheduleId}@{t}"),
            await ScheduleFlows.RunIdsAsync(env.Client, HeartbeatReport.ScheduleId, HeartbeatReport.Definition.Name));
        var last = await env.Client.WaitForResultAsync<string>($"{HeartbeatReport.ScheduleId}@20000101T000006Z");
        Assert.StartsWith($"checkout at {start.AddSeconds(6).UtcDateTime:o}: p95 ", last, StringComparison.Ordinal);
        var schedule = await env.Client.GetScheduleAsync(HeartbeatReport.ScheduleId);
        Assert.True(schedule.DeclaredInCode);
        Assert.Equal(3, schedule.RunsStarted);
        Assert.Equal(start.AddSeconds(8), schedule.NextTickAt);
    }

    [Fact]
    public void Nightly_IsTwoInTheMorningInParis()
    {
        Assert.Equal("0 2 * * *", HeartbeatReport.Nightly.CronExpression);
        Assert.Equal("cron '0 2 * * *' in Europe/Paris", HeartbeatReport.Nightly.Describe());
    }
}
