using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Configuration;
using Sayiir.Client;
using Sayiir.Persistence;
using Sayiir.Runtime;

namespace Sayiir.Hosting;

/// <summary>Registers Sayiir with Orleans hosts.</summary>
public static class SayiirHostingExtensions
{
    private const string AdoNetInvariant = "Npgsql";

    /// <summary>
    /// Adds the Sayiir engine to a silo: the workflow and task-worker grains, a grain storage named
    /// <see cref="SayiirOptions.StorageName"/>, the reminder service, and <see cref="ISayiirClient"/> for
    /// co-hosted callers. In-memory storage and reminders by default; PostgreSQL with
    /// <see cref="SayiirSiloBuilder.UsePostgres"/>. Calling it again adds workflows without registering twice.
    /// </summary>
    public static ISiloBuilder AddSayiir(this ISiloBuilder builder, Action<SayiirSiloBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var sayiir = new SayiirSiloBuilder();
        configure?.Invoke(sayiir);
        var services = builder.Services;
        foreach (var workflow in sayiir.Workflows) services.AddSingleton(new WorkflowRegistration(workflow));
        if (sayiir.ConfigureOptions is { } configureOptions) services.Configure(configureOptions);

        if (services.Any(s => s.ServiceType == typeof(SayiirSiloMarker))) return builder;
        services.AddSingleton<SayiirSiloMarker>();

        services.AddOptions<SayiirOptions>().BindConfiguration("Sayiir").Validate(o => { o.Validate(); return true; });
        services.TryAddSingleton(sp => new WorkflowRegistry(sp.GetServices<WorkflowRegistration>().Select(r => r.Definition)));
        services.TryAddSingleton<RunningAttempts>();
        services.TryAddSingleton<RunLeases>();
        services.TryAddSingleton<IRunOwnership, SiloRunOwnership>();
        builder.AddPlacementDirector<SiloPinnedPlacementStrategy, SiloPinnedPlacementDirector>();
        // A graceful deactivation waits for the hand-off window: Orleans must not cut it short.
        services.AddOptions<GrainCollectionOptions>().PostConfigure<IOptions<SayiirOptions>>((collection, sayiirOptions) =>
        {
            var needed = sayiirOptions.Value.HandoffTimeout * 2 + TimeSpan.FromSeconds(5);
            if (collection.DeactivationTimeout < needed) collection.DeactivationTimeout = needed;
        });
        services.TryAddSingleton<LocalWorkers>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, RecoveryWatcher>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, TaskServicesCheck>();
        AddClientServices(services);

        var storageSerializer = RunStateStorage.CreateSerializer();
        if (sayiir.PostgresConnectionString is { } userConnectionString)
        {
            var connectionString = PostgresConnectionTuning.ForEngine(userConnectionString);
            if (sayiir.InstallSchema)
            {
                services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp =>
                    new PostgresSchemaStartup(connectionString, PostgresSchemaParts.Storage | PostgresSchemaParts.Reminders,
                        sp.GetService<ILogger<PostgresSchemaStartup>>() ?? NullLogger<PostgresSchemaStartup>.Instance));
            }
            builder.AddAdoNetGrainStorage(SayiirOptions.StorageName, o =>
            {
                o.Invariant = AdoNetInvariant;
                o.ConnectionString = connectionString;
                o.GrainStorageSerializer = storageSerializer;
            });
            builder.UseAdoNetReminderService(o =>
            {
                o.Invariant = AdoNetInvariant;
                o.ConnectionString = connectionString;
            });
            services.AddSingleton(sp => new PostgresRunJournal(connectionString, sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
                sp.GetRequiredService<ILogger<PostgresRunJournal>>()));
            services.AddSingleton<IRunJournal>(sp => sp.GetRequiredService<PostgresRunJournal>());
            services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<PostgresRunJournal>());
        }
        else
        {
            builder.AddMemoryGrainStorage(SayiirOptions.StorageName, o => o.GrainStorageSerializer = storageSerializer);
            builder.UseInMemoryReminderService();
            services.AddSingleton<MemoryRunJournal>();
            services.AddSingleton<IRunJournal>(sp => sp.GetRequiredService<MemoryRunJournal>());
            services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<MemoryRunJournal>());
        }
        return builder;
    }

    /// <summary>
    /// Adds <see cref="ISayiirClient"/> to an application that talks to a Sayiir cluster through an Orleans client
    /// (configure the client with <c>UseOrleansClient</c>). Idempotent.
    /// </summary>
    public static IServiceCollection AddSayiirClient(this IServiceCollection services, Action<SayiirClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (configure is not null) services.Configure(configure);
        AddClientServices(services);
        return services;
    }

    private static void AddClientServices(IServiceCollection services)
    {
        services.AddOptions<SayiirClientOptions>().Validate(o => { o.Validate(); return true; });
        services.TryAddSingleton<IPayloadCodec, JsonPayloadCodec>();
        services.TryAddSingleton<ISayiirClient, SayiirClient>();
    }

    private sealed class SayiirSiloMarker;
}

/// <summary>Installs the PostgreSQL schema before the ADO.NET providers read their queries.</summary>
internal sealed class PostgresSchemaStartup(string connectionString, PostgresSchemaParts parts, ILogger<PostgresSchemaStartup> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaStartup), ServiceLifecycleStage.First, async ct =>
        {
            Log.InstallingSchema(logger, parts.ToString(), PostgresSchemaInstaller.DescribeTarget(connectionString));
            var recorded = await PostgresSchemaInstaller.InstallAsync(connectionString, parts, ct);
            if (recorded.Count > 0)
            {
                Log.SchemaMigrated(logger, PostgresSchemaInstaller.DescribeTarget(connectionString), string.Join(", ", recorded),
                    PostgresSchemaInstaller.LatestVersion);
            }
        });
}
