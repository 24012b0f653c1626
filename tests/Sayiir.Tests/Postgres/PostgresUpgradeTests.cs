using System.Globalization;
using Npgsql;
using Sayiir.Persistence;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Postgres;

/// <summary>
/// The upgrade of a database written by the previous landed version (Postgres/Fixtures/previous-version.sql, see
/// the README there): the current code starts on it, migrates the schema and continues every run from its last
/// checkpoint, without re-running finished tasks.
/// </summary>
public sealed class PostgresUpgradeTests
{
    private const string FixtureResource = "Sayiir.Tests.Fixtures.previous-version.sql";

    // Written by the previous landed version (schema version 3); see Fixtures/README.md.
    private const string SchemaV3FixtureResource = "Sayiir.Tests.Fixtures.previous-version-3.sql";

    // Written by an earlier landed version (schema version 4: workflow versions, before migrations 5 and 6).
    private const string SchemaV4FixtureResource = "Sayiir.Tests.Fixtures.previous-version-4.sql";

    // Written by an earlier landed version (schema version 6: before the Compensating state of migration 7).
    private const string SchemaV6FixtureResource = "Sayiir.Tests.Fixtures.previous-version-6.sql";

    // Written by the previous landed version (schema version 7: run states without the done cursor, every finished id in Done).
    private const string SchemaV7FixtureResource = "Sayiir.Tests.Fixtures.previous-version-7.sql";

    private static readonly string[] FixtureRuns =
    [
        "upgrade-completed", "upgrade-failed", "upgrade-awaiting", "upgrade-buffered", "upgrade-napping", "upgrade-short-nap", "upgrade-fork",
    ];

    [Theory]
    [InlineData(FixtureResource)]
    [InlineData(SchemaV3FixtureResource)]
    [InlineData(SchemaV4FixtureResource)]
    [InlineData(SchemaV6FixtureResource)]
    [InlineData(SchemaV7FixtureResource)]
    public async Task StartUp_DatabaseWrittenByPreviousVersion_MigratesSchemaAndContinuesItsRuns(string fixture)
    {
        var cs = await RestoreFixtureAsync("upgrade_previous", fixture);
        // Both fixtures hold runs of the same instance ids: count this case's executions only.
        var baseline = ExecutionCounts();
        if (fixture == FixtureResource)
        {
            // The oldest fixture has the layout before versioned migrations: no versions, no history sequence numbers.
            Assert.Equal(false, await ScalarAsync(cs, "SELECT to_regclass('sayiir_schema_migrations') IS NOT NULL"));
            Assert.Equal(0L, await ScalarAsync(cs,
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'sayiir_history' AND column_name = 'seq'"));
        }
        else if (fixture == SchemaV4FixtureResource)
        {
            // The previous landed version's: schema version 4, before the listing indexes carried the state (5) and
            // before the Queued state joined the active-runs index (6).
            Assert.Equal(4L, await ScalarAsync(cs, "SELECT max(version)::bigint FROM sayiir_schema_migrations"));
            Assert.Equal(true, await ScalarAsync(cs, "SELECT to_regclass('sayiir_definitions') IS NOT NULL"));
            Assert.Equal(false, await ScalarAsync(cs, "SELECT to_regclass('ix_sayiir_runs_instance') IS NOT NULL"));
        }
        else if (fixture == SchemaV6FixtureResource)
        {
            // The previous landed version's: schema version 6, whose active-runs index does not know Compensating (9).
            Assert.Equal(6L, await ScalarAsync(cs, "SELECT max(version)::bigint FROM sayiir_schema_migrations"));
            Assert.Equal(true, await ScalarAsync(cs, "SELECT to_regclass('ix_sayiir_runs_instance') IS NOT NULL"));
            Assert.Equal(false, await ScalarAsync(cs,
                "SELECT pg_get_indexdef('ix_sayiir_runs_active_definition'::regclass) LIKE '%9%'"));
        }
        else if (fixture == SchemaV7FixtureResource)
        {
            // The previous landed version's: schema version 7, run states without the done cursor.
            Assert.Equal(7L, await ScalarAsync(cs, "SELECT max(version)::bigint FROM sayiir_schema_migrations"));
            Assert.Equal(true, await ScalarAsync(cs,
                "SELECT pg_get_indexdef('ix_sayiir_runs_active_definition'::regclass) LIKE '%9%'"));
        }
        else
        {
            // Schema version 3, before workflow versions were listed and catalogued.
            Assert.Equal(3L, await ScalarAsync(cs, "SELECT max(version)::bigint FROM sayiir_schema_migrations"));
            Assert.Equal(false, await ScalarAsync(cs, "SELECT to_regclass('sayiir_definitions') IS NOT NULL"));
        }
        var oldRows = await HistoryRowsAsync(cs);
        var oldMaxId = oldRows.Max(r => r.Id);
        // Every version before the done cursor stored every finished id, and no cursor.
        Assert.Equal(["check", "prepare"], (await StoredRuns.DoneStepsAsync(cs, "upgrade-awaiting")).Order(StringComparer.Ordinal));
        Assert.Null(await StoredRuns.DoneThroughAsync(cs, "upgrade-awaiting"));

        await using (var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings
        {
            ConnectionString = cs,
            ServiceId = UpgradeFlows.FixtureServiceId,
            Workflows = [.. UpgradeFlows.All],
        }))
        {
            var client = cluster.Client;

            // Start-up migrated the schema to the latest version.
            Assert.Equal(
                Enumerable.Range(1, PostgresSchemaInstaller.LatestVersion).Select(v => (long)v),
                await ScalarsAsync<long>(cs, "SELECT version::bigint FROM sayiir_schema_migrations ORDER BY version"));

            // Run listing still lists the old runs, with their stored states.
            var listed = (await client.ListRunsAsync(new RunQuery { PageSize = 100 })).Runs.ToDictionary(r => r.InstanceId, StringComparer.Ordinal);
            Assert.Equal(FixtureRuns.Order(StringComparer.Ordinal), listed.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(WorkflowState.Completed, listed["upgrade-completed"].State);
            Assert.Equal(WorkflowState.Failed, listed["upgrade-failed"].State);
            Assert.Equal("upgrade_approval", listed["upgrade-awaiting"].WorkflowName);
            Assert.Equal(WorkflowState.Waiting, listed["upgrade-napping"].State);
            // Migration 4 listed each stored run's definition hash (the fixture's workflows are unversioned).
            Assert.Equal(UpgradeFlows.Approval.Hash, listed["upgrade-awaiting"].DefinitionHash);
            Assert.Equal(UpgradeFlows.LongNap.Hash, listed["upgrade-napping"].DefinitionHash);
            Assert.All(listed.Values, r => Assert.Null(r.WorkflowVersion));
            var nappingVersion = (await client.GetWorkflowVersionsAsync(UpgradeFlows.LongNap.Name)).Single();
            Assert.Equal((UpgradeFlows.LongNap.Hash, true), (nappingVersion.DefinitionHash, nappingVersion.IsRegistered));
            Assert.True(nappingVersion.ActiveRuns >= 1);
            var failedListing = await client.ListRunsAsync(new RunQuery { States = [WorkflowState.Failed] });
            Assert.Equal("upgrade-failed", Assert.Single(failedListing.Runs).InstanceId);
            var createdBefore = listed.ToDictionary(r => r.Key, r => r.Value.CreatedAt, StringComparer.Ordinal);

            // Completed: status, output and checkpointed task outputs are readable.
            var completed = await client.GetStatusAsync("upgrade-completed");
            Assert.Equal(WorkflowState.Completed, completed.State);
            Assert.Equal("confirmed by bob", await client.WaitForResultAsync<string>("upgrade-completed"));
            Assert.Equal("c|prepared|checked", await client.GetTaskResultAsync<string>("upgrade-completed", "check"));
            Assert.Equal("alice", await client.GetTaskResultAsync<string>("upgrade-completed", "wait_approve"));

            // Failed: the failure details are intact; resumed, it continues from "check" (now passing).
            var failed = await client.GetStatusAsync("upgrade-failed");
            Assert.Equal(WorkflowState.Failed, failed.State);
            Assert.Equal("check", failed.Failure!.TaskId);
            Assert.Equal(1, failed.Failure.Attempt);
            Assert.Contains("InvalidOperationException", failed.Failure.ErrorType, StringComparison.Ordinal);
            Assert.Equal("check refused f|prepared", failed.Failure.Message);
            // Stored before failures kept their cause chain: it loads without one.
            Assert.Null(failed.Failure.InnerFailure);
            Assert.Null(failed.Failure.Properties);
            await client.ResumeAsync("upgrade-failed");
            await WaitStateAsync(client, "upgrade-failed", WorkflowState.AwaitingSignal);
            await client.SignalAsync("upgrade-failed", "approve", "dave");
            await client.SignalAsync("upgrade-failed", "confirm", "erin");
            Assert.Equal("confirmed by erin", await ResultAsync(client, "upgrade-failed"));
            AssertExecutions(baseline, "upgrade-failed", ("prepare", 0), ("check", 1), ("approved", 1), ("finish", 1));
            Assert.Equal("f|prepared|checked", await client.GetTaskResultAsync<string>("upgrade-failed", "check"));

            // Awaiting a signal after two checkpointed tasks: continues when signalled; the two are not re-run.
            // The run's activation takes it over first (it may still show Running for a moment).
            await WaitStateAsync(client, "upgrade-awaiting", WorkflowState.AwaitingSignal);
            var awaiting = await client.GetStatusAsync("upgrade-awaiting");
            Assert.Equal("approve", awaiting.SignalName);
            await client.SignalAsync("upgrade-awaiting", "approve", "frank");
            await client.SignalAsync("upgrade-awaiting", "confirm", "grace");
            Assert.Equal("confirmed by grace", await ResultAsync(client, "upgrade-awaiting"));
            AssertExecutions(baseline, "upgrade-awaiting", ("prepare", 0), ("check", 0), ("approved", 1), ("finish", 1));
            Assert.Equal("w|prepared|checked", await client.GetTaskResultAsync<string>("upgrade-awaiting", "check"));
            // Written again by this version: the five steps before the last are the cursor, the last one's id stays.
            Assert.Equal(5, await StoredRuns.DoneThroughAsync(cs, "upgrade-awaiting"));
            Assert.Equal(["finish"], await StoredRuns.DoneStepsAsync(cs, "upgrade-awaiting"));

            // A signal buffered by the previous version is consumed by the next wait.
            await client.SignalAsync("upgrade-buffered", "approve", "heidi");
            Assert.Equal("confirmed by early carol", await ResultAsync(client, "upgrade-buffered"));
            AssertExecutions(baseline, "upgrade-buffered", ("prepare", 0), ("check", 0), ("approved", 1), ("finish", 1));

            // A fork with one branch finished: only the waiting branch continues; the join sees both outputs.
            await client.SignalAsync("upgrade-fork", "release", 7);
            Assert.Equal("fast=5 gated=1007", await ResultAsync(client, "upgrade-fork"));
            AssertExecutions(baseline, "upgrade-fork", ("fast_task", 0), ("gated_before", 0), ("gated_after", 1), ("join", 1));

            // A delay whose wake instant passed while no silo ran (30 s after the fixture was written): it wakes and
            // continues. (Should this machine's clock be behind the one that wrote the fixture, it still waits.)
            var shortWakeAt = WakeInstant(oldRows, "upgrade-short-nap");
            if (shortWakeAt < DateTimeOffset.UtcNow)
            {
                Assert.Equal("s|tired|rested", await ResultAsync(client, "upgrade-short-nap"));
                AssertExecutions(baseline, "upgrade-short-nap", ("before_nap", 0), ("after_nap", 1));
            }
            else
            {
                Assert.Equal(shortWakeAt, (await client.GetStatusAsync("upgrade-short-nap")).WakeAt);
                await client.CancelAsync("upgrade-short-nap", "clock behind the fixture's", "tests");
                AssertExecutions(baseline, "upgrade-short-nap", ("before_nap", 0), ("after_nap", 0));
            }

            // A long delay keeps its stored wake instant; it can still be cancelled.
            // (Its new activation reports Running while it takes the run over, then Waiting once it is back in the delay.)
            var napping = await client.GetStatusAsync("upgrade-napping");
            await Wait.UntilAsync(async () => (napping = await client.GetStatusAsync("upgrade-napping")).State == WorkflowState.Waiting,
                LongDeadline, "upgrade-napping to be back in its delay");
            Assert.Equal(WakeInstant(oldRows, "upgrade-napping"), napping.WakeAt);
            Assert.Equal(WorkflowState.Cancelled, (await client.CancelAsync("upgrade-napping", "upgrade test", "tests")).State);
            AssertExecutions(baseline, "upgrade-napping", ("before_nap", 0), ("after_nap", 0));

            // History: the old rows are readable through the client, first, unchanged; new events follow them.
            foreach (var run in new[] { "upgrade-failed", "upgrade-awaiting", "upgrade-buffered", "upgrade-fork", "upgrade-short-nap", "upgrade-napping" })
            {
                var old = oldRows.Where(r => r.Instance == run).ToList();
                var expectedLast = (await client.GetStatusAsync(run)).State == WorkflowState.Cancelled ? RunEventKind.Cancelled : RunEventKind.Completed;
                IReadOnlyList<RunHistoryEvent> history = [];
                await Wait.UntilAsync(async () =>
                {
                    history = await client.GetHistoryAsync(run);
                    return history.Count > old.Count && history[^1].Kind == expectedLast;
                }, LongDeadline, $"history of {run} to end with {expectedLast}");
                Assert.Equal(
                    old.Select(r => ((RunEventKind)r.Kind, r.Task, r.Detail)),
                    history.Take(old.Count).Select(e => (e.Kind, e.TaskId, e.Detail)));
            }
            var completedHistory = await client.GetHistoryAsync("upgrade-completed");
            Assert.Equal(oldRows.Count(r => r.Instance == "upgrade-completed"), completedHistory.Count);
            Assert.Equal(RunEventKind.Completed, completedHistory[^1].Kind);
            Assert.Contains(await client.GetHistoryAsync("upgrade-awaiting"), e => e.Kind == RunEventKind.SignalConsumed && e.TaskId == "wait_confirm");

            // Listed after the migration: the runs written again by the migrated trigger show their new state, with the
            // creation instant the previous version stored.
            foreach (var run in FixtureRuns)
            {
                var state = (await client.GetStatusAsync(run)).State;
                RunSummary? now = null;
                await Wait.UntilAsync(async () =>
                    (now = (await client.ListRunsAsync(new RunQuery { PageSize = 100 })).Runs.Single(r => r.InstanceId == run)).State == state,
                    Deadline, $"{run} to be listed as {state}");
                Assert.Equal(createdBefore[run], now!.CreatedAt);
            }
            var completedNow = (await client.ListRunsAsync(new RunQuery { States = [WorkflowState.Completed], PageSize = 100 })).Runs
                .Select(r => r.InstanceId).ToHashSet(StringComparer.Ordinal);
            Assert.Superset(new HashSet<string>(["upgrade-completed", "upgrade-failed", "upgrade-awaiting", "upgrade-buffered", "upgrade-fork"], StringComparer.Ordinal), completedNow);
        }

        // The stored rows: old ones untouched, new ones appended after them (ids continue the old sequence).
        var newRows = await HistoryRowsAsync(cs);
        Assert.Equal(oldRows, newRows.Where(r => r.Id <= oldMaxId));
        Assert.Contains(newRows, r => r.Id > oldMaxId && r.Instance == "upgrade-awaiting");
        Assert.All(newRows.Where(r => r.Id > oldMaxId), r => Assert.Contains(r.Instance, FixtureRuns));
        await PostgresServer.DropDatabaseAsync(cs);
    }

    [Fact]
    public async Task InstallAsync_RunRowsWrittenByPreviousVersion_ListedTheSameByTheMigratedTrigger()
    {
        var cs = await RestoreFixtureAsync("upgrade_listing");
        var before = await ListingColumnsAsync(cs);
        Assert.Equal(FixtureRuns.Order(StringComparer.Ordinal), before.Keys.Order(StringComparer.Ordinal));

        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.Storage | PostgresSchemaParts.Reminders);
        // Fire the migrated trigger on every stored state the previous version wrote.
        await ScalarAsync(cs, $"UPDATE OrleansStorage SET PayloadBinary = PayloadBinary WHERE GrainTypeString = '{RunStateStorage.StateName}'");

        Assert.Equal(before, await ListingColumnsAsync(cs));
        Assert.Equal("sayiir_run_listing_columns", await ScalarAsync(cs,
            "SELECT tgfoid::regproc::text FROM pg_trigger WHERE tgname = 'sayiir_run_columns' AND tgrelid = 'orleansstorage'::regclass"));
        // The previous version's layout is the engine's: every state took the bounded path.
        Assert.Equal(0L, await ScalarAsync(cs,
            $"SELECT count(*) FROM OrleansStorage, sayiir_run_listing(PayloadBinary) AS l WHERE GrainTypeString = '{RunStateStorage.StateName}' AND l.whole"));
        await PostgresServer.DropDatabaseAsync(cs);
    }

    /// <summary>Restores the fixture dump into a new database (its psql meta-commands, <c>\restrict</c>, are skipped).</summary>
    internal static async Task<string> RestoreFixtureAsync(string prefix, string fixture = FixtureResource)
    {
        var cs = await PostgresServer.CreateDatabaseAsync(prefix);
        string script;
        await using (var stream = typeof(PostgresUpgradeTests).Assembly.GetManifestResourceStream(fixture)
            ?? throw new InvalidOperationException($"embedded fixture {fixture} is missing"))
        using (var reader = new StreamReader(stream))
        {
            script = string.Join('\n', (await reader.ReadToEndAsync()).Split('\n').Where(line => !line.StartsWith('\\')));
        }
        // Unpooled: the dump empties the session's search_path.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(script, connection) { CommandTimeout = 120 };
        await command.ExecuteNonQueryAsync();
        return cs;
    }

    private static DateTimeOffset WakeInstant(List<HistoryRow> rows, string instanceId) => DateTimeOffset.Parse(
        rows.Single(r => r.Instance == instanceId && r.Kind == (short)RunEventKind.DelayStarted).Detail!, CultureInfo.InvariantCulture);

    private static Dictionary<(string Run, string Task), int> ExecutionCounts() =>
        FixtureRuns.SelectMany(run => UpgradeFlows.All.SelectMany(w => w.Describe().AllNodes).Select(n => (run, n.Id)))
            .Distinct()
            .ToDictionary(k => k, k => Probe.Executions(k.run, k.Id));

    private static void AssertExecutions(Dictionary<(string Run, string Task), int> baseline, string instanceId, params (string Task, int Times)[] expected) =>
        Assert.Equal(expected, expected.Select(e => (e.Task, Probe.Executions(instanceId, e.Task) - baseline[(instanceId, e.Task)])));

    private static async Task WaitStateAsync(ISayiirClient client, string instanceId, WorkflowState state) =>
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(instanceId)).State == state, LongDeadline, $"{instanceId} to be {state}");

    private static Task<string> ResultAsync(ISayiirClient client, string instanceId) =>
        Wait.ForAsync(client.WaitForResultAsync<string>(instanceId), LongDeadline, $"the result of {instanceId}");

    private static async Task<Dictionary<string, string>> ListingColumnsAsync(string cs)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand($"""
            SELECT GrainIdExtensionString,
                   concat_ws('|', SayiirWorkflow, SayiirStatus, to_char(SayiirCreatedAt AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
                             to_char(SayiirUpdatedAt AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))
              FROM OrleansStorage WHERE GrainTypeString = '{RunStateStorage.StateName}'
            """, c);
        await using var reader = await command.ExecuteReaderAsync();
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync()) columns.Add(reader.GetString(0), reader.GetString(1));
        return columns;
    }

    private sealed record HistoryRow(long Id, string Instance, short Kind, string? Task, string? Detail, DateTime At);

    private static async Task<List<HistoryRow>> HistoryRowsAsync(string cs)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT id, instance_id, kind, task_id, detail, at FROM sayiir_history WHERE service_id = @service ORDER BY id", c);
        command.Parameters.AddWithValue("service", UpgradeFlows.FixtureServiceId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<HistoryRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new HistoryRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt16(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetDateTime(5)));
        }
        return rows;
    }

    private static async Task<object?> ScalarAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        return await command.ExecuteScalarAsync();
    }

    private static async Task<List<T>> ScalarsAsync<T>(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync()) values.Add(reader.GetFieldValue<T>(0));
        return values;
    }
}
