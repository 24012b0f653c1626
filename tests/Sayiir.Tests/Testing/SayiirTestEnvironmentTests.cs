using System.Diagnostics;
using Sayiir.Testing;
using Xunit.Abstractions;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Testing;

/// <summary>
/// <see cref="SayiirTestEnvironment"/> on two silos sharing its virtual clock: <see cref="SayiirTestEnvironment.AdvanceTimeAsync"/>
/// steps through every wake instant in a span, in order, and returns once the runs are settled. The tests of the class
/// share one environment and run one after another; each ends its runs so the next starts from a quiet cluster.
/// </summary>
public sealed class SayiirTestEnvironmentTests(SayiirTestEnvironmentTests.Fixture fixture, ITestOutputHelper output)
    : IClassFixture<SayiirTestEnvironmentTests.Fixture>
{
    private static readonly WorkflowDefinition<int, int> ThreeDayDelay = Flow.Create<int>("env_three_day_delay")
        .Then("before", (int x) => x + 1)
        .Delay("nap", TimeSpan.FromDays(3))
        .Then("after", (int x) => x * 10)
        .Build();

    // Attempts 1 and 2 fail; the backoffs are 1 h then 2 h, so attempt 3 runs 3 h after the first.
    private static readonly WorkflowDefinition<int, int> HourlyRetries = Flow.Create<int>("env_hourly_retries")
        .Then("charge", (int x, TaskContext ctx) =>
            ctx.Attempt < 3 ? Task.FromException<int>(new InvalidOperationException($"attempt {ctx.Attempt} fails")) : Task.FromResult(x + ctx.Attempt),
            o => o.Retry = RetryPolicy.Exponential(3, TimeSpan.FromHours(1)))
        .Build();

    private static readonly WorkflowDefinition<int, int> DailyLoop = Flow.Create<int>("env_daily_delays")
        .Delay("day-1", TimeSpan.FromDays(1))
        .Then("count-1", (int x) => x + 1)
        .Delay("day-2", TimeSpan.FromDays(1))
        .Then("count-2", (int x) => x + 1)
        .Build();

    private static readonly WorkflowDefinition<int, string> ShipAfterApproval = Flow.Create<int>("env_ship_after_approval")
        .WaitForSignal<string>("approval", "approve")
        .Delay("ship-delay", TimeSpan.FromDays(1))
        .Then("ship", (string who) => $"shipped for {who}")
        .Build();

    private SayiirTestEnvironment Env => fixture.Env;

    [Fact]
    public async Task AdvanceTime_TwoDaysOfThreeDayDelay_LeavesRunWaitingUntilTheThirdDay()
    {
        var id = NewId("env-delay");
        var start = Env.Now;
        await Env.Client.StartAsync(ThreeDayDelay, 4, id);

        await Env.AdvanceTimeAsync(TimeSpan.FromDays(2));
        var midway = await Env.Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Waiting, midway.State);
        Assert.Equal(start + TimeSpan.FromDays(3), midway.WakeAt);
        Assert.Equal(start + TimeSpan.FromDays(2), Env.Now);
        Assert.Equal(0, (await Env.HistoryAsync(id)).TaskExecutions("after"));

        await Env.AdvanceTimeAsync(TimeSpan.FromDays(1));
        Assert.Equal(WorkflowState.Completed, (await Env.Client.GetStatusAsync(id)).State);
        Assert.Equal(50, await Env.Client.WaitForResultAsync<int>(id));
    }

    [Fact]
    public async Task AdvanceTime_RetryBackoffsOfHours_RunsEachAttemptAtItsInstant()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("env-retry");
        var start = Env.Now;
        await Env.Client.StartAsync(HourlyRetries, 40, id);

        await Env.AdvanceTimeAsync(TimeSpan.FromHours(3));

        Assert.Equal(43, await Env.Client.WaitForResultAsync<int>(id));
        var history = await Env.HistoryAsync(id);
        Assert.Equal(3, history.TaskExecutions("charge"));
        Assert.Equal(2, history.TaskFailures("charge"));
        Assert.Equal(1, history.TaskCompletions("charge"));
        // Each attempt started at its backoff's instant: stepping, not one jump to the end of the span.
        Assert.Equal(
            [start, start + TimeSpan.FromHours(1), start + TimeSpan.FromHours(3)],
            history.OfKind(RunEventKind.TaskStarted, "charge").Select(e => e.At));
        output.WriteLine($"Three virtual hours of retries took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task AdvanceTime_ShortOfSecondDelay_StopsWithSecondDelayMeasuredFromFirstWake()
    {
        var id = NewId("env-daily");
        var start = Env.Now;
        await Env.Client.StartAsync(DailyLoop, 0, id);

        await Env.AdvanceTimeAsync(TimeSpan.FromHours(36));
        var status = await Env.Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Waiting, status.State);
        Assert.Equal(start + TimeSpan.FromDays(2), status.WakeAt);
        Assert.Equal(1, (await Env.HistoryAsync(id)).TaskExecutions("count-1"));

        await Env.AdvanceTimeAsync(TimeSpan.FromHours(12));
        Assert.Equal(2, await Env.Client.WaitForResultAsync<int>(id));
        var history = await Env.HistoryAsync(id);
        Assert.Equal(1, history.TaskExecutions("count-1"));
        Assert.Equal(1, history.TaskExecutions("count-2"));
        Assert.Equal(0, history.TaskExecutions("no-such-task"));
    }

    [Fact]
    public async Task AdvanceTime_RightAfterSignal_MeasuresTheNextDelayFromTheSignalInstant()
    {
        var id = NewId("env-signal");
        var start = Env.Now;
        await Env.Client.StartAsync(ShipAfterApproval, 0, id);
        await Env.AdvanceTimeAsync(TimeSpan.FromHours(2));
        Assert.Equal(WorkflowState.AwaitingSignal, (await Env.Client.GetStatusAsync(id)).State);

        await Env.Client.SignalAsync(id, "approve", "ada");
        await Env.AdvanceTimeAsync(TimeSpan.FromDays(1));

        Assert.Equal(WorkflowState.Completed, (await Env.Client.GetStatusAsync(id)).State);
        Assert.Equal("shipped for ada", await Env.Client.WaitForResultAsync<string>(id));
        var history = await Env.HistoryAsync(id);
        Assert.Equal(start + TimeSpan.FromHours(2), history.OfKind(RunEventKind.DelayStarted, "ship-delay").Single().At);
        Assert.Equal(1, history.TaskExecutions("ship"));
    }

    /// <summary>One environment of two silos for the class.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public SayiirTestEnvironment Env { get; private set; } = null!;

        public async Task InitializeAsync() => Env = await SayiirTestEnvironment.StartAsync(o =>
        {
            o.Silos = 2;
            o.StartTime = new DateTimeOffset(2031, 6, 1, 0, 0, 0, TimeSpan.Zero);
            o.AddWorkflow(ThreeDayDelay).AddWorkflow(HourlyRetries).AddWorkflow(DailyLoop).AddWorkflow(ShipAfterApproval);
        });

        public async Task DisposeAsync() => await Env.DisposeAsync();
    }
}
