using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Observability;

/// <summary>Run history and run listing, on both backends (derived classes below).</summary>
public abstract class HistoryAndListingScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    [Fact]
    public async Task GetHistoryAsync_RunWithRetry_RecordsEveryTransitionInOrder()
    {
        var id = NewId("history-retry");
        await Wait.ForAsync(Client.RunAsync(TestFlows.SucceedsOnAttempt, 2, id), LongDeadline, "the run");

        var history = await Client.GetHistoryAsync(id);

        Assert.Equal(
            [RunEventKind.RunStarted, RunEventKind.TaskStarted, RunEventKind.TaskFailed, RunEventKind.RetryScheduled,
             RunEventKind.TaskStarted, RunEventKind.TaskCompleted, RunEventKind.Completed],
            history.Select(e => e.Kind));
        var failed = history.Single(e => e.Kind == RunEventKind.TaskFailed);
        Assert.Equal("flaky", failed.TaskId);
        Assert.Equal(1, failed.Attempt);
        Assert.Equal(typeof(TimeoutException).FullName, failed.ErrorType);
        Assert.Equal("transient failure 1", failed.Message);
        Assert.NotNull(failed.Duration);
        var retry = history.Single(e => e.Kind == RunEventKind.RetryScheduled);
        Assert.Equal(2, retry.Attempt);
        Assert.True(DateTimeOffset.TryParse(retry.Detail, System.Globalization.CultureInfo.InvariantCulture, out _), $"retry detail '{retry.Detail}' is not an instant");
        Assert.Equal(2, history.Single(e => e.Kind == RunEventKind.TaskCompleted).Attempt);
        Assert.True(history.Zip(history.Skip(1)).All(p => p.First.At <= p.Second.At), "events are not in time order");
    }

    [Fact]
    public async Task GetHistoryAsync_FailedThenResumed_RecordsFailureAndResume()
    {
        var id = NewId("history-resume");
        Probe.Set(id, "fail_b");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(TestFlows.Abc, "", id), LongDeadline, "the failing run"));
        Probe.Set(id, "fail_b", false);
        await Client.ResumeAsync(id);
        await Wait.ForAsync(Client.WaitForResultAsync<string>(id), LongDeadline, "the resumed run");

        var kinds = (await Client.GetHistoryAsync(id)).Select(e => e.Kind).ToList();

        var failed = kinds.IndexOf(RunEventKind.Failed);
        var resumed = kinds.IndexOf(RunEventKind.Resumed);
        Assert.True(failed >= 0 && resumed > failed, string.Join(",", kinds));
        Assert.Equal(RunEventKind.Completed, kinds[^1]);
        // a: started+completed once; b twice; c once.
        Assert.Equal(4, kinds.Count(k => k == RunEventKind.TaskStarted));
    }

    [Fact]
    public async Task GetHistoryAsync_UnknownRun_ThrowsRunNotFound()
    {
        await Assert.ThrowsAsync<WorkflowRunNotFoundException>(() => Client.GetHistoryAsync(NewId("nobody")));
    }

    [Fact]
    public async Task ListRunsAsync_ThousandRunsChangingState_PagesWithoutDuplicatesOrGapsAndFilters()
    {
        const int total = 1000;
        var prefix = NewId("list");
        var ids = Enumerable.Range(0, total).Select(i => $"{prefix}-{i:D4}").ToList();
        var testStart = DateTimeOffset.UtcNow.AddSeconds(-1);
        using (var gate = new SemaphoreSlim(50))
        {
            await Task.WhenAll(ids.Select(async id =>
            {
                await gate.WaitAsync();
                try { await Client.StartAsync(ObservabilityFlows.Listed, 0, id); }
                finally { gate.Release(); }
            }));
        }
        // The cluster is shared with other classes: the counts below are of this test's runs (its instance-id prefix),
        // listed through pages that may hold other runs too.
        var query = new RunQuery { WorkflowName = ObservabilityFlows.Listed.Name, PageSize = 37 };
        await Wait.UntilAsync(async () => (await ListOwnAsync(prefix, query with { States = [WorkflowState.AwaitingSignal] })).Count == total, LongDeadline,
            "all runs to be listed as awaiting their signal");

        // Half the runs finish while the listing pages through.
        var finishing = Task.WhenAll(ids.Where((_, i) => i % 2 == 0).Select(id => Client.SignalAsync(id, "finish", 1)));
        var seen = await ListOwnAsync(prefix, query);
        await finishing;

        Assert.Equal(total, seen.Count);
        Assert.Equal(total, seen.Select(r => r.InstanceId).Distinct().Count());
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.CreatedAt >= p.Second.CreatedAt), "not newest first");

        await Wait.UntilAsync(async () => (await ListOwnAsync(prefix, query with { States = [WorkflowState.Completed] })).Count == total / 2, LongDeadline,
            "the finished half to be listed as completed");
        var completed = await ListOwnAsync(prefix, query with { States = [WorkflowState.Completed] });
        Assert.All(completed, r => Assert.Equal(0, int.Parse(r.InstanceId[^4..], System.Globalization.CultureInfo.InvariantCulture) % 2));
        Assert.Equal(total / 2, (await ListOwnAsync(prefix, query with { States = [WorkflowState.AwaitingSignal] })).Count);
        Assert.Equal(total, (await ListOwnAsync(prefix, query with { States = [WorkflowState.AwaitingSignal, WorkflowState.Completed] })).Count);

        // The prefix filter alone finds exactly this test's runs, and the counts per state agree with the listing.
        var byPrefix = await ListAllAsync(new RunQuery { InstanceIdPrefix = prefix, PageSize = 250 });
        Assert.Equal(ids.Order(StringComparer.Ordinal), byPrefix.Select(r => r.InstanceId).Order(StringComparer.Ordinal));
        var counts = await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = prefix });
        Assert.Equal(total / 2, counts[WorkflowState.Completed]);
        Assert.Equal(total / 2, counts[WorkflowState.AwaitingSignal]);
        Assert.Equal(total, counts.Total);
        Assert.Equal(total / 2, (await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = prefix, States = [WorkflowState.Completed] })).Total);
        Assert.Equal(0, (await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = prefix, WorkflowName = TestFlows.Linear.Name })).Total);
        Assert.Equal(total, (await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = prefix, CreatedFrom = testStart })).Total);

        // A listed run always shows its stored state.
        foreach (var run in completed.Take(20)) Assert.Equal(WorkflowState.Completed, (await Client.GetStatusAsync(run.InstanceId)).State);

        // Time range: everything from the test start; then a window cut at the median creation instant.
        Assert.Equal(total, (await ListOwnAsync(prefix, query with { CreatedFrom = testStart })).Count);
        Assert.Empty(await ListOwnAsync(prefix, query with { CreatedBefore = testStart }));
        var ordered = seen.OrderBy(r => r.CreatedAt).ToList();
        var cut = ordered[total / 2].CreatedAt;
        var newer = await ListOwnAsync(prefix, query with { CreatedFrom = cut });
        var older = await ListOwnAsync(prefix, query with { CreatedBefore = cut });
        Assert.Equal(total, newer.Count + older.Count);
        Assert.All(newer, r => Assert.True(r.CreatedAt >= cut));
        Assert.All(older, r => Assert.True(r.CreatedAt < cut));

        // Another workflow's filter sees none of these runs.
        Assert.DoesNotContain(await ListAllAsync(new RunQuery { WorkflowName = TestFlows.Linear.Name, PageSize = 1000, CreatedFrom = testStart }),
            r => r.InstanceId.StartsWith(prefix, StringComparison.Ordinal));

        // The cluster is shared: leave it without this test's parked half (each run keeps a recovery reminder ticking).
        await Task.WhenAll(ids.Where((_, i) => i % 2 == 1).Select(id => Client.CancelAsync(id, "listing test done", "tests")));
    }

    [Fact]
    public async Task ListRunsAsync_RunWaitingThenCompleted_ListsTheFieldsOfItsStoredState()
    {
        var id = NewId("fields");
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        var query = new RunQuery { WorkflowName = ObservabilityFlows.ListedFields.Name, CreatedFrom = from, PageSize = 1000 };
        await Client.StartAsync(ObservabilityFlows.ListedFields, 0, id);

        foreach (var state in new[] { WorkflowState.AwaitingSignal, WorkflowState.Completed })
        {
            if (state == WorkflowState.Completed) await Client.SignalAsync(id, "finish", 1);
            RunSummary? listed = null;
            WorkflowStatus? status = null;
            // The status is the run's latest state, which may be a write ahead of the stored one (and reports Running
            // until the run's loop has stopped): wait until both show the state and agree on the last write
            // (PostgreSQL keeps instants to the microsecond, 10 ticks).
            await Wait.UntilAsync(async () =>
            {
                status = await Client.GetStatusAsync(id);
                listed = (await ListAllAsync(query with { States = [state] })).SingleOrDefault(r => r.InstanceId == id);
                return status.State == state && listed?.UpdatedAt is { } updated && Math.Abs(updated.UtcTicks - status.UpdatedAt!.Value.UtcTicks) <= 5;
            }, Deadline, $"{id} to be listed as {state} with the last write instant of its status");

            Assert.Equal(ObservabilityFlows.ListedFields.Name, status!.WorkflowName);
            Assert.Equal(status.WorkflowName, listed!.WorkflowName);
            Assert.Equal(state, listed.State);
            Assert.InRange(listed.CreatedAt.UtcTicks - status.CreatedAt!.Value.UtcTicks, -5, 5);
        }
    }

    [Fact]
    public async Task ListRunsAsync_PrefixWithWildcardCharacters_MatchesThemLiterally()
    {
        // % and _ are LIKE wildcards in SQL: a prefix must match them as plain characters.
        var tag = Guid.NewGuid().ToString("n");
        var literal = $"p%_{tag}";
        var lookalike = $"pXY{tag}";
        await Client.StartAsync(ObservabilityFlows.ListedFields, 0, literal + "-1");
        await Client.StartAsync(ObservabilityFlows.ListedFields, 0, lookalike + "-1");
        await Wait.UntilAsync(async () => (await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = lookalike })).Total == 1, Deadline,
            "the look-alike run to be listed");

        var listed = await ListAllAsync(new RunQuery { InstanceIdPrefix = literal });
        Assert.Equal([literal + "-1"], listed.Select(r => r.InstanceId));
        Assert.Equal(1, (await Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = literal })).Total);
        await Task.WhenAll(Client.CancelAsync(literal + "-1"), Client.CancelAsync(lookalike + "-1"));
    }

    [Fact]
    public async Task CountRunsAsync_PrefixLongerThanAnInstanceId_ThrowsArgumentOutOfRange()
    {
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.CountRunsAsync(new RunQuery { InstanceIdPrefix = new string('x', 1025) }));
        Assert.Equal(nameof(RunQuery.InstanceIdPrefix), ex.ParamName);
    }

    [Fact]
    public async Task GetRunActivityAsync_BadWindow_ThrowsArgumentException()
    {
        var now = DateTimeOffset.UtcNow;
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.GetRunActivityAsync(new RunActivityQuery { From = now, BucketSize = TimeSpan.FromMilliseconds(10) }));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetRunActivityAsync(new RunActivityQuery { From = now, To = now }));
        var tooMany = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetRunActivityAsync(new RunActivityQuery { From = now, To = now.AddDays(2) }));
        Assert.Contains("at most 1440", tooMany.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListRunsAsync_BadPageSize_ThrowsArgumentOutOfRange()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.ListRunsAsync(new RunQuery { PageSize = 0 }));
    }

    private async Task<List<RunSummary>> ListOwnAsync(string prefix, RunQuery query) =>
        [.. (await ListAllAsync(query)).Where(r => r.InstanceId.StartsWith(prefix, StringComparison.Ordinal))];

    private async Task<List<RunSummary>> ListAllAsync(RunQuery query)
    {
        var all = new List<RunSummary>();
        string? token = null;
        do
        {
            var page = await Client.ListRunsAsync(query with { ContinuationToken = token });
            Assert.True(page.Runs.Count <= query.PageSize);
            all.AddRange(page.Runs);
            token = page.ContinuationToken;
        }
        while (token is not null);
        return all;
    }
}

/// <summary>The history of runs that wait on engine time (a delay), on a virtual clock.</summary>
public abstract class VirtualTimeHistoryAndListingScenarios(VirtualTimeFixture fixture) : VirtualTimeScenarios(fixture)
{
    [Fact]
    public async Task GetHistoryAsync_DelaySignalPauseAndCancel_AreRecorded()
    {
        var delayed = NewId("history-delay");
        await Client.StartAsync(FlowLanguageFlows.DelayLast, "x", delayed);
        await Env.AdvanceTimeAsync(TimeSpan.FromMilliseconds(200));
        await Wait.ForAsync(Client.WaitForResultAsync<string>(delayed), LongDeadline, "the delayed run");
        var delayHistory = (await Client.GetHistoryAsync(delayed)).Select(e => e.Kind).ToList();
        Assert.Contains(RunEventKind.DelayStarted, delayHistory);
        Assert.True(delayHistory.IndexOf(RunEventKind.DelayStarted) < delayHistory.IndexOf(RunEventKind.DelayWoken));

        var signalled = NewId("history-signal");
        await Client.StartAsync(FlowLanguageFlows.Approval, "req", signalled);
        await SettleAsync();
        Assert.Equal(WorkflowState.AwaitingSignal, (await Client.GetStatusAsync(signalled)).State);
        await Client.PauseAsync(signalled, "lunch", "ops");
        await Client.UnpauseAsync(signalled);
        await Client.SignalAsync(signalled, "approve", "carol");
        await Wait.ForAsync(Client.WaitForResultAsync<string>(signalled), LongDeadline, "the signalled run");
        var signalHistory = await Client.GetHistoryAsync(signalled);
        var kinds = signalHistory.Select(e => e.Kind).ToList();
        Assert.Contains(RunEventKind.SignalAwaited, kinds);
        Assert.Equal("approve", signalHistory.Single(e => e.Kind == RunEventKind.SignalReceived).Detail);
        Assert.Equal("ops: lunch", signalHistory.Single(e => e.Kind == RunEventKind.Paused).Detail);
        Assert.True(kinds.IndexOf(RunEventKind.Paused) < kinds.IndexOf(RunEventKind.Unpaused));
        Assert.Equal(RunEventKind.Completed, kinds[^1]);

        var cancelled = NewId("history-cancel");
        await Client.StartAsync(FlowLanguageFlows.Approval, "req", cancelled);
        await SettleAsync();
        Assert.Equal(WorkflowState.AwaitingSignal, (await Client.GetStatusAsync(cancelled)).State);
        await Client.CancelAsync(cancelled, "not needed", "bob");
        var cancelHistory = await Client.GetHistoryAsync(cancelled);
        Assert.Equal(RunEventKind.Cancelled, cancelHistory[^1].Kind);
        Assert.Equal("bob: not needed", cancelHistory[^1].Detail);
    }

    [Fact]
    public async Task GetRunActivityAsync_RunsStartedAndEndedAcrossMinutes_CountsEachInItsBucket()
    {
        // Buckets on the virtual clock: start three runs in minute 0, end them in minute 2 (one each completed, failed,
        // cancelled) and start one more there. Only this test starts runs of the activity workflow.
        var workflow = ObservabilityFlows.Activity;
        var from = Env.Now;
        var query = new RunActivityQuery { From = from, To = from.AddMinutes(5), WorkflowName = workflow.Name };
        var ids = Enumerable.Range(0, 3).Select(i => NewId($"activity{i}")).ToList();
        foreach (var id in ids) await Client.StartAsync(workflow, 0, id);
        await SettleAsync();
        await Env.AdvanceTimeAsync(TimeSpan.FromMinutes(2));
        await Client.SignalAsync(ids[0], "finish", 1);
        await Client.SignalAsync(ids[1], "finish", -1);
        await Client.CancelAsync(ids[2], "activity test");
        var late = NewId("activity-late");
        await Client.StartAsync(workflow, 0, late);
        await SettleAsync();
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(ids[1])).State == WorkflowState.Failed
            && (await Client.GetStatusAsync(ids[0])).State == WorkflowState.Completed, LongDeadline, "the signalled runs to end");

        IReadOnlyList<RunActivityBucket> buckets = [];
        await Wait.UntilAsync(async () =>
        {
            buckets = await Client.GetRunActivityAsync(query);
            return buckets.Sum(b => b.Completed + b.Failed + b.Cancelled) == 3;
        }, Deadline, "the three ended runs to be listed");

        Assert.Equal(5, buckets.Count);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => from.AddMinutes(i)), buckets.Select(b => b.Start));
        Assert.Equal([3L, 0, 1, 0, 0], buckets.Select(b => b.Started));
        Assert.Equal([0L, 0, 1, 0, 0], buckets.Select(b => b.Completed));
        Assert.Equal([0L, 0, 1, 0, 0], buckets.Select(b => b.Failed));
        Assert.Equal([0L, 0, 1, 0, 0], buckets.Select(b => b.Cancelled));
        await Client.CancelAsync(late, "activity test done");
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryHistoryAndListingScenarios(MemoryClusterFixture fixture) : HistoryAndListingScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresHistoryAndListingScenarios(PostgresClusterFixture fixture) : HistoryAndListingScenarios(fixture.Cluster);

[Collection(VirtualTimeEnvironments.Memory)]
public sealed class MemoryVirtualTimeHistoryAndListingScenarios(MemoryVirtualTimeFixture fixture) : VirtualTimeHistoryAndListingScenarios(fixture);

[Collection(VirtualTimeEnvironments.Postgres)]
public sealed class PostgresVirtualTimeHistoryAndListingScenarios(PostgresVirtualTimeFixture fixture) : VirtualTimeHistoryAndListingScenarios(fixture);
