using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Sayiir.Observability;

/// <summary>
/// Where run history goes and where runs are listed from. History is appended without waiting: events are
/// batched and written by one background writer per silo, so recording them costs the run no extra round trip.
/// </summary>
internal interface IRunJournal
{
    void Append(string instanceId, RunHistoryEvent historyEvent);

    /// <summary>Appends a task-completed event carrying the task's output; completes once it is durable.</summary>
    Task ArchiveAsync(string instanceId, RunHistoryEvent historyEvent, byte[] output);

    /// <summary>The latest archived output of a task of the run, or null.</summary>
    Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId, CancellationToken cancellationToken = default);

    /// <summary>Called after a run's state write that changed its listed fields.</summary>
    ValueTask RunChangedAsync(RunSummary summary);

    Task<IReadOnlyList<RunHistoryEvent>> ReadHistoryAsync(string instanceId, CancellationToken cancellationToken = default);

    Task<RunPage> ListAsync(RunQuery query, CancellationToken cancellationToken = default);
}

/// <summary>One appended event, with the task output it archives (task-completed events only).</summary>
[GenerateSerializer, Alias("sayiir.JournalEntry"), Immutable]
internal sealed record JournalEntry([property: Id(0)] string InstanceId, [property: Id(1)] RunHistoryEvent Event, [property: Id(2)] byte[]? Output);

/// <summary>Batches appended events and writes them from one background loop.</summary>
internal abstract partial class BatchingRunJournal : IRunJournal, ILifecycleParticipant<ISiloLifecycle>
{
    private const int MaxBatch = 1000;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _logger;
    private Task? _writer;

    protected BatchingRunJournal(ILogger logger) => _logger = logger;

    public void Append(string instanceId, RunHistoryEvent historyEvent)
    {
        EnsureWriter();
        _queue.Writer.TryWrite(new Item(instanceId, historyEvent, null, null));
    }

    public Task ArchiveAsync(string instanceId, RunHistoryEvent historyEvent, byte[] output)
    {
        EnsureWriter();
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Item(instanceId, historyEvent, output, written))) written.TrySetException(new ObjectDisposedException("the journal is stopping"));
        return written.Task;
    }

    public abstract Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId, CancellationToken cancellationToken = default);

    /// <summary>Returns once every event appended before the call is written.</summary>
    protected Task FlushAsync()
    {
        EnsureWriter();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Item(null, null, null, done))) return Task.CompletedTask;
        return done.Task;
    }

    public abstract ValueTask RunChangedAsync(RunSummary summary);

    public abstract Task<IReadOnlyList<RunHistoryEvent>> ReadHistoryAsync(string instanceId, CancellationToken cancellationToken = default);

    public abstract Task<RunPage> ListAsync(RunQuery query, CancellationToken cancellationToken = default);

    protected abstract Task WriteAsync(IReadOnlyList<JournalEntry> batch);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(GetType().Name, ServiceLifecycleStage.Active, _ => { EnsureWriter(); return Task.CompletedTask; }, async ct =>
        {
            // Drain what the runs recorded before the silo goes.
            _queue.Writer.TryComplete();
            if (_writer is not null) await _writer.WaitAsync(ct).ContinueWith(static _ => { }, TaskScheduler.Default);
        });

    private void EnsureWriter()
    {
        if (_writer is not null) return;
        lock (_queue)
        {
            _writer ??= Task.Run(WriteLoopAsync);
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<JournalEntry>(MaxBatch);
        var flushed = new List<TaskCompletionSource>();
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            flushed.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var item))
            {
                if (item.Event is null) flushed.Add(item.Done!);
                else
                {
                    batch.Add(new JournalEntry(item.InstanceId!, item.Event, item.Output));
                    if (item.Done is not null) flushed.Add(item.Done);
                }
            }
            var written = batch.Count == 0 || await WriteWithRetryAsync(batch);
            foreach (var done in flushed)
            {
                if (written) done.TrySetResult();
                else done.TrySetException(new InvalidOperationException("The history batch could not be written."));
            }
        }
    }

    private async Task<bool> WriteWithRetryAsync(List<JournalEntry> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteAsync(batch);
                return true;
            }
            catch (Exception ex) when (attempt < 30)
            {
                // Storage outage: hold the batch and try again; runs are not slowed down meanwhile.
                LogWriteRetry(_logger, ex, batch.Count, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 2000)));
            }
            catch (Exception ex)
            {
                // Archived outputs whose write failed stay in their runs' state (they are pruned only once written).
                LogWriteDropped(_logger, ex, batch.Count);
                return false;
            }
        }
    }

    [LoggerMessage(3020, LogLevel.Warning, "Writing {Count} history event(s) failed (try {Attempt}); retrying")]
    private static partial void LogWriteRetry(ILogger logger, Exception exception, int count, int attempt);

    [LoggerMessage(3021, LogLevel.Error, "Dropped {Count} history event(s) after repeated write failures")]
    private static partial void LogWriteDropped(ILogger logger, Exception exception, int count);

    // Event null: a flush marker. Done: completed once the item (and everything before it) is written.
    private readonly record struct Item(string? InstanceId, RunHistoryEvent? Event, byte[]? Output, TaskCompletionSource? Done);
}
