using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>PostgreSQL going away under load, and not being there at start-up.</summary>
public sealed class StorageFaultTests
{
    private static readonly string[] SteadySteps = ["s1", "s2", "s3", "s4", "s5"];

    [Fact]
    public async Task Runs_PostgresRestartedMidFlight_AllCompleteWithCorrectOutputs()
    {
        await using var postgres = await PrivatePostgres.StartAsync(55441);
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres,
            new ClusterSettings { ConnectionString = postgres.ConnectionString, Silos = 2, Workflows = [FaultFlows.Steady] });
        var ids = Enumerable.Range(0, 20).Select(i => NewId($"fault-{i}")).ToList();
        for (var i = 0; i < ids.Count; i++) await cluster.Client.StartAsync(FaultFlows.Steady, i * 100, ids[i]);
        await Probe.UntilAsync(() => ids.All(id => Probe.Executions(id, "s2") == 1), OutageDeadline, "every run to reach step 2");

        await postgres.StopAsync();
        // Tasks in flight finish while the database is down; their checkpoints wait (and so do the next steps).
        await Probe.UntilAsync(() => ids.All(id => Probe.EventsOf(id, "s2").Any(e => e.What == "end")), OutageDeadline,
            "every run to finish its step-2 attempt while the database is down");
        await postgres.StartAgainAsync();

        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            var output = await WaitForResultTolerantAsync(cluster.Client, id);
            Assert.Equal(i * 100 + 5, output);
        }
        // Nothing lost and nothing run twice that was checkpointed before the outage.
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "s1")));
    }

    [Fact]
    public async Task Deploy_PostgresUnreachable_FailsNamingTheTarget()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => SayiirCluster.StartAsync(Backend.Postgres,
            new ClusterSettings { ConnectionString = "Host=127.0.0.1;Port=1;Database=nowhere;Username=postgres;Timeout=3", Silos = 1 }));

        var all = string.Join(" | ", ExceptionChain.Flatten(ex).Select(e => e.Message));
        Assert.Contains("127.0.0.1:1", all);
        Assert.Contains(ExceptionChain.Flatten(ex), e => e is SayiirStorageUnavailableException);
    }

    [Fact]
    public async Task StartAsync_PostgresDown_ThrowsStorageUnavailableAndWritesNothing()
    {
        await using var postgres = await PrivatePostgres.StartAsync(55442);
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres,
            new ClusterSettings { ConnectionString = postgres.ConnectionString, Silos = 1, Workflows = [FaultFlows.Steady] });

        await postgres.StopAsync();
        // The new run's activation cannot read its row: the caller gets our type naming the run and the database,
        // not the provider's exception (which Orleans cannot send to a client).
        var id = NewId("fault-start");
        var failure = await Assert.ThrowsAsync<SayiirStorageUnavailableException>(() => cluster.Client.StartAsync(FaultFlows.Steady, 1, id));
        Assert.Contains(id, failure.Message);
        Assert.Equal(Sayiir.Persistence.PostgresSchemaInstaller.DescribeTarget(postgres.ConnectionString), failure.Target);
        await postgres.StartAgainAsync();

        // The failed start wrote nothing: the same id starts cleanly now and runs every step once.
        await Wait.UntilAsync(async () =>
        {
            try { await cluster.Client.StartAsync(FaultFlows.Steady, 1, id); return true; }
            catch (SayiirStorageUnavailableException) { return false; }
        }, OutageDeadline, "the start to succeed once the database is back");
        Assert.Equal(1 + 5, await WaitForResultTolerantAsync(cluster.Client, id));
        Assert.All(SteadySteps, step => Assert.Equal(1, Probe.Executions(id, step)));
    }

    // Calls may fail while the database is down (activations cannot read their state); the run itself must not.
    private static async Task<int> WaitForResultTolerantAsync(ISayiirClient client, string id)
    {
        var result = 0;
        await Wait.UntilAsync(async () =>
        {
            var status = await client.GetStatusAsync(id);
            if (status.State is WorkflowState.Failed or WorkflowState.Cancelled) throw new Xunit.Sdk.XunitException($"run {id} ended {status.State}: {status.Failure?.Message}");
            if (status.State != WorkflowState.Completed) return false;
            result = await client.WaitForResultAsync<int>(id);
            return true;
        }, OutageDeadline, $"run {id} to complete after the database came back");
        return result;
    }
}
