using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sayiir.Testing;
using Sayiir.Tests.Samples;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// The virtual-time environments the time scenario classes share, one per backend, each an xunit collection: a
/// <see cref="SayiirTestEnvironment"/> (the package harness) with every test workflow, two silos and one
/// <see cref="FakeTimeProvider"/> as the engine's clock. Delays, retry backoffs, signal and task timeouts pass when a
/// test advances the clock, never on their own, so these tests wait on no engine time. The classes of a collection run
/// one after another, so a test owns the clock while it runs; runs it leaves waiting are settled for the next one.
/// </summary>
public static class VirtualTimeEnvironments
{
    /// <summary>Name of the collection sharing <see cref="MemoryVirtualTimeFixture"/>.</summary>
    public const string Memory = "virtual-time in-memory environment";

    /// <summary>Name of the collection sharing <see cref="PostgresVirtualTimeFixture"/>.</summary>
    public const string Postgres = "virtual-time PostgreSQL environment";
}

/// <summary>An environment started before the first class of its collection and stopped (its database dropped) after the last.</summary>
public abstract class VirtualTimeFixture(Backend backend) : IAsyncLifetime
{
    public SayiirTestEnvironment Env { get; private set; } = null!;

    /// <summary>The database of the PostgreSQL environment (created and dropped by the fixture); null in memory.</summary>
    public string? ConnectionString { get; private set; }

    public async Task InitializeAsync()
    {
        if (backend == Backend.Postgres) ConnectionString = await PostgresServer.CreateDatabaseAsync("sayiir_vtime");
        try
        {
            Env = await SayiirTestEnvironment.StartAsync(o =>
            {
                o.Silos = 2;
                o.PostgresConnectionString = ConnectionString;
                foreach (var workflow in SharedClusters.Settings().Workflows!) o.AddWorkflow(workflow);
                o.ConfigureServices(services =>
                {
                    services.AddSingleton<IGreeter, Greeter>();
                    SampleCluster.AddServices(services);
                });
            });
        }
        catch when (ConnectionString is not null)
        {
            await PostgresServer.DropDatabaseAsync(ConnectionString);
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Env.DisposeAsync();
        }
        finally
        {
            if (ConnectionString is not null) await PostgresServer.DropDatabaseAsync(ConnectionString);
        }
    }
}

/// <summary>The in-memory environment of collection <see cref="VirtualTimeEnvironments.Memory"/>.</summary>
public sealed class MemoryVirtualTimeFixture() : VirtualTimeFixture(Backend.Memory);

/// <summary>The PostgreSQL environment (its own database) of collection <see cref="VirtualTimeEnvironments.Postgres"/>.</summary>
public sealed class PostgresVirtualTimeFixture() : VirtualTimeFixture(Backend.Postgres);

[CollectionDefinition(VirtualTimeEnvironments.Memory)]
public sealed class MemoryVirtualTimeDefinition : ICollectionFixture<MemoryVirtualTimeFixture>;

[CollectionDefinition(VirtualTimeEnvironments.Postgres)]
public sealed class PostgresVirtualTimeDefinition : ICollectionFixture<PostgresVirtualTimeFixture>;

/// <summary>
/// Base of the scenario classes on a shared virtual-time environment: its client and clock. Tests use unique instance
/// ids, advance the clock only forward, and leave no task running.
/// </summary>
public abstract class VirtualTimeScenarios(VirtualTimeFixture fixture)
{
    protected SayiirTestEnvironment Env => fixture.Env;

    protected ISayiirClient Client => fixture.Env.Client;

    /// <summary>The engine's clock; move it directly only to fire a task timeout (advancing never waits for a running task).</summary>
    protected FakeTimeProvider Time => fixture.Env.Time;

    protected string? ConnectionString => fixture.ConnectionString;

    /// <summary>Returns once every run has reached its next wait or ended, without moving the clock.</summary>
    protected Task SettleAsync() => Env.AdvanceTimeAsync(TimeSpan.Zero);
}
