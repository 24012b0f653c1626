using Microsoft.Extensions.DependencyInjection;
using Sayiir.Tests.Samples;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// The clusters the scenario classes share, one per backend, each an xunit collection: the classes of a collection
/// run one after another on its cluster (and, for PostgreSQL, its one database), while the collections run in
/// parallel with each other and with the classes that start clusters of their own (the kill and restart tests).
/// </summary>
public static class SharedClusters
{
    /// <summary>Name of the collection sharing <see cref="MemoryClusterFixture"/>.</summary>
    public const string Memory = "shared in-memory cluster";

    /// <summary>Name of the collection sharing <see cref="PostgresClusterFixture"/>.</summary>
    public const string Postgres = "shared PostgreSQL cluster";

    /// <summary>Every test workflow and the samples' (with the services their tasks resolve), so the sample tests share the cluster too.</summary>
    public static ClusterSettings Settings() => new()
    {
        Workflows = [.. SayiirCluster.TestWorkflows, .. SampleCluster.Workflows],
        SiloServices = services =>
        {
            SampleCluster.AddServices(services);
            services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider, TaskLogRecorder>();
        },
        // The throwing and blocking observers act only on runs of their own id prefix; the recording one sees all.
        Sayiir = s => s.AddRunObserver<ThrowingRunObserver>().AddRunObserver<BlockingRunObserver>().AddRunObserver<RecordingRunObserver>(),
    };
}

/// <summary>A cluster started before the first class of its collection and stopped (its database dropped) after the last.</summary>
public abstract class SharedClusterFixture(Backend backend) : IAsyncLifetime
{
    public SayiirCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await SayiirCluster.StartAsync(backend, SharedClusters.Settings());

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The in-memory cluster of collection <see cref="SharedClusters.Memory"/>.</summary>
public sealed class MemoryClusterFixture() : SharedClusterFixture(Backend.Memory);

/// <summary>The PostgreSQL cluster (its own database) of collection <see cref="SharedClusters.Postgres"/>.</summary>
public sealed class PostgresClusterFixture() : SharedClusterFixture(Backend.Postgres);

[CollectionDefinition(SharedClusters.Memory)]
public sealed class SharedMemoryClusterDefinition : ICollectionFixture<MemoryClusterFixture>;

[CollectionDefinition(SharedClusters.Postgres)]
public sealed class SharedPostgresClusterDefinition : ICollectionFixture<PostgresClusterFixture>;
