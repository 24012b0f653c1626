using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Compensation;

/// <summary>Compensation across a real silo kill (PostgreSQL, three silos): each test owns its cluster.</summary>
public sealed class CompensationRecoveryTests
{
    [Fact]
    public async Task Compensation_SiloKilledDuringUndoTwo_UndoTwoRunsAtMostTwiceAndUndoThreeNeverAgain()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { Silos = 3, Workflows = [.. SagaFlows.All] });
        var id = NewId("saga-kill");
        await cluster.Client.StartAsync(SagaFlows.Four, "hold-undo2", id);
        await Probe.WaitStartedAsync(id, "s2", LongDeadline);
        var silo = SagaLedger.Of(id).Single(e => e.StartsWith("silo:s2:", StringComparison.Ordinal))["silo:s2:".Length..];
        // The open gate lets the re-dispatched undo pass; the killed silo's attempt never reports back.
        Probe.Open(id, "s2");

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(silo));

        var ex = await Assert.ThrowsAsync<WorkflowCompensatedException>(() =>
            Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), LongDeadline, $"{id} to compensate after the kill"));
        Assert.Equal("s4", ex.Failure!.TaskId);
        var undone = SagaLedger.Undone(id);
        // Undo 3 was saved before undo 2 started: never again. Undo 2 was in flight on the dead silo: at most once more.
        Assert.Equal(1, undone.Count(t => t == "s3"));
        Assert.InRange(undone.Count(t => t == "s2"), 1, 2);
        Assert.Equal(1, undone.Count(t => t == "s1"));
        Assert.Equal(["s3", "s2", "s1"], undone.Distinct());
        // The steps themselves ran once each.
        Assert.Equal(4, SagaLedger.Of(id).Count(e => e.StartsWith("do:", StringComparison.Ordinal)));
        var history = await cluster.Client.GetHistoryAsync(id);
        Assert.Single(history, e => e.Kind == RunEventKind.CompensationTaskCompleted && e.TaskId == "s3");
        Assert.Equal(RunEventKind.Compensated, history[^1].Kind);
    }

    [Fact]
    public async Task Compensation_StepsRequiringAnotherSilosTag_UndoneThereOnceEachLatestFirst()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings
        {
            Silos = 3,
            Workflows = [.. SagaFlows.All],
            PerSilo = (name, s) => { if (name == "Silo_1") s.Configure(o => o.Tags.Add(SagaFlows.SagaWorkerTag)); },
        });
        var ids = Enumerable.Range(0, 6).Select(i => NewId($"saga-placed-{i}")).ToList();

        foreach (var id in ids)
        {
            await Assert.ThrowsAsync<WorkflowCompensatedException>(() =>
                Wait.ForAsync(cluster.Client.RunAsync(SagaFlows.Placed, "in", id), LongDeadline, $"{id} to compensate"));
        }

        foreach (var id in ids)
        {
            Assert.Equal(["p3", "p2", "p1"], SagaLedger.Undone(id));
            Assert.Contains("undo:p2:in|p1->in|p1|p2", SagaLedger.Of(id));
        }
        // Runs hosted on the other silos sent their undo steps to the tagged one (the start event names that silo).
        var remoteUndos = 0;
        foreach (var id in ids)
            remoteUndos += (await cluster.Client.GetHistoryAsync(id)).Count(e => e.Kind == RunEventKind.CompensationTaskStarted && e.Detail is not null);
        Assert.True(remoteUndos > 0, "no undo step ran on another silo than its run's");
    }
}
