using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sayiir.Hosting;
using Sayiir.Runtime;

namespace Sayiir.Observability;

/// <summary>
/// Hands run changes to the silo's <see cref="IRunObserver"/>s off the run's path: one bounded queue and one reader
/// loop per observer, so a run never waits for an observer and observers never wait for each other. Changes are
/// reported after their write landed; what is still queued when the silo stops gets a short drain window, then is lost
/// (at most once, as <see cref="IRunObserver"/> documents).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "See DisposeAsync.")]
internal sealed class RunObservers : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    // How long a stopping silo lets the queues drain (real time: it bounds the silo's shutdown).
    private static readonly TimeSpan DrainWindow = TimeSpan.FromSeconds(5);

    private readonly ObserverQueue[] _queues;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger<RunObservers> _logger;
    private readonly int _capacity;

    public RunObservers(IEnumerable<IRunObserver> observers, IOptions<SayiirOptions> options, ILogger<RunObservers> logger)
    {
        _logger = logger;
        _capacity = options.Value.RunObserverQueueCapacity;
        _queues = [.. observers.Select(o => new ObserverQueue(o, _capacity))];
        foreach (var queue in _queues) queue.Loop = Task.Run(() => DeliverAsync(queue));
    }

    /// <summary>Queues a durable change for every observer; never blocks.</summary>
    public void Notify(RunChange change)
    {
        foreach (var queue in _queues)
        {
            if (!queue.Changes.Writer.TryWrite(change) && !_stopping.IsCancellationRequested)
                Log.ObserverQueueFull(_logger, queue.Name, _capacity, change.InstanceId, change.State);
        }
    }

    private async Task DeliverAsync(ObserverQueue queue)
    {
        try
        {
            await foreach (var change in queue.Changes.Reader.ReadAllAsync(_stopping.Token))
            {
                try
                {
                    await queue.Observer.OnRunChangedAsync(change, _stopping.Token);
                }
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
                {
                    Log.ObserverFailed(_logger, ex, queue.Name, change.InstanceId, change.State);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopped: what is left in the queue is not reported.
        }
        catch (Exception ex) when (_stopping.IsCancellationRequested)
        {
            Log.ObserverFailed(_logger, ex, queue.Name, "(stopping)", WorkflowState.NotFound);
        }
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RunObservers), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_queues.Length == 0) return;
        foreach (var queue in _queues) queue.Changes.Writer.TryComplete();
        try
        {
            // wall clock: bounds the silo's shutdown, which runs on real time.
            await Task.WhenAll(_queues.Select(q => q.Loop)).WaitAsync(DrainWindow, TimeProvider.System, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            Log.ObserversStoppedWithPending(_logger, _queues.Sum(q => q.Changes.Reader.Count));
        }
        await _stopping.CancelAsync();
    }

    // The source is cancelled, never disposed: it has no timer, and a reader loop may still read its token.
    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues) queue.Changes.Writer.TryComplete();
        await _stopping.CancelAsync();
    }

    private sealed class ObserverQueue(IRunObserver observer, int capacity)
    {
        public IRunObserver Observer { get; } = observer;

        public string Name { get; } = observer.GetType().FullName ?? observer.GetType().Name;

        public Channel<RunChange> Changes { get; } = Channel.CreateBounded<RunChange>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public Task Loop { get; set; } = Task.CompletedTask;
    }
}
