using Sayiir.Hosting;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>
/// <see cref="ITaskFilter"/>s registered with <see cref="SayiirSiloBuilder.AddTaskFilter{TFilter}"/> run around every
/// attempt: the first registered outermost, once however often registered; a filter's exception is the attempt's
/// failure (retried by the task's policy); a value of the wrong type fails the attempt naming the task.
/// </summary>
public sealed class TaskFilterTests(TaskFilterTests.Fixture fixture) : IClassFixture<TaskFilterTests.Fixture>
{
    private static readonly WorkflowDefinition<int, int> Traced = Flow.Create<int>("tf_traced")
        .Then("work", (int x, TaskContext ctx) =>
        {
            Probe.Record(ctx, "task");
            return Task.FromResult(x + 1);
        })
        .Build();

    private static readonly WorkflowDefinition<int, int> RefusedOnce = Flow.Create<int>("tf_refused_once")
        .Then("flaky", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromResult(x * 2);
        }, o => o.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(10)))
        .Build();

    private static readonly WorkflowDefinition<int, int> Mistyped = Flow.Create<int>("tf_mistyped")
        .Then("mistyped", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromResult(x);
        })
        .Build();

    private ISayiirClient Client => fixture.Cluster.Client;

    [Fact]
    public async Task Filters_RegisteredInOrder_RunOutermostFirstAndOnceEach()
    {
        var id = NewId("tf-traced");

        Assert.Equal(2, await Wait.ForAsync(Client.RunAsync(Traced, 1, id), Deadline, "the traced run"));

        Assert.Equal(["outer>", "inner>", "task", "<inner", "<outer"], Probe.EventsOf(id, "work").Select(e => e.What));
    }

    [Fact]
    public async Task Filter_ThrowsOnFirstAttempt_FailureIsRetriedByTheTaskPolicy()
    {
        var id = NewId("tf-refused");

        Assert.Equal(42, await Wait.ForAsync(Client.RunAsync(RefusedOnce, 21, id), Deadline, "the run refused once"));

        Assert.Equal(1, Probe.Executions(id, "flaky"));
        var failed = (await Client.GetHistoryAsync(id)).Where(e => e.Kind == RunEventKind.TaskFailed).ToList();
        var failure = Assert.Single(failed);
        Assert.Equal(typeof(InvalidOperationException).FullName, failure.ErrorType);
        Assert.Equal("the filter refuses attempt 1", failure.Message);
    }

    [Fact]
    public async Task Filter_ReturnsWrongType_FailsTheAttemptNamingTheTask()
    {
        var id = NewId("tf-mistyped");

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(Mistyped, 1, id), Deadline, "the mistyped run"));

        Assert.True(error.Failure.IsCausedBy<PayloadSerializationException>(), error.Failure.ErrorType);
        Assert.Contains("output of task 'mistyped'", error.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, Probe.Executions(id, "mistyped"));
    }

    /// <summary>Outermost: records around the rest of the chain.</summary>
    public sealed class OuterFilter : ITaskFilter
    {
        public async Task<object?> InvokeAsync(object? input, TaskContext context, TaskFilterNext invokeNext)
        {
            if (context.TaskId == "work") Probe.Record(context, "outer>");
            var output = await invokeNext(input, context);
            if (context.TaskId == "work") Probe.Record(context, "<outer");
            return output;
        }
    }

    /// <summary>Innermost: records around the task, refuses an attempt, or answers with a value of the wrong type.</summary>
    public sealed class InnerFilter : ITaskFilter
    {
        public async Task<object?> InvokeAsync(object? input, TaskContext context, TaskFilterNext invokeNext)
        {
            switch (context.TaskId)
            {
                case "flaky" when context.Attempt == 1:
                    throw new InvalidOperationException("the filter refuses attempt 1");
                case "mistyped":
                    return "not an int";
                case "work":
                    Probe.Record(context, "inner>");
                    var output = await invokeNext(input, context);
                    Probe.Record(context, "<inner");
                    return output;
                default:
                    return await invokeNext(input, context);
            }
        }
    }

    /// <summary>A single-silo cluster with the two filters (the outer one registered twice).</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public SayiirCluster Cluster { get; private set; } = null!;

        public async Task InitializeAsync() => Cluster = await SayiirCluster.StartAsync(Backend.Memory, new ClusterSettings
        {
            Silos = 1,
            Workflows = [Traced, RefusedOnce, Mistyped],
            Sayiir = s => s.AddTaskFilter<OuterFilter>().AddTaskFilter<InnerFilter>().AddTaskFilter<OuterFilter>(),
        });

        public async Task DisposeAsync() => await Cluster.DisposeAsync();
    }
}
