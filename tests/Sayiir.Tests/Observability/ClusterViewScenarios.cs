using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Observability;

/// <summary><see cref="ISayiirClient.GetClusterAsync"/> on the shared two-silo clusters.</summary>
public abstract class ClusterViewScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    [Fact]
    public async Task GetClusterAsync_TaskHeldOnASilo_ListsEverySiloWithThatSilosRunAndAttempt()
    {
        var id = NewId("cluster-view");
        await Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);
        var heldOn = Probe.EventsOf(id, "b")[0].What;
        try
        {
            var silos = await Wait.ForAsync(Client.GetClusterAsync(), Deadline, "the cluster view");

            Assert.Equal(Cluster.Cluster.Silos.Select(s => s.SiloAddress.ToParsableString()).Order(StringComparer.Ordinal), silos.Select(s => s.Address));
            Assert.All(silos, s =>
            {
                Assert.Equal("Active", s.Status);
                Assert.NotNull(s.ActiveRuns);
                Assert.NotNull(s.AttemptsInFlight);
                Assert.NotNull(s.StartedAt);
                Assert.False(string.IsNullOrEmpty(s.Name));
            });
            var holder = Assert.Single(silos, s => Orleans.Runtime.SiloAddress.FromParsableString(s.Address).ToString() == heldOn);
            Assert.True(holder.ActiveRuns >= 1, $"silo {holder.Address} drives {holder.ActiveRuns} run(s) while task b of {id} runs there");
            Assert.True(holder.AttemptsInFlight >= 1, $"silo {holder.Address} has {holder.AttemptsInFlight} attempt(s) in flight while task b of {id} runs there");
        }
        finally
        {
            Probe.Open(id, "b");
        }
        Assert.Equal("ABC", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the held run to finish"));
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryClusterViewScenarios(MemoryClusterFixture fixture) : ClusterViewScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresClusterViewScenarios(PostgresClusterFixture fixture) : ClusterViewScenarios(fixture.Cluster);
