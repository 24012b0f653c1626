using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sayiir.Persistence;

namespace Sayiir.Hosting;

/// <summary>Settings of <see cref="SayiirClusteringExtensions.UseSayiirPostgresClustering(ISiloBuilder, string, Action{SayiirPostgresClusteringOptions}?)"/>.</summary>
public sealed class SayiirPostgresClusteringOptions
{
    /// <summary>
    /// Whether the silo installs (or refreshes) the clustering part of the schema — the membership tables and
    /// their query texts — idempotently at start-up, before the membership provider reads its queries. Turn it
    /// off when a DBA owns the schema.
    /// <para>Default: <see langword="true"/>.</para>
    /// </summary>
    public bool InstallSchema { get; set; } = true;
}

/// <summary>
/// Clusters Sayiir silos (and connects Orleans clients to them) through Orleans' ADO.NET membership table on
/// PostgreSQL. Timings of failure detection are Orleans' <c>ClusterMembershipOptions</c>, configured separately.
/// </summary>
public static class SayiirClusteringExtensions
{
    private const string AdoNetInvariant = "Npgsql";

    /// <summary>
    /// Uses a PostgreSQL membership table (Orleans ADO.NET clustering, invariant <c>"Npgsql"</c>) for this silo.
    /// Unless <see cref="SayiirPostgresClusteringOptions.InstallSchema"/> is turned off, the clustering schema is
    /// installed idempotently at the first lifecycle stage (so any number of silos may start at once); an
    /// unreachable server fails the start with a <see cref="SayiirStorageUnavailableException"/> naming
    /// <c>host:port/database</c>. Cluster and service ids come from Orleans' <c>ClusterOptions</c>.
    /// </summary>
    public static ISiloBuilder UseSayiirPostgresClustering(this ISiloBuilder builder, string connectionString,
        Action<SayiirPostgresClusteringOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new SayiirPostgresClusteringOptions();
        configure?.Invoke(options);

        if (options.InstallSchema)
        {
            builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp =>
                new PostgresSchemaStartup(connectionString, PostgresSchemaParts.Clustering,
                    sp.GetService<ILogger<PostgresSchemaStartup>>() ?? NullLogger<PostgresSchemaStartup>.Instance));
        }
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = PostgresConnectionTuning.ForEngine(connectionString);
        });
        return builder;
    }

    /// <summary>
    /// Finds the gateways of a Sayiir cluster in its PostgreSQL membership table (Orleans ADO.NET clustering,
    /// invariant <c>"Npgsql"</c>). The silos install the schema; a client never writes to it. Use the same
    /// <c>ClusterOptions</c> (cluster and service ids) as the silos.
    /// </summary>
    public static IClientBuilder UseSayiirPostgresClustering(this IClientBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = PostgresConnectionTuning.ForEngine(connectionString);
        });
        return builder;
    }
}
