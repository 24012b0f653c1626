using System.Text;
using Npgsql;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests run against, given by <c>SAYIIR_TEST_POSTGRES</c> (an Npgsql connection string
/// whose user may CREATE DATABASE). <c>bash eng/test.sh</c> provisions a throwaway server and sets it.
/// Every test that needs a database creates its own (the scenario classes of a collection share their cluster's, see
/// <see cref="SharedClusters"/>), and whoever created a database drops it when done.
/// </summary>
public static class PostgresServer
{
    /// <summary>Name of the environment variable holding the admin connection string.</summary>
    public const string EnvironmentVariable = "SAYIIR_TEST_POSTGRES";

    private const int MaxIdentifierLength = 63;

    /// <summary>Connection string to the server's maintenance database, from <c>SAYIIR_TEST_POSTGRES</c>.</summary>
    /// <exception cref="InvalidOperationException">The variable is not set.</exception>
    public static string AdminConnectionString
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(value)
                ? throw new InvalidOperationException(
                    "SAYIIR_TEST_POSTGRES is not set: run the tests with `bash eng/test.sh`, which provisions PostgreSQL")
                : value;
        }
    }

    /// <summary>
    /// Creates an empty database named <paramref name="prefix"/> + a short random suffix (lowercase, at most 63
    /// characters) and returns a connection string to it (same server and credentials as the admin one).
    /// </summary>
    public static async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = UniqueName(prefix);
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        // Idle pooled connections close within seconds: the clusters of finished test classes would otherwise hold
        // theirs for Npgsql's default 5 minutes, and parallel classes then exhaust the server's max_connections.
        return new NpgsqlConnectionStringBuilder(AdminConnectionString)
        {
            Database = name,
            ConnectionIdleLifetime = 5,
            ConnectionPruningInterval = 1,
        }.ConnectionString;
    }

    /// <summary>Drops the database of <paramref name="connectionString"/>, disconnecting its sessions (no-op if absent).</summary>
    public static async Task DropDatabaseAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database
            ?? throw new ArgumentException("The connection string names no database.", nameof(connectionString));
        await using (var probe = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(probe);
        }

        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"DROP DATABASE IF EXISTS \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string UniqueName(string prefix)
    {
        var clean = new StringBuilder();
        foreach (var c in prefix.ToLowerInvariant())
        {
            clean.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? c : '_');
        }
        if (clean.Length == 0 || char.IsDigit(clean[0]))
        {
            clean.Insert(0, "t_");
        }

        var suffix = "_" + Guid.NewGuid().ToString("N")[..12];
        var maxPrefix = MaxIdentifierLength - suffix.Length;
        return (clean.Length > maxPrefix ? clean.ToString(0, maxPrefix) : clean.ToString()) + suffix;
    }
}
