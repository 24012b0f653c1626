using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Constraints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Sayiir.Dashboard;

/// <summary>Registers the dashboard's services.</summary>
public static class SayiirDashboardServiceCollectionExtensions
{
    /// <summary>
    /// Adds the dashboard's services and options (validated at start-up). The app must also have an
    /// <see cref="ISayiirClient"/> (from <c>AddSayiir</c> in a co-hosted silo or <c>AddSayiirClient</c>); mount the
    /// pages and API with <see cref="SayiirDashboardEndpointRouteBuilderExtensions.MapSayiirDashboard"/>.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Changes the options; null keeps the defaults (see <see cref="SayiirDashboardOptions"/>).</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddSayiirDashboard(this IServiceCollection services, Action<SayiirDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SayiirDashboardOptions>();
        if (configure is not null) options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SayiirDashboardOptions>, SayiirDashboardOptionsValidator>());
        if (!services.Any(d => d.ServiceType == typeof(DashboardMarker)))
        {
            services.AddSingleton<DashboardMarker>();
            // The OpenAPI route uses a regex constraint, which WebApplication.CreateSlimBuilder does not register.
            services.Configure<RouteOptions>(o => o.SetParameterPolicy<RegexInlineRouteConstraint>("regex"));
            // The API's own OpenAPI document; its endpoints carry this group name, so they stay out of the app's documents.
            services.AddOpenApi(DashboardApi.DocumentName, o =>
            {
                o.ShouldInclude = d => d.GroupName == DashboardApi.DocumentName;
                o.AddDocumentTransformer((document, _, _) =>
                {
                    document.Info.Title = "Sayiir dashboard API";
                    document.Info.Description = "Lists, inspects and steers Sayiir workflow runs. Errors are RFC 7807 problem details.";
                    return Task.CompletedTask;
                });
            });
        }
        return services;
    }
}

/// <summary>Shows that <see cref="SayiirDashboardServiceCollectionExtensions.AddSayiirDashboard"/> ran.</summary>
internal sealed class DashboardMarker;
