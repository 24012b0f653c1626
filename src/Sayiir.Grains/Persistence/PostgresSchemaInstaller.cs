using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
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

/// <summary>
/// Installs (or refreshes) the PostgreSQL schema the Orleans ADO.NET providers need: tables, helper functions and the
/// query texts of <c>OrleansQuery</c>. The scripts (embedded <c>Persistence/Sql/*.sql</c>) are idempotent and run in
/// one transaction under a fixed advisory lock, so any number of silos may call this at start-up, concurrently.
/// </summary>
internal static class PostgresSchemaInstaller
{
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
    /// <paramref name="connectionString"/>. Safe to run any number of times, concurrently.
    /// </summary>
    /// <exception cref="SayiirStorageUnavailableException">The server cannot be reached or refuses the connection.</exception>
    /// <exception cref="SayiirException">The server rejected the schema (e.g. missing privileges).</exception>
    public static async Task InstallAsync(string connectionString, PostgresSchemaParts parts, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var target = DescribeTarget(connectionString);
        var scripts = ScriptsFor(parts).Select(ReadScript).ToList();

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

            foreach (var script in scripts)
            {
                await using var command = new NpgsqlCommand(script, connection, transaction) { CommandTimeout = 120 };
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
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
    /// Describes the server and database of a connection string as <c>host:port/database</c>, without credentials.
    /// </summary>
    internal static string DescribeTarget(string connectionString)
    {
        var (hosts, database) = Describe(connectionString);
        return $"{hosts}/{database}";
    }

    private static (string Hosts, string Database) Describe(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return ("(invalid connection string)", "?");
        }

        var port = builder.Port.ToString(CultureInfo.InvariantCulture);
        var hostSpec = string.IsNullOrWhiteSpace(builder.Host) ? "localhost" : builder.Host;
        var hosts = string.Join(",", hostSpec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(host => host switch
            {
                _ when IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 => $"[{host}]:{port}",
                _ when host.Contains(':', StringComparison.Ordinal) => host, // "host:port" or "[v6]:port"
                _ => $"{host}:{port}",
            }));
        var database = builder.Database ?? builder.Username ?? "(default)";
        return (hosts, database);
    }

    private static SayiirStorageUnavailableException Unavailable(string connectionString, string target, Exception ex)
    {
        var (hosts, database) = Describe(connectionString);
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
