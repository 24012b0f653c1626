using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sayiir.Hosting;
using Sayiir.Persistence;
using Sayiir.Runtime;

namespace Sayiir.Tests.Hosting;

/// <summary>
/// <c>AddSayiir</c> and <c>AddSayiirClient</c> called more than once: workflows and option changes add up, services
/// are registered once, and a second, different storage choice is refused instead of silently ignored.
/// </summary>
public sealed class AddSayiirTests
{
    private const string DatabaseA = "Host=db-a.example;Port=5432;Database=orders;Username=sayiir;Password=secret-a";
    private const string DatabaseB = "Host=db-b.example;Port=5433;Database=billing;Username=sayiir;Password=secret-b";

    private static readonly WorkflowDefinition<int, int> Double = Flow.Create<int>("hosting_twice_double")
        .Then("double", (int x) => x * 2)
        .Build();

    private static readonly WorkflowDefinition<string, string> Shout = Flow.Create<string>("hosting_twice_shout")
        .Then("shout", (string s) => s.ToUpperInvariant() + "!")
        .Build();

    [Fact]
    public async Task AddSayiir_CalledTwiceWithCompatibleConfiguration_RegistersServicesOnceAndRunsWorkflowsOfBothCalls()
    {
        var silo = TestHosts.Silo(s =>
        {
            s.AddSayiir(w => w.AddWorkflow(Double).Configure(o => o.InlineResultWindow = TimeSpan.FromSeconds(3)));
            // The second call repeats a workflow (same definition) and adds one; its option change composes.
            s.AddSayiir(w => w.AddWorkflow(Shout).AddWorkflow(Double).Configure(o => o.MaxStorageRetryDelay = o.InlineResultWindow * 2));
        });
        var services = silo.Builder.Services;

        Assert.Equal(1, Count(services, typeof(RecoveryWatcher)));
        Assert.Equal(1, Count(services, typeof(TaskServicesCheck)));
        Assert.Equal(1, Count(services, typeof(MemoryRunJournal)));
        Assert.Equal(1, Count(services, typeof(ISayiirClient)));
        Assert.Equal(1, Count(services, typeof(SayiirOptionsValidator)));
        Assert.Equal(2, Count(services, typeof(WorkflowRegistration)));

        var host = silo.Builder.Build();
        try
        {
            await TestHosts.StartAsync(host);
            var options = host.Services.GetRequiredService<IOptions<SayiirOptions>>().Value;
            Assert.Equal(TimeSpan.FromSeconds(3), options.InlineResultWindow);
            Assert.Equal(TimeSpan.FromSeconds(6), options.MaxStorageRetryDelay);
            Assert.Equal([Double.Name, Shout.Name], host.Services.GetRequiredService<WorkflowRegistry>().All.Select(w => w.Name).Order(StringComparer.Ordinal));

            var client = host.Services.GetRequiredService<ISayiirClient>();
            Assert.Equal(42, await client.RunAsync(Double, 21, $"twice-double-{Guid.NewGuid():n}"));
            Assert.Equal("HI!", await client.RunAsync(Shout, "hi", $"twice-shout-{Guid.NewGuid():n}"));
        }
        finally
        {
            await TestHosts.StopAsync(host);
        }
    }

    [Fact]
    public void AddSayiir_SamePostgresInBothCalls_RegistersOneStorage()
    {
        var silo = TestHosts.Silo(s =>
        {
            s.AddSayiir(w => w.AddWorkflow(Double).UsePostgres(DatabaseA));
            s.AddSayiir(w => w.AddWorkflow(Shout).UsePostgres(DatabaseA));
            s.AddSayiir(w => w.Configure(o => o.WakeRunsOnSiloDeath = false)); // no storage: keeps the first call's
        });

        Assert.Equal(1, Count(silo.Builder.Services, typeof(PostgresRunJournal)));
        Assert.Equal(0, Count(silo.Builder.Services, typeof(MemoryRunJournal)));
        Assert.Equal(2, Count(silo.Builder.Services, typeof(WorkflowRegistration)));
    }

    [Fact]
    public void AddSayiir_PostgresAfterInMemoryCall_ThrowsNamingBothStoragesAndRegistersNothing()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Double)));
        var registered = silo.Builder.Services.Count;

        var ex = Assert.Throws<InvalidOperationException>(() => silo.Silo.AddSayiir(w => w.AddWorkflow(Shout).UsePostgres(DatabaseA)));

        Assert.Contains("in-memory storage (no UsePostgres)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("UsePostgres(db-a.example:5432/orders, installSchema: true)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
        Assert.Equal(registered, silo.Builder.Services.Count);
    }

    [Fact]
    public void AddSayiir_SecondCallWithAnotherPostgresDatabase_ThrowsNamingBothTargets()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Double).UsePostgres(DatabaseA)));
        var registered = silo.Builder.Services.Count;

        var ex = Assert.Throws<InvalidOperationException>(() => silo.Silo.AddSayiir(w => w.UsePostgres(DatabaseB)));

        Assert.Contains("UsePostgres(db-a.example:5432/orders, installSchema: true)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("UsePostgres(db-b.example:5433/billing, installSchema: true)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
        Assert.Equal(registered, silo.Builder.Services.Count);
    }

    [Fact]
    public void AddSayiir_SecondCallWithOtherInstallSchema_Throws()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.UsePostgres(DatabaseA)));

        var ex = Assert.Throws<InvalidOperationException>(() => silo.Silo.AddSayiir(w => w.UsePostgres(DatabaseA, installSchema: false)));

        Assert.Contains("installSchema: false", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UsePostgres_CalledTwiceOnOneBuilder_SameArgumentsAcceptedOtherArgumentsThrow()
    {
        var builder = new SayiirSiloBuilder().UsePostgres(DatabaseA).UsePostgres(DatabaseA);

        var ex = Assert.Throws<InvalidOperationException>(() => builder.UsePostgres(DatabaseB));

        Assert.Contains("UsePostgres was already called with UsePostgres(db-a.example:5432/orders, installSchema: true)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("db-b.example:5433/billing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSayiir_WorkflowNameRegisteredWithAnotherDefinition_ThrowsNamingWorkflowAndRegistersNothing()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Double)));
        var registered = silo.Builder.Services.Count;
        var impostor = Flow.Create<int>(Double.Name).Then("triple", (int x) => x * 3).Build();

        var ex = Assert.Throws<InvalidOperationException>(() => silo.Silo.AddSayiir(w => w.AddWorkflow(Shout).AddWorkflow(impostor)));

        Assert.Contains($"'{Double.Name}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Double.Hash, ex.Message, StringComparison.Ordinal);
        Assert.Contains(impostor.Hash, ex.Message, StringComparison.Ordinal);
        Assert.Equal(registered, silo.Builder.Services.Count);
    }

    [Fact]
    public void AddSayiirClient_CalledTwiceAndAfterAddSayiir_RegistersOnceAndComposesOptionsInOrder()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir());
        var services = silo.Builder.Services;

        services.AddSayiirClient(o => o.ResultPollWindow = TimeSpan.FromSeconds(3));
        services.AddSayiirClient(o => o.ResultPollWindow *= 2);

        Assert.Equal(1, Count(services, typeof(ISayiirClient)));
        Assert.Equal(1, Count(services, typeof(SayiirClientOptionsValidator)));
        using var provider = services.BuildServiceProvider();
        Assert.Equal(TimeSpan.FromSeconds(6), provider.GetRequiredService<IOptions<SayiirClientOptions>>().Value.ResultPollWindow);
    }

    // Descriptors whose service or implementation type is the given one (keyed descriptors included).
    private static int Count(IServiceCollection services, Type type) => services.Count(d =>
        d.ServiceType == type || (d.IsKeyedService ? d.KeyedImplementationType : d.ImplementationType) == type);
}
