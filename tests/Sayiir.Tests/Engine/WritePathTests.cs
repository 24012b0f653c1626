using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Sayiir.Hosting;
using Sayiir.Persistence;
using Sayiir.Runtime;
using Sayiir.Tests.Hosting;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>
/// The write path's shortcuts (issue 17): group commit of checkpoints on PostgreSQL keeps each run's ETag check and
/// outcome its own and writes rows the ADO.NET provider reads as its own; short runs write no recovery reminder, longer
/// ones do; a localhost silo alone keeps run states in a process-local store, test clusters in Orleans' memory storage.
/// </summary>
public sealed class WritePathTests
{
    private static IServiceProvider Services(SayiirCluster cluster) => cluster.Cluster.Silos[0].ServiceProvider;

    private static GrainId RunGrain(SayiirCluster cluster, string instanceId) =>
        Services(cluster).GetRequiredService<IGrainFactory>().GetGrain<IWorkflowGrain>(instanceId).GetGrainId();

    private static GroupCommitGrainStorage GroupCommit(SayiirCluster cluster) =>
        (GroupCommitGrainStorage)Services(cluster).GetRequiredKeyedService<IGrainStorage>(SayiirOptions.StorageName + ".provider");

    private static WorkflowRunState RunState(string name) => new()
    {
        WorkflowName = name,
        DefinitionHash = "0123456789abcdef",
        Status = WorkflowState.Running,
        CreatedAt = DateTimeOffset.UnixEpoch,
        UpdatedAt = DateTimeOffset.UnixEpoch,
        Input = [1, 2, 3],
        WriteToken = Guid.NewGuid(),
    };

    private static WorkflowRunState Nameless()
    {
        var state = RunState("x");
        state.WorkflowName = null;
        return state;
    }

    private sealed class Slot<T> : IGrainState<T>
    {
        [System.Diagnostics.CodeAnalysis.AllowNull]
        public required T State { get; set; }
        public string? ETag { get; set; }
        public bool RecordExists { get; set; }
    }

    [Fact]
    public async Task GroupCommit_OneRunsETagStaleInABatch_FailsAloneAndTheOthersCommit()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { Silos = 1 });
        var storage = GroupCommit(cluster);
        // A plain id, one Orleans reads as a GUID key and one it reads as an integer key: the provider splits each its own way.
        string[] ids = [NewId("gc"), Guid.NewGuid().ToString("N"), "4711", NewId("gc-stale")];
        var states = ids.Select(id => new Slot<WorkflowRunState> { State = RunState("gc_" + id) }).ToList();
        var writes = ids.Select((id, i) => (RunGrain(cluster, id), (IGrainState<WorkflowRunState>)states[i])).ToList();
        Assert.All(await storage.WriteInOneBatchAsync(RunStateStorage.StateName, writes), Assert.Null);

        // Second batch: the last run's ETag is stale (another activation wrote it since).
        var stale = states[^1];
        var winner = new Slot<WorkflowRunState> { State = RunState("gc_winner"), ETag = stale.ETag, RecordExists = true };
        await storage.WriteStateAsync(RunStateStorage.StateName, writes[^1].Item1, winner);
        var before = states.Select(s => s.ETag).ToList();
        foreach (var state in states) state.State = RunState("gc_second");
        var outcomes = await storage.WriteInOneBatchAsync(RunStateStorage.StateName, writes);

        Assert.IsType<InconsistentStateException>(outcomes[^1]);
        Assert.Equal(before[^1], stale.ETag);
        for (var i = 0; i < ids.Length - 1; i++)
        {
            Assert.Null(outcomes[i]);
            Assert.NotEqual(before[i], states[i].ETag);
            // Orleans' own provider reads the row, at the version the batch reported.
            var read = new Slot<WorkflowRunState> { State = new WorkflowRunState() };
            await storage.ReadStateAsync(RunStateStorage.StateName, writes[i].Item1, read);
            Assert.Equal("gc_second", read.State.WorkflowName);
            Assert.Equal(states[i].ETag, read.ETag);
        }
        var lost = new Slot<WorkflowRunState> { State = new WorkflowRunState() };
        await storage.ReadStateAsync(RunStateStorage.StateName, writes[^1].Item1, lost);
        Assert.Equal("gc_winner", lost.State.WorkflowName);
    }

    [Fact]
    public async Task GroupCommit_StaleETagInABatch_OnlyTheWinningWritesEventsReachTheHistory()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { Silos = 1 });
        var storage = GroupCommit(cluster);
        string[] ids = [NewId("gch"), NewId("gch-stale")];
        var states = ids.Select(id => new Slot<WorkflowRunState> { State = WithEvents(RunState("gch"), 1, 2) }).ToList();
        var writes = ids.Select((id, i) => (RunGrain(cluster, id), (IGrainState<WorkflowRunState>)states[i])).ToList();
        Assert.All(await storage.WriteInOneBatchAsync(RunStateStorage.StateName, writes), Assert.Null);
        Assert.All(states, s => Assert.True(s.State.HistorySaved));

        // Another activation wins the second run; both runs then write events 3 and 4 in one batch.
        var winner = new Slot<WorkflowRunState> { State = RunState("gch"), ETag = states[1].ETag, RecordExists = true };
        await storage.WriteStateAsync(RunStateStorage.StateName, writes[1].Item1, winner);
        foreach (var state in states) state.State = WithEvents(RunState("gch"), 3, 4);
        var outcomes = await storage.WriteInOneBatchAsync(RunStateStorage.StateName, writes);

        Assert.Null(outcomes[0]);
        Assert.IsType<InconsistentStateException>(outcomes[1]);
        Assert.False(states[1].State.HistorySaved);
        var journal = Services(cluster).GetRequiredService<PostgresRunJournal>();
        Assert.Equal([1, 2, 3, 4], (await journal.ReadHistoryAsync(ids[0])).Select(e => e.Sequence));
        Assert.Equal([1, 2], (await journal.ReadHistoryAsync(ids[1])).Select(e => e.Sequence));
        // The events went with the states, not through the journal's own writer.
        Assert.Equal(0, journal.EventsWritten);
    }

    [Fact]
    public async Task Run_OnPostgres_EveryCheckpointCommitsItsEventsWithoutAJournalWrite()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { Silos = 1 });
        var id = NewId("in-tx");
        Assert.Equal("42", await cluster.Client.RunAsync(TestFlows.Linear, 20, id));

        var journal = Services(cluster).GetRequiredService<PostgresRunJournal>();
        var history = await journal.ReadHistoryAsync(id);
        Assert.Equal(RunEventKind.Completed, history[^1].Kind);
        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(e => e.Sequence));
        Assert.Equal(0, journal.EventsWritten);
    }

    private static WorkflowRunState WithEvents(WorkflowRunState state, params long[] sequences)
    {
        state.PendingEvents = [.. sequences.Select(seq => new PendingEvent
        {
            Seq = seq,
            Event = new RunHistoryEvent { At = DateTimeOffset.UnixEpoch, Kind = RunEventKind.TaskStarted, TaskId = "t" + seq, Attempt = 1 },
        })];
        state.NextEventSeq = sequences[^1] + 1;
        return state;
    }

    [Fact]
    public async Task GroupCommit_OneStateRefusedByTheDatabase_FailsAloneAndTheOthersCommit()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings { Silos = 1 });
        var storage = GroupCommit(cluster);
        string[] ids = [NewId("gc-ok"), NewId("gc-bad"), NewId("gc-ok")];
        // A started run's state without a workflow name: the listing trigger refuses it, which aborts the whole batch.
        var states = ids.Select((id, i) => new Slot<WorkflowRunState> { State = i == 1 ? Nameless() : RunState("gc_ok") }).ToList();
        var outcomes = await storage.WriteInOneBatchAsync(RunStateStorage.StateName,
            ids.Select((id, i) => (RunGrain(cluster, id), (IGrainState<WorkflowRunState>)states[i])).ToList());

        Assert.Null(outcomes[0]);
        Assert.NotNull(outcomes[1]);
        Assert.Null(outcomes[2]);
        Assert.Equal(1, await StoredRuns.CountAsync(cluster.ConnectionString!, ids[0]));
        Assert.Equal(0, await StoredRuns.CountAsync(cluster.ConnectionString!, ids[1]));
        Assert.Equal(1, await StoredRuns.CountAsync(cluster.ConnectionString!, ids[2]));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Run_EndsBeforeRecoveryReminderDelay_NoReminderIsRegistered(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, new ClusterSettings
        {
            Silos = 1,
            Sayiir = s => s.Configure(o => o.RecoveryReminderDelay = TimeSpan.FromMinutes(10)),
        });
        var id = NewId("short");
        Assert.Equal("42", await cluster.Client.RunAsync(TestFlows.Linear, 20, id));

        var reminders = Services(cluster).GetRequiredService<IReminderTable>();
        Assert.Null(await reminders.ReadRow(RunGrain(cluster, id), WorkflowGrain.ReminderName));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Run_OutlivesRecoveryReminderDelay_RegistersItsReminderAndRemovesItAtTheEnd(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, new ClusterSettings
        {
            Silos = 1,
            Sayiir = s => s.Configure(o => o.RecoveryReminderDelay = TimeSpan.FromMilliseconds(200)),
        });
        var id = NewId("long");
        await cluster.Client.StartAsync(TestFlows.Held, "", id);
        await Probe.WaitStartedAsync(id, "b", Deadline);
        var reminders = Services(cluster).GetRequiredService<IReminderTable>();
        var grain = RunGrain(cluster, id);
        await Wait.UntilAsync(async () => await reminders.ReadRow(grain, WorkflowGrain.ReminderName) is not null, Deadline, "the held run's recovery reminder");

        Probe.Open(id, "b");
        Assert.Equal("ABC", await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), Deadline, "the run to finish"));
        await Wait.UntilAsync(async () => await reminders.ReadRow(grain, WorkflowGrain.ReminderName) is null, Deadline, "the finished run's reminder to go");
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Run_ParksOnAWaitLongerThanRecoveryReminderDelay_RegistersItsReminderAsItParks(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, new ClusterSettings
        {
            Silos = 1,
            Workflows = [FlowLanguageFlows.SignalLong],
            // Far beyond the test, and within the signal's 10-minute deadline: only parking can register the reminder in time.
            Sayiir = s => s.Configure(o => o.RecoveryReminderDelay = TimeSpan.FromMinutes(5)),
        });
        var id = NewId("parked");
        await cluster.Client.StartAsync(FlowLanguageFlows.SignalLong, 1, id);
        await Wait.UntilAsync(async () => (await cluster.Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, $"{id} to await its signal");
        var reminders = Services(cluster).GetRequiredService<IReminderTable>();
        var grain = RunGrain(cluster, id);

        await Wait.UntilAsync(async () => await reminders.ReadRow(grain, WorkflowGrain.ReminderName) is not null, Deadline, "the parked run's recovery reminder");

        await cluster.Client.SignalAsync(id, "go", 5);
        Assert.Equal(5, await Wait.ForAsync(cluster.Client.WaitForResultAsync<int>(id), Deadline, "the run to finish"));
        await Wait.UntilAsync(async () => await reminders.ReadRow(grain, WorkflowGrain.ReminderName) is null, Deadline, "the finished run's reminder to go");
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Run_ParksOnASignalWithoutDeadline_RegistersItsReminderOnceItOutlivesRecoveryReminderDelay(Backend backend)
    {
        // Nothing needs waking at a given time (the signal call activates the run), so parking alone registers nothing;
        // a wait that lasts is covered by the delay's timer like any run that lasts.
        await using var cluster = await SayiirCluster.StartAsync(backend, new ClusterSettings
        {
            Silos = 1,
            Sayiir = s => s.Configure(o => o.RecoveryReminderDelay = TimeSpan.FromMilliseconds(500)),
        });
        var id = NewId("untimed");
        await cluster.Client.StartAsync(TestFlows.Sized, "small", id);
        await Wait.UntilAsync(async () => (await cluster.Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, $"{id} to await its signal");
        var reminders = Services(cluster).GetRequiredService<IReminderTable>();
        var grain = RunGrain(cluster, id);

        await Wait.UntilAsync(async () => await reminders.ReadRow(grain, WorkflowGrain.ReminderName) is not null, Deadline, "the long-parked run's recovery reminder");

        await cluster.Client.SignalAsync(id, "more", "done");
        await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), Deadline, "the run to finish");
        await Wait.UntilAsync(async () => await reminders.ReadRow(grain, WorkflowGrain.ReminderName) is null, Deadline, "the finished run's reminder to go");
    }

    [Fact]
    public async Task Run_WholeClusterKilledBeforeItsReminderExists_FirstSiloStartedAgainWakesIt()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_sweep");
        var settings = new ClusterSettings
        {
            ConnectionString = database.ConnectionString,
            Silos = 1,
            Sayiir = s => s.Configure(o => o.RecoveryReminderDelay = TimeSpan.FromMinutes(10)),
        };
        var id = NewId("sweep");
        await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, settings))
        {
            await before.Client.StartAsync(TestFlows.Held, "", id);
            await Probe.WaitStartedAsync(id, "b", LongDeadline);
            Assert.Equal(0, await StoredRuns.DeleteReminderAsync(database.ConnectionString, id));
            // A crash, not a stop: no hand-off registers the reminder on the way out.
            await before.Cluster.KillSiloAsync(before.Cluster.Silos[0]);
        }

        Probe.Open(id, "b");
        await using var after = await SayiirCluster.StartAsync(Backend.Postgres, settings);
        // Nothing calls the run and it has no reminder: only the start-up sweep of the listed active runs can wake it.
        await Probe.UntilAsync(() => Probe.Executions(id, "c") == 1, LongDeadline, "the first silo's sweep to resume the run (task c to run)");
        Assert.Equal("ABC", await Wait.ForAsync(after.Client.WaitForResultAsync<string>(id), LongDeadline, "the run's result"));
        Assert.Equal(1, Probe.Executions(id, "a"));
    }

    [Fact]
    public async Task MemoryStore_TestClusterOfSeveralSilos_KeepsOrleansMemoryStorage()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Memory, new ClusterSettings { Silos = 2 });
        var storage = Services(cluster).GetRequiredKeyedService<IGrainStorage>(SayiirOptions.StorageName);
        Assert.IsNotType<ProcessLocalGrainStorage>(storage);
        // History and the listing are shared by the silos too: a run driven by either silo is listed once for both.
        Assert.False(Services(cluster).GetRequiredService<MemoryRunJournal>().IsProcessLocal);
    }

    [Fact]
    public async Task MemoryStore_LocalhostSiloAlone_UsesTheProcessLocalStoreAndRunsComplete()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(o => o.AddWorkflow(TestFlows.Linear)));
        using var host = silo.Builder.Build();
        await TestHosts.StartAsync(host);
        try
        {
            Assert.IsType<ProcessLocalGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>(SayiirOptions.StorageName));
            Assert.True(host.Services.GetRequiredService<MemoryRunJournal>().IsProcessLocal);
            var client = host.Services.GetRequiredService<ISayiirClient>();
            var id = NewId("local");
            Assert.Equal("42", await client.RunAsync(TestFlows.Linear, 20, id));
            // The process-local history and listing answer as the shared grain does.
            var history = await client.GetHistoryAsync(id);
            Assert.Equal(RunEventKind.Completed, history[^1].Kind);
            var listed = await client.ListRunsAsync(new RunQuery { InstanceIdPrefix = id });
            Assert.Equal(WorkflowState.Completed, Assert.Single(listed.Runs).State);
        }
        finally
        {
            await TestHosts.StopAsync(host);
        }
    }

    [Fact]
    public async Task MemoryStore_ProcessLocalStoreDisabledByOption_KeepsOrleansMemoryStorage()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(o => o.AddWorkflow(TestFlows.Linear).Configure(c => c.ProcessLocalStore = false)));
        using var host = silo.Builder.Build();
        await TestHosts.StartAsync(host);
        try
        {
            Assert.IsNotType<ProcessLocalGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>(SayiirOptions.StorageName));
            Assert.False(host.Services.GetRequiredService<MemoryRunJournal>().IsProcessLocal);
        }
        finally
        {
            await TestHosts.StopAsync(host);
        }
    }

    [Fact]
    public async Task ProcessLocalStore_WriteWithStaleETag_ThrowsAndKeepsTheWinner()
    {
        var storage = new ProcessLocalGrainStorage(RunStateStorage.CreateSerializer(), new ReflectionActivators());
        var grain = GrainId.Create("workflow", NewId("etag"));
        var first = new Slot<WorkflowRunState> { State = RunState("first") };
        await storage.WriteStateAsync(RunStateStorage.StateName, grain, first);
        var second = new Slot<WorkflowRunState> { State = RunState("second"), ETag = first.ETag, RecordExists = true };
        await storage.WriteStateAsync(RunStateStorage.StateName, grain, second);

        first.State = RunState("late");
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(RunStateStorage.StateName, grain, first));
        var read = new Slot<WorkflowRunState> { State = new WorkflowRunState() };
        await storage.ReadStateAsync(RunStateStorage.StateName, grain, read);
        Assert.Equal("second", read.State.WorkflowName);
        Assert.Equal(second.ETag, read.ETag);
        // A read hands out a copy: changing it does not change what is stored.
        read.State.Outputs["x"] = [1];
        var again = new Slot<WorkflowRunState> { State = new WorkflowRunState() };
        await storage.ReadStateAsync(RunStateStorage.StateName, grain, again);
        Assert.Empty(again.State.Outputs);
    }

    private sealed class ReflectionActivators : IActivatorProvider
    {
        public Orleans.Serialization.Activators.IActivator<T> GetActivator<T>() => new Activator<T>();

        private sealed class Activator<T> : Orleans.Serialization.Activators.IActivator<T>
        {
            public T Create() => System.Activator.CreateInstance<T>();
        }
    }
}
