using Microsoft.Extensions.Options;

namespace Sayiir.Hosting;

/// <summary>
/// Settings of a webhook notifier (<see cref="SayiirSiloBuilder.AddWebhookNotifier"/>): where to POST, for which runs,
/// and how to retry. Checked when the notifier is added: an invalid value throws an
/// <see cref="OptionsValidationException"/> naming it.
/// </summary>
public sealed class WebhookNotifierOptions
{
    /// <summary>The absolute http or https URL the JSON body is POSTed to. Required.</summary>
    public Uri? Url { get; set; }

    /// <summary>Only runs of these workflows (by name); null or empty: every workflow.</summary>
    public IList<string>? Workflows { get; set; }

    /// <summary>
    /// The states that are posted. Default: <see cref="WorkflowState.Failed"/>, <see cref="WorkflowState.Cancelled"/>
    /// and <see cref="WorkflowState.Compensated"/>.
    /// </summary>
    public IList<WorkflowState> States { get; set; } = [WorkflowState.Failed, WorkflowState.Cancelled, WorkflowState.Compensated];

    /// <summary>How many times a POST is tried (a network error, a timeout or a non-2xx answer is retried). Within [1, 100]. Default: 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The wait before the second try; it doubles each try, up to <see cref="MaxBackoff"/>. Positive. Default: 1 second.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two tries; at least <see cref="InitialBackoff"/>. Default: 1 minute.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long one POST may take. Positive. Default: 10 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A validated copy (so later changes to this instance do not reach the running notifier).</summary>
    internal WebhookNotifierOptions Validated()
    {
        var failures = new List<string>();
        const string name = nameof(WebhookNotifierOptions);
        if (Url is null || !Url.IsAbsoluteUri || (Url.Scheme != Uri.UriSchemeHttp && Url.Scheme != Uri.UriSchemeHttps))
            failures.Add($"{name}.{nameof(Url)} must be an absolute http or https URL (was {(Url is null ? "null" : Url.OriginalString)}).");
        if (States is null || States.Count == 0)
            failures.Add($"{name}.{nameof(States)} must name at least one state.");
        else if (States.Where(s => s == WorkflowState.NotFound || !Enum.IsDefined(s)).Select(s => s.ToString()).ToList() is { Count: > 0 } invalid)
            failures.Add($"{name}.{nameof(States)} may not contain {string.Join(", ", invalid)} (runs never change to it).");
        if (Workflows?.Any(string.IsNullOrWhiteSpace) == true)
            failures.Add($"{name}.{nameof(Workflows)} may not contain an empty workflow name.");
        if (MaxAttempts is < 1 or > 100)
            failures.Add($"{name}.{nameof(MaxAttempts)} must be within [1, 100] (was {MaxAttempts}).");
        if (InitialBackoff <= TimeSpan.Zero)
            failures.Add($"{name}.{nameof(InitialBackoff)} must be positive (was {InitialBackoff}).");
        if (MaxBackoff < InitialBackoff)
            failures.Add($"{name}.{nameof(MaxBackoff)} ({MaxBackoff}) must be at least {nameof(InitialBackoff)} ({InitialBackoff}).");
        if (RequestTimeout <= TimeSpan.Zero)
            failures.Add($"{name}.{nameof(RequestTimeout)} must be positive (was {RequestTimeout}).");
        if (failures.Count > 0) throw new OptionsValidationException(Options.DefaultName, typeof(WebhookNotifierOptions), failures);
        return new WebhookNotifierOptions
        {
            Url = Url,
            Workflows = Workflows is { Count: > 0 } ? [.. Workflows] : null,
            States = [.. States!],
            MaxAttempts = MaxAttempts,
            InitialBackoff = InitialBackoff,
            MaxBackoff = MaxBackoff,
            RequestTimeout = RequestTimeout,
        };
    }
}
