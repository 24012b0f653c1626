using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Sayiir.Hosting;
using Sayiir.Persistence;
using Sayiir.Runtime;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>
/// The done cursor (issue 17): what a run's top-level chain finished is kept as a count, not as ids, so its stored state
/// does not grow with the run's length; a rewind behind the cursor moves it back; an upgrade compares the steps behind it.
/// </summary>
public abstract class DoneCursorScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    [Fact]
    public async Task LongChain_ParkedAfter50And300Steps_StoredStateSizeIsTheSame()
    {
        var id = NewId("cursor-flat");
        await Client.StartAsync(CursorFlows.LongChain, 0, id);
        await WaitSignalAsync(id, "half");
        // The status shows the wait as the write that parks the run goes out: read once it has landed.
        var atHalf = await StoredRunState.UntilAsync(Cluster, id, s => s.Status == WorkflowState.AwaitingSignal, "the run parked on 'half'");
        await Client.SignalAsync(id, "half", 0);
        await WaitSignalAsync(id, "end");
        var atEnd = await StoredRunState.UntilAsync(Cluster, id, s => s.Status == WorkflowState.AwaitingSignal && s.Done.Contains("s300"), "the run parked on 'end'");

        // Behind the cursor: every step but the latest finished one, whose id stays (see RunProgress.AdvanceCursor).
        Assert.Equal(["s50"], atHalf.Done);
        Assert.Equal(["s300"], atEnd.Done);
        Assert.Equal(CursorFlows.HalfWay - 1, atHalf.DoneThrough);
        Assert.Equal(CursorFlows.Length + 1, atEnd.DoneThrough);
        var (half, end) = (StoredRunState.Size(atHalf), StoredRunState.Size(atEnd));
        // 250 more finished steps (their ids took ~1.7 KB before the cursor); a few bytes apart for numbers and instants.
        Assert.True(Math.Abs(end - half) <= 32, $"the stored state grew from {half} B after 50 steps to {end} B after 300");

        await Client.SignalAsync(id, "end", 7);
        Assert.Equal(7, await Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the long chain"));
        Assert.All(Enumerable.Range(1, CursorFlows.Length), i => Assert.Equal(1, Probe.Executions(id, $"s{i}")));
        // Outputs of steps behind the cursor are still readable (from the history archive).
        Assert.Equal(10, await Client.GetTaskResultAsync<int>(id, "s10"));
        Assert.Equal(CursorFlows.Length, await Client.GetTaskResultAsync<int>(id, "s300"));
    }

    [Fact]
    public async Task RewindAsync_BeforeAStepBehindTheCursor_RerunsFromThereOnly()
    {
        var id = NewId("cursor-rewind");
        Probe.Set(id, "broken");
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() =>
            Wait.ForAsync(Client.RunAsync(CursorFlows.Rewindable, 0, id), Deadline, "the run failing at r25"));
        Assert.Equal("r25", failed.Failure.TaskId);
        var stored = await StoredRunState.ReadAsync(Cluster, id);
        Assert.Equal(23, stored.DoneThrough);
        Assert.Equal(["r24"], stored.Done);

        Probe.Set(id, "broken", false);
        await Client.RewindAsync(id, "r10", "fixed", "alice");
        var output = await Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the rewound run");

        // The cursor went back to r10's step: the steps before it stayed finished, those after it ran again.
        Assert.Equal(30, output);
        Assert.All(Enumerable.Range(1, 9), i => Assert.Equal(1, Probe.Executions(id, $"r{i}")));
        Assert.All(Enumerable.Range(10, 16), i => Assert.Equal(2, Probe.Executions(id, $"r{i}")));
        Assert.All(Enumerable.Range(26, 5), i => Assert.Equal(1, Probe.Executions(id, $"r{i}")));
        Assert.Equal(5, await Client.GetTaskResultAsync<int>(id, "r5"));
        Assert.Equal(12, await Client.GetTaskResultAsync<int>(id, "r12"));
        var final = await StoredRunState.ReadAsync(Cluster, id);
        Assert.Equal(29, final.DoneThrough);
        Assert.Equal(["r30"], final.Done);
    }

    [Fact]
    public async Task RewindAsync_CompletedRunBeforeAStepNotFinished_RefusedListingTheStepsBehindTheCursor()
    {
        var id = NewId("cursor-rewind-valid");
        Assert.Equal(30, await Wait.ForAsync(Client.RunAsync(CursorFlows.Rewindable, 0, id), Deadline, "the run"));

        var refused = await Assert.ThrowsAsync<InvalidRewindStepException>(() => Client.RewindAsync(id, "nope", null, null));

        Assert.Equal(Enumerable.Range(1, 30).Select(i => $"r{i}"), refused.ValidSteps);
    }

    private Task WaitSignalAsync(string id, string signal) =>
        Wait.UntilAsync(async () => await Client.GetStatusAsync(id) is { State: WorkflowState.AwaitingSignal } status && status.SignalName == signal,
            LongDeadline, $"run {id} to wait for signal '{signal}'");
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryDoneCursorScenarios(MemoryClusterFixture fixture) : DoneCursorScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresDoneCursorScenarios(PostgresClusterFixture fixture) : DoneCursorScenarios(fixture.Cluster);

/// <summary>The done cursor across a silo crash and across definition versions: each test owns its cluster.</summary>
public sealed class DoneCursorClusterTests
{
    [Fact]
    public async Task LongChain_SiloRunningStep100Killed_ResumesAtTheCursorWithoutRerunningFinishedSteps()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres);
        var id = NewId("cursor-kill");
        await cluster.Client.StartAsync(CursorFlows.Held, 0, id);
        var held = $"h{CursorFlows.HeldStep}";
        await Probe.WaitStartedAsync(id, held, LongDeadline);
        // h99's completion is durable before h100 is dispatched: the stored state holds the cursor, not 99 ids.
        var stored = await StoredRunState.UntilAsync(cluster, id, s => s.DoneThrough >= CursorFlows.HeldStep - 2, "h99's checkpoint");
        Assert.Equal(CursorFlows.HeldStep - 2, stored.DoneThrough);
        Assert.Equal([$"h{CursorFlows.HeldStep - 1}"], stored.Done);
        var silo = Probe.EventsOf(id, held).Single().What;
        Probe.Open(id, held);

        await cluster.Cluster.KillSiloAsync(cluster.SiloAt(silo));
        var output = await Wait.ForAsync(cluster.Client.WaitForResultAsync<int>(id), LongDeadline, "the run to finish after the kill");

        Assert.Equal(CursorFlows.HeldLength, output);
        Assert.InRange(Probe.Executions(id, held), 1, 2);
        Assert.All(Enumerable.Range(1, CursorFlows.HeldLength).Where(i => i != CursorFlows.HeldStep),
            i => Assert.True(Probe.Executions(id, $"h{i}") == 1, $"h{i} ran {Probe.Executions(id, $"h{i}")} times"));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task UpgradeAsync_RunWithACursor_ComparesTheStepsBehindItAndContinuesOnTheNewVersion(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, new ClusterSettings
        {
            Silos = 1,
            Workflows = [CursorFlows.VersionedV1, CursorFlows.VersionedV2, CursorFlows.VersionedV3],
        });
        var client = cluster.Client;
        var id = NewId("cursor-upgrade");
        await client.StartAsync(CursorFlows.VersionedV1, 0, id);
        await StoredRunState.UntilAsync(cluster, id, s => s.Status == WorkflowState.AwaitingSignal, $"run {id} to wait for 'go'");
        Assert.Equal(11, (await StoredRunState.ReadAsync(cluster, id)).DoneThrough);

        // p3 and p4, behind the cursor, moved in v3: the cursor was expanded into their ids for the check.
        var refused = await Assert.ThrowsAsync<IncompatibleUpgradeException>(() => client.UpgradeAsync(id, "3"));
        Assert.Contains(refused.Differences, d => d.Contains("'p3'", StringComparison.Ordinal));
        Assert.Contains(refused.Differences, d => d.Contains("'p4'", StringComparison.Ordinal));
        Assert.Equal(CursorFlows.VersionedV1.Hash, (await client.GetStatusAsync(id)).DefinitionHash);

        var upgraded = await client.UpgradeAsync(id, "2");
        Assert.Equal(CursorFlows.VersionedV2.Hash, upgraded.DefinitionHash);
        // Counted again over v2's steps (the same twelve lead it).
        Assert.Equal(11, (await StoredRunState.ReadAsync(cluster, id)).DoneThrough);
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, LongDeadline, $"run {id} to wait again");
        await client.SignalAsync(id, "go", "G");

        Assert.Equal("G|v2|extra", await Wait.ForAsync(client.WaitForResultAsync<string>(id), Deadline, "the upgraded run"));
        Assert.All(Enumerable.Range(1, 12), i => Assert.Equal(1, Probe.Executions(id, $"p{i}")));
        Assert.Equal(0, Probe.Executions(id, "end_v1"));
        Assert.Equal(3, await client.GetTaskResultAsync<int>(id, "p3"));
        var final = await StoredRunState.ReadAsync(cluster, id);
        Assert.Equal(14, final.DoneThrough);
        Assert.Equal(["extra"], final.Done);
    }

    [Fact]
    public async Task UpgradeAsync_RunWithACursorOfAVersionNoLongerRegistered_ComparesTheCataloguedStepsBehindIt()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_cursor_removed");
        var settings = new ClusterSettings
        {
            Silos = 1,
            ConnectionString = database.ConnectionString,
            Workflows = [CursorFlows.VersionedV1, CursorFlows.VersionedV2, CursorFlows.VersionedV3],
        };
        var id = NewId("cursor-upgrade-removed");
        await using (var all = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            await all.Client.StartAsync(CursorFlows.VersionedV1, 0, id);
            await StoredRunState.UntilAsync(all, id, s => s.Status == WorkflowState.AwaitingSignal, $"run {id} to wait for 'go'");
            await Wait.UntilAsync(() => CataloguedAsync(database.ConnectionString, CursorFlows.VersionedV1.Hash), LongDeadline, "v1's definition to be catalogued");
        }

        // v1 is gone: where its steps sat comes from the catalogued shape, the cursor expanded over it.
        await using var later = await SayiirCluster.StartAsync(Backend.Postgres, settings with { Workflows = [CursorFlows.VersionedV2, CursorFlows.VersionedV3] });
        var client = later.Client;
        Assert.Equal(3, await client.GetTaskResultAsync<int>(id, "p3"));
        var refused = await Assert.ThrowsAsync<IncompatibleUpgradeException>(() => client.UpgradeAsync(id, "3"));
        Assert.Contains(refused.Differences, d => d.Contains("'p3'", StringComparison.Ordinal));
        Assert.Contains(refused.Differences, d => d.Contains("'p4'", StringComparison.Ordinal));

        Assert.Equal(CursorFlows.VersionedV2.Hash, (await client.UpgradeAsync(id, "2")).DefinitionHash);
        await StoredRunState.UntilAsync(later, id, s => s.Status == WorkflowState.AwaitingSignal && s.DefinitionHash == CursorFlows.VersionedV2.Hash,
            $"run {id} to wait for 'go' on v2");
        await client.SignalAsync(id, "go", "R");

        Assert.Equal("R|v2|extra", await Wait.ForAsync(client.WaitForResultAsync<string>(id), LongDeadline, "the upgraded run"));
        Assert.All(Enumerable.Range(1, 12), i => Assert.Equal(1, Probe.Executions(id, $"p{i}")));
    }

    private static async Task<bool> CataloguedAsync(string connectionString, string hash)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM sayiir_definitions WHERE hash = @hash", connection);
        count.Parameters.AddWithValue("hash", hash);
        return (long)(await count.ExecuteScalarAsync())! == 1;
    }
}

/// <summary>A run's state as its cluster stored it (any backend), read through the engine's grain storage.</summary>
internal static class StoredRunState
{
    public static async Task<WorkflowRunState> ReadAsync(SayiirCluster cluster, string instanceId)
    {
        var services = cluster.Cluster.Silos[0].ServiceProvider;
        var storage = services.GetRequiredKeyedService<IGrainStorage>(SayiirOptions.StorageName);
        var grain = services.GetRequiredService<IGrainFactory>().GetGrain<IWorkflowGrain>(instanceId).GetGrainId();
        var slot = new Slot { State = new WorkflowRunState() };
        await storage.ReadStateAsync(RunStateStorage.StateName, grain, slot);
        Assert.True(slot.RecordExists, $"run {instanceId} has no stored state");
        return slot.State;
    }

    /// <summary>The stored state once <paramref name="condition"/> holds for it.</summary>
    public static async Task<WorkflowRunState> UntilAsync(SayiirCluster cluster, string instanceId, Func<WorkflowRunState, bool> condition, string what)
    {
        WorkflowRunState? state = null;
        await Wait.UntilAsync(async () => condition(state = await ReadAsync(cluster, instanceId)), LongDeadline, what);
        return state!;
    }

    /// <summary>The serialized size, without the history outbox (events waiting for the history store, gone once it confirms them).</summary>
    public static int Size(WorkflowRunState state)
    {
        var copy = state.Snapshot();
        copy.PendingEvents = [];
        return RunStateStorage.CreateSerializer().Serialize(copy).ToMemory().Length;
    }

    private sealed class Slot : IGrainState<WorkflowRunState>
    {
        [System.Diagnostics.CodeAnalysis.AllowNull]
        public required WorkflowRunState State { get; set; }

        public string? ETag { get; set; }

        public bool RecordExists { get; set; }
    }
}
