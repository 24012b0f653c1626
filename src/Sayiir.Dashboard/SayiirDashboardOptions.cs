using Microsoft.Extensions.Options;

namespace Sayiir.Dashboard;

/// <summary>
/// Options of the dashboard (<see cref="SayiirDashboardServiceCollectionExtensions.AddSayiirDashboard"/>). The defaults
/// are safe for a dashboard nobody configured: reads are open to whoever can reach the endpoint, actions only to
/// requests from the loopback address.
/// </summary>
public sealed class SayiirDashboardOptions
{
    /// <summary>
    /// Refuse every action (start, cancel, pause, unpause, resume, signal, rewind, upgrade) with 403, and hide the action
    /// forms on the pages. Default false.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// Allow actions from any client address. Default false: an action is accepted only when the request's remote
    /// address is a loopback address (127.0.0.0/8 or ::1), which protects a dashboard mounted without any
    /// authorization. Set it to true once actions require an authenticated, authorized user (see
    /// <see cref="ActionPolicy"/>). Behind a reverse proxy on the same host every request comes from loopback: run
    /// <c>UseForwardedHeaders</c> first so the remote address is the real client's, or require a policy.
    /// </summary>
    public bool AllowRemoteActions { get; set; }

    /// <summary>
    /// The name of an ASP.NET Core authorization policy required by every read (the pages, the API's GET endpoints and
    /// the OpenAPI document). Null (the default): none, beyond what the endpoint builder returned by
    /// <see cref="SayiirDashboardEndpointRouteBuilderExtensions.MapSayiirDashboard"/> requires.
    /// </summary>
    public string? ReadPolicy { get; set; }

    /// <summary>
    /// The name of an ASP.NET Core authorization policy required by every action, in addition to the read
    /// requirements. Null (the default): none.
    /// </summary>
    public string? ActionPolicy { get; set; }

    /// <summary>How often the pages poll the API for changes: 200 ms to 1 minute. Default 2 seconds.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The page size of the runs listing when a request does not give one: 1 to 1000. Default 50.</summary>
    public int DefaultPageSize { get; set; } = 50;
}

/// <summary>Checks <see cref="SayiirDashboardOptions"/> (at start-up, and when the dashboard is mapped).</summary>
internal sealed class SayiirDashboardOptionsValidator : IValidateOptions<SayiirDashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, SayiirDashboardOptions options)
    {
        var errors = new List<string>();
        if (options.ReadPolicy is { } read && string.IsNullOrWhiteSpace(read))
            errors.Add("ReadPolicy must be null or a policy name, not empty.");
        if (options.ActionPolicy is { } action && string.IsNullOrWhiteSpace(action))
            errors.Add("ActionPolicy must be null or a policy name, not empty.");
        if (options.RefreshInterval < TimeSpan.FromMilliseconds(200) || options.RefreshInterval > TimeSpan.FromMinutes(1))
            errors.Add($"RefreshInterval must be between 200 ms and 1 minute (was {options.RefreshInterval}).");
        if (options.DefaultPageSize is < 1 or > 1000)
            errors.Add($"DefaultPageSize must be between 1 and 1000 (was {options.DefaultPageSize}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
