namespace Sayiir;

/// <summary>Per-task settings, given to the builder's configure callback.</summary>
public sealed class TaskOptions
{
    /// <summary>Retry policy; default <see cref="RetryPolicy.None"/> (one attempt).</summary>
    public RetryPolicy Retry { get; set; } = RetryPolicy.None;

    /// <summary>Per-attempt timeout; <see langword="null"/> (default) for none. A timed-out attempt counts as a failure.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// A name shared by the tasks that must not run too many attempts at once across the cluster (a rate-limited
    /// partner API, say): at most the limit configured for the key on the silos (<c>LimitConcurrencyKey</c>) run at a
    /// time, whatever their workflow; the others wait, FIFO, as <see cref="WorkflowState.Queued"/>. A key without a
    /// configured limit does not limit anything. At most 256 characters; <see langword="null"/> (default) for none.
    /// It is not part of the definition's hash: a key can be added or renamed without blocking runs in flight.
    /// </summary>
    public string? ConcurrencyKey { get; set; }

    /// <summary>
    /// The retry policy of the task's undo step (a task declared with <c>compensate:</c>); <see langword="null"/>
    /// (default) uses <see cref="Retry"/>. An undo step that exhausts it is reported in
    /// <see cref="WorkflowStatus.CompensationFailures"/> and the run ends <see cref="WorkflowState.Failed"/>.
    /// </summary>
    public RetryPolicy? CompensationRetry { get; set; }

    /// <summary>
    /// Where the task's attempts run: <see cref="TaskPlacement.Local"/> (default: on the silo that drives the run, no
    /// extra hop) or <see cref="TaskPlacement.Cluster"/> (on the least busy live silo, so a fork's branches use several
    /// machines). Not part of the definition's hash.
    /// </summary>
    public TaskPlacement Placement { get; set; } = TaskPlacement.Local;

    /// <summary>
    /// The task's priority on a saturated silo (<c>MaxConcurrentAttempts</c>): 1 (most urgent) to 5 (least); waiting
    /// attempts start by priority, FIFO within one, and a waiting attempt gains one level per aging interval so low
    /// priorities are never starved. Default: 3. Not part of the definition's hash.
    /// </summary>
    public int Priority { get; set; } = DefaultPriority;

    /// <summary>The tags a silo must declare (<c>SayiirOptions.Tags</c>) to run this task's attempts; empty by default.</summary>
    public IReadOnlyList<string> Tags => _tags;

    private readonly List<string> _tags = [];

    /// <summary>
    /// Runs the task's attempts only on silos that declare every one of <paramref name="tags"/> (a GPU, a licence).
    /// With no such silo alive the attempt waits until one joins; it never fails for that alone. Implies cluster-wide
    /// placement among those silos (the run's own silo is preferred when it has the tags and the placement is Local).
    /// </summary>
    /// <param name="tags">The required tags (non-empty, at most 64 characters each).</param>
    /// <returns>These options, for chaining.</returns>
    public TaskOptions RequireTags(params string[] tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        foreach (var tag in tags)
            if (!_tags.Contains(tag, StringComparer.Ordinal)) _tags.Add(tag);
        return this;
    }

    internal const int DefaultPriority = 3;

    internal TaskSettings Freeze() => new(Retry, Timeout, ConcurrencyKey, CompensationRetry)
    {
        Placement = Placement,
        Priority = Priority,
        Tags = [.. _tags],
    };
}

/// <summary>Where a task's attempts run (<see cref="TaskOptions.Placement"/>).</summary>
public enum TaskPlacement
{
    /// <summary>On the silo that drives the run: the cheapest (no extra hop); the default.</summary>
    Local = 0,

    /// <summary>
    /// On the live silo with the most free capacity (the run's own silo when it is as free as any): one extra hop per
    /// attempt on another silo, in exchange for the whole cluster's cores.
    /// </summary>
    Cluster = 1,
}

/// <summary>The frozen settings of one task in a definition (the interpreter's model; users see them through <see cref="WorkflowDefinition.Describe"/>).</summary>
/// <param name="Retry">The retry policy.</param>
/// <param name="Timeout">The per-attempt timeout, if any.</param>
/// <param name="ConcurrencyKey">The cluster-wide concurrency key, if any.</param>
/// <param name="CompensationRetry">The undo step's own retry policy, if any.</param>
internal sealed record TaskSettings(RetryPolicy Retry, TimeSpan? Timeout, string? ConcurrencyKey = null, RetryPolicy? CompensationRetry = null)
{
    /// <summary>Where the attempts run.</summary>
    public TaskPlacement Placement { get; init; }

    /// <summary>Priority 1 (most urgent) to 5.</summary>
    public int Priority { get; init; } = TaskOptions.DefaultPriority;

    /// <summary>Tags a silo must declare to run the attempts.</summary>
    public System.Collections.Immutable.ImmutableArray<string> Tags { get; init; } = [];

    /// <summary>Whether the attempts may leave the run's silo.</summary>
    public bool RunsAnywhere => Placement == TaskPlacement.Cluster || !Tags.IsDefaultOrEmpty;
}
