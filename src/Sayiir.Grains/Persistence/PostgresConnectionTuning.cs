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
    /// The history journal's sessions commit without waiting for their WAL flush (<c>synchronous_commit=off</c>):
    /// that wait doubled the fsyncs of a run. Nothing is weakened where it matters. WAL is flushed in order, so the
    /// run's next state write, which always commits synchronously, makes every earlier history row durable with it;
    /// in particular an archived output is only pruned from the state by a write that follows its archive commit.
    /// Rows after a run's last state write become durable within PostgreSQL's WAL writer delay (3 × 200 ms at most).
    /// </summary>
    public static string ForJournal(string connectionString)
    {
        if (Parse(ForEngine(connectionString)) is not { } builder) return connectionString;
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? "-c synchronous_commit=off" : builder.Options + " -c synchronous_commit=off";
        return builder.ConnectionString;
    }

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
