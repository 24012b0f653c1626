namespace Sayiir.Samples.Scheduled;

/// <summary>What each scheduled run reports on.</summary>
public sealed record ReportRequest(string Service);

/// <summary>
/// The scheduled workflow: a two-step report, started by a durable schedule every few seconds. Declared here so the
/// tests run the same definition and schedule.
/// </summary>
public static class HeartbeatReport
{
    /// <summary>The schedule's id; its runs are <c>heartbeat-report@{tick}</c>.</summary>
    public const string ScheduleId = "heartbeat-report";

    /// <summary>Every 2 seconds; a tick that finds the previous run still active is skipped (the default).</summary>
    public static ScheduleSpec Schedule { get; } = ScheduleSpec.Interval(TimeSpan.FromSeconds(2));

    /// <summary>The same report at 02:00 every night in Paris, as a production deployment would schedule it.</summary>
    public static ScheduleSpec Nightly { get; } = ScheduleSpec.Cron("0 2 * * *", TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));

    /// <summary>The input of every run.</summary>
    public static ReportRequest Input { get; } = new("checkout");

    /// <summary>Measures, then summarises; the tick the run is for is in its metadata.</summary>
    public static WorkflowDefinition<ReportRequest, string> Definition { get; } = Flow.Create<ReportRequest>("heartbeat_report")
        .Then("measure", (ReportRequest request, TaskContext ctx) =>
            Task.FromResult(new Measurement(request.Service, ctx.Metadata.GetValueOrDefault("sayiir.tick", "triggered"), 40 + ctx.InstanceId.Length % 20)))
        .Then("summarise", (Measurement m) => $"{m.Service} at {m.Tick}: p95 {m.LatencyMs} ms")
        .Build();

    /// <summary>One measurement.</summary>
    public sealed record Measurement(string Service, string Tick, int LatencyMs);
}
