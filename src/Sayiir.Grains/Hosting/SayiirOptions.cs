using System.ComponentModel.DataAnnotations;

namespace Sayiir.Hosting;

/// <summary>Engine settings of a silo. Bound from the <c>Sayiir</c> configuration section when present.</summary>
public sealed class SayiirOptions
{
    /// <summary>The name of the grain storage provider (and so of the state rows) Sayiir uses. Default "sayiir".</summary>
    public const string StorageName = "sayiir";

    /// <summary>
    /// Period of the per-run recovery reminder, which re-activates an interrupted run on a surviving silo.
    /// Default 1 minute (Orleans' minimum unless <c>ReminderOptions.MinimumReminderPeriod</c> is lowered).
    /// Shorter periods recover faster and cost one reminder-table read per tick per run.
    /// </summary>
    public TimeSpan RecoveryReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a task worker waits for an attempt before answering "pending" and reporting the result later by
    /// message. Always capped at half the grain call response timeout. Default 10 seconds.
    /// </summary>
    public TimeSpan InlineResultWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When a silo is declared dead, wake every active run at once (one reminder-table scan on one silo) instead of
    /// waiting for each run's reminder tick. Default true.
    /// </summary>
    public bool WakeRunsOnSiloDeath { get; set; } = true;

    /// <summary>Upper bound of the wait between retries of a failed state write (storage outage). Default 5 seconds.</summary>
    public TimeSpan MaxStorageRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When a run's activation goes away without a crash (silo shutdown, a lost grain-directory partition, idle
    /// collection, rebalancing), how long its task attempts in flight may still run: their outputs are saved before
    /// the run is released to its next owner, so they are not run again. An attempt still running at the end of the
    /// window is cancelled and runs again where the run continues. The next owner waits for the release (at most this
    /// long plus a write). Default 10 seconds; Orleans' deactivation timeout is raised to cover it.
    /// </summary>
    public TimeSpan HandoffTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        var errors = new List<string>();
        if (RecoveryReminderPeriod <= TimeSpan.Zero) errors.Add($"{nameof(RecoveryReminderPeriod)} must be positive (was {RecoveryReminderPeriod})");
        if (InlineResultWindow <= TimeSpan.Zero) errors.Add($"{nameof(InlineResultWindow)} must be positive (was {InlineResultWindow})");
        if (MaxStorageRetryDelay <= TimeSpan.Zero) errors.Add($"{nameof(MaxStorageRetryDelay)} must be positive (was {MaxStorageRetryDelay})");
        if (HandoffTimeout < TimeSpan.Zero || HandoffTimeout > TimeSpan.FromMinutes(10)) errors.Add($"{nameof(HandoffTimeout)} must be within [0, 10 min] (was {HandoffTimeout})");
        if (errors.Count > 0) throw new ValidationException("Invalid SayiirOptions: " + string.Join("; ", errors));
    }
}

/// <summary>Settings of the client side (co-hosted or client-only).</summary>
public sealed class SayiirClientOptions
{
    /// <summary>
    /// The longest single wait of a result long-poll; the client re-polls until the run ends. Capped at half the
    /// grain call response timeout. Default 5 seconds. It also bounds how late a waiting client learns a result
    /// after the silo holding its poll dies: an unanswered poll is abandoned 2 s after its window and re-sent, so
    /// the worst case is about the window plus 2 s. Shorter windows cost one small grain call per window per
    /// waiting caller.
    /// </summary>
    public TimeSpan ResultPollWindow { get; set; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        if (ResultPollWindow <= TimeSpan.Zero)
            throw new ValidationException($"Invalid SayiirClientOptions: {nameof(ResultPollWindow)} must be positive (was {ResultPollWindow})");
    }
}
