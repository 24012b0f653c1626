using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Sayiir.Hosting;
using Sayiir.Samples.Approval;
using Sayiir.Samples.OrderProcessing;
using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Samples;

/// <summary>
/// An in-process cluster running the samples' workflows with the samples' services. Built like
/// <see cref="SayiirCluster"/>, which registers only the engine tests' services.
/// </summary>
public sealed class SampleCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;

    private SampleCluster(InProcessTestCluster cluster) => _cluster = cluster;

    public ISayiirClient Client => _cluster.Client.ServiceProvider.GetRequiredService<ISayiirClient>();

    public static async Task<SampleCluster> StartAsync(Backend backend)
    {
        var connectionString = backend == Backend.Postgres ? await PostgresServer.CreateDatabaseAsync("sayiir_samples") : null;
        // Two silos, as in production: every silo registers every workflow and can resolve every task.
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ServiceId = $"sayiir-samples-{Guid.NewGuid():n}";
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddSayiir(s =>
            {
                s.AddWorkflow(OrderProcessingWorkflow.Definition);
                foreach (var workflow in ApprovalWorkflow.All) s.AddWorkflow(workflow);
                if (connectionString is not null) s.UsePostgres(connectionString);
            });
            OrderProcessingWorkflow.AddServices(silo.Services);
            ApprovalWorkflow.AddServices(silo.Services);
        });
        builder.ConfigureClient(client => client.Services.AddSayiirClient());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new SampleCluster(cluster);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _cluster.StopAllSilosAsync();
        }
        finally
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>One shared in-memory sample cluster.</summary>
public sealed class MemorySampleClusterFixture : IAsyncLifetime
{
    public SampleCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await SampleCluster.StartAsync(Backend.Memory);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>One shared PostgreSQL sample cluster (its own database).</summary>
public sealed class PostgresSampleClusterFixture : IAsyncLifetime
{
    public SampleCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await SampleCluster.StartAsync(Backend.Postgres);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
