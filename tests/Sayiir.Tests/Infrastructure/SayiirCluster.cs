using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using Sayiir.Hosting;

namespace Sayiir.Tests.Infrastructure;

/// <summary>Which store runs live in.</summary>
public enum Backend
{
    Memory,
    Postgres,
}

/// <summary>Settings of a test cluster.</summary>
public sealed record ClusterSettings
{
    public int Silos { get; init; } = 2;

    /// <summary>
    /// A PostgreSQL database for the Postgres backend; when null the cluster creates one and drops it when disposed
    /// (a database given here belongs to the caller and is left alone).
    /// </summary>
    public string? ConnectionString { get; init; }

    public string ServiceId { get; init; } = $"sayiir-test-{Guid.NewGuid():n}";

    public TimeSpan? ResponseTimeout { get; init; }

    public TimeSpan RecoveryReminderPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The workflows registered on every silo; default: all test workflows.</summary>
    public IReadOnlyList<WorkflowDefinition>? Workflows { get; init; }

    /// <summary>Extra services every silo registers (the samples' task dependencies, for instance).</summary>
    public Action<IServiceCollection>? SiloServices { get; init; }

    /// <summary>More engine configuration on every silo (task filters, for instance), after the workflows and storage.</summary>
    public Action<SayiirSiloBuilder>? Sayiir { get; init; }

    /// <summary>
    /// The engine's clock on every silo (a shared <c>FakeTimeProvider</c> the test advances, for instance); null keeps
    /// the system clock. Orleans itself (reminders, timeouts) keeps real time either way.
    /// </summary>
    public TimeProvider? EngineClock { get; init; }

    /// <summary>Engine configuration of one silo, by its TestingHost name ("Silo_0", "Silo_1", …; a silo started later gets the next number), after <see cref="Sayiir"/>.</summary>
    public Action<string, SayiirSiloBuilder>? PerSilo { get; init; }

    /// <summary>A name part of the database created for the Postgres backend.</summary>
    public string DatabasePrefix { get; init; } = "sayiir_test";
}

/// <summary>An in-process TestingHost cluster with Sayiir and every test workflow registered.</summary>
public sealed class SayiirCluster : IAsyncDisposable
{
    // Set when the cluster created its database itself: then it drops it on disposal.
    private readonly bool _ownsDatabase;

    private SayiirCluster(InProcessTestCluster cluster, Backend backend, string? connectionString, bool ownsDatabase)
    {
        Cluster = cluster;
        Backend = backend;
        ConnectionString = connectionString;
        _ownsDatabase = ownsDatabase;
    }

    /// <summary>Every workflow the tests define, registered when <see cref="ClusterSettings.Workflows"/> is null.</summary>
    public static IEnumerable<WorkflowDefinition> TestWorkflows =>
        TestFlows.All.Concat(FlowLanguageFlows.All).Concat(ObservabilityFlows.All).Concat(GuaranteeFlows.All).Concat(RewindFlows.All).Concat(ObserverFlows.All).Concat(SagaFlows.All).Concat(CursorFlows.All);

    public InProcessTestCluster Cluster { get; }

    public Backend Backend { get; }

    public string? ConnectionString { get; }

    public ISayiirClient Client => Cluster.Client.ServiceProvider.GetRequiredService<ISayiirClient>();

    public static async Task<SayiirCluster> StartAsync(Backend backend, ClusterSettings? settings = null)
    {
        settings ??= new ClusterSettings();
        var ownsDatabase = backend == Backend.Postgres && settings.ConnectionString is null;
        var connectionString = backend == Backend.Postgres
            ? settings.ConnectionString ?? await PostgresServer.CreateDatabaseAsync(settings.DatabasePrefix)
            : null;
        try
        {
            return await DeployAsync(backend, settings, connectionString, ownsDatabase);
        }
        catch when (ownsDatabase)
        {
            await PostgresServer.DropDatabaseAsync(connectionString!);
            throw;
        }
    }

    private static async Task<SayiirCluster> DeployAsync(Backend backend, ClusterSettings settings, string? connectionString, bool ownsDatabase)
    {
        var builder = new InProcessTestClusterBuilder((short)settings.Silos);
        builder.Options.ServiceId = settings.ServiceId;
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            silo.AddSayiir(s =>
            {
                foreach (var workflow in settings.Workflows ?? TestWorkflows) s.AddWorkflow(workflow);
                if (connectionString is not null) s.UsePostgres(connectionString);
                s.Configure(o => o.RecoveryReminderPeriod = settings.RecoveryReminderPeriod);
                settings.Sayiir?.Invoke(s);
                settings.PerSilo?.Invoke(siloOptions.SiloName, s);
            });
            silo.Services.AddSingleton<IGreeter, Greeter>();
            settings.SiloServices?.Invoke(silo.Services);
            // Registered after AddSayiir, so it wins over the default (the system clock).
            if (settings.EngineClock is { } clock) silo.Services.AddKeyedSingleton(SayiirOptions.TimeProviderKey, clock);
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromMilliseconds(500));
            if (settings.ResponseTimeout is { } timeout) silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = timeout);
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddSayiirClient();
            if (settings.ResponseTimeout is { } timeout) client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = timeout);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new SayiirCluster(cluster, backend, connectionString, ownsDatabase);
    }

    /// <summary>The silo a task attempt recorded it ran on.</summary>
    public InProcessSiloHandle SiloAt(string siloAddress) =>
        Cluster.Silos.Single(s => s.SiloAddress.ToString() == siloAddress);

    public async ValueTask DisposeAsync()
    {
        try
        {
            try
            {
                await Cluster.StopAllSilosAsync();
            }
            finally
            {
                await Cluster.DisposeAsync();
            }
        }
        finally
        {
            if (_ownsDatabase) await PostgresServer.DropDatabaseAsync(ConnectionString!);
        }
    }
}
