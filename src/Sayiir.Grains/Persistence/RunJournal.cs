using System.Threading.Channels;
using Sayiir.Runtime;
using Microsoft.Extensions.Logging;

namespace Sayiir.Persistence;

/// <summary>
/// Where run history goes and where runs are listed from. Events reach the journal only after the state write that
/// holds them (the run's outbox) has landed, so history never shows a change that was not saved; the journal writes
/// them in batches from one background writer per silo, idempotently by (run, sequence), so a re-delivery after a
/// crash adds nothing twice.
/// </summary>
internal interface IRunJournal
{
    /// <summary>Writes events already saved in their run's state; completes once they are durable here.</summary>
    Task AppendAsync(string instanceId, IReadOnlyList<PendingEvent> events);

    /// <summary>The latest archived output of a task of the run, or null.</summary>
    Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId, CancellationToken cancellationToken = default);

    /// <summary>Called after a run's state write that changed its listed fields.</summary>
    ValueTask RunChangedAsync(RunSummary summary);

    Task<IReadOnlyList<RunHistoryEvent>> ReadHistoryAsync(string instanceId, CancellationToken cancellationToken = default);

    Task<RunPage> ListAsync(RunQuery query, CancellationToken cancellationToken = default);

    /// <summary>Runs matching the query's filters, counted per state.</summary>
    Task<RunCounts> CountAsync(RunQuery query, CancellationToken cancellationToken = default);

    /// <summary>Runs started and ended per bucket of the query's window, every bucket present, oldest first.</summary>
    Task<IReadOnlyList<RunActivityBucket>> ActivityAsync(RunActivityQuery query, CancellationToken cancellationToken = default);

    /// <summary>How many runs that have not ended use each definition (of one workflow, or of all).</summary>
    Task<IReadOnlyList<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName, CancellationToken cancellationToken = default);

    /// <summary>Removes a run's history, archived outputs and (where the journal keeps one) its listing entry.</summary>
    Task DeleteRunAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Up to <paramref name="limit"/> ended runs in <paramref name="states"/> whose state was last written before
    /// <paramref name="endedBefore"/>: of <paramref name="workflowName"/>, or (null) of any workflow not in <paramref name="exceptWorkflows"/>.
    /// </summary>
    Task<IReadOnlyList<string>> ExpiredRunsAsync(string? workflowName, IReadOnlyCollection<string> exceptWorkflows, IReadOnlyList<WorkflowState> states,
        DateTimeOffset endedBefore, int limit, CancellationToken cancellationToken = default);

    /// <summary>Adds definitions to the catalog (by hash; a known hash is left as it is).</summary>
    Task SaveDefinitionsAsync(IReadOnlyList<DefinitionRecord> definitions, CancellationToken cancellationToken = default);

    /// <summary>The catalogued shape (<see cref="Runtime.FlowShape"/>) of a definition, or null when it was never catalogued.</summary>
    Task<string?> ReadDefinitionShapeAsync(string hash, CancellationToken cancellationToken = default);
}

/// <summary>Active runs of one definition (hash null: runs stored before hashes were listed).</summary>
[GenerateSerializer, Alias("sayiir.DefinitionUsage"), Immutable]
internal sealed record DefinitionUsage(
    [property: Id(0)] string WorkflowName,
    [property: Id(1)] string? Version,
    [property: Id(2)] string? DefinitionHash,
    [property: Id(3)] long ActiveRuns);

/// <summary>A catalogued definition: what a run on it needs to be checked against another version after it is removed.</summary>
[GenerateSerializer, Alias("sayiir.DefinitionRecord"), Immutable]
internal sealed record DefinitionRecord(
    [property: Id(0)] string Hash,
    [property: Id(1)] string WorkflowName,
    [property: Id(2)] string? Version,
    [property: Id(3)] string Shape);

/// <summary>One appended event, with the output it archives (task-completed and signal-consumed events only).</summary>
[GenerateSerializer, Alias("sayiir.JournalEntry"), Immutable]
internal sealed record JournalEntry(
    [property: Id(0)] string InstanceId,
    [property: Id(1)] RunHistoryEvent Event,
    [property: Id(2)] byte[]? Output,
    [property: Id(3)] long Seq);

/// <summary>Batches appended events and writes them from one background loop.</summary>
internal abstract partial class BatchingRunJournal : IRunJournal, ILifecycleParticipant<ISiloLifecycle>
{
    private const int MaxBatch = 1000;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _logger;
    private Task? _writer;

    protected BatchingRunJournal(ILogger logger) => _logger = logger;

    private long _eventsWritten;

    /// <summary>Events this journal's own writer has written (not those a state write carried; for tests).</summary>
    internal long EventsWritten => Interlocked.Read(ref _eventsWritten);

    public Task AppendAsync(string instanceId, IReadOnlyList<PendingEvent> events)
    {
        EnsureWriter();
        if (events.Count == 0) return Task.CompletedTask;
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < events.Count; i++)
        {
            var pending = events[i];
            // Only the last item completes the call: the writer handles items in order.
            var item = new Item(new JournalEntry(instanceId, pending.Event with { Sequence = pending.Seq }, pending.Output, pending.Seq), i == events.Count - 1 ? written : null);
            if (!_queue.Writer.TryWrite(item))
            {
                written.TrySetException(new ObjectDisposedException("the journal is stopping"));
                break;
            }
        }
        return written.Task;
    }

    public abstract Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId, CancellationToken cancellationToken = default);

    /// <summary>Returns once every event appended before the call is written.</summary>
    protected Task FlushAsync()
    {
        EnsureWriter();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Item(null, done))) return Task.CompletedTask;
        return done.Task;
    }

    public abstract ValueTask RunChangedAsync(RunSummary summary);

    public abstract Task<IReadOnlyList<RunHistoryEvent>> ReadHistoryAsync(string instanceId, CancellationToken cancellationToken = default);

    public abstract Task<RunPage> ListAsync(RunQuery query, CancellationToken cancellationToken = default);

    public abstract Task<RunCounts> CountAsync(RunQuery query, CancellationToken cancellationToken = default);

    public abstract Task<IReadOnlyList<RunActivityBucket>> ActivityAsync(RunActivityQuery query, CancellationToken cancellationToken = default);

    public abstract Task<IReadOnlyList<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName, CancellationToken cancellationToken = default);

    public abstract Task DeleteRunAsync(string instanceId, CancellationToken cancellationToken = default);

    public abstract Task<IReadOnlyList<string>> ExpiredRunsAsync(string? workflowName, IReadOnlyCollection<string> exceptWorkflows,
        IReadOnlyList<WorkflowState> states, DateTimeOffset endedBefore, int limit, CancellationToken cancellationToken = default);

    public abstract Task SaveDefinitionsAsync(IReadOnlyList<DefinitionRecord> definitions, CancellationToken cancellationToken = default);

    public abstract Task<string?> ReadDefinitionShapeAsync(string hash, CancellationToken cancellationToken = default);

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
                if (item.Entry is not null) batch.Add(item.Entry);
                if (item.Done is not null) flushed.Add(item.Done);
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
                Interlocked.Add(ref _eventsWritten, batch.Count);
                return true;
            }
            catch (Exception ex) when (attempt < 30)
            {
                // Storage outage: hold the batch and try again; runs are not slowed down meanwhile.
                LogWriteRetry(_logger, ex, batch.Count, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 2000)), TimeProvider.System); // wall clock: a storage outage heals in real time
            }
            catch (Exception ex)
            {
                // Nothing is lost: the events stay in their runs' saved state (the outbox) and are delivered again
                // with the run's next write or by its next activation.
                LogWriteDeferred(_logger, ex, batch.Count);
                return false;
            }
        }
    }

    [LoggerMessage(3020, LogLevel.Warning, "Writing {Count} history event(s) failed (try {Attempt}); retrying")]
    private static partial void LogWriteRetry(ILogger logger, Exception exception, int count, int attempt);

    [LoggerMessage(3021, LogLevel.Error, "Writing {Count} history event(s) failed repeatedly; they stay in their runs' state and are delivered again later")]
    private static partial void LogWriteDeferred(ILogger logger, Exception exception, int count);

    // Entry null: a flush marker. Done: completed once the item (and everything before it) is written.
    private readonly record struct Item(JournalEntry? Entry, TaskCompletionSource? Done);
}
