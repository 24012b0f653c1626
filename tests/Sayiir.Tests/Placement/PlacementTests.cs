using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Sayiir.Runtime;
using Sayiir.Tests.Infrastructure;
using Xunit.Abstractions;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Placement;

/// <summary>Task placement across a 3-silo PostgreSQL cluster: each test owns its cluster (some kill or stop silos).</summary>
public sealed class PlacementTests(ITestOutputHelper output)
{
    private static ClusterSettings Settings(Action<string, Sayiir.Hosting.SayiirSiloBuilder>? perSilo = null) => new()
    {
        Silos = 3,
        Workflows = PlacementFlows.All,
        PerSilo = perSilo,
    };

    [Fact]
    public async Task Fork_ThirtyCpuBranchesWithClusterPlacement_EverySiloExecutesSome()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings());
        var local = NewId("fanout-local");
        var clustered = NewId("fanout-cluster");

        var started = Stopwatch.GetTimestamp();
        Assert.Equal(PlacementFlows.Branches, await Wait.ForAsync(cluster.Client.RunAsync(PlacementFlows.FanoutLocal, 0, local), LongDeadline, "the local fan-out"));
        var localWall = Stopwatch.GetElapsedTime(started);
        started = Stopwatch.GetTimestamp();
        Assert.Equal(PlacementFlows.Branches, await Wait.ForAsync(cluster.Client.RunAsync(PlacementFlows.FanoutCluster, 0, clustered), LongDeadline, "the cluster fan-out"));
        var clusterWall = Stopwatch.GetElapsedTime(started);

        var perSilo = Enumerable.Range(0, PlacementFlows.Branches)
            .SelectMany(i => Probe.EventsOf(clustered, $"cpu{i}"))
            .GroupBy(e => e.What)
            .ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"30 branches x 200 ms CPU: Local {localWall.TotalMilliseconds:0} ms, Cluster {clusterWall.TotalMilliseconds:0} ms " +
            $"(in-process silos sharing {Environment.ProcessorCount} cores); cluster branches per silo: {string.Join(", ", perSilo.Select(p => $"{p.Key}={p.Value}"))}");
        Assert.Equal(cluster.Cluster.Silos.Count, perSilo.Count);
        Assert.Equal(PlacementFlows.Branches, perSilo.Values.Sum());
        // Local placement keeps every branch on the run's silo.
        Assert.Single(Enumerable.Range(0, PlacementFlows.Branches).SelectMany(i => Probe.EventsOf(local, $"cpu{i}")).Select(e => e.What).Distinct());
        Assert.All(Enumerable.Range(0, PlacementFlows.Branches), i => Assert.Equal(1, Probe.Executions(clustered, $"cpu{i}")));
    }

    [Fact]
    public async Task RequireTags_TaggedSiloStoppedThenStarted_RunsOnlyThereAndWaitsMeanwhile()
    {
        // The silo named here declares "gpu"; after it stops, silos started later declare it too.
        var gpuSilos = new HashSet<string> { "Silo_2" };
        var laterSilosHaveGpu = false;
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings((name, s) =>
        {
            if (gpuSilos.Contains(name) || laterSilosHaveGpu) s.Configure(o => o.Tags.Add("gpu"));
        }));
        var gpuSilo = cluster.Cluster.Silos.Single(s => s.Name == "Silo_2");
        var ids = Enumerable.Range(0, 6).Select(i => NewId($"gpu-{i}")).ToList();
        await Wait.ForAsync(Task.WhenAll(ids.Select(id => cluster.Client.RunAsync(PlacementFlows.Gpu, "", id))), LongDeadline, "the gpu runs");
        Assert.All(ids, id => Assert.Equal(gpuSilo.SiloAddress.ToString(), Probe.EventsOf(id, "gpu").Single().What));
        // The runs themselves were spread (their first task ran where the run lives).
        output.WriteLine($"runs on: {string.Join(", ", ids.Select(id => Probe.EventsOf(id, "a").Single().What))}; gpu silo {gpuSilo.SiloAddress}");

        await cluster.Cluster.StopSiloAsync(gpuSilo);
        var waiting = NewId("gpu-waits");
        await cluster.Client.StartAsync(PlacementFlows.Gpu, "", waiting);
        await Wait.UntilAsync(async () => (await cluster.Client.GetStatusAsync(waiting)).AwaitingSiloTags == "gpu", LongDeadline,
            "the run to report that its task waits for a silo with tag gpu");
        var status = await cluster.Client.GetStatusAsync(waiting);
        Assert.Equal(WorkflowState.Running, status.State);
        Assert.Equal(0, Probe.Executions(waiting, "gpu"));

        laterSilosHaveGpu = true;
        var newSilo = await cluster.Cluster.StartAdditionalSiloAsync();
        Assert.Equal("G", (await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(waiting), LongDeadline, "the waiting run to finish on the new gpu silo"))[^1..]);
        Assert.Equal(newSilo.SiloAddress.ToString(), Probe.EventsOf(waiting, "gpu").Single().What);
        Assert.Equal(1, Probe.Executions(waiting, "gpu"));
        Assert.Null((await cluster.Client.GetStatusAsync(waiting)).AwaitingSiloTags);
    }

    [Fact]
    public async Task MaxConcurrentAttempts_TwoOnSaturatedSilo_NeverMoreThanTwoAndPrioritiesStartInOrder()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings((name, s) =>
        {
            if (name == "Silo_1") s.Configure(o =>
            {
                o.Tags.Add("capped");
                o.MaxConcurrentAttempts = 2;
            });
        }));
        var silo = cluster.Cluster.Silos.Single(s => s.Name == "Silo_1");
        var attempts = silo.ServiceProvider.GetRequiredService<RunningAttempts>();
        var key = NewId("prio");
        var holders = new[] { NewId("hold-1"), NewId("hold-2") };
        foreach (var holder in holders) await cluster.Client.StartAsync(PlacementFlows.Priority3, key + ":hold", holder);
        foreach (var holder in holders) await Probe.WaitStartedAsync(holder, "p", LongDeadline);

        // Both slots held: these wait, submitted lowest priority first.
        var p5 = NewId("p5");
        var p1 = NewId("p1");
        var p3 = NewId("p3");
        await cluster.Client.StartAsync(PlacementFlows.Priority5, key, p5);
        await cluster.Client.StartAsync(PlacementFlows.Priority1, key, p1);
        await cluster.Client.StartAsync(PlacementFlows.Priority3, key, p3);
        await Wait.UntilAsync(() => attempts.Busy == 5, LongDeadline, "three attempts to wait behind the two holders");
        Assert.Equal(0, Probe.Executions(p1, "p") + Probe.Executions(p3, "p") + Probe.Executions(p5, "p"));

        Probe.Open(holders[0], "p");
        await Probe.ExecutedAsync(p1, "p", 1, LongDeadline);
        Probe.Open(holders[1], "p");
        await Wait.ForAsync(Task.WhenAll(new[] { p1, p3, p5 }.Select(id => cluster.Client.WaitForResultAsync<string>(id))), LongDeadline, "the prioritized runs");

        Assert.Equal([1, 3, 5], PlacementFlows.StartOrder[key].ToArray());
        Assert.Equal(2, PlacementFlows.Concurrency[silo.SiloAddress.ToString()].Max);
        // Every attempt ran on the capped silo, wherever its run lives.
        Assert.All(cluster.Cluster.Silos.Where(s => s != silo), other => Assert.False(PlacementFlows.Concurrency.ContainsKey(other.SiloAddress.ToString())));
    }

    [Fact]
    public async Task RemoteAttempt_ItsSiloKilled_RunsOnceMoreElsewhereAndRunCompletes()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings(Workers));
        var ids = await StartHeldAsync(cluster, "remote-kill");
        var byWorker = ids.GroupBy(id => Probe.EventsOf(id, "b").Single().What).ToList();
        // A worker silo running b for at least one run that lives elsewhere.
        var victim = byWorker.First(g => g.Any(id => RunSilo(id) != g.Key)).Key;
        var survivorsRemote = ids.Where(id => Probe.EventsOf(id, "b").Single().What == victim && RunSilo(id) != victim).ToList();

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(victim));
        foreach (var id in ids) Probe.Open(id, "b");

        var outputs = await Wait.ForAsync(Task.WhenAll(ids.Select(id => cluster.Client.WaitForResultAsync<string>(id))), LongDeadline,
            "every run to finish after the worker silo died");
        Assert.All(outputs, o => Assert.EndsWith("ABC", o, StringComparison.Ordinal));
        Assert.NotEmpty(survivorsRemote);
        foreach (var id in survivorsRemote)
        {
            // At-least-once only for the attempt in flight there: exactly one more execution, on the other worker.
            Assert.Equal(2, Probe.Executions(id, "b"));
            Assert.NotEqual(victim, Probe.EventsOf(id, "b")[^1].What);
            var history = await cluster.Client.GetHistoryAsync(id);
            var lost = Assert.Single(history, e => e.Kind == RunEventKind.TaskSiloLost);
            Assert.Equal("b", lost.TaskId);
            Assert.Equal(1, lost.Attempt);
        }
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "a")));
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "c")));
        Assert.All(ids, id => Assert.InRange(Probe.Executions(id, "b"), 1, 2));
    }

    [Fact]
    public async Task RemoteAttempt_RunsOwnSiloKilledWhileItFinishes_ResultCollectedNotRerun()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings(Workers));
        var ids = await StartHeldAsync(cluster, "run-kill");
        // A worker silo that hosts at least one run whose b runs on the other worker.
        var victim = ids.Where(id => RunSilo(id) != Probe.EventsOf(id, "b").Single().What && RunSilo(id) != UntaggedAddress(cluster))
            .Select(RunSilo).First();
        var orphaned = ids.Where(id => RunSilo(id) == victim && Probe.EventsOf(id, "b").Single().What != victim).ToList();

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(victim));
        // b finishes on its (live) silo while the run's own silo is gone.
        foreach (var id in ids) Probe.Open(id, "b");

        var outputs = await Wait.ForAsync(Task.WhenAll(ids.Select(id => cluster.Client.WaitForResultAsync<string>(id))), LongDeadline,
            "every run to finish after the run silo died");
        Assert.All(outputs, o => Assert.EndsWith("ABC", o, StringComparison.Ordinal));
        Assert.NotEmpty(orphaned);
        foreach (var id in orphaned)
        {
            Assert.Equal(1, Probe.Executions(id, "b"));
            var history = await cluster.Client.GetHistoryAsync(id);
            Assert.Contains(history, e => e.Kind == RunEventKind.Recovered);
            Assert.Single(history, e => e.Kind == RunEventKind.TaskCompleted && e.TaskId == "b");
            Assert.DoesNotContain(history, e => e.Kind == RunEventKind.TaskSiloLost);
        }
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "a")));
        Assert.All(ids, id => Assert.Equal(1, Probe.Executions(id, "c")));
    }

    [Fact]
    public async Task CancelAsync_RunWithAttemptOnAnotherSilo_TokenFiresThere()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings(Workers));
        var ids = await StartHeldAsync(cluster, "remote-cancel");
        var remote = ids.Where(id => RunSilo(id) != Probe.EventsOf(id, "b")[0].What).ToList();
        Assert.NotEmpty(remote);

        foreach (var id in remote) await cluster.Client.CancelAsync(id, "test", "placement");

        await Probe.UntilAsync(() => remote.All(id => Probe.EventsOf(id, "b").Any(e => e.What == "token fired")), LongDeadline,
            "the cancelled runs' remote attempts to see their token fire");
        Assert.All(remote, id => Assert.Equal(1, Probe.Executions(id, "b")));
        foreach (var id in ids.Except(remote)) Probe.Open(id, "b");
    }

    // Silos 1 and 2 declare "worker"; silo 0 does not (it only hosts runs).
    private static void Workers(string name, Sayiir.Hosting.SayiirSiloBuilder s)
    {
        if (name != "Silo_0") s.Configure(o => o.Tags.Add("worker"));
    }

    private static string RunSilo(string id) => Probe.EventsOf(id, "a").Single().What;

    private static string UntaggedAddress(SayiirCluster cluster) => cluster.Cluster.Silos.Single(s => s.Name == "Silo_0").SiloAddress.ToString();

    /// <summary>Starts 12 runs and returns once each one's b is held on a worker silo.</summary>
    private static async Task<List<string>> StartHeldAsync(SayiirCluster cluster, string prefix)
    {
        var ids = Enumerable.Range(0, 12).Select(i => NewId($"{prefix}-{i}")).ToList();
        await Task.WhenAll(ids.Select((id, i) => cluster.Client.StartAsync(PlacementFlows.RemoteHeld, $"r{i}:", id)));
        await Task.WhenAll(ids.Select(id => Probe.WaitStartedAsync(id, "b", LongDeadline)));
        return ids;
    }
}
