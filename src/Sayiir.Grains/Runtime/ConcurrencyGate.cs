using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Sayiir.Hosting;

namespace Sayiir.Runtime;

/// <summary>
/// One cluster-wide concurrency limit: a workflow's active runs or a concurrency key's running attempts. Keyed by
/// <see cref="ConcurrencyGates.ForWorkflow"/> or <see cref="ConcurrencyGates.ForKey"/>. Its holders and its FIFO queue
/// are grain state (durable in PostgreSQL), so neither a silo death nor a whole-cluster restart loses a queued run.
/// <para>
/// Acquire and release are idempotent by the holder's identity (run id, plus task id for a key), so a recovered run
/// that acquires again finds itself holding. Nobody waits inside a call: a refused acquire enqueues the holder, and the
/// gate calls the run back (<see cref="IWorkflowGrain.SlotGrantedAsync"/>) once it is promoted; a lost call back is
/// made good by the run asking again on its recovery reminder's tick. A slot whose release was lost (the run ended or
/// its silo died between its last write and the release) is found when someone waits: the gate asks each holder's run
/// whether it still holds (<see cref="IWorkflowGrain.HoldsSlotAsync"/>) and frees the slots of those that do not.
/// </para>
/// </summary>
[Alias("sayiir.IConcurrencyGateGrain")]
internal interface IConcurrencyGateGrain : IGrainWithStringKey
{
    /// <summary>True when <paramref name="holder"/> holds a slot (now or already); otherwise it is queued (once) and called back when promoted.</summary>
    [Alias("Acquire")]
    Task<bool> AcquireAsync(GateHolder holder, int limit);

    /// <summary>Gives the holder's slot back, or takes it out of the queue; nothing when it is neither.</summary>
    [Alias("Release")]
    Task ReleaseAsync(string holderId);

    /// <summary>Who holds a slot and who waits, in order (for tests and diagnostics).</summary>
    [ReadOnly, Alias("Snapshot")]
    Task<GateSnapshot> SnapshotAsync();
}

/// <summary>Who holds (or waits for) a slot: a run (by instance and run id) or one task of it.</summary>
[GenerateSerializer, Alias("sayiir.GateHolder"), Immutable]
internal sealed record GateHolder
{
    [Id(0)] public required string InstanceId { get; init; }

    // Distinguishes this run from an earlier run of the same instance id (TerminateExisting).
    [Id(1)] public required Guid RunId { get; init; }

    // The task of a concurrency-key holder; null for a workflow's run slot.
    [Id(2)] public string? TaskId { get; init; }

    public string Id => TaskId is null ? $"{RunId:n}/{InstanceId}" : $"{RunId:n}/{InstanceId}/{TaskId}";
}

/// <summary>What a run answers when its gate asks whether it still holds a slot.</summary>
internal enum SlotClaim
{
    /// <summary>It holds (or is acquiring) the slot.</summary>
    Holds = 0,

    /// <summary>It ended, was replaced, or no activation runs that task: the slot is free.</summary>
    Released = 1,

    /// <summary>No run is stored under that id: its start may still be on its way (or was lost before it was saved).</summary>
    NotStarted = 2,
}

/// <summary>The gate's stored state: the current holders and the FIFO queue.</summary>
[GenerateSerializer, Alias("sayiir.ConcurrencyGateState")]
internal sealed class ConcurrencyGateState
{
    // The limit the latest caller configured (every silo should configure the same one).
    [Id(0)] public int Limit { get; set; }

    [Id(1)] public Dictionary<string, GateEntry> Holders { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public List<GateEntry> Queue { get; set; } = [];
}

[GenerateSerializer, Alias("sayiir.GateEntry"), Immutable]
internal sealed record GateEntry
{
    [Id(0)] public required GateHolder Holder { get; init; }

    // When it was queued or promoted, on the engine's clock.
    [Id(1)] public DateTimeOffset Since { get; init; }
}

[GenerateSerializer, Alias("sayiir.GateSnapshot"), Immutable]
internal sealed record GateSnapshot([property: Id(0)] int Limit, [property: Id(1)] List<string> Holders, [property: Id(2)] List<string> Queue);

/// <summary>The gate keys: one namespace for workflow limits and one for concurrency keys.</summary>
internal static class ConcurrencyGates
{
    private const string WorkflowPrefix = "workflow/";
    private const string KeyPrefix = "key/";

    public static string ForWorkflow(string workflowName) => WorkflowPrefix + workflowName;

    public static string ForKey(string concurrencyKey) => KeyPrefix + concurrencyKey;

    /// <summary>The concurrency key of a key's gate; null for a workflow's.</summary>
    public static string? KeyOf(string gate) => gate.StartsWith(KeyPrefix, StringComparison.Ordinal) ? gate[KeyPrefix.Length..] : null;

    /// <summary>The workflow name of a workflow's gate; null for a key's.</summary>
    public static string? WorkflowOf(string gate) => gate.StartsWith(WorkflowPrefix, StringComparison.Ordinal) ? gate[WorkflowPrefix.Length..] : null;

    /// <summary>The event detail and status text of a wait: <c>workflow</c>, or the key.</summary>
    public static string Describe(string gate) => KeyOf(gate) ?? "workflow";

    public const string StateName = "sayiir-gate";
}

internal sealed partial class ConcurrencyGateGrain(
    [PersistentState(ConcurrencyGates.StateName, SayiirOptions.StorageName)] IPersistentState<ConcurrencyGateState> store,
    IGrainFactory grains,
    IOptions<SayiirOptions> options,
    [FromKeyedServices(SayiirOptions.TimeProviderKey)] TimeProvider time,
    ILogger<ConcurrencyGateGrain> logger) : Grain, IConcurrencyGateGrain
{
    /// <summary>
    /// How long a holder whose run is not stored yet keeps its slot: a start acquires before it saves the run, and may
    /// wait for the reminder service and storage meanwhile (both bounded well below this). Engine time.
    /// </summary>
    internal static readonly TimeSpan StartGrace = TimeSpan.FromMinutes(1);

    private Task? _reconciling;
    private Task? _writing;
    private long _lastReconcile;

    private string Gate => this.GetPrimaryKeyString();

    private ConcurrencyGateState State => store.State;

    public async Task<bool> AcquireAsync(GateHolder holder, int limit)
    {
        ArgumentNullException.ThrowIfNull(holder);
        if (State.Holders.ContainsKey(holder.Id)) return true;
        var changed = State.Limit != limit;
        State.Limit = limit;
        if (!State.Queue.Exists(e => e.Holder.Id == holder.Id))
        {
            State.Queue.Add(new GateEntry { Holder = holder, Since = time.GetUtcNow() });
            changed = true;
        }
        var promoted = Promote();
        if (changed || promoted.Count > 0) await WriteAsync();
        Notify(promoted.Where(e => e.Holder.Id != holder.Id));
        if (State.Holders.ContainsKey(holder.Id)) return true;
        // Someone waits while every slot is taken: make sure no slot is held by a run that no longer holds it.
        if (State.Holders.Count >= State.Limit) Reconcile();
        return false;
    }

    public async Task ReleaseAsync(string holderId)
    {
        var removed = State.Holders.Remove(holderId) | State.Queue.RemoveAll(e => e.Holder.Id == holderId) > 0;
        if (!removed) return;
        var promoted = Promote();
        await WriteAsync();
        Notify(promoted);
    }

    public Task<GateSnapshot> SnapshotAsync() =>
        Task.FromResult(new GateSnapshot(State.Limit, [.. State.Holders.Keys], [.. State.Queue.Select(e => e.Holder.Id)]));

    /// <summary>Moves the head of the queue into free slots, FIFO.</summary>
    private List<GateEntry> Promote()
    {
        var promoted = new List<GateEntry>();
        while (State.Holders.Count < State.Limit && State.Queue.Count > 0)
        {
            var next = State.Queue[0] with { Since = time.GetUtcNow() };
            State.Queue.RemoveAt(0);
            State.Holders[next.Holder.Id] = next;
            promoted.Add(next);
        }
        return promoted;
    }

    /// <summary>
    /// Writes the whole current state, one write at a time: a reconciliation round may change the state while a
    /// request's write is in flight, and two writes with the same ETag would make the second fail.
    /// </summary>
    private async Task WriteAsync()
    {
        while (_writing is { IsCompleted: false } previous)
        {
            try { await previous; } catch (Exception) { /* reported to its own caller */ }
        }
        _writing = WriteCoreAsync();
        await _writing;
    }

    private async Task WriteCoreAsync()
    {
        try
        {
            await store.WriteStateAsync();
        }
        catch (Exception ex)
        {
            // The memory is ahead of storage (or another activation won the ETag): start again from what is stored.
            LogWriteFailed(logger, ex, Gate);
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Calls promoted runs back; never awaited by a request (a run may be calling this gate meanwhile).</summary>
    private void Notify(IEnumerable<GateEntry> promoted)
    {
        foreach (var entry in promoted) _ = NotifyAsync(entry.Holder);
    }

    private async Task NotifyAsync(GateHolder holder)
    {
        try
        {
            await grains.GetGrain<IWorkflowGrain>(holder.InstanceId).SlotGrantedAsync(Gate, holder);
        }
        catch (Exception ex)
        {
            // The run asks again on its recovery reminder's tick and finds itself holding.
            LogNotifyFailed(logger, ex, Gate, holder.InstanceId);
        }
    }

    /// <summary>
    /// Asks each holder's run whether it still holds its slot, and frees those that do not. At most one round at a
    /// time and one per recovery-reminder period (waiters poke the gate on every tick), never inside a request.
    /// </summary>
    private void Reconcile()
    {
        if (_reconciling is { IsCompleted: false }) return;
        // wall clock: paces the questions to the runs, which says nothing about whether a run is alive.
        if (_lastReconcile != 0 && TimeProvider.System.GetElapsedTime(_lastReconcile) < options.Value.RecoveryReminderPeriod) return;
        _lastReconcile = TimeProvider.System.GetTimestamp(); // wall clock: as above
        _reconciling = ReconcileAsync();
    }

    private async Task ReconcileAsync()
    {
        var entries = State.Holders.Values.ToList();
        var answers = await Task.WhenAll(entries.Select(async entry =>
        {
            try
            {
                return await grains.GetGrain<IWorkflowGrain>(entry.Holder.InstanceId).HoldsSlotAsync(Gate, entry.Holder);
            }
            catch (Exception ex)
            {
                // Unknown is not "gone": the slot stays held until the run can answer.
                LogAskFailed(logger, ex, Gate, entry.Holder.InstanceId);
                return SlotClaim.Holds;
            }
        }));
        var freed = 0;
        var now = time.GetUtcNow();
        var holders = entries.Select(e => e.Holder).ToList();
        for (var i = 0; i < holders.Count; i++)
        {
            var gone = answers[i] == SlotClaim.Released || (answers[i] == SlotClaim.NotStarted && now - entries[i].Since >= StartGrace);
            // Still the same entry: a release and a new acquire meanwhile are not undone.
            if (!gone || !State.Holders.TryGetValue(holders[i].Id, out var current) || current != entries[i]) continue;
            State.Holders.Remove(holders[i].Id);
            freed++;
            LogSlotReclaimed(logger, Gate, holders[i].InstanceId);
        }
        if (freed == 0) return;
        var promoted = Promote();
        try
        {
            await WriteAsync();
        }
        catch (Exception)
        {
            return; // logged by WriteAsync; the next waiter's poke reconciles again
        }
        Notify(promoted);
    }

    [LoggerMessage(3080, LogLevel.Information, "Concurrency gate {Gate}: the slot of run {InstanceId} was given back (the run no longer holds it)")]
    private static partial void LogSlotReclaimed(ILogger logger, string gate, string instanceId);

    [LoggerMessage(3081, LogLevel.Warning, "Concurrency gate {Gate}: writing its state failed; it reloads from storage")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string gate);

    [LoggerMessage(3082, LogLevel.Warning, "Concurrency gate {Gate}: could not tell run {InstanceId} it got a slot; it asks again on its recovery reminder")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception, string gate, string instanceId);

    [LoggerMessage(3083, LogLevel.Warning, "Concurrency gate {Gate}: could not ask run {InstanceId} whether it still holds its slot")]
    private static partial void LogAskFailed(ILogger logger, Exception exception, string gate, string instanceId);
}
