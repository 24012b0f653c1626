using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Sayiir.Hosting;
using Sayiir.Runtime;
using Sayiir.Tests.Infrastructure;
using Xunit.Abstractions;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Retention;

/// <summary>
/// Ended runs leave every store — state row, history, archived outputs, listing — by an explicit purge or by retention
/// on the engine's clock; active runs are never touched.
/// </summary>
public sealed class RetentionTests(ITestOutputHelper output)
{
    private static readonly WorkflowDefinition<string, string> Kept = Flow.Create<string>("retention_kept")
        .Then("work", (string s) => s + "|done")
        .Build();

    private static readonly WorkflowDefinition<string, string> Other = Flow.Create<string>("retention_other")
        .Then("work", (string s) => s + "|other")
        .Build();

    private static readonly WorkflowDefinition<string, string> Failing = Flow.Create<string>("retention_failing")
        .Then("boom", (string s) => s.Length >= 0 ? throw new InvalidOperationException("boom " + s) : s, o => o.Retry = RetryPolicy.None)
        .Build();

    private static readonly WorkflowDefinition<string, string> Parked = Flow.Create<string>("retention_parked")
        .Then("before", (string s) => s)
        .WaitForSignal<string>("wait", "go")
        .Build();

    private static ClusterSettings Settings(Action<SayiirSiloBuilder>? sayiir = null, TimeProvider? clock = null) =>
        new() { Silos = 1, Workflows = [Kept, Other, Failing, Parked], Sayiir = sayiir, EngineClock = clock };

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task PurgeRunsAsync_EndedRunsOfWorkflow_RemovesThemEverywhereAndLeavesActiveAndOtherRuns(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings());
        var client = cluster.Client;
        var completed = Enumerable.Range(0, 5).Select(i => NewId($"purge-done-{i}")).ToList();
        foreach (var id in completed) Assert.Equal(id + "|done", await client.RunAsync(Kept, id, id));
        var other = NewId("purge-other");
        await client.RunAsync(Other, "o", other);
        var parked = NewId("purge-parked");
        await client.StartAsync(Parked, "p", parked);
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(parked)).State == WorkflowState.AwaitingSignal, Deadline, "the parked run to wait");
        await WaitListedAsync(client, Kept.Name, 5);
        // The purge metric, for this workflow's runs (no other test purges them).
        long measured = 0;
        using var meters = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "sayiir.runs.purged") listener.EnableMeasurementEvents(instrument);
            },
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "sayiir.workflow" && Equals(tag.Value, Kept.Name)) Interlocked.Add(ref measured, value);
        });
        meters.Start();

        var purged = await client.PurgeRunsAsync(new RunQuery { WorkflowName = Kept.Name, PageSize = 2 });

        Assert.Equal(5, purged);
        Assert.Equal(5, Interlocked.Read(ref measured));
        foreach (var id in completed)
        {
            Assert.Equal(WorkflowState.NotFound, (await client.GetStatusAsync(id)).State);
            await Assert.ThrowsAsync<WorkflowRunNotFoundException>(() => client.GetHistoryAsync(id));
        }
        Assert.Empty((await client.ListRunsAsync(new RunQuery { WorkflowName = Kept.Name })).Runs);
        Assert.Equal(WorkflowState.Completed, (await client.GetStatusAsync(other)).State);
        Assert.Equal(WorkflowState.AwaitingSignal, (await client.GetStatusAsync(parked)).State);
        if (backend == Backend.Postgres)
        {
            foreach (var id in completed) Assert.Equal((0L, 0L), await StoredRowsAsync(cluster.ConnectionString!, id));
            Assert.Equal(1L, (await StoredRowsAsync(cluster.ConnectionString!, other)).State);
        }

        // A purged id is free again, and the active run was untouched.
        Assert.Equal("again|done", await client.RunAsync(Kept, "again", completed[0]));
        await client.SignalAsync(parked, "go", "went");
        Assert.Equal("went", await Wait.ForAsync(client.WaitForResultAsync<string>(parked), Deadline, "the parked run"));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task PurgeRunsAsync_StatesFilter_PurgesOnlyThoseEndedStatesAndNeverActiveRuns(Backend backend)
    {
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings());
        var client = cluster.Client;
        var done = NewId("filter-done");
        var failed = NewId("filter-failed");
        var parked = NewId("filter-parked");
        await client.RunAsync(Kept, "d", done);
        await Assert.ThrowsAsync<WorkflowFailedException>(() => client.RunAsync(Failing, "f", failed));
        await client.StartAsync(Parked, "p", parked);
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(parked)).State == WorkflowState.AwaitingSignal, Deadline, "the parked run to wait");
        await WaitListedAsync(client, null, 3);

        Assert.Equal(1, await client.PurgeRunsAsync(new RunQuery { States = [WorkflowState.Failed, WorkflowState.AwaitingSignal] }));
        Assert.Equal(WorkflowState.NotFound, (await client.GetStatusAsync(failed)).State);
        Assert.Equal(WorkflowState.Completed, (await client.GetStatusAsync(done)).State);

        // Everything ended: the active run stays.
        Assert.Equal(1, await client.PurgeRunsAsync(new RunQuery()));
        Assert.Equal(WorkflowState.AwaitingSignal, (await client.GetStatusAsync(parked)).State);
        await Assert.ThrowsAsync<ArgumentException>(() => client.PurgeRunsAsync(new RunQuery { ContinuationToken = "x" }));
    }

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Postgres)]
    public async Task Retention_RunsPastTheirAgeOnTheEngineClock_PurgedPerWorkflowRuleAndKeptOtherwise(Backend backend)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var cluster = await SayiirCluster.StartAsync(backend, Settings(s => s.Configure(o =>
        {
            o.RetainCompletedRuns = TimeSpan.FromHours(1);
            o.RetentionByWorkflow[Other.Name] = new RunRetention(Completed: TimeSpan.FromHours(10), FailedOrCancelled: null);
            // The test drives rounds itself (the loop's first round finds nothing due yet).
            o.PurgeInterval = TimeSpan.FromHours(1);
        }), clock));
        var client = cluster.Client;
        var kept = NewId("ret-kept");
        var other = NewId("ret-other");
        var failed = NewId("ret-failed");
        var parked = NewId("ret-parked");
        var early = NewId("ret-early-signal");
        await client.SignalAsync(early, "go", "sent before any run");
        await client.RunAsync(Kept, "k", kept);
        await client.RunAsync(Other, "o", other);
        await Assert.ThrowsAsync<WorkflowFailedException>(() => client.RunAsync(Failing, "f", failed));
        await client.StartAsync(Parked, "p", parked);
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(parked)).State == WorkflowState.AwaitingSignal, Deadline, "the parked run to wait");
        await WaitListedAsync(client, null, 4);
        var purger = cluster.Cluster.Client.ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<IRunPurgeGrain>(0);

        await purger.PurgeDueAsync();
        Assert.Equal(WorkflowState.Completed, (await client.GetStatusAsync(kept)).State);

        clock.Advance(TimeSpan.FromHours(2));
        Assert.False(await purger.PurgeDueAsync());

        Assert.Equal(WorkflowState.NotFound, (await client.GetStatusAsync(kept)).State);
        Assert.Equal(WorkflowState.Completed, (await client.GetStatusAsync(other)).State);
        // The signal buffered for an id that never started went too: a run started now waits for a new one.
        if (backend == Backend.Postgres) Assert.Equal((0L, 0L), await StoredRowsAsync(cluster.ConnectionString!, early));
        await client.StartAsync(Parked, "late", early);
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(early)).State == WorkflowState.AwaitingSignal, Deadline, "the late run to wait for a new signal");
        Assert.Equal(WorkflowState.Failed, (await client.GetStatusAsync(failed)).State);
        Assert.Equal(WorkflowState.AwaitingSignal, (await client.GetStatusAsync(parked)).State);

        clock.Advance(TimeSpan.FromHours(9));
        await purger.PurgeDueAsync();
        Assert.Equal(WorkflowState.NotFound, (await client.GetStatusAsync(other)).State);
        Assert.Equal(WorkflowState.Failed, (await client.GetStatusAsync(failed)).State);
        Assert.Equal(WorkflowState.AwaitingSignal, (await client.GetStatusAsync(parked)).State);
    }

    [Fact]
    public async Task Retention_BackgroundPurge_RemovesDueRunsWithoutBeingAsked()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings(s => s.Configure(o =>
        {
            o.RetainCompletedRuns = TimeSpan.FromMilliseconds(1);
            o.PurgeInterval = TimeSpan.FromMilliseconds(200);
        })));
        var id = NewId("background");
        await cluster.Client.RunAsync(Kept, "b", id);

        await Wait.UntilAsync(async () => (await cluster.Client.GetStatusAsync(id)).State == WorkflowState.NotFound, LongDeadline, "the background purge to remove the run");
        Assert.Equal((0L, 0L), await StoredRowsAsync(cluster.ConnectionString!, id));
    }

    [Fact]
    public async Task PurgeRunsAsync_ThousandsOfRunsBesideALiveWorkload_PurgesAllAndTheWorkloadKeepsCompleting()
    {
        // 2,000 in the suite (a few seconds); SAYIIR_PURGE_RUNS=10000 for the figure.
        var runs = int.TryParse(Environment.GetEnvironmentVariable("SAYIIR_PURGE_RUNS"), out var asked) && asked > 0 ? asked : 2000;
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings() with { Silos = 2 });
        var client = cluster.Client;
        var prefix = NewId("bulk");
        foreach (var chunk in Enumerable.Range(0, runs).Chunk(100))
            await Task.WhenAll(chunk.Select(i => client.RunAsync(Kept, "x", $"{prefix}-{i}")));
        await WaitListedAsync(client, Kept.Name, runs);

        // A live workload on another workflow while the purge runs: every one of its runs must complete meanwhile.
        using var stop = new CancellationTokenSource();
        var live = Task.Run(async () =>
        {
            var completed = 0;
            while (!stop.IsCancellationRequested)
            {
                await client.RunAsync(Other, "live", NewId("live"));
                completed++;
            }
            return completed;
        });
        var clock = Stopwatch.StartNew();
        var purged = await client.PurgeRunsAsync(new RunQuery { WorkflowName = Kept.Name, PageSize = 500 });
        clock.Stop();
        await stop.CancelAsync();
        var liveCompleted = await Wait.ForAsync(live, Deadline, "the live workload to stop");

        Assert.Equal(runs, purged);
        Assert.Empty((await client.ListRunsAsync(new RunQuery { WorkflowName = Kept.Name })).Runs);
        Assert.True(liveCompleted > 0, "the live workload completed no run while the purge ran");
        output.WriteLine($"purged {purged} runs in {clock.Elapsed.TotalSeconds:0.0} s ({purged / clock.Elapsed.TotalSeconds:0} runs/s); {liveCompleted} live runs completed meanwhile");
    }

    private static Task WaitListedAsync(ISayiirClient client, string? workflow, int count) =>
        Wait.UntilAsync(async () => (await client.ListRunsAsync(new RunQuery { WorkflowName = workflow, PageSize = 1000,
                States = [WorkflowState.Completed, WorkflowState.Failed, WorkflowState.AwaitingSignal] })).Runs.Count >= Math.Min(count, 1000),
            LongDeadline, $"{count} runs to be listed");

    // (state rows, history rows) of a run in PostgreSQL.
    private static async Task<(long State, long History)> StoredRowsAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT (SELECT count(*) FROM OrleansStorage WHERE GrainTypeString = 'sayiir-run' AND GrainIdExtensionString = @id),
                   (SELECT count(*) FROM sayiir_history WHERE instance_id = @id)
            """, connection);
        command.Parameters.AddWithValue("id", instanceId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
