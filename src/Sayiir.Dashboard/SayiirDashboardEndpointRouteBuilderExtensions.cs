using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sayiir.Dashboard;

/// <summary>Mounts the dashboard's pages and API.</summary>
public static class SayiirDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the dashboard under <paramref name="prefix"/>: the pages at <c>{prefix}/</c>, the JSON API at
    /// <c>{prefix}/api/…</c> and its OpenAPI document at <c>{prefix}/api/openapi/sayiir-dashboard.json</c>.
    /// </summary>
    /// <param name="endpoints">The app's endpoint route builder (a <c>WebApplication</c>).</param>
    /// <param name="prefix">The path prefix, starting with '/'. Default <c>/sayiir</c>.</param>
    /// <returns>
    /// The builder of every dashboard endpoint: conventions added to it (<c>RequireAuthorization(...)</c>,
    /// <c>RequireHost(...)</c>, rate limiting) apply to the pages, reads and actions alike.
    /// </returns>
    /// <exception cref="InvalidOperationException"><see cref="SayiirDashboardServiceCollectionExtensions.AddSayiirDashboard"/> was not called.</exception>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> does not start with '/'.</exception>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public static IEndpointConventionBuilder MapSayiirDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/sayiir")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        if (!prefix.StartsWith('/')) throw new ArgumentException($"The dashboard prefix must start with '/' (was '{prefix}').", nameof(prefix));
        if (endpoints.ServiceProvider.GetService<DashboardMarker>() is null)
            throw new InvalidOperationException("The dashboard's services are missing: call services.AddSayiirDashboard() before MapSayiirDashboard.");
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<SayiirDashboardOptions>>().Value;

        var root = endpoints.MapGroup(prefix.TrimEnd('/'));
        var reads = root.MapGroup("");
        if (options.ReadPolicy is { } readPolicy) reads.RequireAuthorization(readPolicy);
        DashboardAssets.Map(reads);
        DashboardApi.MapReads(reads, options);

        var actions = reads.MapGroup("");
        if (options.ActionPolicy is { } actionPolicy) actions.RequireAuthorization(actionPolicy);
        DashboardApi.MapActions(actions, options);
        return root;
    }
}
