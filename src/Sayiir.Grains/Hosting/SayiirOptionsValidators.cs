using Microsoft.Extensions.Options;

namespace Sayiir.Hosting;

/// <summary>
/// Checks <see cref="SayiirOptions"/> when the host starts (<c>ValidateOnStart</c>), so a bad value is reported by
/// name at deployment instead of as a failing reminder or a stuck hand-off at run time.
/// </summary>
internal sealed class SayiirOptionsValidator(IOptions<ReminderOptions> reminders) : IValidateOptions<SayiirOptions>
{
    public ValidateOptionsResult Validate(string? name, SayiirOptions options)
    {
        var failures = new List<string>();
        var minimumReminder = reminders.Value.MinimumReminderPeriod;
        if (options.RecoveryReminderPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{nameof(SayiirOptions)}.{nameof(SayiirOptions.RecoveryReminderPeriod)} must be positive (was {options.RecoveryReminderPeriod}).");
        }
        else if (options.RecoveryReminderPeriod < minimumReminder)
        {
            // Orleans refuses the reminder at every registration: runs would never get their recovery reminder.
            failures.Add($"{nameof(SayiirOptions)}.{nameof(SayiirOptions.RecoveryReminderPeriod)} ({options.RecoveryReminderPeriod}) is below Orleans' " +
                $"{nameof(ReminderOptions)}.{nameof(ReminderOptions.MinimumReminderPeriod)} ({minimumReminder}), which refuses shorter reminders: " +
                "raise the period or lower that minimum.");
        }
        if (options.RecoveryReminderDelay < TimeSpan.Zero || options.RecoveryReminderDelay > TimeSpan.FromHours(1))
        {
            failures.Add($"{nameof(SayiirOptions)}.{nameof(SayiirOptions.RecoveryReminderDelay)} must be between zero and one hour (was {options.RecoveryReminderDelay}).");
        }
        Positive(nameof(SayiirOptions.InlineResultWindow), options.InlineResultWindow, failures);
        Positive(nameof(SayiirOptions.MaxStorageRetryDelay), options.MaxStorageRetryDelay, failures);
        if (options.HandoffTimeout < TimeSpan.Zero || options.HandoffTimeout > SayiirOptions.MaxHandoffTimeout)
        {
            failures.Add($"{nameof(SayiirOptions)}.{nameof(SayiirOptions.HandoffTimeout)} must be within [{TimeSpan.Zero}, {SayiirOptions.MaxHandoffTimeout}] " +
                $"(was {options.HandoffTimeout}).");
        }
        PositiveIfSet(nameof(SayiirOptions.RetainCompletedRuns), options.RetainCompletedRuns, failures);
        PositiveIfSet(nameof(SayiirOptions.RetainFailedRuns), options.RetainFailedRuns, failures);
        foreach (var (workflow, retention) in options.RetentionByWorkflow)
        {
            if (retention is null) { failures.Add($"{nameof(SayiirOptions)}.{nameof(SayiirOptions.RetentionByWorkflow)}['{workflow}'] is null."); continue; }
            PositiveIfSet($"{nameof(SayiirOptions.RetentionByWorkflow)}['{workflow}'].{nameof(RunRetention.Completed)}", retention.Completed, failures);
            PositiveIfSet($"{nameof(SayiirOptions.RetentionByWorkflow)}['{workflow}'].{nameof(RunRetention.FailedOrCancelled)}", retention.FailedOrCancelled, failures);
        }
        Positive(nameof(SayiirOptions.PurgeInterval), options.PurgeInterval, failures);
        if (options.PurgeBatchSize is < 1 or > 1000)
            failures.Add($"{nameof(SayiirOptions)}.{nameof(SayiirOptions.PurgeBatchSize)} must be within [1, 1000] (was {options.PurgeBatchSize}).");
        Within(nameof(SayiirOptions.MaxPayloadBytes), options.MaxPayloadBytes, SayiirOptions.MinPayloadBytes, SayiirOptions.MaxPayloadBytesLimit, failures);
        foreach (var (workflow, limit) in options.WorkflowConcurrencyLimits)
            ConcurrencyLimit(nameof(SayiirOptions.WorkflowConcurrencyLimits), workflow, limit, failures);
        foreach (var (key, limit) in options.ConcurrencyKeyLimits)
            ConcurrencyLimit(nameof(SayiirOptions.ConcurrencyKeyLimits), key, limit, failures);
        Within(nameof(SayiirOptions.TaskLogMaxLines), options.TaskLogMaxLines, 1, SayiirOptions.MaxTaskLogLines, failures);
        Within(nameof(SayiirOptions.TaskLogMaxBytes), options.TaskLogMaxBytes, SayiirOptions.MinTaskLogBytes, SayiirOptions.MaxTaskLogBytes, failures);
        Within(nameof(SayiirOptions.RunObserverQueueCapacity), options.RunObserverQueueCapacity, 1, SayiirOptions.MaxRunObserverQueueCapacity, failures);
        foreach (var tag in options.Tags.Where(t => string.IsNullOrWhiteSpace(t) || t.Length > 64))
            failures.Add($"{nameof(SayiirOptions)}.{nameof(SayiirOptions.Tags)} has an empty or over-long (> 64 characters) tag ('{tag}').");
        if (options.MaxConcurrentAttempts is { } max) Within(nameof(SayiirOptions.MaxConcurrentAttempts), max, 1, SayiirOptions.MaxConcurrencyLimit, failures);
        Positive(nameof(SayiirOptions.PriorityAgingInterval), options.PriorityAgingInterval, failures);
        if (!Enum.IsDefined(options.TaskLogMinimumLevel))
            failures.Add($"{nameof(SayiirOptions)}.{nameof(SayiirOptions.TaskLogMinimumLevel)} is not a log level (was {(int)options.TaskLogMinimumLevel}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ConcurrencyLimit(string option, string name, int limit, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 256)
            failures.Add($"{nameof(SayiirOptions)}.{option} has an empty or over-long (> 256 characters) name ('{name}').");
        Within($"{option}['{name}']", limit, 1, SayiirOptions.MaxConcurrencyLimit, failures);
    }

    private static void PositiveIfSet(string option, TimeSpan? value, List<string> failures)
    {
        if (value is { } set) Positive(option, set, failures);
    }

    private static void Within(string option, int value, int min, int max, List<string> failures)
    {
        if (value < min || value > max) failures.Add($"{nameof(SayiirOptions)}.{option} must be within [{min}, {max}] (was {value}).");
    }

    private static void Positive(string option, TimeSpan value, List<string> failures)
    {
        if (value <= TimeSpan.Zero) failures.Add($"{nameof(SayiirOptions)}.{option} must be positive (was {value}).");
    }
}

/// <summary>Checks <see cref="SayiirClientOptions"/> when the host starts (<c>ValidateOnStart</c>).</summary>
internal sealed class SayiirClientOptionsValidator : IValidateOptions<SayiirClientOptions>
{
    public ValidateOptionsResult Validate(string? name, SayiirClientOptions options) =>
        options.ResultPollWindow <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail(
                $"{nameof(SayiirClientOptions)}.{nameof(SayiirClientOptions.ResultPollWindow)} must be positive (was {options.ResultPollWindow}).")
            : ValidateOptionsResult.Success;
}
