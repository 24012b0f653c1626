using Npgsql;

namespace Sayiir.Tests.Infrastructure;

/// <summary>Looks at what a PostgreSQL-backed cluster actually stored.</summary>
public static class StoredRuns
{
    /// <summary>How many grain-state rows exist for the run <paramref name="instanceId"/>.</summary>
    public static async Task<long> CountAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM orleansstorage WHERE grainidextensionstring = @id AND graintypestring = 'sayiir-run'", connection);
        command.Parameters.AddWithValue("id", instanceId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
