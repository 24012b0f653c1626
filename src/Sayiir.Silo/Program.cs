// Sayiir.Silo: a standalone silo host.
//
//   dotnet run --project src/Sayiir.Silo                              single dev silo: in-memory storage, localhost clustering
//   dotnet run --project src/Sayiir.Silo -- --Sayiir:Postgres "Host=...;Database=...;Username=..."
//                                                                     PostgreSQL storage, reminders and clustering (a cluster member)
//   SAYIIR__POSTGRES="Host=..." SAYIIR__SILOPORT=11112 SAYIIR__GATEWAYPORT=30001 dotnet src/Sayiir.Silo/bin/Release/net10.0/Sayiir.Silo.dll
//
// Workflows come from modules: assemblies listed in Sayiir:Modules (paths, ';'-separated or as an array), each
// exposing public ISayiirModule implementations. Every setting is described in README.md.
//
// Exit status: 0 after a normal shutdown; 2 for invalid settings or modules; 3 when PostgreSQL is unreachable at
// start-up (the message names host:port/database); 1 for any other start-up failure.
using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Sayiir;
using Sayiir.Hosting;
using Sayiir.Silo;

var builder = Host.CreateApplicationBuilder(args);
// Defaults that any configuration source (appsettings.json, environment, command line) overrides.
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
{
    InitialData = new Dictionary<string, string?> { ["Logging:LogLevel:Orleans"] = "Warning", ["Logging:LogLevel:Polly"] = "Warning" },
});
// While starting, a failure is reported once, below: one clear line when PostgreSQL is unreachable, the full exception
// otherwise. Orleans and the host would each log it again with a stack trace (four times for one refused connection).
var startupLogging = new MemoryConfigurationSource
{
    InitialData = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Orleans.Runtime.SiloLifecycleSubject"] = "Critical",
        ["Logging:LogLevel:Orleans.Runtime.Silo"] = "Critical",
        ["Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host"] = "Critical",
    },
};
builder.Configuration.Sources.Insert(1, startupLogging);

SiloSettings settings;
List<ISayiirModule> modules;
try
{
    settings = SiloSettings.From(builder.Configuration);
    modules = settings.LoadModules();
}
catch (ValidationException ex)
{
    await Console.Error.WriteLineAsync($"Sayiir.Silo: {ex.Message}");
    return 2;
}

builder.UseOrleans(silo =>
{
    silo.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = settings.ClusterId;
        o.ServiceId = settings.ServiceId;
    });
    if (settings.Clustering == ClusteringMode.Postgres)
    {
        silo.UseSayiirPostgresClustering(settings.Postgres!);
        silo.Configure<EndpointOptions>(o =>
        {
            o.SiloPort = settings.SiloPort;
            o.GatewayPort = settings.GatewayPort;
            if (settings.AdvertisedAddress is { } address) o.AdvertisedIPAddress = address;
            if (settings.ListenOnAnyAddress)
            {
                o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, settings.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, settings.GatewayPort);
            }
        });
    }
    else
    {
        // Single development silo on loopback (UseLocalhostClustering advertises 127.0.0.1).
        silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
    }

    var membership = settings.Membership;
    silo.Configure<ClusterMembershipOptions>(o =>
    {
        if (membership.ProbeTimeout is { } probeTimeout) o.ProbeTimeout = probeTimeout;
        if (membership.NumMissedProbesLimit is { } missedProbes) o.NumMissedProbesLimit = missedProbes;
        if (membership.IAmAliveTablePublishTimeout is { } iAmAlive) o.IAmAliveTablePublishTimeout = iAmAlive;
        if (membership.NumMissedTableIAmAliveLimit is { } missedIAmAlive) o.NumMissedTableIAmAliveLimit = missedIAmAlive;
        if (membership.TableRefreshTimeout is { } tableRefresh) o.TableRefreshTimeout = tableRefresh;
    });

    if (settings.RecoveryReminderPeriod is { } period && period < TimeSpan.FromMinutes(1))
    {
        // Orleans refuses reminder periods under its minimum (1 minute by default); lower it to the configured period.
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = period);
    }

    silo.AddSayiir(sayiir =>
    {
        if (settings.Postgres is { } connectionString) sayiir.UsePostgres(connectionString);
        if (settings.RecoveryReminderPeriod is { } recovery) sayiir.Configure(o => o.RecoveryReminderPeriod = recovery);
        // Encryption at rest when Sayiir:Encryption:ActiveKeyId is set (keys under Sayiir:Encryption:Keys).
        if (settings.Encryption is { } keyring) sayiir.UseEncryption(keyring);
        foreach (var module in modules) module.Configure(sayiir, builder.Services);
    });
});

using var host = builder.Build();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sayiir.Silo");
Log.Starting(logger, settings.ClusterId, settings.ServiceId,
    settings.Clustering == ClusteringMode.Postgres ? $"PostgreSQL membership table at {settings.DescribePostgres()}" : "localhost (single silo)",
    settings.Postgres is null ? "in-memory" : $"PostgreSQL at {settings.DescribePostgres()}",
    settings.AdvertisedAddress?.ToString() ?? (settings.Clustering == ClusteringMode.Localhost ? "127.0.0.1" : "(auto)"),
    settings.SiloPort, settings.GatewayPort, modules.Count);

try
{
    await host.StartAsync();
}
catch (Exception ex)
{
    return await ReportStartFailureAsync(ex, settings, logger);
}

// Started: back to the normal log levels (removing the source reloads the configuration and the log filters).
builder.Configuration.Sources.Remove(startupLogging);
Log.Started(logger, Environment.ProcessId, settings.SiloPort, settings.GatewayPort);

WebApplication? dashboard = null;
if (settings.Dashboard is { } dashboardSettings)
{
    try
    {
        dashboard = await DashboardHost.StartAsync(dashboardSettings, settings.ListenOnAnyAddress, host.Services, builder.Configuration);
        Log.DashboardStarted(logger, string.Join(", ", dashboard.Urls.Select(u => u.TrimEnd('/') + dashboardSettings.Path + "/")));
    }
    catch (IOException ex)
    {
        // Kestrel reports a port in use as an IOException: the silo must not run half-configured.
        await Console.Error.WriteLineAsync($"Sayiir.Silo: cannot serve the dashboard on port {dashboardSettings.Port}: {ex.Message}");
        await host.StopAsync();
        return 1;
    }
}

await host.WaitForShutdownAsync();
if (dashboard is not null) await dashboard.DisposeAsync();
return 0;

static async Task<int> ReportStartFailureAsync(Exception ex, SiloSettings settings, ILogger logger)
{
    if (Find<SayiirStorageUnavailableException>(ex) is { } unavailable)
    {
        Log.StorageUnavailable(logger, unavailable.Target, unavailable.Message);
        await Console.Error.WriteLineAsync($"Sayiir.Silo: cannot start: {unavailable.Message}");
        return 3;
    }
    if (Find<OptionsValidationException>(ex) is { } invalid)
    {
        await Console.Error.WriteLineAsync($"Sayiir.Silo: cannot start: invalid options: {invalid.Message}");
        return 2;
    }
    var root = Find<SayiirException>(ex) ?? (Exception?)Find<Npgsql.NpgsqlException>(ex) ?? ex;
    Log.StartFailed(logger, root);
    await Console.Error.WriteLineAsync(
        $"Sayiir.Silo: cannot start (cluster '{settings.ClusterId}', PostgreSQL {settings.DescribePostgres()}): {root.GetType().Name}: {root.Message}");
    return 1;
}

// Walks inner exceptions, including every branch of aggregates (lifecycle stages run their observers concurrently).
static T? Find<T>(Exception? ex) where T : Exception => ex switch
{
    null => null,
    T match => match,
    AggregateException aggregate => aggregate.InnerExceptions.Select(Find<T>).FirstOrDefault(e => e is not null),
    _ => Find<T>(ex.InnerException),
};
