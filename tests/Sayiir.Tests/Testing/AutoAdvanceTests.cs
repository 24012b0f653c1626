using System.Diagnostics;
using Sayiir.Testing;
using Sayiir.Tests.Infrastructure;
using Xunit.Abstractions;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Testing;

/// <summary>
/// <see cref="SayiirTestEnvironmentOptions.AutoAdvance"/>: while a test awaits a result through the environment's
/// client, idle virtual time is skipped to the next instant a run is due, and nothing moves when nothing is due.
/// The tests share one environment and run one after another, each ending its runs.
/// </summary>
public sealed class AutoAdvanceTests(AutoAdvanceTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<AutoAdvanceTests.Fixture>
{
    private static readonly WorkflowDefinition<int, string> Order = Flow.Create<int>("auto_order")
        .Then("reserve", (int quantity) => quantity * 2)
        .Delay("cool-off", TimeSpan.FromDays(3))
        .WaitForSignal("approval", "approve", TimeSpan.FromDays(7), "expired")
        .Then("finish", (string decision) => $"order {decision}")
        .Build();

    private static readonly WorkflowDefinition<int, string> ShipOnApproval = Flow.Create<int>("auto_ship_on_approval")
        .Delay("prepare", TimeSpan.FromDays(1))
        .WaitForSignal<string>("approval", "approve")
        .Then("ship", (string who) => $"shipped for {who}")
        .Build();

    private static readonly WorkflowDefinition<int, int> TwoDayDelay = Flow.Create<int>("auto_two_day_delay")
        .Delay("nap", TimeSpan.FromDays(2))
        .Then("after", (int x) => x + 1)
        .Build();

    private static readonly WorkflowDefinition<int, int> Stuck = Flow.Create<int>("auto_stuck")
        .Then("wait-forever", async (int x, TaskContext ctx) =>
        {
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            return x;
        }, o => o.Timeout = TimeSpan.FromHours(1))
        .Build();

    private SayiirTestEnvironment Env => fixture.Env;

    [Fact]
    public async Task RunAsync_DelayThenSignalTimeout_CompletesAfterTenVirtualDaysWithoutAdvanceTime()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("auto-order");

        Assert.Equal("order expired", await Wait.ForAsync(Env.Client.RunAsync(Order, 5, id), Deadline, "the auto-advanced run's result"));

        var status = await Env.Client.GetStatusAsync(id);
        Assert.Equal(TimeSpan.FromDays(10), status.UpdatedAt - status.CreatedAt);
        var history = await Env.HistoryAsync(id);
        Assert.Equal(status.CreatedAt + TimeSpan.FromDays(3), history.OfKind(RunEventKind.DelayWoken, "cool-off").Single().At);
        Assert.Equal(status.CreatedAt + TimeSpan.FromDays(10), history.OfKind(RunEventKind.Completed).Single().At);
        output.WriteLine($"Ten virtual days, auto-advanced, took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task GetResultAsync_SignalWithoutTimeout_WaitsWithoutJumpingUntilTheTestSignals()
    {
        var id = NewId("auto-ship");
        var start = Env.Now;
        var handle = await Env.Client.StartAsync(ShipOnApproval, 0, id);
        var result = handle.GetResultAsync();

        // The day of preparation is skipped; then nothing is due, so the clock stays put.
        await Wait.UntilAsync(async () => (await Env.Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline,
            "the run to reach its signal wait");
        Assert.Equal(start + TimeSpan.FromDays(1), Env.Now);
        // An observation window (not a synchronisation): auto-advance polls every 10 ms and must not move the clock.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(start + TimeSpan.FromDays(1), Env.Now);
        Assert.False(result.IsCompleted);

        await Env.Client.SignalAsync(id, "approve", "ada");

        Assert.Equal("shipped for ada", await Wait.ForAsync(result, Deadline, "the signalled run's result"));
        Assert.Equal(start + TimeSpan.FromDays(1), Env.Now);
    }

    [Fact]
    public async Task AdvanceTime_WithAutoAdvanceOn_StillStepsAndWaitForResultSkipsTheRest()
    {
        var id = NewId("auto-explicit");
        var start = Env.Now;
        await Env.Client.StartAsync(TwoDayDelay, 1, id);

        // Nothing awaits a result yet: only the explicit call moves the clock.
        await Env.AdvanceTimeAsync(TimeSpan.FromDays(1));
        Assert.Equal(start + TimeSpan.FromDays(1), Env.Now);
        Assert.Equal(WorkflowState.Waiting, (await Env.Client.GetStatusAsync(id)).State);

        Assert.Equal(2, await Wait.ForAsync(Env.Client.WaitForResultAsync<int>(id), Deadline, "the auto-advanced run's result"));
        Assert.Equal(start + TimeSpan.FromDays(2), (await Env.HistoryAsync(id)).OfKind(RunEventKind.Completed).Single().At);
    }

    [Fact]
    public async Task RunAsync_TaskBlockedUntilItsTimeout_FailsWithTaskTimeoutWithoutAdvanceTime()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("auto-stuck");
        var start = Env.Now;

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Env.Client.RunAsync(Stuck, 1, id), Deadline, "the blocked run to fail"));

        Assert.IsType<TaskTimeoutException>(error.InnerException);
        Assert.Equal(start + TimeSpan.FromHours(1), error.Failure.At);
        output.WriteLine($"A blocked task's virtual hour, auto-advanced, took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    /// <summary>One auto-advancing single-silo environment for the class.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public SayiirTestEnvironment Env { get; private set; } = null!;

        public async Task InitializeAsync() => Env = await SayiirTestEnvironment.StartAsync(o =>
        {
            o.AutoAdvance = true;
            o.AddWorkflow(Order).AddWorkflow(ShipOnApproval).AddWorkflow(TwoDayDelay).AddWorkflow(Stuck);
        });

        public async Task DisposeAsync() => await Env.DisposeAsync();
    }
}
