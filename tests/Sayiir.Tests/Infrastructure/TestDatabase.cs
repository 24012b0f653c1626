namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL database a test creates and shares between the clusters it starts one after another (a full-cluster
/// restart, a changed definition): dropped when disposed, so no test leaves a database behind on the shared server.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string connectionString) => ConnectionString = connectionString;

    /// <summary>Connection string to the database.</summary>
    public string ConnectionString { get; }

    /// <summary>Creates an empty database named <paramref name="prefix"/> + a random suffix.</summary>
    public static async Task<TestDatabase> CreateAsync(string prefix, CancellationToken cancellationToken = default) =>
        new(await PostgresServer.CreateDatabaseAsync(prefix, cancellationToken));

    public async ValueTask DisposeAsync() => await PostgresServer.DropDatabaseAsync(ConnectionString);
}
