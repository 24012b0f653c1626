using Npgsql;
using Sayiir.Persistence;
using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Postgres;

/// <summary>
/// Versioned forward migrations of the schema installer: fresh installs, databases from before versions existed
/// (the baseline scripts only, no migrations table), re-runs, concurrent installers, and databases upgraded by a
/// newer Sayiir. The upgrade of a real previous-version database with runs is in <see cref="PostgresUpgradeTests"/>.
/// </summary>
public sealed class PostgresSchemaMigrationTests
{
    private static CancellationToken Ct => CancellationToken.None;

    private static int[] AllVersions => [.. Enumerable.Range(1, PostgresSchemaInstaller.LatestVersion)];

    [Fact]
    public void Migrations_AsDeclared_AreNumberedFromTwoWithoutGapsAndHaveEmbeddedScripts()
    {
        Assert.Equal(
            Enumerable.Range(2, PostgresSchemaInstaller.Migrations.Count),
            PostgresSchemaInstaller.Migrations.Select(m => m.Version));
        Assert.Equal(7, PostgresSchemaInstaller.LatestVersion);
        var resources = typeof(PostgresSchemaInstaller).Assembly.GetManifestResourceNames();
        Assert.All(PostgresSchemaInstaller.Migrations, m => Assert.Single(resources, r => r.EndsWith("." + m.Script, StringComparison.Ordinal)));
        Assert.All(PostgresSchemaInstaller.Migrations, m => Assert.NotEqual(PostgresSchemaParts.None, m.Parts));
    }

    [Fact]
    public async Task InstallAsync_FreshDatabase_ReachesTheLatestVersion()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_fresh", Ct);

        var recorded = await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);

        Assert.Equal(AllVersions, recorded);
        Assert.Equal(AllVersions, await VersionsAsync(cs));
        Assert.Equal(["baseline", "history-seq", "run-listing", "workflow-versions", "listing-indexes", "queued-runs", "compensating-runs"], await ScalarsAsync<string>(cs, "SELECT name FROM sayiir_schema_migrations ORDER BY version"));
        // Migration 5: the listing indexes carry the state, so counts per state can read the index alone; the baseline,
        // re-run at every start, must not put the old definitions back.
        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);
        Assert.Contains("INCLUDE (sayiirstatus, sayiirworkflow)", (string)(await ScalarAsync(cs, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_sayiir_runs_created'"))!, StringComparison.Ordinal);
        Assert.Contains("INCLUDE (sayiirstatus)", (string)(await ScalarAsync(cs, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_sayiir_runs_workflow'"))!, StringComparison.Ordinal);
        Assert.Contains("COLLATE \"C\"", (string)(await ScalarAsync(cs, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_sayiir_runs_instance'"))!, StringComparison.Ordinal);
        Assert.Equal("bigint", await ScalarAsync(cs,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'sayiir_history' AND column_name = 'seq'"));
        Assert.Equal(true, await ScalarAsync(cs, "SELECT to_regclass('ux_sayiir_history_run_seq') IS NOT NULL"));
        Assert.Equal(MigratedListingTrigger, await ScalarAsync(cs, ListingTriggerFunction));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_PreviousLayoutWithRows_StampsBaselineMigratesAndKeepsRows()
    {
        var cs = await PreviousLayoutDatabaseAsync("migrate_previous");
        Assert.Equal(false, await ScalarAsync(cs, "SELECT to_regclass('sayiir_schema_migrations') IS NOT NULL"));

        var recorded = await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);

        Assert.Equal(AllVersions, recorded);
        Assert.Equal(AllVersions, await VersionsAsync(cs));
        // The old rows are all there, unchanged, with no sequence number; the listing columns still describe the run.
        Assert.Equal([1L, 2L, 3L], await ScalarsAsync<long>(cs, "SELECT id FROM sayiir_history WHERE seq IS NULL ORDER BY id"));
        Assert.Equal(["started", "done", "other run"], await ScalarsAsync<string>(cs, "SELECT detail FROM sayiir_history ORDER BY id"));
        const string OldRun = "SELECT SayiirWorkflow || '/' || SayiirStatus || '/' || SayiirCreatedAt || '/' || SayiirUpdatedAt FROM OrleansStorage WHERE GrainIdExtensionString = 'old-run'";
        var listed = await ScalarAsync(cs, OldRun);
        Assert.StartsWith("old_flow/5/", (string)listed!, StringComparison.Ordinal);
        // The migrated trigger lists the old row's stored state the same when it is written again.
        Assert.Equal(MigratedListingTrigger, await ScalarAsync(cs, ListingTriggerFunction));
        await ExecuteAsync(cs, "UPDATE OrleansStorage SET PayloadBinary = PayloadBinary WHERE GrainIdExtensionString = 'old-run'");
        Assert.Equal(listed, await ScalarAsync(cs, OldRun));

        // New rows are idempotent per (service, run, seq); rows without seq are not constrained.
        await ExecuteAsync(cs, "INSERT INTO sayiir_history (service_id, instance_id, at, kind, seq) VALUES ('svc', 'old-run', now(), 2, 1)");
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(cs,
            "INSERT INTO sayiir_history (service_id, instance_id, at, kind, seq) VALUES ('svc', 'old-run', now(), 2, 1)"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
        await ExecuteAsync(cs, "INSERT INTO sayiir_history (service_id, instance_id, at, kind, seq) VALUES ('svc', 'other-run', now(), 2, 1)");
        Assert.Equal(4L, await ScalarAsync(cs, "SELECT max(id) FROM sayiir_history WHERE instance_id = 'old-run'"));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_RunAgain_RecordsNothingAndKeepsTheRecord()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_again", Ct);
        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);
        const string Record = "SELECT string_agg(version || ':' || name || ':' || applied_at, ',' ORDER BY version) FROM sayiir_schema_migrations";
        var before = await ScalarAsync(cs, Record);

        var recorded = await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);

        Assert.Empty(recorded);
        Assert.Equal(before, await ScalarAsync(cs, Record));
        // The baseline re-ran (it re-creates its own listing function) without undoing the migrated trigger.
        Assert.Equal(MigratedListingTrigger, await ScalarAsync(cs, ListingTriggerFunction));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_ConcurrentSiloStartsOnPreviousLayout_ApplyEachMigrationOnce()
    {
        var cs = await PreviousLayoutDatabaseAsync("migrate_concurrent");
        PostgresSchemaParts[] starts =
        [
            PostgresSchemaParts.Storage | PostgresSchemaParts.Reminders, PostgresSchemaParts.Clustering,
            PostgresSchemaParts.Storage | PostgresSchemaParts.Reminders, PostgresSchemaParts.Clustering,
            PostgresSchemaParts.All, PostgresSchemaParts.All,
        ];

        var results = await Task.WhenAll(starts.Select(parts => Task.Run(() => PostgresSchemaInstaller.InstallAsync(cs, parts, Ct), Ct)));

        Assert.Equal(AllVersions, results.SelectMany(r => r).Order());
        Assert.Equal(AllVersions, await VersionsAsync(cs));
        Assert.Equal(3L, await ScalarAsync(cs, "SELECT count(*) FROM sayiir_history"));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_ClusteringOnlyThenStorage_AppliesTheStorageMigrationWithTheStoragePart()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_parts", Ct);

        Assert.Equal([1], await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.Clustering, Ct));
        Assert.Equal(false, await ScalarAsync(cs, "SELECT to_regclass('sayiir_history') IS NOT NULL"));

        Assert.Equal([2, 3, 4, 5, 6, 7], await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.Storage | PostgresSchemaParts.Reminders, Ct));
        Assert.Equal(AllVersions, await VersionsAsync(cs));
        Assert.Equal(true, await ScalarAsync(cs, "SELECT to_regclass('ux_sayiir_history_run_seq') IS NOT NULL"));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_DatabaseAtNewerVersion_ThrowsSchemaVersionErrorAndChangesNothing()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_future", Ct);
        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);
        var future = PostgresSchemaInstaller.LatestVersion + 1;
        await ExecuteAsync(cs, $"INSERT INTO sayiir_schema_migrations (version, name) VALUES ({future}, 'from-the-future')");
        await ExecuteAsync(cs, "UPDATE OrleansQuery SET QueryText = 'newer text' WHERE QueryKey = 'ReadFromStorageKey'");

        var ex = await Assert.ThrowsAsync<SayiirSchemaVersionException>(
            () => PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct));

        Assert.Equal(future, ex.DatabaseVersion);
        Assert.Equal(PostgresSchemaInstaller.LatestVersion, ex.SupportedVersion);
        Assert.Equal(PostgresSchemaInstaller.DescribeTarget(cs), ex.Target);
        Assert.Contains($"version {future}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"version {PostgresSchemaInstaller.LatestVersion}", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<SayiirException>(ex);
        // Nothing was re-installed over the newer schema.
        Assert.Equal("newer text", await ScalarAsync(cs, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'ReadFromStorageKey'"));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task Deploy_DatabaseAtNewerVersion_FailsStartUpWithSchemaVersionError()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("migrate_future_silo", Ct);
        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);
        await ExecuteAsync(cs, $"INSERT INTO sayiir_schema_migrations (version, name) VALUES ({PostgresSchemaInstaller.LatestVersion + 1}, 'from-the-future')");

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => SayiirCluster.StartAsync(Backend.Postgres,
            new ClusterSettings { ConnectionString = cs, Silos = 1 }));

        Assert.Contains(ExceptionChain.Flatten(ex), e => e is SayiirSchemaVersionException);
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>The function the run-listing trigger calls.</summary>
    private const string ListingTriggerFunction =
        "SELECT tgfoid::regproc::text FROM pg_trigger WHERE tgname = 'sayiir_run_columns' AND tgrelid = 'orleansstorage'::regclass";

    private const string MigratedListingTrigger = "sayiir_run_listing_columns";

    /// <summary>
    /// A database laid out as the previous version left it: the baseline scripts only (no migrations table), with
    /// three history rows and one listed run.
    /// </summary>
    internal static async Task<string> PreviousLayoutDatabaseAsync(string prefix)
    {
        var cs = await PostgresServer.CreateDatabaseAsync(prefix, Ct);
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync(Ct);
        await using var transaction = await c.BeginTransactionAsync(Ct);
        foreach (var script in PostgresSchemaInstaller.BaselineScripts(PostgresSchemaParts.All))
        {
            await using var command = new NpgsqlCommand(script, c, transaction);
            await command.ExecuteNonQueryAsync(Ct);
        }
        await using (var command = new NpgsqlCommand($$"""
            INSERT INTO sayiir_history (service_id, instance_id, at, kind, detail) VALUES
                ('svc', 'old-run', now(), 0, 'started'), ('svc', 'old-run', now(), 11, 'done'), ('svc', 'other', now(), 0, 'other run');
            INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
                                        ServiceId, PayloadBinary, ModifiedOn, Version)
            VALUES (1, 0, 0, 2, '{{RunStateStorage.StateName}}', 'old-run', 'svc',
                    convert_to('{"WorkflowName":"old_flow","Status":5,"CreatedAt":"2025-01-01T00:00:00+00:00","UpdatedAt":"2025-01-01T00:00:01+00:00","Input":null}', 'UTF8'),
                    now(), 3);
            """, c, transaction))
        {
            await command.ExecuteNonQueryAsync(Ct);
        }
        await transaction.CommitAsync(Ct);
        return cs;
    }

    private static async Task<int[]> VersionsAsync(string cs) =>
        [.. await ScalarsAsync<int>(cs, "SELECT version FROM sayiir_schema_migrations ORDER BY version")];

    private static async Task ExecuteAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, c);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<object?> ScalarAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, c);
        return await command.ExecuteScalarAsync(Ct);
    }

    private static async Task<List<T>> ScalarsAsync<T>(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, c);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var values = new List<T>();
        while (await reader.ReadAsync(Ct)) values.Add(reader.GetFieldValue<T>(0));
        return values;
    }
}
