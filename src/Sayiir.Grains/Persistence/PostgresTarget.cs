using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Sayiir.Persistence;

/// <summary>
/// Names a PostgreSQL server and database for logs and errors, never its credentials. Shared as source by the engine,
/// the silo host and the bench (each compiles its own internal copy; none exposes it).
/// </summary>
internal static class PostgresTarget
{
    /// <summary>The server(s) and database of a connection string as <c>host:port/database</c>.</summary>
    public static string Describe(string connectionString)
    {
        var (hosts, database) = Parts(connectionString);
        return $"{hosts}/{database}";
    }

    /// <summary>The server(s) as <c>host:port[,host:port]</c> (IPv6 in brackets) and the database, apart.</summary>
    public static (string Hosts, string Database) Parts(string connectionString)
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
}
