using Npgsql;

namespace Sayiir.Persistence;

/// <summary>Adjusts a user's PostgreSQL connection string for the engine's own connections.</summary>
internal static class PostgresConnectionTuning
{
    /// <summary>
    /// Sets two Npgsql settings the string leaves unset. <c>No Reset On Close</c>: by default every connection taken
    /// from the pool first runs <c>DISCARD ALL</c>, which doubled the statements per checkpoint; none of the engine's
    /// statements (Orleans' ADO.NET queries, the schema installer, the history journal) leave session state behind.
    /// <c>Max Auto Prepare</c> (32): the engine repeats a handful of statements, which then skip parsing and planning
    /// on the server. Settings the user wrote are kept as written; a string Npgsql cannot parse is returned
    /// unchanged, and opening it reports the error.
    /// </summary>
    public static string ForEngine(string connectionString)
    {
        if (Parse(connectionString) is not { } builder) return connectionString;
        // Npgsql's builder claims every keyword it knows, so look for the user's own keys in the raw string.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(key => key.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant())
            .ToHashSet();
        if (!given.Contains("NORESETONCLOSE")) builder.NoResetOnClose = true;
        if (!given.Contains("MAXAUTOPREPARE")) builder.MaxAutoPrepare = 32;
        return builder.ConnectionString;
    }

    /// <summary>
    /// The history journal's connections: the engine's settings, and commits that wait for their WAL flush like every
    /// other write. (They once did not, on the argument that the run's next synchronous state write flushes them in WAL
    /// order. A database crash-restart breaks that: the run's activation survives it, drops the confirmed events from
    /// its outbox, and its next write lands on a database that lost them. The chaos test caught a missing
    /// TaskCompleted that way.) The flush is off the run's critical path: history is written after the state write.
    /// </summary>
    public static string ForJournal(string connectionString) => ForEngine(connectionString);

    private static NpgsqlConnectionStringBuilder? Parse(string connectionString)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
