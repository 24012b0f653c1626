using Sayiir.Samples.Approval;
using Sayiir.Samples.OrderProcessing;
using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Samples;

/// <summary>A cluster running the samples' workflows with the samples' services (two silos, as in production).</summary>
public static class SampleCluster
{
    public static Task<SayiirCluster> StartAsync(Backend backend) => SayiirCluster.StartAsync(backend, new ClusterSettings
    {
        Silos = 2,
        DatabasePrefix = "sayiir_samples",
        Workflows = [OrderProcessingWorkflow.Definition, .. ApprovalWorkflow.All],
        SiloServices = services =>
        {
            OrderProcessingWorkflow.AddServices(services);
            ApprovalWorkflow.AddServices(services);
        },
    });
}

/// <summary>One shared in-memory sample cluster.</summary>
public sealed class MemorySampleClusterFixture : IAsyncLifetime
{
    public SayiirCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await SampleCluster.StartAsync(Backend.Memory);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>One shared PostgreSQL sample cluster (its own database).</summary>
public sealed class PostgresSampleClusterFixture : IAsyncLifetime
{
    public SayiirCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await SampleCluster.StartAsync(Backend.Postgres);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
