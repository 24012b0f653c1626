using System.Collections.Immutable;

namespace Sayiir;

/// <summary>
/// How a failed task attempt is retried. <see cref="MaxAttempts"/> counts every execution including the first;
/// the delay before attempt <c>n + 1</c> is <c>min(InitialDelay × Multiplier^(n − 1), MaxDelay)</c>, optionally
/// spread by <see cref="Jitter"/>. The attempt count and the next attempt's instant are checkpointed, so a crash
/// during the backoff neither resets the count nor restarts the wait.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>No retry: one attempt.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1, InitialDelay = TimeSpan.Zero };

    /// <summary>Total executions allowed, including the first. At least 1. Default 1.</summary>
    public int MaxAttempts { get; init; } = 1;

    /// <summary>Delay before the second attempt. Default 1 second.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Growth factor between consecutive delays. At least 1. Default 2.</summary>
    public double Multiplier { get; init; } = 2.0;

    /// <summary>Upper bound of any single delay; <see langword="null"/> for none.</summary>
    public TimeSpan? MaxDelay { get; init; }

    /// <summary>Random spread in [0, 1]: a delay d becomes a value in [d × (1 − Jitter), d]. Default 0.</summary>
    public double Jitter { get; init; }

    /// <summary>Exception types (and their subclasses) that fail the task at once, without retry.</summary>
    public ImmutableArray<Type> NonRetryableExceptions { get; init; } = [];

    /// <summary>Exponential backoff: <paramref name="initialDelay"/>, ×<paramref name="multiplier"/> each time, capped at <paramref name="maxDelay"/>.</summary>
    public static RetryPolicy Exponential(int maxAttempts, TimeSpan initialDelay, double multiplier = 2.0, TimeSpan? maxDelay = null) =>
        new() { MaxAttempts = maxAttempts, InitialDelay = initialDelay, Multiplier = multiplier, MaxDelay = maxDelay };

    /// <summary>The same delay between every attempt.</summary>
    public static RetryPolicy Fixed(int maxAttempts, TimeSpan delay) =>
        new() { MaxAttempts = maxAttempts, InitialDelay = delay, Multiplier = 1.0 };

    /// <summary>Returns a copy that never retries the given exception type.</summary>
    public RetryPolicy WithNonRetryable<TException>() where TException : Exception =>
        this with { NonRetryableExceptions = NonRetryableExceptions.Add(typeof(TException)) };

    /// <summary>
    /// The delay before attempt <paramref name="failedAttempt"/> + 1, without jitter:
    /// <c>min(InitialDelay × Multiplier^(failedAttempt − 1), MaxDelay)</c>.
    /// </summary>
    public TimeSpan GetDelay(int failedAttempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempt, 1);
        var ticks = InitialDelay.Ticks * Math.Pow(Multiplier, failedAttempt - 1);
        var cap = MaxDelay?.Ticks ?? TimeSpan.MaxValue.Ticks;
        // Large exponents overflow to infinity; the cap (or TimeSpan.MaxValue) bounds them.
        return double.IsFinite(ticks) && ticks < cap ? TimeSpan.FromTicks((long)ticks) : TimeSpan.FromTicks(cap);
    }

    /// <summary>The delay before the next attempt with jitter applied, drawn from <paramref name="random"/>.</summary>
    public TimeSpan GetDelay(int failedAttempt, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var delay = GetDelay(failedAttempt);
        if (Jitter <= 0) return delay;
        var factor = 1.0 - (Jitter * random.NextDouble());
        return TimeSpan.FromTicks((long)(delay.Ticks * factor));
    }

    /// <summary>Whether a failure of type <paramref name="exceptionType"/> may be retried by this policy.</summary>
    public bool IsRetryable(Type exceptionType) => !NonRetryableExceptions.Any(t => t.IsAssignableFrom(exceptionType));

    internal IEnumerable<string> Validate(string taskId)
    {
        if (MaxAttempts < 1) yield return $"task '{taskId}': retry MaxAttempts must be at least 1 (was {MaxAttempts})";
        if (InitialDelay < TimeSpan.Zero) yield return $"task '{taskId}': retry InitialDelay must not be negative (was {InitialDelay})";
        if (Multiplier < 1.0 || !double.IsFinite(Multiplier)) yield return $"task '{taskId}': retry Multiplier must be a finite number ≥ 1 (was {Multiplier})";
        if (MaxDelay is { } max && max < TimeSpan.Zero) yield return $"task '{taskId}': retry MaxDelay must not be negative (was {max})";
        if (Jitter is < 0 or > 1 || double.IsNaN(Jitter)) yield return $"task '{taskId}': retry Jitter must be within [0, 1] (was {Jitter})";
    }

    // Invariant culture: the definition hash must not depend on the machine's locale.
    internal string Canonical() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{MaxAttempts}/{InitialDelay.Ticks}/{Multiplier:R}/{MaxDelay?.Ticks}/{Jitter:R}/{string.Join(",", NonRetryableExceptions.Select(t => t.FullName))}");
}
