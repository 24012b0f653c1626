using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Engine;

/// <summary>Crash and restart scenarios: each test owns its cluster, so it can kill silos freely.</summary>
public sealed class RecoveryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static string NewId(string name) => $"{name}-{Guid.NewGuid():n}";

    [Fact]
    public async Task RetryBackoff_SiloHostingRunKilled_ResumesOnSurvivorWithoutResettingAttemptOrWait()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("backoff-kill");
        await cluster.Client.StartAsync(TestFlows.SlowBackoff, 0, id);
        await Wait.UntilAsync(() => Probe.EventsOf(id, "flaky").Any(e => e.Attempt == 1), Deadline, "attempt 1 to fail");
        var first = Probe.EventsOf(id, "flaky").Single(e => e.Attempt == 1);
        // The retry checkpoint is written right after the failure: wait until the run is parked in its backoff.
        await Wait.UntilAsync(async () => (await cluster.Client.GetStatusAsync(id)).UpdatedAt > first.At, Deadline, "the retry checkpoint");

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(first.What));

        var output = await Wait.ForAsync(cluster.Client.WaitForResultAsync<int>(id), Deadline, "the run to finish on the surviving silo");
        Assert.Equal(2, output);
        var second = Probe.EventsOf(id, "flaky").Single(e => e.Attempt == 2);
        Assert.NotEqual(first.What, second.What);
        var gap = second.At - first.At;
        // Not earlier than the durable due instant, and not a fresh 6 s wait started after the takeover.
        Assert.True(gap >= TestFlows.BackoffDelay - TimeSpan.FromMilliseconds(50), $"attempt 2 started {gap} after attempt 1, before the backoff ended");
        Assert.True(gap < TestFlows.BackoffDelay + TimeSpan.FromSeconds(4), $"attempt 2 started {gap} after attempt 1: the wait was restarted");
        Assert.Equal(2, Probe.Executions(id, "flaky"));
    }

    [Fact]
    public async Task Run_SiloRunningTaskKilled_ReactivatesOnSurvivorAndSkipsCompletedTasks()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("task-kill");
        await cluster.Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);
        var silo = Probe.EventsOf(id, "b").Single().What;
        Probe.Open(id, "b");
        // The open gate lets the re-dispatched B pass; the killed silo's attempt never reports back.
        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(silo));

        var output = await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), Deadline, "the run to finish after the kill");

        Assert.Equal("ABC", output);
        Assert.Equal(1, Probe.Executions(id, "a"));
        Assert.InRange(Probe.Executions(id, "b"), 1, 2);
        Assert.Equal(1, Probe.Executions(id, "c"));
    }

    [Fact]
    public async Task Run_FullClusterRestart_CompletesWithoutRerunningCheckpointedTasks()
    {
        var database = await PostgresServer.CreateDatabaseAsync("sayiir_restart");
        var settings = new ClusterSettings { ConnectionString = database, Silos = 1 };
        var id = NewId("restart");
        await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            await before.Client.StartAsync(TestFlows.Held, "", id);
            await Probe.WaitStartedAsync(id, "b", Deadline);
        }

        // Every silo is gone; a new cluster on the same database and service id must pick the run up unasked.
        Probe.Open(id, "b");
        await using var after = await SayiirCluster.StartAsync(Backend.Postgres, settings);
        var output = await Wait.ForAsync(after.Client.WaitForResultAsync<string>(id), Deadline, "the run to finish after the restart");

        Assert.Equal("ABC", output);
        Assert.Equal(1, Probe.Executions(id, "a"));
        Assert.Equal(2, Probe.Executions(id, "b"));
        Assert.Equal(1, Probe.Executions(id, "c"));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task RunAsync_TaskLongerThanResponseTimeout_Completes(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, new ClusterSettings { Silos = 1, ResponseTimeout = TimeSpan.FromSeconds(2) });

        var output = await Wait.ForAsync(cluster.Client.RunAsync(TestFlows.Sleeper, 5000, NewId("long")), Deadline, "a 5 s task under a 2 s response timeout");

        Assert.Equal("slept 5000 ms", output);
    }
}
