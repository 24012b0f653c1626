using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Versions;

/// <summary>
/// Several versions of one workflow side by side: new starts take the latest unless pinned, a run always continues on
/// the definition it started with, a run whose version was removed stays blocked untouched, and a run moves to another
/// version only when every step it has reached sits at the same place there.
/// </summary>
public sealed class WorkflowVersionTests
{
    private static ClusterSettings Settings(params WorkflowDefinition[] workflows) => new() { Silos = 1, Workflows = workflows };

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task StartAsync_TwoVersionsRegistered_NewStartsRunLatestPinnedStartsRunTheirVersionAndEachFinishesOnItsOwn(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(VersionFlows.V1, VersionFlows.V2));
        var client = cluster.Client;
        var latest = NewId("latest");
        var pinned = NewId("pinned");
        var typed = NewId("typed");

        var latestStart = await client.StartAsync(VersionFlows.Name, "a", latest);
        var pinnedStart = await client.StartAsync(VersionFlows.Name, "b", pinned, new StartOptions { Version = "1" });
        await client.StartAsync(VersionFlows.V1, "c", typed);

        Assert.Equal("2", latestStart.StartStatus.WorkflowVersion);
        Assert.Equal(VersionFlows.V2.Hash, latestStart.StartStatus.DefinitionHash);
        Assert.Equal("1", pinnedStart.StartStatus.WorkflowVersion);
        Assert.Equal(VersionFlows.V1.Hash, pinnedStart.StartStatus.DefinitionHash);
        foreach (var id in new[] { latest, pinned, typed }) await WaitParkedAsync(client, id);

        await client.SignalAsync(latest, "go", "A");
        await client.SignalAsync(pinned, "go", "B");
        await client.SignalAsync(typed, "go", "C");
        Assert.Equal("A|v2", await Wait.ForAsync(client.WaitForResultAsync<string>(latest), Deadline, "the latest-version run"));
        Assert.Equal("B|v1", await Wait.ForAsync(client.WaitForResultAsync<string>(pinned), Deadline, "the pinned run"));
        Assert.Equal("C|v1", await Wait.ForAsync(client.WaitForResultAsync<string>(typed), Deadline, "the typed v1 run"));
        Assert.Equal(0, Probe.Executions(pinned, "finish_v2"));
        Assert.Equal(1, Probe.Executions(pinned, "finish_v1"));

        var history = await client.GetHistoryAsync(pinned);
        Assert.Equal($"v1 ({VersionFlows.V1.Hash})", history.Single(e => e.Kind == RunEventKind.RunStarted).Detail);
        await Wait.UntilAsync(async () =>
        {
            var page = await client.ListRunsAsync(new RunQuery { WorkflowName = VersionFlows.Name, States = [WorkflowState.Completed] });
            return page.Runs.Count(r => r.InstanceId == pinned && r.WorkflowVersion == "1" && r.DefinitionHash == VersionFlows.V1.Hash) == 1
                && page.Runs.Count(r => r.InstanceId == latest && r.WorkflowVersion == "2" && r.DefinitionHash == VersionFlows.V2.Hash) == 1;
        }, Deadline, "the listing to show each run's version and hash");
    }

    [Fact]
    public async Task GetWorkflowGraphAsync_RegisteredVersions_DescribesEachVersionsNodesAndRefusesUnknownOnes()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Memory, Settings(VersionFlows.V1, VersionFlows.V2, FlowLanguageFlows.ForkSum));
        var client = cluster.Client;

        var latest = await client.GetWorkflowGraphAsync(VersionFlows.Name);
        var v1 = await client.GetWorkflowGraphAsync(VersionFlows.Name, "1");
        var fork = await client.GetWorkflowGraphAsync(FlowLanguageFlows.ForkSum.Name);

        Assert.Equal(("2", VersionFlows.V2.Hash), (latest.Version, latest.Hash));
        Assert.Equal(["prepare", "wait_go", "finish_v2"], latest.Steps.Select(n => n.Id));
        Assert.Equal([FlowNodeKind.Task, FlowNodeKind.Signal, FlowNodeKind.Task], latest.Steps.Select(n => n.Kind));
        Assert.Equal("go", latest.Steps[1].SignalName);
        Assert.Equal("finish_v1", v1.Steps[^1].Id);
        Assert.Equal(typeof(string).FullName, v1.InputType);
        var forkNode = Assert.Single(fork.Steps, n => n.Kind == FlowNodeKind.Fork);
        Assert.Equal(FlowLanguageFlows.ForkSum.Describe().Steps.Single(n => n.Kind == FlowNodeKind.Fork).Branches.Select(b => b.Name), forkNode.Branches.Select(b => b.Name));
        Assert.NotNull(forkNode.Join);
        var missing = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => client.GetWorkflowGraphAsync(VersionFlows.Name, "7"));
        Assert.Equal("7", missing.Version);
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => client.GetWorkflowGraphAsync("no_such_workflow"));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task StartAsync_UnknownOrContradictoryVersion_ThrowsTypedErrorAndWritesNothing(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(VersionFlows.V1, VersionFlows.V2));
        var client = cluster.Client;
        var missing = NewId("missing-version");
        var contradictory = NewId("contradictory-version");

        var notFound = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => client.StartAsync(VersionFlows.Name, "x", missing, new StartOptions { Version = "9" }));
        var contradiction = await Assert.ThrowsAsync<ArgumentException>(() => client.StartAsync(VersionFlows.V1, "x", contradictory, new StartOptions { Version = "2" }));

        Assert.Equal("9", notFound.Version);
        Assert.Contains("v1, v2", notFound.Message);
        Assert.Contains("contradicts", contradiction.Message);
        Assert.Equal(WorkflowState.NotFound, (await client.GetStatusAsync(missing)).State);
        Assert.Equal(WorkflowState.NotFound, (await client.GetStatusAsync(contradictory)).State);
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task UpgradeAsync_ParkedRunToCompatibleVersion_ContinuesOnTheNewVersionWithoutRerunningSteps(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(VersionFlows.V1, VersionFlows.V2, VersionFlows.V3));
        var client = cluster.Client;
        var id = NewId("upgrade");
        await client.StartAsync(VersionFlows.V1, "u", id);
        await WaitParkedAsync(client, id);

        var refused = await Assert.ThrowsAsync<IncompatibleUpgradeException>(() => client.UpgradeAsync(id, "3"));
        Assert.Contains(refused.Differences, d => d.Contains("'prepare'", StringComparison.Ordinal) && d.Contains("Task at 0", StringComparison.Ordinal) && d.Contains("Task at 1", StringComparison.Ordinal));
        Assert.Equal(VersionFlows.V1.Hash, refused.FromHash);
        Assert.Equal(VersionFlows.V3.Hash, refused.ToHash);
        var untouched = await client.GetStatusAsync(id);
        Assert.Equal(VersionFlows.V1.Hash, untouched.DefinitionHash);
        Assert.Equal(WorkflowState.AwaitingSignal, untouched.State);

        var upgraded = await client.UpgradeAsync(id, "2");
        Assert.Equal("2", upgraded.WorkflowVersion);
        Assert.Equal(VersionFlows.V2.Hash, upgraded.DefinitionHash);
        await WaitParkedAsync(client, id);
        await client.SignalAsync(id, "go", "U");

        Assert.Equal("U|v2", await Wait.ForAsync(client.WaitForResultAsync<string>(id), Deadline, "the upgraded run"));
        Assert.Equal(1, Probe.Executions(id, "prepare"));
        Assert.Equal(0, Probe.Executions(id, "finish_v1"));
        var history = await client.GetHistoryAsync(id);
        var upgradeEvent = history.Single(e => e.Kind == RunEventKind.Upgraded);
        Assert.Equal($"v1 ({VersionFlows.V1.Hash}) -> v2 ({VersionFlows.V2.Hash})", upgradeEvent.Detail);
        await Assert.ThrowsAsync<InvalidRunStateException>(() => client.UpgradeAsync(id, "1"));
    }

    [Fact]
    public async Task UpgradeAsync_RunWithATaskRunning_RefusedAndTheTaskFinishesOnItsVersion()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Memory, Settings(VersionFlows.HeldV1, VersionFlows.HeldV2));
        var client = cluster.Client;
        var id = NewId("upgrade-running");
        await client.StartAsync(VersionFlows.HeldV1, "r", id);
        await Probe.WaitStartedAsync(id, "hold", Deadline);

        var refused = await Assert.ThrowsAsync<InvalidRunStateException>(() => client.UpgradeAsync(id, "2"));

        Assert.Contains("pause it first", refused.Message, StringComparison.Ordinal);
        Assert.Equal(VersionFlows.HeldV1.Hash, (await client.GetStatusAsync(id)).DefinitionHash);
        Probe.Open(id, "hold");
        Assert.Equal("r|v1", await Wait.ForAsync(client.WaitForResultAsync<string>(id), Deadline, "the run that was not upgraded"));
    }

    [Fact]
    public async Task Versions_V1RunsParkedThenV2DeployedAlongsideAcrossRestart_NewStartsRunV2AndV1RunsFinishOnV1()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_versions");
        var settings = Settings(VersionFlows.V1) with { ConnectionString = database.ConnectionString };
        var v1Runs = Enumerable.Range(0, 10).Select(i => NewId($"v1-{i}")).ToList();
        await using (var v1Only = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            foreach (var id in v1Runs) await v1Only.Client.StartAsync(VersionFlows.V1, id, id);
            foreach (var id in v1Runs) await WaitParkedAsync(v1Only.Client, id);
        }

        await using var both = await SayiirCluster.StartAsync(Backend.Postgres, settings with { Workflows = [VersionFlows.V1, VersionFlows.V2] });
        var client = both.Client;
        var v2Run = NewId("v2");
        var started = await client.StartAsync(VersionFlows.Name, "n", v2Run);
        Assert.Equal("2", started.StartStatus.WorkflowVersion);
        var versions = await client.GetWorkflowVersionsAsync(VersionFlows.Name);
        Assert.Equal(10, versions.Single(v => v.Version == "1").ActiveRuns);
        Assert.True(versions.Single(v => v.Version == "2").IsLatest);

        foreach (var id in v1Runs) await client.SignalAsync(id, "go", id);
        await client.SignalAsync(v2Run, "go", "N");

        foreach (var id in v1Runs)
            Assert.Equal(id + "|v1", await Wait.ForAsync(client.WaitForResultAsync<string>(id), LongDeadline, $"v1 run {id}"));
        Assert.Equal("N|v2", await Wait.ForAsync(client.WaitForResultAsync<string>(v2Run), Deadline, "the v2 run"));
        Assert.All(v1Runs, id => Assert.Equal((1, 1, 0), (Probe.Executions(id, "prepare"), Probe.Executions(id, "finish_v1"), Probe.Executions(id, "finish_v2"))));
        Assert.Equal(0, (await client.GetWorkflowVersionsAsync(VersionFlows.Name)).Sum(v => v.ActiveRuns));
    }

    [Fact]
    public async Task Versions_V1RemovedWhileRunActive_RunBlockedUntouchedUntilV1ReturnsOrRunIsUpgraded()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_versions_removed");
        var settings = Settings(VersionFlows.V1, VersionFlows.V2) with { ConnectionString = database.ConnectionString };
        var readded = NewId("readded");
        var upgraded = NewId("upgraded");
        await using (var both = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            foreach (var id in new[] { readded, upgraded })
            {
                await both.Client.StartAsync(VersionFlows.V1, id, id);
                await WaitParkedAsync(both.Client, id);
            }
            await Wait.UntilAsync(() => CataloguedAsync(database.ConnectionString, VersionFlows.V1.Hash), LongDeadline, "the silo to catalogue v1's definition");
        }

        // v1 removed: its runs stay as stored, blocked with the typed error, and the version listing says who needs v1.
        var logs = new CatalogLogRecorder();
        await using (var v2Only = await SayiirCluster.StartAsync(Backend.Postgres, settings with
        {
            Workflows = [VersionFlows.V2],
            SiloServices = services => services.AddSingleton<ILoggerProvider>(logs),
        }))
        {
            // The silo says at start-up which unregistered version active runs still need.
            await Wait.UntilAsync(() => logs.Warnings.Any(w => w.Contains(VersionFlows.V1.Hash, StringComparison.Ordinal) && w.Contains("2 active run(s)", StringComparison.Ordinal)),
                LongDeadline, "the silo's start-up warning that v1 is needed by 2 active runs");
            var blocked = await Assert.ThrowsAsync<DefinitionMismatchException>(() =>
                Wait.ForAsync(v2Only.Client.WaitForResultAsync<string>(readded), LongDeadline, "the blocked v1 run"));
            Assert.Equal(VersionFlows.V1.Hash, blocked.StoredHash);
            var status = await v2Only.Client.GetStatusAsync(readded);
            Assert.Equal((VersionFlows.V1.Hash, "1"), (status.DefinitionHash, status.WorkflowVersion));
            Assert.False(status.IsTerminal);
            var versions = await v2Only.Client.GetWorkflowVersionsAsync(VersionFlows.Name);
            var v1 = versions.Single(v => v.DefinitionHash == VersionFlows.V1.Hash);
            Assert.Equal((2L, false, "1"), (v1.ActiveRuns, v1.IsRegistered, v1.Version));

            // v1 is not registered here: its shape comes from the catalog the earlier deployment filled.
            var moved = await v2Only.Client.UpgradeAsync(upgraded);
            Assert.Equal(VersionFlows.V2.Hash, moved.DefinitionHash);
            await WaitParkedAsync(v2Only.Client, upgraded);
            await v2Only.Client.SignalAsync(upgraded, "go", "up");
            Assert.Equal("up|v2", await Wait.ForAsync(v2Only.Client.WaitForResultAsync<string>(upgraded), LongDeadline, "the upgraded run"));
        }

        // v1 back: the blocked run finishes on v1's steps.
        await using var again = await SayiirCluster.StartAsync(Backend.Postgres, settings);
        await WaitParkedAsync(again.Client, readded);
        await again.Client.SignalAsync(readded, "go", "back");
        Assert.Equal("back|v1", await Wait.ForAsync(again.Client.WaitForResultAsync<string>(readded), LongDeadline, "the run whose version returned"));
        Assert.Equal((1, 1, 0), (Probe.Executions(readded, "prepare"), Probe.Executions(readded, "finish_v1"), Probe.Executions(readded, "finish_v2")));
    }

    [Fact]
    public async Task UpgradeAsync_RunOfUncataloguedRemovedDefinition_RefusedWithReason()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_versions_uncatalogued");
        var settings = Settings(VersionFlows.V1) with { ConnectionString = database.ConnectionString };
        var id = NewId("uncatalogued");
        await using (var v1Only = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            await v1Only.Client.StartAsync(VersionFlows.V1, "x", id);
            await WaitParkedAsync(v1Only.Client, id);
        }
        await using (var connection = new Npgsql.NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var delete = new Npgsql.NpgsqlCommand("DELETE FROM sayiir_definitions", connection);
            await delete.ExecuteNonQueryAsync();
        }

        await using var v2Only = await SayiirCluster.StartAsync(Backend.Postgres, settings with { Workflows = [VersionFlows.V2] });
        var refused = await Assert.ThrowsAsync<IncompatibleUpgradeException>(() => v2Only.Client.UpgradeAsync(id));

        Assert.Contains("neither registered nor catalogued", refused.Message);
        Assert.Equal(VersionFlows.V1.Hash, (await v2Only.Client.GetStatusAsync(id)).DefinitionHash);
    }

    /// <summary>Keeps the warnings the definition catalog logs at silo start-up.</summary>
    private sealed class CatalogLogRecorder : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _warnings = new();

        public IReadOnlyList<string> Warnings => [.. _warnings];

        public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Recorder(CatalogLogRecorder owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && category == typeof(Sayiir.Runtime.DefinitionCatalog).FullName;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) owner._warnings.Enqueue(formatter(state, exception));
            }
        }
    }

    private static async Task<bool> CataloguedAsync(string connectionString, string hash)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM sayiir_definitions WHERE hash = @hash", connection);
        count.Parameters.AddWithValue("hash", hash);
        return (long)(await count.ExecuteScalarAsync())! == 1;
    }

    private static Task WaitParkedAsync(ISayiirClient client, string id) =>
        Wait.UntilAsync(async () => (await client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, LongDeadline, $"run {id} to wait for its signal");
}
