using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sayiir.Dashboard;

namespace Sayiir.Silo;

/// <summary>
/// The dashboard a silo serves when Sayiir:Dashboard:Port is set: a small web app of its own, beside the silo's host,
/// reading and steering runs through the silo's <see cref="ISayiirClient"/>. A separate host keeps a silo without a
/// dashboard free of any HTTP listener.
/// </summary>
internal static class DashboardHost
{
    public static async Task<WebApplication> StartAsync(DashboardSettings settings, bool listenOnAnyAddress, IServiceProvider silo, IConfiguration configuration)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // The silo's configuration (its log levels among it) applies to the dashboard's host too.
        builder.Configuration.AddConfiguration(configuration);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (listenOnAnyAddress) kestrel.Listen(IPAddress.Any, settings.Port);
            else kestrel.Listen(IPAddress.Loopback, settings.Port);
        });
        builder.Services.AddSingleton(silo.GetRequiredService<ISayiirClient>());
        builder.Services.AddSayiirDashboard(o =>
        {
            o.ReadOnly = settings.ReadOnly;
            o.AllowRemoteActions = settings.AllowRemoteActions;
        });
        var app = builder.Build();
        app.MapGet("/", () => Microsoft.AspNetCore.Http.Results.Redirect(settings.Path + "/"));
        app.MapSayiirDashboard(settings.Path);
        await app.StartAsync();
        return app;
    }
}
