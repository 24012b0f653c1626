using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sayiir.Observability;

/// <summary>
/// The names to subscribe to: <c>tracing.AddSource(SayiirTelemetry.Name)</c> and <c>metrics.AddMeter(SayiirTelemetry.Name)</c>.
/// </summary>
public static class SayiirTelemetry
{
    /// <summary>The <see cref="ActivitySource"/> and <see cref="Meter"/> name: "Sayiir".</summary>
    public const string Name = "Sayiir";

    internal static readonly ActivitySource Source = new(Name, typeof(SayiirTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(Name, typeof(SayiirTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> RunsStarted = Meter.CreateCounter<long>("sayiir.runs.started", "{run}", "Runs started.");
    internal static readonly Counter<long> RunsCompleted = Meter.CreateCounter<long>("sayiir.runs.completed", "{run}", "Runs completed.");
    internal static readonly Counter<long> RunsFailed = Meter.CreateCounter<long>("sayiir.runs.failed", "{run}", "Runs failed.");
    internal static readonly Counter<long> RunsCancelled = Meter.CreateCounter<long>("sayiir.runs.cancelled", "{run}", "Runs cancelled.");
    internal static readonly Counter<long> RunsCompensated = Meter.CreateCounter<long>("sayiir.runs.compensated", "{run}", "Runs that ended compensated (every completed compensable step undone).");
    internal static readonly Counter<long> TasksCompensated = Meter.CreateCounter<long>("sayiir.tasks.compensated", "{task}", "Undo steps completed.");
    internal static readonly Counter<long> RunsPurged = Meter.CreateCounter<long>("sayiir.runs.purged", "{run}", "Ended runs removed by retention or PurgeRunsAsync.");
    internal static readonly UpDownCounter<long> RunsInFlight = Meter.CreateUpDownCounter<long>("sayiir.runs.in_flight", "{run}", "Runs being driven on this silo.");
    internal static readonly Counter<long> TasksExecuted = Meter.CreateCounter<long>("sayiir.tasks.executed", "{attempt}", "Task attempts finished (any outcome).");
    internal static readonly Counter<long> TasksFailed = Meter.CreateCounter<long>("sayiir.tasks.failed", "{attempt}", "Task attempts that failed.");
    internal static readonly Counter<long> TasksRetried = Meter.CreateCounter<long>("sayiir.tasks.retried", "{retry}", "Retries scheduled.");
    internal static readonly Counter<long> RunsHandedOff = Meter.CreateCounter<long>("sayiir.runs.handed_off", "{run}",
        "Runs let go by an activation that was deactivated without a crash (shutdown, lost directory partition, idle), after saving the attempts it had in flight.");
    internal static readonly Counter<long> TaskSiloWaits = Meter.CreateCounter<long>("sayiir.tasks.silo_waits", "{wait}",
        "Task attempts that had to wait because no live silo declared the tags they require.");
    internal static readonly Counter<long> TaskSiloLosses = Meter.CreateCounter<long>("sayiir.tasks.silo_lost", "{attempt}",
        "Task attempts sent again because the silo running them for another silo's run was lost.");
    internal static readonly Counter<long> SignalsReceived = Meter.CreateCounter<long>("sayiir.signals.received", "{signal}", "Signals received.");
    internal static readonly Histogram<double> TaskDuration = Meter.CreateHistogram<double>("sayiir.task.duration", "ms", "Duration of task attempts.");
    internal static readonly Histogram<double> CheckpointDuration = Meter.CreateHistogram<double>("sayiir.checkpoint.duration", "ms", "Latency of run state writes.");
    internal static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>("sayiir.run.duration", "s", "Duration of finished runs, start to end.");

    internal static KeyValuePair<string, object?> WorkflowTag(string? workflow) => new("sayiir.workflow", workflow);

    /// <summary>Parses a stored W3C trace parent; default when absent or malformed.</summary>
    internal static ActivityContext ParseParent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;
}
