using Microsoft.Extensions.Logging;

namespace Sayiir.Persistence;

/// <summary>
/// The embedded default: history and the run index live in memory, like in-memory storage. A silo alone (the one that
/// keeps run states in its process-local store) keeps them in this process too; silos of an in-memory cluster share
/// them in one grain.
/// </summary>
internal sealed class MemoryRunJournal(IGrainFactory grains, IServiceProvider services, ILogger<MemoryRunJournal> logger) : BatchingRunJournal(logger)
{
    private IMemoryRunStore? _store;

    // Decided at first use (the silo's options are complete by then): every listing update of a run is then a method
    // call, not a grain call.
    private IMemoryRunStore Store => _store ??= ProcessLocalGrainStorage.AppliesTo(services)
        ? new MemoryRunStore()
        : new SharedMemoryRunStore(grains.GetGrain<IMemoryRunStoreGrain>(0));

    /// <summary>Whether history and the run index are kept in this process rather than in the shared grain (for tests).</summary>
    internal bool IsProcessLocal => Store is MemoryRunStore;

    public override async ValueTask RunChangedAsync(RunSummary summary) => await Store.UpsertAsync(summary);

    public override async Task<IReadOnlyList<RunHistoryEvent>> ReadHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        await FlushAsync().WaitAsync(cancellationToken);
        return await Store.ReadHistoryAsync(instanceId).WaitAsync(cancellationToken);
    }

    public override Task<RunPage> ListAsync(RunQuery query, CancellationToken cancellationToken = default) =>
        Store.ListAsync(query).WaitAsync(cancellationToken);

    public override Task<RunCounts> CountAsync(RunQuery query, CancellationToken cancellationToken = default) =>
        Store.CountAsync(query).WaitAsync(cancellationToken);

    public override async Task<IReadOnlyList<RunActivityBucket>> ActivityAsync(RunActivityQuery query, CancellationToken cancellationToken = default) =>
        await Store.ActivityAsync(query).WaitAsync(cancellationToken);

    public override Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId, CancellationToken cancellationToken = default) =>
        Store.ReadTaskOutputAsync(instanceId, taskId).WaitAsync(cancellationToken);

    public override async Task<IReadOnlyList<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName, CancellationToken cancellationToken = default) =>
        await Store.ActiveRunsByDefinitionAsync(workflowName).WaitAsync(cancellationToken);

    public override async Task DeleteRunAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        // Events of the run still queued here would otherwise be written after the delete.
        await FlushAsync().WaitAsync(cancellationToken);
        await Store.DeleteRunAsync(instanceId).WaitAsync(cancellationToken);
    }

    public override async Task<IReadOnlyList<string>> ExpiredRunsAsync(string? workflowName, IReadOnlyCollection<string> exceptWorkflows,
        IReadOnlyList<WorkflowState> states, DateTimeOffset endedBefore, int limit, CancellationToken cancellationToken = default) =>
        await Store.ExpiredRunsAsync(workflowName, [.. exceptWorkflows], [.. states], endedBefore, limit).WaitAsync(cancellationToken);

    public override Task SaveDefinitionsAsync(IReadOnlyList<DefinitionRecord> definitions, CancellationToken cancellationToken = default) =>
        Store.SaveDefinitionsAsync([.. definitions]).WaitAsync(cancellationToken);

    public override Task<string?> ReadDefinitionShapeAsync(string hash, CancellationToken cancellationToken = default) =>
        Store.ReadDefinitionShapeAsync(hash).WaitAsync(cancellationToken);

    protected override Task WriteAsync(IReadOnlyList<JournalEntry> batch) => Store.AppendAsync([.. batch]);
}

/// <summary>The operations of the in-memory history and run index, whether kept in this process or in the shared grain.</summary>
internal interface IMemoryRunStore
{
    Task AppendAsync(List<JournalEntry> entries);

    Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId);

    Task UpsertAsync(RunSummary summary);

    Task<List<RunHistoryEvent>> ReadHistoryAsync(string instanceId);

    Task<RunPage> ListAsync(RunQuery query);

    Task<RunCounts> CountAsync(RunQuery query);

    Task<List<RunActivityBucket>> ActivityAsync(RunActivityQuery query);

    Task<List<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName);

    Task DeleteRunAsync(string instanceId);

    Task<List<string>> ExpiredRunsAsync(string? workflowName, List<string> exceptWorkflows, List<WorkflowState> states, DateTimeOffset endedBefore, int limit);

    Task SaveDefinitionsAsync(List<DefinitionRecord> definitions);

    Task<string?> ReadDefinitionShapeAsync(string hash);
}

/// <summary>The shared grain seen as a store.</summary>
internal sealed class SharedMemoryRunStore(IMemoryRunStoreGrain grain) : IMemoryRunStore
{
    public Task AppendAsync(List<JournalEntry> entries) => grain.AppendAsync(entries);

    public Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId) => grain.ReadTaskOutputAsync(instanceId, taskId);

    public Task UpsertAsync(RunSummary summary) => grain.UpsertAsync(summary);

    public Task<List<RunHistoryEvent>> ReadHistoryAsync(string instanceId) => grain.ReadHistoryAsync(instanceId);

    public Task<RunPage> ListAsync(RunQuery query) => grain.ListAsync(query);

    public Task<RunCounts> CountAsync(RunQuery query) => grain.CountAsync(query);

    public Task<List<RunActivityBucket>> ActivityAsync(RunActivityQuery query) => grain.ActivityAsync(query);

    public Task<List<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName) => grain.ActiveRunsByDefinitionAsync(workflowName);

    public Task DeleteRunAsync(string instanceId) => grain.DeleteRunAsync(instanceId);

    public Task<List<string>> ExpiredRunsAsync(string? workflowName, List<string> exceptWorkflows, List<WorkflowState> states, DateTimeOffset endedBefore, int limit) => grain.ExpiredRunsAsync(workflowName, exceptWorkflows, states, endedBefore, limit);

    public Task SaveDefinitionsAsync(List<DefinitionRecord> definitions) => grain.SaveDefinitionsAsync(definitions);

    public Task<string?> ReadDefinitionShapeAsync(string hash) => grain.ReadDefinitionShapeAsync(hash);
}

[Alias("sayiir.IMemoryRunStoreGrain")]
internal interface IMemoryRunStoreGrain : IGrainWithIntegerKey
{
    [Alias("Append")]
    Task AppendAsync(List<JournalEntry> entries);

    [Alias("ReadTaskOutput")]
    Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId);

    [Alias("Upsert")]
    Task UpsertAsync(RunSummary summary);

    [Alias("ReadHistory")]
    Task<List<RunHistoryEvent>> ReadHistoryAsync(string instanceId);

    [Alias("List")]
    Task<RunPage> ListAsync(RunQuery query);

    [Alias("Count")]
    Task<RunCounts> CountAsync(RunQuery query);

    [Alias("Activity")]
    Task<List<RunActivityBucket>> ActivityAsync(RunActivityQuery query);

    [Alias("ActiveRunsByDefinition")]
    Task<List<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName);

    [Alias("DeleteRun")]
    Task DeleteRunAsync(string instanceId);

    [Alias("ExpiredRuns")]
    Task<List<string>> ExpiredRunsAsync(string? workflowName, List<string> exceptWorkflows, List<WorkflowState> states, DateTimeOffset endedBefore, int limit);

    [Alias("SaveDefinitions")]
    Task SaveDefinitionsAsync(List<DefinitionRecord> definitions);

    [Alias("ReadDefinitionShape")]
    Task<string?> ReadDefinitionShapeAsync(string hash);
}

/// <summary>
/// History and the run index of the embedded default (volatile, as in-memory storage is): used directly by a silo
/// alone, or behind <see cref="MemoryRunStoreGrain"/> by the silos of an in-memory cluster. Safe for concurrent callers.
/// </summary>
internal sealed class MemoryRunStore : IMemoryRunStore
{
    private readonly Lock _lock = new();

    // Per run, by sequence number: a re-delivered event replaces nothing and adds nothing.
    private readonly Dictionary<string, SortedList<long, RunHistoryEvent>> _history = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RunSummary> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<(string InstanceId, string TaskId), byte[]> _outputs = [];
    private readonly SortedSet<RunPageToken> _newestFirst = new(RunPageToken.NewestFirst);
    private readonly Dictionary<string, DefinitionRecord> _definitions = new(StringComparer.Ordinal);

    public Task<List<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName)
    {
        lock (_lock)
        {
            return Task.FromResult(_runs.Values
                .Where(r => RunStateStorage.ActiveStates.Contains(r.State))
                .Where(r => workflowName is null || r.WorkflowName == workflowName)
                .GroupBy(r => (r.WorkflowName, r.WorkflowVersion, r.DefinitionHash))
                .Select(g => new DefinitionUsage(g.Key.WorkflowName, g.Key.WorkflowVersion, g.Key.DefinitionHash, g.LongCount()))
                .ToList());
        }
    }

    public Task DeleteRunAsync(string instanceId)
    {
        lock (_lock)
        {
            _history.Remove(instanceId);
            foreach (var key in _outputs.Keys.Where(k => k.InstanceId == instanceId).ToList()) _outputs.Remove(key);
            if (_runs.Remove(instanceId, out var run)) _newestFirst.Remove(new RunPageToken(run.CreatedAt, run.InstanceId));
            return Task.CompletedTask;
        }
    }

    public Task<List<string>> ExpiredRunsAsync(string? workflowName, List<string> exceptWorkflows, List<WorkflowState> states, DateTimeOffset endedBefore, int limit)
    {
        lock (_lock)
        {
            return Task.FromResult(_runs.Values
                .Where(r => states.Contains(r.State) && (r.UpdatedAt ?? r.CreatedAt) < endedBefore)
                .Where(r => workflowName is null ? !exceptWorkflows.Contains(r.WorkflowName) : r.WorkflowName == workflowName)
                .Take(limit)
                .Select(r => r.InstanceId)
                .ToList());
        }
    }

    public Task SaveDefinitionsAsync(List<DefinitionRecord> definitions)
    {
        lock (_lock)
        {
            foreach (var definition in definitions) _definitions.TryAdd(definition.Hash, definition);
            return Task.CompletedTask;
        }
    }

    public Task<string?> ReadDefinitionShapeAsync(string hash)
    {
        lock (_lock)
        {
            return Task.FromResult(_definitions.GetValueOrDefault(hash)?.Shape);
        }
    }

    public Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId)
    {
        lock (_lock)
        {
            return Task.FromResult(_outputs.GetValueOrDefault((instanceId, taskId)));
        }
    }

    public Task AppendAsync(List<JournalEntry> entries)
    {
        lock (_lock)
        {
            foreach (var entry in entries)
            {
                if (!_history.TryGetValue(entry.InstanceId, out var events)) _history[entry.InstanceId] = events = [];
                if (!events.TryAdd(entry.Seq, entry.Event)) continue;
                if (entry.Output is not null && entry.Event.TaskId is { } taskId) _outputs[(entry.InstanceId, taskId)] = entry.Output;
            }
            return Task.CompletedTask;
        }
    }

    public Task UpsertAsync(RunSummary summary)
    {
        lock (_lock)
        {
            if (_runs.TryGetValue(summary.InstanceId, out var previous)) _newestFirst.Remove(new RunPageToken(previous.CreatedAt, previous.InstanceId));
            _runs[summary.InstanceId] = summary;
            _newestFirst.Add(new RunPageToken(summary.CreatedAt, summary.InstanceId));
            return Task.CompletedTask;
        }
    }

    public Task<List<RunHistoryEvent>> ReadHistoryAsync(string instanceId)
    {
        lock (_lock)
        {
            return Task.FromResult(_history.TryGetValue(instanceId, out var events) ? new List<RunHistoryEvent>(events.Values) : []);
        }
    }

    public Task<RunPage> ListAsync(RunQuery query)
    {
        lock (_lock)
        {
            var after = RunPageToken.Decode(query.ContinuationToken);
            var states = query.States is { Count: > 0 } s ? s.ToHashSet() : null;
            var page = new List<RunSummary>(query.PageSize);
            foreach (var key in _newestFirst)
            {
                if (after is { } a && RunPageToken.NewestFirst.Compare(key, a) <= 0) continue;
                var run = _runs[key.InstanceId];
                if (!Matches(run, query, states)) continue;
                if (page.Count == query.PageSize)
                {
                    var last = page[^1];
                    return Task.FromResult(new RunPage { Runs = page, ContinuationToken = new RunPageToken(last.CreatedAt, last.InstanceId).Encode() });
                }
                page.Add(run);
            }
            return Task.FromResult(new RunPage { Runs = page });
        }
    }

    public Task<RunCounts> CountAsync(RunQuery query)
    {
        lock (_lock)
        {
            var states = query.States is { Count: > 0 } s ? s.ToHashSet() : null;
            var counts = new Dictionary<WorkflowState, long>();
            foreach (var run in _runs.Values)
            {
                if (!Matches(run, query, states)) continue;
                counts[run.State] = counts.GetValueOrDefault(run.State) + 1;
            }
            return Task.FromResult(new RunCounts { ByState = counts });
        }
    }

    public Task<List<RunActivityBucket>> ActivityAsync(RunActivityQuery query)
    {
        lock (_lock)
        {
            var buckets = RunActivity.EmptyBuckets(query);
            foreach (var run in _runs.Values)
            {
                if (run.State == WorkflowState.NotFound || (query.WorkflowName is { } w && run.WorkflowName != w)) continue;
                if (RunActivity.BucketOf(query, run.CreatedAt) is { } started) buckets[started].Started++;
                if (run.State is WorkflowState.Completed or WorkflowState.Failed or WorkflowState.Cancelled or WorkflowState.Compensated
                    && run.UpdatedAt is { } updated && RunActivity.BucketOf(query, updated) is { } ended)
                {
                    buckets[ended].Add(run.State, 1);
                }
            }
            return Task.FromResult(buckets.Select(b => b.ToBucket()).ToList());
        }
    }

    private static bool Matches(RunSummary run, RunQuery query, HashSet<WorkflowState>? states) =>
        // Signals buffered for a run that has not started: kept for retention, never listed or counted.
        run.State != WorkflowState.NotFound
        && (query.WorkflowName is not { } w || run.WorkflowName == w)
        && (states is null || states.Contains(run.State))
        && (query.CreatedFrom is not { } from || run.CreatedAt >= from)
        && (query.CreatedBefore is not { } before || run.CreatedAt < before)
        && (string.IsNullOrEmpty(query.InstanceIdPrefix) || run.InstanceId.StartsWith(query.InstanceIdPrefix, StringComparison.Ordinal));
}

/// <summary>The shared history and run index of an in-memory cluster's silos.</summary>
[KeepAlive]
internal sealed class MemoryRunStoreGrain : Grain, IMemoryRunStoreGrain
{
    private readonly MemoryRunStore _store = new();

    public Task<string?> ReadDefinitionShapeAsync(string hash) => _store.ReadDefinitionShapeAsync(hash);

    public Task<List<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName) => _store.ActiveRunsByDefinitionAsync(workflowName);

    public Task DeleteRunAsync(string instanceId) => _store.DeleteRunAsync(instanceId);

    public Task<List<string>> ExpiredRunsAsync(string? workflowName, List<string> exceptWorkflows, List<WorkflowState> states, DateTimeOffset endedBefore, int limit) => _store.ExpiredRunsAsync(workflowName, exceptWorkflows, states, endedBefore, limit);

    public Task SaveDefinitionsAsync(List<DefinitionRecord> definitions) => _store.SaveDefinitionsAsync(definitions);

    public Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId) => _store.ReadTaskOutputAsync(instanceId, taskId);

    public Task AppendAsync(List<JournalEntry> entries) => _store.AppendAsync(entries);

    public Task UpsertAsync(RunSummary summary) => _store.UpsertAsync(summary);

    public Task<List<RunHistoryEvent>> ReadHistoryAsync(string instanceId) => _store.ReadHistoryAsync(instanceId);

    public Task<RunPage> ListAsync(RunQuery query) => _store.ListAsync(query);

    public Task<RunCounts> CountAsync(RunQuery query) => _store.CountAsync(query);

    public Task<List<RunActivityBucket>> ActivityAsync(RunActivityQuery query) => _store.ActivityAsync(query);
}

/// <summary>Cuts an activity window into its buckets; both journals fill them.</summary>
internal static class RunActivity
{
    public static int BucketCount(RunActivityQuery query) => (int)Math.Ceiling((query.End - query.From) / query.BucketSize);

    public static MutableBucket[] EmptyBuckets(RunActivityQuery query) =>
        [.. Enumerable.Range(0, BucketCount(query)).Select(i => new MutableBucket(query.From + query.BucketSize * i))];

    public static int? BucketOf(RunActivityQuery query, DateTimeOffset at) =>
        at >= query.From && at < query.End ? (int)((at - query.From).Ticks / query.BucketSize.Ticks) : null;

    internal sealed class MutableBucket(DateTimeOffset start)
    {
        public long Started;
        private long _completed, _failed, _cancelled, _compensated;

        public void Add(WorkflowState state, long count)
        {
            if (state == WorkflowState.Completed) _completed += count;
            else if (state == WorkflowState.Failed) _failed += count;
            else if (state == WorkflowState.Cancelled) _cancelled += count;
            else if (state == WorkflowState.Compensated) _compensated += count;
        }

        public RunActivityBucket ToBucket() =>
            new() { Start = start, Started = Started, Completed = _completed, Failed = _failed, Cancelled = _cancelled, Compensated = _compensated };
    }
}

/// <summary>The keyset position of a run in the newest-first order: (created, instance id), both descending.</summary>
internal readonly record struct RunPageToken(DateTimeOffset CreatedAt, string InstanceId)
{
    public static readonly IComparer<RunPageToken> NewestFirst = Comparer<RunPageToken>.Create((x, y) =>
    {
        var byTime = y.CreatedAt.UtcTicks.CompareTo(x.CreatedAt.UtcTicks);
        return byTime != 0 ? byTime : string.CompareOrdinal(y.InstanceId, x.InstanceId);
    });

    public string Encode() => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{CreatedAt.UtcTicks}|{InstanceId}"));

    public static RunPageToken? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token)) return null;
        try
        {
            var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            return new RunPageToken(new DateTimeOffset(long.Parse(text[..bar], System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Zero), text[(bar + 1)..]);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new ArgumentException("The continuation token is not one this client returned.", nameof(token), ex);
        }
    }
}
