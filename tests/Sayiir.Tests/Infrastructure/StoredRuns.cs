using Npgsql;
using Sayiir.Persistence;

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
            $"SELECT count(*) FROM orleansstorage WHERE grainidextensionstring = @id AND graintypestring = '{RunStateStorage.StateName}'", connection);
        command.Parameters.AddWithValue("id", instanceId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The ids of the finished steps recorded in the run's stored state (empty when nothing is stored).</summary>
    public static async Task<IReadOnlyList<string>> DoneStepsAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT payloadbinary FROM orleansstorage WHERE grainidextensionstring = @id AND graintypestring = '{RunStateStorage.StateName}'", connection);
        command.Parameters.AddWithValue("id", instanceId);
        if (await command.ExecuteScalarAsync() is not byte[] payload) return [];
        using var document = System.Text.Json.JsonDocument.Parse(payload);
        return document.RootElement.TryGetProperty("Done", out var done)
            ? [.. done.EnumerateArray().Select(e => e.GetString()!)]
            : [];
    }

    /// <summary>The done cursor recorded in the run's stored state (null when the state has none, as before the cursor existed or at 0).</summary>
    public static async Task<int?> DoneThroughAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT payloadbinary FROM orleansstorage WHERE grainidextensionstring = @id AND graintypestring = '{RunStateStorage.StateName}'", connection);
        command.Parameters.AddWithValue("id", instanceId);
        if (await command.ExecuteScalarAsync() is not byte[] payload) return null;
        using var document = System.Text.Json.JsonDocument.Parse(payload);
        return document.RootElement.TryGetProperty("DoneThrough", out var cursor) ? cursor.GetInt32() : null;
    }

    /// <summary>The run state recorded in the run's stored row (null when nothing is stored).</summary>
    public static async Task<WorkflowState?> StoredStateAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT payloadbinary FROM orleansstorage WHERE grainidextensionstring = @id AND graintypestring = '{RunStateStorage.StateName}'", connection);
        command.Parameters.AddWithValue("id", instanceId);
        if (await command.ExecuteScalarAsync() is not byte[] payload) return null;
        using var document = System.Text.Json.JsonDocument.Parse(payload);
        return document.RootElement.TryGetProperty(RunStateStorage.StatusProperty, out var status) ? (WorkflowState)status.GetInt32() : null;
    }

    /// <summary>Deletes the run's recovery reminder row, as if its registration had never landed; returns the rows deleted.</summary>
    public static async Task<int> DeleteReminderAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("DELETE FROM orleansreminderstable WHERE grainid = @grain", connection);
        command.Parameters.AddWithValue("grain", $"workflow/{instanceId}");
        return await command.ExecuteNonQueryAsync();
    }
}
