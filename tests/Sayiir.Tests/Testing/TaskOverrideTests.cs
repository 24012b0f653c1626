using Microsoft.Extensions.DependencyInjection;
using Sayiir.Testing;
using Sayiir.Tests.Infrastructure;
using Xunit.Abstractions;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Testing;

/// <summary>
/// <see cref="SayiirTestEnvironment.OverrideTask{TInput, TOutput}"/> and <see cref="SayiirTestEnvironment.FailTask"/>
/// on two silos: a task replaced for one test, by id, with the definition (and its hash) untouched. The real tasks
/// count their executions in <see cref="Probe"/>, so a test sees whether they ran.
/// </summary>
public sealed class TaskOverrideTests(TaskOverrideTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<TaskOverrideTests.Fixture>
{
    private static readonly WorkflowDefinition<int, string> Checkout = Flow.Create<int>("ovr_checkout")
        .Then("price", (int quantity) => quantity * 10)
        .Then("charge", (int amount, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromResult($"charged {amount}");
        }, o => o.Retry = RetryPolicy.Fixed(3, TimeSpan.FromMinutes(5)))
        .Then("receipt", (string charged) => $"receipt: {charged}")
        .Build();

    // Another workflow with a task of the same id, to check an override scoped to one workflow.
    private static readonly WorkflowDefinition<int, string> Refund = Flow.Create<int>("ovr_refund")
        .Then("charge", (int amount, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            return Task.FromResult($"refunded {amount}");
        })
        .Delay("settle", TimeSpan.FromDays(1))
        .Build();

    // A compensable step, then one that fails: the undo step runs whether or not the step was overridden.
    private static readonly WorkflowDefinition<int, int> Booking = Flow.Create<int>("ovr_booking")
        .Then("book", (int seats, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(seats); },
            (int seats, int booked, TaskContext ctx) => { SagaLedger.Add(ctx, $"undo:{booked}"); return Task.CompletedTask; })
        .Then<int>("pay", (int booked, TaskContext ctx) => throw new InvalidOperationException("card declined"))
        .Build();

    private SayiirTestEnvironment Env => fixture.Env;

    [Fact]
    public async Task OverrideTask_CompensableStep_ReplacesTheStepButNotItsUndo()
    {
        var id = NewId("ovr-undo");
        using (Env.OverrideTask<int, int>("book", (seats, ctx) => Task.FromResult(seats * 100)))
        {
            await Assert.ThrowsAsync<WorkflowCompensatedException>(() => Env.Client.RunAsync(Booking, 2, id));
        }

        Assert.Equal(0, Probe.Executions(id, "book"));
        // The step's own undo ran, given the stub's output.
        Assert.Equal(["undo:book:200"], SagaLedger.Of(id));
    }

    [Fact]
    public async Task OverrideTask_Stub_RunsInsteadOfTheTaskAndKeepsTheHash()
    {
        var id = NewId("ovr-stub");
        using (Env.OverrideTask<int, string>("charge", (amount, ctx) => Task.FromResult($"stubbed {amount} on attempt {ctx.Attempt}")))
        {
            Assert.Equal("receipt: stubbed 30 on attempt 1", await Env.Client.RunAsync(Checkout, 3, id));
        }

        Assert.Equal(0, Probe.Executions(id, "charge"));
        Assert.Equal(Checkout.Hash, (await Env.Client.GetStatusAsync(id)).DefinitionHash);
        var history = await Env.HistoryAsync(id);
        Assert.Equal(1, history.TaskExecutions("charge"));
        Assert.Equal(1, history.TaskCompletions("charge"));
        Assert.Equal(0, history.TaskFailures("charge"));
        // The stub's output is checkpointed as the task's.
        Assert.Equal("stubbed 30 on attempt 1", await Env.Client.GetTaskResultAsync<string>(id, "charge"));
    }

    [Fact]
    public async Task FailTask_EveryAttempt_RetriesPerPolicyThenFailsTheRunWithThatException()
    {
        var id = NewId("ovr-fail");
        var start = Env.Now;
        using var failing = Env.FailTask("charge", ctx => new CardDeclinedException($"declined on attempt {ctx.Attempt}"));
        await Env.Client.StartAsync(Checkout, 2, id);

        // Fixed(3, 5 min): attempts at 0, 5 and 10 minutes.
        await Env.AdvanceTimeAsync(TimeSpan.FromMinutes(10));

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => Env.Client.WaitForResultAsync<string>(id));
        Assert.True(error.Failure.IsCausedBy<CardDeclinedException>(), error.Failure.ErrorType);
        Assert.Equal("charge", error.Failure.TaskId);
        Assert.Equal(3, error.Failure.Attempt);
        Assert.Equal("declined on attempt 3", error.Failure.Message);
        Assert.Equal(0, Probe.Executions(id, "charge"));
        var history = await Env.HistoryAsync(id);
        Assert.Equal(3, history.TaskFailures("charge"));
        Assert.Equal(0, history.TaskExecutions("receipt"));
        Assert.Equal(
            [start, start + TimeSpan.FromMinutes(5), start + TimeSpan.FromMinutes(10)],
            history.OfKind(RunEventKind.TaskStarted, "charge").Select(e => e.At));
        Assert.Equal(Checkout.Hash, (await Env.Client.GetStatusAsync(id)).DefinitionHash);
    }

    [Fact]
    public async Task OverrideTask_Disposed_RestoresTheEarlierOverrideThenTheTask()
    {
        var outer = Env.OverrideTask<int, string>("charge", (amount, _) => Task.FromResult($"outer {amount}"));
        var inner = Env.OverrideTask<int, string>("charge", (amount, _) => Task.FromResult($"inner {amount}"));

        var first = NewId("ovr-inner");
        Assert.Equal("receipt: inner 10", await Env.Client.RunAsync(Checkout, 1, first));

        inner.Dispose();
        var second = NewId("ovr-outer");
        Assert.Equal("receipt: outer 10", await Env.Client.RunAsync(Checkout, 1, second));

        outer.Dispose();
        outer.Dispose(); // a second disposal changes nothing
        var third = NewId("ovr-real");
        Assert.Equal("receipt: charged 10", await Env.Client.RunAsync(Checkout, 1, third));

        Assert.Equal(0, Probe.Executions(first, "charge"));
        Assert.Equal(0, Probe.Executions(second, "charge"));
        Assert.Equal(1, Probe.Executions(third, "charge"));
    }

    [Fact]
    public async Task OverrideTask_ScopedToOneWorkflow_LeavesTheSameIdElsewhereAlone()
    {
        var checkout = NewId("ovr-scoped-checkout");
        var refund = NewId("ovr-scoped-refund");
        using (Env.OverrideTask<int, string>("charge", (amount, _) => Task.FromResult($"stubbed {amount}"), workflowName: "ovr_checkout"))
        {
            Assert.Equal("receipt: stubbed 20", await Env.Client.RunAsync(Checkout, 2, checkout));
            await Env.Client.StartAsync(Refund, 7, refund);
            await Env.AdvanceTimeAsync(TimeSpan.FromDays(1));
            Assert.Equal("refunded 7", await Env.Client.WaitForResultAsync<string>(refund));
        }

        Assert.Equal(0, Probe.Executions(checkout, "charge"));
        Assert.Equal(1, Probe.Executions(refund, "charge"));
    }

    [Fact]
    public void OverrideTask_UnknownTaskOrWorkflow_ThrowsArgumentExceptionNamingIt()
    {
        var unknownTask = Assert.Throws<ArgumentException>(() => Env.OverrideTask<int, int>("no-such-task", (x, _) => Task.FromResult(x)));
        Assert.Equal("taskId", unknownTask.ParamName);
        Assert.Contains("'no-such-task'", unknownTask.Message, StringComparison.Ordinal);

        var notInThatWorkflow = Assert.Throws<ArgumentException>(() => Env.FailTask("price", _ => new CardDeclinedException("x"), workflowName: "ovr_refund"));
        Assert.Contains("'ovr_refund' has no task 'price'", notInThatWorkflow.Message, StringComparison.Ordinal);

        var unknownWorkflow = Assert.Throws<ArgumentException>(() => Env.FailTask("charge", _ => new CardDeclinedException("x"), workflowName: "no_such_flow"));
        Assert.Equal("workflowName", unknownWorkflow.ParamName);
        Assert.Contains("'no_such_flow'", unknownWorkflow.Message, StringComparison.Ordinal);

        var notATask = Assert.Throws<ArgumentException>(() => Env.FailTask("settle", _ => new CardDeclinedException("x")));
        Assert.Contains("'settle' is a Delay node", notATask.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverrideTask_TwoSilos_AppliesOnEverySilo()
    {
        // Orleans places runs where it likes (resource-optimized placement may keep them all on one silo), so each
        // silo's task worker is asked directly: a stateless worker activates on the calling silo.
        var silos = new HashSet<string>(StringComparer.Ordinal);
        using var stub = Env.OverrideTask<int, string>("charge", (amount, ctx) =>
        {
            lock (silos) silos.Add(((ILocalSiloDetails)ctx.Services.GetService(typeof(ILocalSiloDetails))!).SiloAddress.ToString());
            return Task.FromResult($"stubbed {amount}");
        });
        var cluster = (Orleans.TestingHost.InProcessTestCluster)typeof(SayiirTestEnvironment)
            .GetField("_cluster", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(Env)!;
        Assert.Equal(2, cluster.Silos.Count);

        foreach (var silo in cluster.Silos)
        {
            var id = NewId("ovr-silos");
            var worker = silo.ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<Sayiir.Runtime.ITaskWorkerGrain>(0);
            var result = await Wait.ForAsync(worker.ExecuteAsync(new Sayiir.Runtime.TaskAttemptRequest
            {
                InstanceId = id,
                WorkflowName = Checkout.Name,
                DefinitionHash = Checkout.Hash,
                TaskId = "charge",
                Attempt = 1,
                Input = System.Text.Encoding.UTF8.GetBytes("50"),
                AttemptId = Guid.NewGuid(),
            }), Deadline, $"the charge attempt on silo {silo.SiloAddress}");
            Assert.Equal("\"stubbed 50\"", System.Text.Encoding.UTF8.GetString(result.Output!));
            Assert.Equal(0, Probe.Executions(id, "charge"));
        }
        output.WriteLine($"the override ran on silos {string.Join(", ", silos)}.");
        Assert.Equal(cluster.Silos.Select(s => s.SiloAddress.ToString()).Order(StringComparer.Ordinal), silos.Order(StringComparer.Ordinal));
        // And through a run, wherever it is placed.
        Assert.Equal("receipt: stubbed 50", await Env.Client.RunAsync(Checkout, 5, NewId("ovr-run")));
    }

    /// <summary>One environment of two silos for the class.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public SayiirTestEnvironment Env { get; private set; } = null!;

        public async Task InitializeAsync() => Env = await SayiirTestEnvironment.StartAsync(o =>
        {
            o.Silos = 2;
            o.AddWorkflow(Checkout).AddWorkflow(Refund).AddWorkflow(Booking);
        });

        public async Task DisposeAsync() => await Env.DisposeAsync();
    }

    private sealed class CardDeclinedException(string message) : Exception(message);
}
