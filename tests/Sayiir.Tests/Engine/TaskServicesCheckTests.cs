using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>Class tasks whose constructor dependencies the silo cannot supply are refused at start-up.</summary>
public sealed class TaskServicesCheckTests
{
    public interface IUnregisteredLedger
    {
        int Post(int amount);
    }

    public sealed class PostToLedger(IUnregisteredLedger ledger) : IWorkflowTask<int, int>
    {
        public Task<int> ExecuteAsync(int input, TaskContext context) => Task.FromResult(ledger.Post(input));
    }

    [Fact]
    public async Task Deploy_ClassTaskWithUnregisteredDependency_FailsNamingTaskTypeAndService()
    {
        var flow = Flow.Create<int>("needs_ledger").Then<PostToLedger, int>("post").Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => SayiirCluster.StartAsync(Backend.Memory, new ClusterSettings { Silos = 1, Workflows = [flow] }));

        var validation = ExceptionChain.Flatten(ex).OfType<WorkflowValidationException>().First();
        Assert.Equal("needs_ledger", validation.WorkflowName);
        var problem = Assert.Single(validation.Errors);
        Assert.Contains("'post'", problem);
        Assert.Contains(nameof(PostToLedger), problem);
        Assert.Contains(nameof(IUnregisteredLedger), problem);
    }

    [Fact]
    public async Task Deploy_ClassTaskWhoseDependenciesAreRegistered_Starts()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Memory, new ClusterSettings { Silos = 1, Workflows = [TestFlows.WithService] });

        Assert.Equal("Hello, Ada! (attempt 1 of greet)", await cluster.Client.RunAsync(TestFlows.WithService, "Ada", NewId("di")));
    }
}
