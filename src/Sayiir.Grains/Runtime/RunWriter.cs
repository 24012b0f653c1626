using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Sayiir.Observability;
using Sayiir.Persistence;

namespace Sayiir.Runtime;

/// <summary>
/// The single writer of one run's state, used only from its grain's scheduler. It owns four rules:
/// <list type="bullet">
/// <item><b>Ownership</b>: the activation claims the run (<see cref="AcquireAsync"/>) only once the previously recorded
/// owner can no longer start or finish a task; the claim travels with the next write, whose ETag check is the fence.
/// Losing that check (another activation wrote the row) stops this activation for good.</item>
/// <item><b>The dispatch fence</b>: <see cref="EnsureDurableAsync"/> returns only once every change made so far is in a
/// write that has landed — including a write already in flight when it was called.</item>
/// <item><b>Coalescing</b>: changes share writes; <see cref="FlushSoon"/> saves a finished task at the end of the current
/// turn unless the next dispatch's write already covers it, so linear flows pay no extra write.</item>
/// <item><b>History with the change</b>: events are saved in the state's outbox by the write that saves their change,
/// then handed to the journal (idempotent by sequence) and dropped from the outbox once it confirms them. A change that
/// was never saved leaves no event; a saved one never loses its event.</item>
/// </list>
/// </summary>
internal sealed class RunWriter
{
    private readonly string _instanceId;
    private readonly IPersistentState<WorkflowRunState> _store;
    private readonly IRunOwnership _ownership;
    private readonly IRunJournal _journal;
    // The engine's clock, for the timestamps it writes (the update instant, the owner's claim).
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxRetryDelay;
    private readonly ILogger _logger;

    // Changes that must be durable before the next dispatch, and how many of them the last landed write covered.
    private long _changes;
    private long _durable;
    private bool _writing;
    private bool _flushScheduled;
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];

    // Outbox delivery: the highest sequence handed to the journal, and the highest saved in a landed write.
    private long _submittedSeq;
    private long _savedSeq;
    private Task? _acquiring;

    public RunWriter(string instanceId, IPersistentState<WorkflowRunState> store, IRunOwnership ownership, IRunJournal journal,
        TimeSpan maxRetryDelay, ILogger logger, TimeProvider? time = null)
    {
        _instanceId = instanceId;
        _store = store;
        _ownership = ownership;
        _journal = journal;
        _maxRetryDelay = maxRetryDelay;
        _logger = logger;
        _time = time ?? TimeProvider.System; // wall clock: only for writers built without the engine's clock (unit tests)
        Run = store.State ?? new WorkflowRunState();
        // Events a previous activation saved but did not see confirmed are delivered with this activation's first write.
        _savedSeq = Run.PendingEvents.Count > 0 ? Run.PendingEvents[^1].Seq : 0;
    }

    /// <summary>The run's state as this activation sees it (mutated in place by the grain between awaits).</summary>
    public WorkflowRunState Run { get; private set; }

    /// <summary>This activation's identity in <see cref="WorkflowRunState.Owner"/>.</summary>
    public Guid Activation { get; } = Guid.NewGuid();

    /// <summary>This activation holds the run: it may change it and dispatch its tasks.</summary>
    public bool Owns { get; private set; }

    /// <summary>Another activation wrote the run: this one must stop for good.</summary>
    public bool Lost { get; private set; }

    /// <summary>Called once when ownership is lost (the grain stops its loop and deactivates).</summary>
    public Action? OnLost { get; set; }

    /// <summary>Called before every write, to bring derived fields (status) up to date.</summary>
    public Action<WorkflowRunState>? BeforeWrite { get; set; }

    /// <summary>Called after every landed write with what was written.</summary>
    public Func<WorkflowRunState, ValueTask>? AfterWrite { get; set; }

    /// <summary>Writes that landed (for tests and metrics).</summary>
    public long WriteCount { get; private set; }

    /// <summary>True when changes are waiting for a write.</summary>
    public bool HasUnsavedChanges => _durable < _changes;

    // ----- ownership ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Makes this activation the run's owner, waiting while the recorded owner may still start or finish a task.
    /// The claim is written by the next write (ETag-checked); nothing may be dispatched before it lands, which
    /// <see cref="EnsureDurableAsync"/> guarantees.
    /// </summary>
    public Task AcquireAsync(Action? beforeClaim = null, CancellationToken cancellationToken = default)
    {
        if (Lost) return Task.FromException(new RunInterruptedException());
        if (Owns) return Task.CompletedTask;
        if (_acquiring is { IsCompleted: false } pending) return pending;
        // Kept only while it waits: a claim that completes at once must not leave a finished task behind.
        var acquiring = AcquireCoreAsync(beforeClaim, cancellationToken);
        _acquiring = acquiring.IsCompleted ? null : acquiring;
        return acquiring;
    }

    private async Task AcquireCoreAsync(Action? beforeClaim, CancellationToken cancellationToken)
    {
        try
        {
            var reread = false;
            var waiting = false;
            while (true)
            {
                var owner = Run.Owner;
                if (owner is not null && owner.Activation != Activation && await _ownership.IsHeldAsync(_instanceId, owner, cancellationToken))
                {
                    if (!waiting) Log.WaitingForOwner(_logger, _instanceId, owner.Silo);
                    waiting = true;
                    await _ownership.WaitAsync(_instanceId, owner, TimeSpan.FromSeconds(1), cancellationToken);
                    await ReloadAsync();
                    continue;
                }
                if (owner is not null && owner.Activation != Activation && !reread)
                {
                    // Its last write (a release, or finished tasks) may have landed after our read: claim on top of it.
                    reread = true;
                    await ReloadAsync();
                    continue;
                }
                if (Lost) throw new RunInterruptedException();
                // Hold locally before the claim can land: a probe from another claimant then already sees this one.
                _ownership.Hold(_instanceId, Activation);
                Run.Owner = _ownership.Self(Activation, _time.GetUtcNow());
                if (Run.Exists && Run.RunId == Guid.Empty) Run.RunId = Guid.NewGuid();
                Owns = true;
                beforeClaim?.Invoke();
                _changes++;
                if (waiting) Log.OwnerGone(_logger, _instanceId);
                return;
            }
        }
        finally
        {
            _acquiring = null;
        }
    }

    private async Task ReloadAsync()
    {
        await ReadWithRetryAsync();
        Run = _store.State ?? new WorkflowRunState();
        var last = Run.PendingEvents.Count > 0 ? Run.PendingEvents[^1].Seq : 0;
        _savedSeq = last;
        _submittedSeq = 0;
    }

    /// <summary>The run's state row was deleted (purged): this activation now sees no run.</summary>
    public void Deleted()
    {
        Run = _store.State ?? new WorkflowRunState();
        _savedSeq = 0;
        _submittedSeq = 0;
    }

    /// <summary>Lets go of the run: saves what this activation finished and records no owner. Returns once written (or throws).</summary>
    public async Task ReleaseAsync()
    {
        if (!Owns || Lost) return;
        try
        {
            if (Run.Owner?.Activation == Activation)
            {
                Run.Owner = null;
                await PersistAsync();
            }
        }
        finally
        {
            // Whatever happened to the write, this activation starts and finishes nothing from now on.
            DropOwnership();
        }
    }

    /// <summary>
    /// Gives up the run without waiting for a write (a hand-off whose release write could not land in time): this
    /// activation starts and finishes nothing more, and its silo stops vouching for it, so another activation may
    /// claim it. A write of ours still in flight can only land before that claim (the claim's ETag check then fails
    /// and the claimant retries from our state) or fail against it.
    /// </summary>
    public void Abandon()
    {
        if (Owns) DropOwnership();
    }

    private void DropOwnership()
    {
        Owns = false;
        _ownership.Release(_instanceId, Activation);
    }

    // ----- state changes and writes -------------------------------------------------------------------------------

    /// <summary>Replaces the run's state (a new run of this instance id); the owner and the history sequence carry over.</summary>
    public void Replace(WorkflowRunState run)
    {
        run.Owner = Run.Owner;
        run.NextEventSeq = Run.NextEventSeq;
        run.PendingEvents = Run.PendingEvents;
        Run = run;
        _changes++;
    }

    /// <summary>Marks a change that must be durable before the next dispatch (a finished task, a consumed signal…).</summary>
    public void Changed() => _changes++;

    /// <summary>Records a history event; it is saved by the next write, with the change it describes.</summary>
    public void Record(RunHistoryEvent historyEvent, byte[]? output = null) =>
        Run.PendingEvents.Add(new PendingEvent { Seq = Run.NextEventSeq++, Event = historyEvent, Output = output });

    /// <summary>Writes everything changed so far; returns once a write covering it has landed.</summary>
    public Task PersistAsync()
    {
        _changes++;
        return DurableAsync(_changes);
    }

    /// <summary>The dispatch fence: returns once every change made so far (and this activation's claim) is durable.</summary>
    public Task EnsureDurableAsync()
    {
        if (Lost) return Task.FromException(new RunInterruptedException());
        return _durable >= _changes ? Task.CompletedTask : DurableAsync(_changes);
    }

    /// <summary>
    /// Saves unsaved changes at the end of the current turn unless a write started by then covers them: a task that
    /// finishes while its siblings wait is durable within one write, and a linear flow's next dispatch absorbs it.
    /// </summary>
    public void FlushSoon()
    {
        if (_flushScheduled) return;
        _flushScheduled = true;
        _ = FlushSoonAsync();
    }

    private async Task FlushSoonAsync()
    {
        await Task.Yield();
        _flushScheduled = false;
        if (!Owns || Lost || _durable >= _changes || (_writing && _waiters.Count > 0 && _waiters.Max(w => w.Target) >= _changes)) return;
        try
        {
            await DurableAsync(_changes);
        }
        catch (Exception)
        {
            // Lost ownership or a stop: the loop that drives the run sees it on its own.
        }
    }

    private Task DurableAsync(long target)
    {
        if (Lost) return Task.FromException(new RunInterruptedException());
        if (!Owns) return Task.FromException(new InvalidOperationException($"Run '{_instanceId}': a write was requested by an activation that does not own the run."));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Add((target, done));
        if (!_writing) _ = WriteLoopAsync();
        return done.Task;
    }

    private async Task WriteLoopAsync()
    {
        _writing = true;
        try
        {
            while (_waiters.Count > 0)
            {
                var covered = _changes;
                // A finished run is driven by no one: its final write releases it.
                if (Run.IsTerminal) Run.Owner = null;
                BeforeWrite?.Invoke(Run);
                Run.UpdatedAt = _time.GetUtcNow();
                Run.WriteToken = Guid.NewGuid();
                var snapshot = Run.Snapshot();
                await WriteWithRetryAsync(snapshot);
                WriteCount++;
                _durable = covered;
                if (snapshot.PendingEvents.Count > 0) _savedSeq = Math.Max(_savedSeq, snapshot.PendingEvents[^1].Seq);
                // Released (or ended) by this write — unless the run was claimed again while it was in flight.
                if (snapshot.Owner is null && Owns && Run.Owner?.Activation != Activation) DropOwnership();
                Deliver(snapshot);
                if (AfterWrite is not null) await AfterWrite(snapshot);
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Target > covered) continue;
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
        catch (Exception ex)
        {
            foreach (var waiter in _waiters) waiter.Done.TrySetException(ex);
            _waiters.Clear();
        }
        finally
        {
            _writing = false;
        }
    }

    private async Task WriteWithRetryAsync(WorkflowRunState snapshot)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _store.State = snapshot;
                var started = Stopwatch.GetTimestamp();
                await _store.WriteStateAsync();
                SayiirTelemetry.CheckpointDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return;
            }
            catch (InconsistentStateException)
            {
                // After an ambiguous failure an earlier try may have committed: then the stored row is ours.
                if (attempt > 1 && await WriteLandedAsync(snapshot.WriteToken)) return;
                // Otherwise another activation owns this run now (design force 4): stop, never overwrite the winner.
                Log.LostOwnership(_logger, _instanceId);
                Lost = true;
                DropOwnership();
                OnLost?.Invoke();
                throw new RunInterruptedException();
            }
            catch (Exception ex)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(100 * Math.Pow(2, attempt - 1), _maxRetryDelay.TotalMilliseconds));
                Log.WriteRetry(_logger, ex, _instanceId, attempt, delay);
                await Task.Delay(delay, TimeProvider.System); // wall clock: a storage outage heals in real time
            }
        }
    }

    private async Task<bool> WriteLandedAsync(Guid token)
    {
        try
        {
            await _store.ReadStateAsync();
            return _store.State?.WriteToken == token;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private async Task ReadWithRetryAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _store.ReadStateAsync();
                return;
            }
            catch (Exception ex)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(100 * Math.Pow(2, attempt - 1), _maxRetryDelay.TotalMilliseconds));
                Log.WriteRetry(_logger, ex, _instanceId, attempt, delay);
                await Task.Delay(delay, TimeProvider.System); // wall clock: a storage outage heals in real time
            }
        }
    }

    // ----- history ------------------------------------------------------------------------------------------------

    private void Deliver(WorkflowRunState written)
    {
        if (written.HistorySaved && written.PendingEvents.Count > 0)
        {
            // The write itself inserted them into the history (same transaction): confirmed, dropped by the next write.
            _submittedSeq = Math.Max(_submittedSeq, written.PendingEvents[^1].Seq);
            Confirmed(written.PendingEvents);
            return;
        }
        var fresh = written.EventsForHistory(after: _submittedSeq);
        if (fresh.Count == 0) return;
        _submittedSeq = fresh[^1].Seq;
        _ = ConfirmAsync(fresh);
    }

    private void Confirmed(List<PendingEvent> events)
    {
        // Dropped from the outbox by the next write (no write of its own: a crash before it only re-delivers them).
        var confirmed = events.Select(e => e.Seq).ToHashSet();
        Run.PendingEvents.RemoveAll(e => confirmed.Contains(e.Seq));
    }

    private async Task ConfirmAsync(List<PendingEvent> events)
    {
        try
        {
            await _journal.AppendAsync(_instanceId, events);
        }
        catch (Exception)
        {
            // Still in the saved outbox: delivered again after the next write.
            _submittedSeq = Math.Min(_submittedSeq, events[0].Seq - 1);
            return;
        }
        Confirmed(events);
    }

    /// <summary>
    /// Called before a node's output leaves the state: if its event is still waiting for the journal, the output moves
    /// into that event, so it is archived all the same.
    /// </summary>
    public void KeepForArchive(string nodeId, byte[] output)
    {
        for (var i = Run.PendingEvents.Count - 1; i >= 0; i--)
        {
            var pending = Run.PendingEvents[i];
            if (pending.Event.TaskId != nodeId || !pending.ArchivesOutput) continue;
            if (pending.Output is null) Run.PendingEvents[i] = pending with { Output = output };
            return;
        }
    }

    /// <summary>Saved events the journal has not confirmed yet (they belong to the history already).</summary>
    public IEnumerable<PendingEvent> SavedUnconfirmedEvents() => Run.PendingEvents.Where(e => e.Seq <= _savedSeq);

    /// <summary>
    /// An output still in the outbox (archived with its event, not yet confirmed by the journal), from an event after
    /// sequence <paramref name="after"/> (a rewind's: what it superseded is not the node's output any more).
    /// </summary>
    public byte[]? OutboxOutput(string nodeId, long after = 0)
    {
        for (var i = Run.PendingEvents.Count - 1; i >= 0; i--)
        {
            var pending = Run.PendingEvents[i];
            if (pending.Seq <= after) return null;
            if (pending.Output is not null && pending.Event.TaskId == nodeId) return pending.Output;
        }
        return null;
    }
}
