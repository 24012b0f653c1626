namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// Base of the scenario classes that run on a cluster shared with other classes: the cluster and its Sayiir client.
/// Tests on a shared cluster use unique instance ids and never change the cluster as a whole.
/// </summary>
public abstract class ClusterScenarios(SayiirCluster cluster)
{
    protected SayiirCluster Cluster { get; } = cluster;

    protected ISayiirClient Client => Cluster.Client;
}
