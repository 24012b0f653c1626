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

    internal TaskSettings Freeze() => new(Retry, Timeout, ConcurrencyKey, CompensationRetry);
}

/// <summary>The frozen settings of one task in a definition (the interpreter's model; users see them through <see cref="WorkflowDefinition.Describe"/>).</summary>
/// <param name="Retry">The retry policy.</param>
/// <param name="Timeout">The per-attempt timeout, if any.</param>
/// <param name="ConcurrencyKey">The cluster-wide concurrency key, if any.</param>
/// <param name="CompensationRetry">The undo step's own retry policy, if any.</param>
internal sealed record TaskSettings(RetryPolicy Retry, TimeSpan? Timeout, string? ConcurrencyKey = null, RetryPolicy? CompensationRetry = null);
