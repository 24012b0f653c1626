using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;
using Sayiir.Runtime;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>
/// The rules of <see cref="RunWriter"/> against a fake <see cref="IPersistentState{TState}"/> and journal, without a
/// cluster. Every test body runs on an exclusive scheduler, as grain code does (one turn at a time).
/// </summary>
public sealed class RunWriterTests
{
    [Fact]
    public Task EnsureDurableAsync_WriteInFlight_WaitsForItToLand() => OnGrainScheduler(async () =>
    {
        var row = new FakeRow();
        var store = new FakeState(row);
        var writer = NewWriter(store, new FakeJournal());
        await writer.AcquireAsync();
        store.HoldWrites();

        // Branch 1 dispatches: its fence starts the claim's write.
        var first = writer.EnsureDurableAsync();
        await store.WriteStarted.WaitAsync(LocalDeadline);
        // Branch 2 dispatches in a later turn, nothing changed since: it must still wait for that write.
        var second = writer.EnsureDurableAsync();
        await Task.Yield();
        Assert.False(first.IsCompleted, "the first dispatch passed the fence before its write landed");
        Assert.False(second.IsCompleted, "the second dispatch passed the fence while the fencing write was still in flight");

        store.ReleaseWrites();
        await Task.WhenAll(first, second).WaitAsync(LocalDeadline);
        Assert.Equal(1, store.Writes);
    });

    [Fact]
    public Task CompleteLeaf_SiblingStillWaiting_RowHoldsTheOutputWithinOneWrite() => OnGrainScheduler(async () =>
    {
        var row = new FakeRow();
        var store = new FakeState(row);
        var (_, progress) = await StartedRunAsync(store);
        var writesBefore = store.Writes;

        // Branch "fast" finishes; its sibling sits in a delay, so no dispatch follows.
        progress.CompleteLeaf(new DelayNode("fast", TimeSpan.Zero), [1, 2, 3]);

        await WaitUntil(() => store.Writes > writesBefore, "the prompt checkpoint write");
        Assert.Equal(writesBefore + 1, store.Writes);
        Assert.Contains("fast", row.Read()!.Done);
    });

    [Fact]
    public Task CompleteLeaf_NextDispatchInTheSameTurn_SharesItsWrite() => OnGrainScheduler(async () =>
    {
        var store = new FakeState(new FakeRow());
        var (writer, progress) = await StartedRunAsync(store);
        var writesBefore = store.Writes;

        // A linear flow: the task finishes and the next one is dispatched in the same turn.
        progress.CompleteLeaf(new DelayNode("a", TimeSpan.Zero), [1]);
        await writer.EnsureDurableAsync();
        // Let the scheduled prompt flush run: it must find nothing left to write.
        for (var i = 0; i < 5; i++) await Task.Yield();

        Assert.Equal(writesBefore + 1, store.Writes);
    });

    [Fact]
    public Task PersistAsync_AnotherActivationWroteTheRow_StopsAndItsEventsNeverReachHistory() => OnGrainScheduler(async () =>
    {
        var row = new FakeRow();
        var journal = new FakeJournal();
        var loser = NewWriter(new FakeState(row), journal);
        await loser.AcquireAsync();
        loser.Run.Status = WorkflowState.Running;
        await loser.PersistAsync();
        var lost = false;
        loser.OnLost = () => lost = true;

        // Another activation writes the row (e.g. it was wrongly handed the run).
        var winnerStore = new FakeState(row);
        await winnerStore.ReadStateAsync();
        winnerStore.State.Status = WorkflowState.Running;
        await winnerStore.WriteStateAsync();

        loser.Record(new RunHistoryEvent { At = DateTimeOffset.UtcNow, Kind = RunEventKind.TaskCompleted, TaskId = "x" }, [9]);
        await Assert.ThrowsAsync<RunInterruptedException>(() => loser.PersistAsync());
        Assert.True(lost);
        Assert.True(loser.Lost);
        Assert.False(loser.Owns);
        await Assert.ThrowsAsync<RunInterruptedException>(() => loser.EnsureDurableAsync());
        Assert.DoesNotContain(journal.Events, e => e.Event.TaskId == "x");
    });

    [Fact]
    public Task Record_EventsReachTheJournalOnlyAfterTheirWriteLands() => OnGrainScheduler(async () =>
    {
        var store = new FakeState(new FakeRow());
        var journal = new FakeJournal();
        var writer = NewWriter(store, journal);
        await writer.AcquireAsync();
        writer.Record(new RunHistoryEvent { At = DateTimeOffset.UtcNow, Kind = RunEventKind.RunStarted });
        store.HoldWrites();

        var persisted = writer.PersistAsync();
        await store.WriteStarted.WaitAsync(LocalDeadline);
        Assert.Empty(journal.Events);

        store.ReleaseWrites();
        await persisted.WaitAsync(LocalDeadline);
        await WaitUntil(() => journal.Events.Count == 1, "the event's delivery to the journal");
        Assert.Equal(1, journal.Events[0].Seq);
        // Confirmed events leave the outbox with the next write (no write of their own).
        await WaitUntil(() => writer.Run.PendingEvents.Count == 0, "the confirmation");
    });

    [Fact]
    public Task Deliver_JournalFails_EventsStaySavedAndAreDeliveredAgain() => OnGrainScheduler(async () =>
    {
        var store = new FakeState(new FakeRow());
        var journal = new FakeJournal { Failing = true };
        var writer = NewWriter(store, journal);
        await writer.AcquireAsync();
        writer.Record(new RunHistoryEvent { At = DateTimeOffset.UtcNow, Kind = RunEventKind.RunStarted });
        await writer.PersistAsync();
        await WaitUntil(() => journal.Attempts == 1, "the first delivery attempt");
        Assert.Single(writer.SavedUnconfirmedEvents());

        journal.Failing = false;
        writer.Record(new RunHistoryEvent { At = DateTimeOffset.UtcNow, Kind = RunEventKind.Paused });
        await writer.PersistAsync();
        await WaitUntil(() => journal.Events.Count == 2, "the re-delivery with the next write");
        Assert.Equal([1L, 2L], journal.Events.Select(e => e.Seq));
    });

    [Fact]
    public Task AcquireAsync_PreviousOwnerStillHolds_WaitsUntilItLetsGo() => OnGrainScheduler(async () =>
    {
        var row = new FakeRow();
        var ownership = new FakeOwnership();
        var previous = new RunOwner { Silo = "S2", Activation = Guid.NewGuid() };
        ownership.Held.Add(previous.Activation);
        row.Write(new WorkflowRunState { Status = WorkflowState.Running, WorkflowName = "w", Owner = previous, Done = ["a"] });
        var store = new FakeState(row);
        await store.ReadStateAsync();
        var writer = new RunWriter("run-1", store, ownership, new FakeJournal(), TimeSpan.FromMilliseconds(50), NullLogger.Instance);

        var acquiring = writer.AcquireAsync();
        await Task.Delay(300);
        Assert.False(acquiring.IsCompleted, "claimed a run whose previous owner could still finish a task");
        Assert.False(writer.Owns);

        // The previous owner saves the task it finished and lets go.
        row.Write(new WorkflowRunState { Status = WorkflowState.Running, WorkflowName = "w", Owner = null, Done = ["a", "b"] });
        ownership.Held.Remove(previous.Activation);

        await acquiring.WaitAsync(LocalDeadline);
        Assert.True(writer.Owns);
        Assert.Contains("b", writer.Run.Done);
        await writer.EnsureDurableAsync();
        Assert.Equal(writer.Activation, row.Read()!.Owner!.Activation);
    });

    [Fact]
    public Task PersistAsync_TerminalState_ReleasesTheRun() => OnGrainScheduler(async () =>
    {
        var row = new FakeRow();
        var ownership = new FakeOwnership();
        var writer = new RunWriter("run-1", new FakeState(row), ownership, new FakeJournal(), TimeSpan.FromMilliseconds(50), NullLogger.Instance);
        await writer.AcquireAsync();
        Assert.Contains(writer.Activation, ownership.Held);
        writer.Run.Status = WorkflowState.Completed;
        await writer.PersistAsync();

        Assert.Null(row.Read()!.Owner);
        Assert.False(writer.Owns);
        Assert.DoesNotContain(writer.Activation, ownership.Held);
    });

    [Fact]
    public async Task Abandon_AttemptFinishesAfterItsRunGaveUp_LeavesTheTable()
    {
        using var attempts = new RunningAttempts();
        var gate = new TaskCompletionSource<TaskAttemptResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var id = Guid.NewGuid();
        // An attempt that ignores its token, like user code may.
        _ = attempts.Start(id, _ => gate.Task);
        Assert.Equal(1, attempts.Count);

        attempts.Abandon(id);
        gate.SetResult(TaskAttemptResult.Abandoned);

        await WaitUntil(() => attempts.Count == 0, "the abandoned attempt to leave the table");
    }

    // a → fork(left: l1 → route pick(x: x1 → x2 | y: y1), right: r1) → join j → child (c1 → c2) → loop lp(b1) → z
    private static readonly WorkflowDefinition<int, int> Nested = Flow.Create<int>("cursor_nested")
        .Then("a", (int x) => x)
        .Fork("split", f => f
            .Branch("left", b => b
                .Then("l1", (int x) => x)
                .Route<int>("pick", (int x) => x > 0 ? "x" : "y", r => r
                    .Branch("x", xb => xb.Then("x1", (int v) => v).Then("x2", (int v) => v))
                    .Branch("y", yb => yb.Then("y1", (int v) => v))))
            .Branch("right", b => b.Then("r1", (int x) => x)))
        .Join("j", (BranchResults r) => r.Get<int>("left") + r.Get<int>("right"))
        .ThenFlow(Flow.Create<int>("cursor_nested_child").Then("c1", (int x) => x).Then("c2", (int x) => x).Build(), "child")
        .Loop("lp", body => body.Then("b1", (int x) => LoopOutcome.Done(x)))
        .Then("z", (int x) => x)
        .Build();

    // What Done held for the first four steps before the cursor existed (route "pick" chose "x").
    private static readonly string[] NestedFinishedUpToLoop = ["a", "l1", "x1", "x2", "r1", "j", "child.c1", "child.c2", "b1", "lp"];

    [Fact]
    public Task AdvanceCursor_StateStoredWithEveryFinishedId_DropsTheIdsOfAllFinishedStepsButTheLatest() => OnGrainScheduler(async () =>
    {
        var (writer, progress) = await StartedRunAsync(new FakeState(new FakeRow()));
        writer.Run.Done = [.. NestedFinishedUpToLoop];
        writer.Run.Outputs["pick"] = JsonSerializer.SerializeToUtf8Bytes("x");
        var index = FlowIndex.For(Nested);
        progress.Index = index;

        progress.AdvanceCursor();

        // a, the fork and the child flow are behind the cursor; the loop, the latest finished step, keeps its ids.
        Assert.Equal(3, writer.Run.DoneThrough);
        Assert.True(writer.Run.Done.SetEquals(["lp", "b1"]), string.Join(",", writer.Run.Done));
        Assert.True(progress.FinishedIdsOver(index).SetEquals(NestedFinishedUpToLoop));
        Assert.All(Nested.Steps.Take(4), step => Assert.True(progress.IsDone(step), step.Id));
        Assert.False(progress.IsDone(Nested.Steps[4]));
        Assert.False(progress.IsDone(Nested.NodesById["y1"]));
    });

    [Fact]
    public Task Supersede_RewindIntoAForkBranchBehindTheCursor_MovesTheCursorBackAndKeepsWhatStaysFinished() => OnGrainScheduler(async () =>
    {
        var (writer, progress) = await StartedRunAsync(new FakeState(new FakeRow()));
        writer.Run.Done = [.. NestedFinishedUpToLoop, "z"];
        writer.Run.Outputs["pick"] = JsonSerializer.SerializeToUtf8Bytes("x");
        var index = FlowIndex.For(Nested);
        progress.Index = index;
        progress.AdvanceCursor();
        Assert.Equal(4, writer.Run.DoneThrough);
        var plan = RewindPlan.For(Nested, index, writer.Run, "run-1", "x2", progress.FinishedIdsOver(index));

        progress.Supersede(plan.Superseded, 42);

        // Back before the fork (the step that holds x2): a and the parts of the fork that stay finished are named again.
        Assert.Equal(0, writer.Run.DoneThrough);
        Assert.True(writer.Run.Done.SetEquals(["a", "l1", "x1", "r1"]), string.Join(",", writer.Run.Done));
        Assert.False(progress.IsDone(Nested.NodesById["x2"]));
        Assert.False(progress.IsDone(Nested.NodesById["child.c1"]));
        Assert.Equal("x", progress.RouteKey("pick"));
    });

    // ----- fakes and helpers ---------------------------------------------------------------------------------------

    private static RunWriter NewWriter(FakeState store, Sayiir.Persistence.IRunJournal journal) =>
        new("run-1", store, new FakeOwnership(), journal, TimeSpan.FromMilliseconds(50), NullLogger.Instance);

    /// <summary>A writer that owns a running run whose start is saved, and the run's progress.</summary>
    private static async Task<(RunWriter Writer, RunProgress Progress)> StartedRunAsync(FakeState store)
    {
        var writer = NewWriter(store, new FakeJournal());
        await writer.AcquireAsync();
        writer.Run.Status = WorkflowState.Running;
        await writer.PersistAsync();
        return (writer, new RunProgress(writer, new JsonPayloadCodec(), new FakeJournal(), "run-1"));
    }

    private static Task OnGrainScheduler(Func<Task> body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.None, new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler).Unwrap();

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + LocalDeadline;
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out after {LocalDeadline} waiting for {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary>One stored row, shared by the activations that read and write it.</summary>
    private sealed class FakeRow
    {
        private string? _json;

        public string? ETag { get; private set; }

        public void Write(WorkflowRunState state)
        {
            _json = JsonSerializer.Serialize(state);
            ETag = Guid.NewGuid().ToString("N");
        }

        public WorkflowRunState? Read() => _json is null ? null : JsonSerializer.Deserialize<WorkflowRunState>(_json);
    }

    /// <summary>Grain storage semantics: whole-state writes, checked against the ETag last read or written.</summary>
    private sealed class FakeState(FakeRow row) : IPersistentState<WorkflowRunState>
    {
        private TaskCompletionSource? _hold;
        private readonly TaskCompletionSource _writeStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public WorkflowRunState State { get; set; } = new();

        public string? Etag { get; private set; }

        public bool RecordExists => Etag is not null;

        public int Writes { get; private set; }

        public Task WriteStarted => _writeStarted.Task;

        public void HoldWrites() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ReleaseWrites() => _hold?.TrySetResult();

        public Task ClearStateAsync() => throw new NotSupportedException();

        public Task ClearStateAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task ReadStateAsync() => ReadStateAsync(CancellationToken.None);

        public Task ReadStateAsync(CancellationToken cancellationToken)
        {
            State = row.Read() ?? new WorkflowRunState();
            Etag = row.ETag;
            return Task.CompletedTask;
        }

        public Task WriteStateAsync() => WriteStateAsync(CancellationToken.None);

        public async Task WriteStateAsync(CancellationToken cancellationToken)
        {
            _writeStarted.TrySetResult();
            if (_hold is not null) await _hold.Task;
            if (Etag != row.ETag) throw new InconsistentStateException("ETag mismatch", Etag ?? "", row.ETag ?? "");
            row.Write(State);
            Etag = row.ETag;
            Writes++;
        }
    }

    private sealed class FakeOwnership : IRunOwnership
    {
        public HashSet<Guid> Held { get; } = [];

        public RunOwner Self(Guid activation, DateTimeOffset now) => new() { Silo = "S1", Activation = activation, Since = now };

        public Task<bool> IsHeldAsync(string instanceId, RunOwner owner, CancellationToken cancellationToken = default) =>
            Task.FromResult(Held.Contains(owner.Activation));

        public Task WaitAsync(string instanceId, RunOwner owner, TimeSpan max, CancellationToken cancellationToken = default) =>
            Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);

        public void Hold(string instanceId, Guid activation) => Held.Add(activation);

        public void Release(string instanceId, Guid activation) => Held.Remove(activation);
    }

    private sealed class FakeJournal : Sayiir.Persistence.IRunJournal
    {
        public List<PendingEvent> Events { get; } = [];

        public bool Failing { get; set; }

        public int Attempts { get; private set; }

        public Task AppendAsync(string instanceId, IReadOnlyList<PendingEvent> events)
        {
            Attempts++;
            if (Failing) return Task.FromException(new InvalidOperationException("history store down"));
            foreach (var e in events.Where(e => Events.All(x => x.Seq != e.Seq))) Events.Add(e);
            return Task.CompletedTask;
        }

        public Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId, CancellationToken cancellationToken = default) => Task.FromResult<byte[]?>(null);

        public ValueTask RunChangedAsync(RunSummary summary) => ValueTask.CompletedTask;

        public Task<IReadOnlyList<RunHistoryEvent>> ReadHistoryAsync(string instanceId, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<RunHistoryEvent>>([]);

        public Task<RunPage> ListAsync(RunQuery query, CancellationToken cancellationToken = default) => Task.FromResult(new RunPage { Runs = [] });

        public Task<RunCounts> CountAsync(RunQuery query, CancellationToken cancellationToken = default) => Task.FromResult(new RunCounts { ByState = new Dictionary<WorkflowState, long>() });

        public Task<IReadOnlyList<RunActivityBucket>> ActivityAsync(RunActivityQuery query, CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<RunActivityBucket>>([]);

        public Task<IReadOnlyList<Sayiir.Persistence.DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Sayiir.Persistence.DefinitionUsage>>([]);

        public Task SaveDefinitionsAsync(IReadOnlyList<Sayiir.Persistence.DefinitionRecord> definitions, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<string?> ReadDefinitionShapeAsync(string hash, CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);

        public Task DeleteRunAsync(string instanceId, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<IReadOnlyList<string>> ExpiredRunsAsync(string? workflowName, IReadOnlyCollection<string> exceptWorkflows, IReadOnlyList<WorkflowState> states,
            DateTimeOffset endedBefore, int limit, CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<string>>([]);
    }
}
