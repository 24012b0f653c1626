using System.Diagnostics.Metrics;
using Sayiir.Observability;

namespace Sayiir.Tests.Infrastructure;

/// <summary>Counts <c>sayiir.runs.handed_off</c> for one workflow, in this process (every in-process silo).</summary>
public sealed class HandoffCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _workflow;
    private readonly ChangeSignal _changed = new();
    private long _count;

    public HandoffCounter(string workflow)
    {
        _workflow = workflow;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SayiirTelemetry.Name && instrument.Name == "sayiir.runs.handed_off") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "sayiir.workflow" && Equals(tag.Value, _workflow))
                {
                    Interlocked.Add(ref _count, value);
                    _changed.Notify();
                }
            }
        });
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Returns once the count satisfies <paramref name="condition"/> (re-checked on every hand-off, not polled).</summary>
    public Task UntilAsync(Func<long, bool> condition, TimeSpan timeout, string what) => _changed.UntilAsync(() => condition(Count), timeout, what);

    public void Dispose() => _listener.Dispose();
}
