using System.Collections.Concurrent;
using System.Net.Sockets;
using Npgsql;

namespace Sayiir.Persistence;

/// <summary>The parts of the Orleans ADO.NET schema to install (the shared query table is always installed).</summary>
[Flags]
internal enum PostgresSchemaParts
{
    None = 0,
    Storage = 1,
    Reminders = 2,
    Clustering = 4,
    All = Storage | Reminders | Clustering,
}

/// <summary>A forward schema migration: an embedded script (<c>Persistence/Sql/Migrations</c>) run once, in version order.</summary>
/// <param name="Version">Its number, from 2 (version 1 is the baseline).</param>
/// <param name="Name">A short name, recorded with it.</param>
/// <param name="Script">The file name of its script.</param>
/// <param name="Parts">The schema part whose objects it changes: it is applied by the first install that installs that part.</param>
internal sealed record SchemaMigration(int Version, string Name, string Script, PostgresSchemaParts Parts);

/// <summary>
/// Installs (or refreshes) and migrates the PostgreSQL schema: the tables, helper functions and query texts of
/// <c>OrleansQuery</c> the Orleans ADO.NET providers need, and Sayiir's own tables. Everything runs in one transaction
/// under a fixed advisory lock, so any number of silos may call this at start-up, concurrently.
/// <para>
/// Versions, recorded in <c>sayiir_schema_migrations</c>: version 1 is the baseline, the idempotent scripts
/// <c>Persistence/Sql/0N-*.sql</c>, re-run at every start-up (they also refresh the query texts). A database
/// installed before versions existed has no migrations table; re-running the baseline on it changes nothing and
/// stamps it as version 1. Then every <see cref="Migrations">migration</see> not yet recorded runs once, in order,
/// and is recorded. A database recording a version newer than <see cref="LatestVersion"/> (upgraded by a newer
/// Sayiir) fails the start with <see cref="SayiirSchemaVersionException"/> before anything is changed. Last, a run state
/// serialized as the engine stores it is listed through the installed listing function, so a build and a database that
/// disagree on the stored shape fail the start rather than list runs wrongly.
/// </para>
/// <para>
/// Changing the schema or the stored state: add the next numbered script to <c>Sql/Migrations</c> and to
/// <see cref="Migrations"/>; never edit what the baseline creates (a migration must not be undone by the baseline
/// re-running before it), and never renumber or edit a migration that has landed. Extend the upgrade test
/// (<c>PostgresUpgradeTests</c>) so it covers the change. A listed run-state property renamed in
/// <see cref="RunStateStorage"/> needs a migration that replaces <c>sayiir_run_listing</c> (<c>RunListingTests</c> and
/// the start-up check fail until it exists).
/// </para>
/// </summary>
internal static class PostgresSchemaInstaller
{
    /// <summary>The version of the baseline (the schema as installed before versioned migrations existed).</summary>
    internal const int BaselineVersion = 1;

    /// <summary>The forward migrations after the baseline, in version order (numbered without gaps from 2).</summary>
    internal static readonly IReadOnlyList<SchemaMigration> Migrations =
    [
        new(2, "history-seq", "0002-history-seq.sql", PostgresSchemaParts.Storage),
        new(3, "run-listing", "0003-run-listing.sql", PostgresSchemaParts.Storage),
        new(4, "workflow-versions", "0004-workflow-versions.sql", PostgresSchemaParts.Storage),
        new(5, "listing-indexes", "0005-listing-indexes.sql", PostgresSchemaParts.Storage),
        new(6, "queued-runs", "0006-queued-runs.sql", PostgresSchemaParts.Storage),
        new(7, "compensating-runs", "0007-compensating-runs.sql", PostgresSchemaParts.Storage),
    ];

    /// <summary>The latest schema version this build knows.</summary>
    internal static int LatestVersion => Migrations.Count == 0 ? BaselineVersion : Migrations[^1].Version;

    private const string MigrationsTableDdl = """
        CREATE TABLE IF NOT EXISTS sayiir_schema_migrations
        (
            version    integer     PRIMARY KEY,
            name       text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        """;

    /// <summary>Key of the transaction-scoped advisory lock that serializes installers ("Sayiir" + 0001).</summary>
    internal const long AdvisoryLockKey = 0x5361_7969_6972_0001;

    private const string MainScript = "01-main.sql";
    private const string StorageScript = "02-storage.sql";
    private const string RemindersScript = "03-reminders.sql";
    private const string ClusteringScript = "04-clustering.sql";
    private const string SayiirScript = "05-sayiir.sql";

    private static readonly ConcurrentDictionary<string, string> Scripts = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates or updates the schema for <paramref name="parts"/> in the database of
    /// <paramref name="connectionString"/> and applies the pending migrations of those parts. Safe to run any
    /// number of times, concurrently.
    /// </summary>
    /// <returns>The versions this call recorded (empty when the database was already up to date).</returns>
    /// <exception cref="SayiirStorageUnavailableException">The server cannot be reached or refuses the connection.</exception>
    /// <exception cref="SayiirSchemaVersionException">The database is at a newer schema version than this build knows.</exception>
    /// <exception cref="SayiirException">The server rejected the schema (e.g. missing privileges).</exception>
    public static async Task<IReadOnlyList<int>> InstallAsync(string connectionString, PostgresSchemaParts parts, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var target = DescribeTarget(connectionString);
        var scripts = BaselineScripts(parts);
        var recorded = new List<int>();

        await using var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (Exception ex) when (IsConnectionFailure(ex, cancellationToken))
        {
            throw Unavailable(connectionString, target, ex);
        }

        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var command = new NpgsqlCommand(
                "SET LOCAL client_min_messages = warning; SELECT pg_advisory_xact_lock(@key);", connection, transaction))
            {
                command.CommandTimeout = 120;
                command.Parameters.AddWithValue("key", AdvisoryLockKey);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await ExecuteAsync(MigrationsTableDdl);
            var applied = new HashSet<int>();
            await using (var command = new NpgsqlCommand("SELECT version FROM sayiir_schema_migrations", connection, transaction))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) applied.Add(reader.GetInt32(0));
            }
            if (applied.Count > 0 && applied.Max() > LatestVersion)
            {
                throw new SayiirSchemaVersionException(target, applied.Max(), LatestVersion);
            }

            // The baseline: idempotent, re-run every time (a database from before versions existed is stamped 1).
            foreach (var script in scripts) await ExecuteAsync(script);
            if (!applied.Contains(BaselineVersion)) await RecordAsync(BaselineVersion, "baseline");

            foreach (var migration in Migrations)
            {
                if (applied.Contains(migration.Version) || (parts & migration.Parts) != migration.Parts) continue;
                await ExecuteAsync(ReadScript(migration.Script));
                await RecordAsync(migration.Version, migration.Name);
            }

            if (parts.HasFlag(PostgresSchemaParts.Storage)) await VerifyRunListingAsync(connection, transaction, target, cancellationToken);

            await transaction.CommitAsync(cancellationToken);
            return recorded;

            async Task ExecuteAsync(string sql)
            {
                await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 120 };
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            async Task RecordAsync(int version, string name)
            {
                await using var command = new NpgsqlCommand(
                    "INSERT INTO sayiir_schema_migrations (version, name) VALUES (@version, @name)", connection, transaction);
                command.Parameters.AddWithValue("version", version);
                command.Parameters.AddWithValue("name", name);
                await command.ExecuteNonQueryAsync(cancellationToken);
                recorded.Add(version);
            }
        }
        catch (PostgresException ex)
        {
            throw new SayiirException(
                $"Installing the Sayiir schema into PostgreSQL at {target} failed: {ex.SqlState}: {ex.MessageText}", ex);
        }
        catch (Exception ex) when (IsConnectionFailure(ex, cancellationToken))
        {
            throw Unavailable(connectionString, target, ex);
        }
    }

    /// <summary>
    /// Lists run states serialized exactly as the engine stores them through the database's listing function (the one
    /// its trigger calls), so a build whose stored shape and the installed trigger disagree fails to start instead of
    /// listing runs wrongly or having its writes refused. A missing property is raised by the function (naming it). Each
    /// state is listed in clear and encrypted (the envelope of encryption at rest), whichever this silo writes.
    /// </summary>
    private static async Task VerifyRunListingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string target,
        CancellationToken cancellationToken)
    {
        var sealer = RunStateStorage.ProbeSealer();
        foreach (var (probe, payload) in RunStateStorage.ListingProbes().SelectMany(p => new[] { (p, RunStateStorage.Serialize(p)), (p, RunStateStorage.Serialize(p, sealer)) }))
        {
            await using var command = new NpgsqlCommand(
                "SELECT workflow, status, created_at, updated_at, version, hash FROM sayiir_run_listing(@payload)", connection, transaction);
            command.Parameters.AddWithValue("payload", payload);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var listed = (
                Workflow: reader.IsDBNull(0) ? null : reader.GetString(0),
                Status: reader.IsDBNull(1) ? (short?)null : reader.GetInt16(1),
                Created: reader.IsDBNull(2) ? (DateTime?)null : reader.GetDateTime(2),
                Updated: reader.IsDBNull(3) ? (DateTime?)null : reader.GetDateTime(3),
                Version: reader.IsDBNull(4) ? null : reader.GetString(4),
                Hash: reader.IsDBNull(5) ? null : reader.GetString(5));
            var expected = (probe.WorkflowName, (short?)probe.Status, probe.CreatedAt?.UtcDateTime, probe.UpdatedAt?.UtcDateTime, probe.WorkflowVersion, probe.DefinitionHash);
            if (listed != expected)
            {
                throw new SayiirException(
                    $"The run listing installed in PostgreSQL at {target} does not read the run state this Sayiir build stores: "
                    + $"it lists {listed} for a state holding {expected}. A changed run-state property needs a schema migration.");
            }
        }
    }

    /// <summary>
    /// Describes the server and database of a connection string as <c>host:port/database</c>, without credentials.
    /// </summary>
    internal static string DescribeTarget(string connectionString) => PostgresTarget.Describe(connectionString);

    private static SayiirStorageUnavailableException Unavailable(string connectionString, string target, Exception ex)
    {
        var (hosts, database) = PostgresTarget.Parts(connectionString);
        var message = ex is PostgresException pg
            ? $"PostgreSQL at {hosts} (database '{database}') refused the connection: {pg.SqlState}: {pg.MessageText}"
            : $"PostgreSQL at {hosts} (database '{database}') is unreachable: {Innermost(ex).Message}";
        return new SayiirStorageUnavailableException(target, message, ex);
    }

    private static Exception Innermost(Exception ex)
    {
        // Npgsql wraps socket and timeout errors; the innermost message says what actually happened.
        var current = ex;
        while (current.InnerException is { } inner)
        {
            current = inner;
        }
        return current;
    }

    private static bool IsConnectionFailure(Exception ex, CancellationToken cancellationToken) =>
        !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
        && ex is NpgsqlException or SocketException or TimeoutException or IOException;

    /// <summary>The baseline scripts (version 1) of <paramref name="parts"/>, in the order they run.</summary>
    internal static IReadOnlyList<string> BaselineScripts(PostgresSchemaParts parts) => [.. ScriptsFor(parts).Select(ReadScript)];

    private static IEnumerable<string> ScriptsFor(PostgresSchemaParts parts)
    {
        yield return MainScript;
        if (parts.HasFlag(PostgresSchemaParts.Storage))
        {
            yield return StorageScript;
            // Run listing columns and history: Sayiir's own, on top of the storage contract.
            yield return SayiirScript;
        }
        if (parts.HasFlag(PostgresSchemaParts.Reminders))
        {
            yield return RemindersScript;
        }
        if (parts.HasFlag(PostgresSchemaParts.Clustering))
        {
            yield return ClusteringScript;
        }
    }

    private static string ReadScript(string fileName) => Scripts.GetOrAdd(fileName, static name =>
    {
        var assembly = typeof(PostgresSchemaInstaller).Assembly;
        var resource = assembly.GetManifestResourceNames().SingleOrDefault(n => n.EndsWith("." + name, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Embedded SQL script '{name}' is missing from {assembly.GetName().Name}.");
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
