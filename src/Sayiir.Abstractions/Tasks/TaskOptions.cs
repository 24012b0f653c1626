namespace Sayiir;

/// <summary>Per-task settings, given to the builder's configure callback.</summary>
public sealed class TaskOptions
{
    /// <summary>Retry policy; default <see cref="RetryPolicy.None"/> (one attempt).</summary>
    public RetryPolicy Retry { get; set; } = RetryPolicy.None;

    /// <summary>Per-attempt timeout; <see langword="null"/> (default) for none. A timed-out attempt counts as a failure.</summary>
    public TimeSpan? Timeout { get; set; }

    internal TaskSettings Freeze() => new(Retry, Timeout);
}

/// <summary>The frozen settings of one task in a definition.</summary>
/// <param name="Retry">The retry policy.</param>
/// <param name="Timeout">The per-attempt timeout, if any.</param>
public sealed record TaskSettings(RetryPolicy Retry, TimeSpan? Timeout);
