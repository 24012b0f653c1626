using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Sayiir.Samples.ClusterClient;

/// <summary>
/// The client's settings, from configuration (appsettings.json, environment variables such as
/// <c>SAYIIR__POSTGRES</c>, command line <c>--Sayiir:Postgres …</c>). The <c>Sayiir</c> keys are the ones the silos
/// use, so one environment can serve both.
/// </summary>
internal sealed class ClientSettings
{
    /// <summary><c>Sayiir:Postgres</c>: the cluster's PostgreSQL connection string (membership table). Required.</summary>
    public required string Postgres { get; init; }

    /// <summary><c>Sayiir:ClusterId</c>: the cluster to join. Default "sayiir", as on the silos.</summary>
    public string ClusterId { get; init; } = "sayiir";

    /// <summary><c>Sayiir:ServiceId</c>: the service id of the silos. Default "sayiir".</summary>
    public string ServiceId { get; init; } = "sayiir";

    /// <summary><c>ClusterClient:Runs</c>: how many runs to start. Default 10.</summary>
    public int Runs { get; init; } = 10;

    /// <summary><c>ClusterClient:RunIdPrefix</c>: instance ids are <c>{prefix}-0001</c>…. Default "pipeline-" + a random suffix.</summary>
    public string RunIdPrefix { get; init; } = "pipeline-" + Guid.NewGuid().ToString("n")[..8];

    /// <summary><c>ClusterClient:Timeout</c>: how long to wait for all runs. Default 5 minutes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary><c>ClusterClient:ConnectTimeout</c>: how long to keep looking for a gateway at start-up. Default 1 minute.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public static ClientSettings From(IConfiguration configuration)
    {
        var sayiir = configuration.GetSection("Sayiir");
        var client = configuration.GetSection("ClusterClient");
        var postgres = sayiir["Postgres"];
        if (string.IsNullOrWhiteSpace(postgres))
            throw new InvalidOperationException("Sayiir:Postgres (or SAYIIR__POSTGRES) is required: the connection string of the cluster's PostgreSQL database.");
        var defaults = new ClientSettings { Postgres = postgres };
        var settings = new ClientSettings
        {
            Postgres = postgres,
            ClusterId = NonEmpty(sayiir, "ClusterId") ?? defaults.ClusterId,
            ServiceId = NonEmpty(sayiir, "ServiceId") ?? defaults.ServiceId,
            Runs = client.GetValue("Runs", defaults.Runs),
            RunIdPrefix = NonEmpty(client, "RunIdPrefix") ?? defaults.RunIdPrefix,
            Timeout = client.GetValue("Timeout", defaults.Timeout),
            ConnectTimeout = client.GetValue("ConnectTimeout", defaults.ConnectTimeout),
        };
        var errors = new List<string>();
        if (settings.Runs is < 1 or > 100_000) errors.Add($"ClusterClient:Runs must be within [1, 100000] (was {settings.Runs})");
        if (settings.Timeout <= TimeSpan.Zero) errors.Add($"ClusterClient:Timeout must be positive (was {settings.Timeout})");
        if (settings.ConnectTimeout < TimeSpan.Zero) errors.Add($"ClusterClient:ConnectTimeout must not be negative (was {settings.ConnectTimeout})");
        try
        {
            _ = new NpgsqlConnectionStringBuilder(postgres);
        }
        catch (ArgumentException ex)
        {
            errors.Add($"Sayiir:Postgres is not a valid connection string: {ex.Message}");
        }
        if (errors.Count > 0) throw new InvalidOperationException(string.Join("; ", errors));
        return settings;
    }

    /// <summary>The database as <c>host:port/database</c>, without credentials.</summary>
    public string DescribePostgres()
    {
        var b = new NpgsqlConnectionStringBuilder(Postgres);
        return $"PostgreSQL at {b.Host ?? "localhost"}:{b.Port}/{b.Database ?? b.Username ?? "(default)"}";
    }

    private static string? NonEmpty(IConfiguration section, string key) =>
        string.IsNullOrWhiteSpace(section[key]) ? null : section[key]!.Trim();
}
