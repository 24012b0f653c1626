using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sayiir.Observability;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Observability;

/// <summary>Spans and metrics, captured in-process with an ActivityListener and a MeterListener.</summary>
public sealed class TelemetryTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, string? Workflow)> _measurements = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly ChangeSignal _captured = new();

    public TelemetryTests()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == SayiirTelemetry.Name || s.Name == "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = span =>
            {
                _spans.Enqueue(span);
                _captured.Notify();
            },
        };
        ActivitySource.AddActivityListener(_activities);
        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SayiirTelemetry.Name) listener.EnableMeasurementEvents(instrument);
            },
        };
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Measured(i.Name, v, WorkflowOf(tags)));
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Measured(i.Name, v, WorkflowOf(tags)));
        _meters.Start();
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }

    private void Measured(string instrument, double value, string? workflow)
    {
        _measurements.Enqueue((instrument, value, workflow));
        _captured.Notify();
    }

    private static string? WorkflowOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags) if (tag.Key == "sayiir.workflow") return tag.Value as string;
        return null;
    }

    private static readonly ActivitySource TestSource = new("test");

    [Fact]
    public async Task Run_WithRetry_EmitsOneTraceWithRunAndAttemptSpansAndMetrics()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Memory, new ClusterSettings { Silos = 1 });
        var id = NewId("traced");
        ActivityTraceId traceId;
        using (var caller = TestSource.StartActivity("caller"))
        {
            traceId = caller!.TraceId;
            Assert.Equal(50, await Wait.ForAsync(cluster.Client.RunAsync(ObservabilityFlows.Traced, 4, id), LongDeadline, "the traced run"));
        }

        await _captured.UntilAsync(() => _spans.Any(s => s.DisplayName.StartsWith("run ", StringComparison.Ordinal) && Tag(s, "sayiir.instance_id") == id),
            LongDeadline, "the run span to end");
        var mine = _spans.Where(s => Tag(s, "sayiir.instance_id") == id).ToList();
        Assert.All(mine, s => Assert.Equal(traceId, s.TraceId));
        var run = mine.Single(s => s.DisplayName == "run obs_traced");
        Assert.Equal("Completed", Tag(run, "sayiir.outcome"));
        var attempts = mine.Where(s => s.DisplayName == "task flaky").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal(["1", "2"], attempts.Select(a => Tag(a, "sayiir.attempt")));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(typeof(TimeoutException).FullName, Tag(attempts[0], "error.type"));
        Assert.Equal("Completed", Tag(attempts[1], "sayiir.outcome"));
        Assert.All(attempts, a => Assert.Equal(run.SpanId, a.ParentSpanId));
        Assert.Single(mine, s => s.DisplayName == "task first");

        // Metrics are tagged by workflow; this workflow runs only here.
        double Sum(string name) => _measurements.Where(m => m.Instrument == name && m.Workflow == "obs_traced").Sum(m => m.Value);
        await _captured.UntilAsync(() => Sum("sayiir.runs.completed") >= 1, LongDeadline, "the completed-runs counter");
        Assert.Equal(1, Sum("sayiir.runs.started"));
        Assert.Equal(1, Sum("sayiir.runs.completed"));
        Assert.Equal(3, Sum("sayiir.tasks.executed"));
        Assert.Equal(1, Sum("sayiir.tasks.failed"));
        Assert.Equal(1, Sum("sayiir.tasks.retried"));
        Assert.Equal(3, _measurements.Count(m => m.Instrument == "sayiir.task.duration" && m.Workflow == "obs_traced"));
        Assert.Single(_measurements, m => m.Instrument == "sayiir.run.duration" && m.Workflow == "obs_traced");
        Assert.Contains(_measurements, m => m.Instrument == "sayiir.checkpoint.duration");
        Assert.Contains(_measurements, m => m.Instrument == "sayiir.runs.in_flight");
    }

    [Fact]
    public async Task Run_ResumedOnAnotherSiloAfterKill_KeepsOneTraceId()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("traced-kill");
        ActivityTraceId traceId;
        using (var caller = TestSource.StartActivity("caller"))
        {
            traceId = caller!.TraceId;
            await cluster.Client.StartAsync(ObservabilityFlows.TracedStuckOnce, "", id);
        }
        await Probe.WaitStartedAsync(id, "b", LongDeadline);
        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(Probe.EventsOf(id, "b").Single().What));

        Assert.Equal("ABC", await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), LongDeadline, "the run after the kill"));

        await _captured.UntilAsync(() => _spans.Any(s => s.DisplayName == "task c" && Tag(s, "sayiir.instance_id") == id), LongDeadline, "task c's span");
        var mine = _spans.Where(s => Tag(s, "sayiir.instance_id") == id).ToList();
        Assert.Contains(mine, s => s.DisplayName == "run obs_traced_stuck (resumed)");
        Assert.All(mine, s => Assert.Equal(traceId, s.TraceId));
        Assert.Contains(mine, s => s.DisplayName == "task b" && Tag(s, "sayiir.outcome") == "Completed");
    }

    private static string? Tag(Activity activity, string key) => activity.GetTagItem(key)?.ToString();
}
