using Npgsql;

namespace Sayiir.Persistence;

/// <summary>Adjusts a user's PostgreSQL connection string for the engine's own connections.</summary>
internal static class PostgresConnectionTuning
{
    /// <summary>
    /// Turns on Npgsql's <c>No Reset On Close</c> unless the string sets it. By default every connection taken from
    /// the pool first runs <c>DISCARD ALL</c>, which here doubled the statements per checkpoint; none of the engine's
    /// statements (Orleans' ADO.NET queries, the schema installer, the history journal) leave session state behind,
    /// so the reset buys nothing. A string Npgsql cannot parse is returned unchanged: opening it reports the error.
    /// </summary>
    public static string ForEngine(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return connectionString;
        }
        // Npgsql's builder claims every keyword it knows, so look for the user's own key in the raw string.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals("NoResetOnClose", StringComparison.OrdinalIgnoreCase)))
            return connectionString;
        builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }
}
