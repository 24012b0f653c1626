using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Sayiir.Testing;
using Sayiir.Tests.Infrastructure;
using Xunit.Abstractions;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Engine;

/// <summary>
/// Engine time comes from the registered <see cref="TimeProvider"/>: with a <see cref="FakeTimeProvider"/> shared by
/// the silos, days of delays, backoffs and signal timeouts pass when the test advances the clock, and never before.
/// The fake is frozen unless advanced, so each instant below is exact. Tests of the class run one after another. The
/// cluster is the package harness's (<see cref="SayiirTestEnvironment"/>), whose settling replaces polling for a run to
/// park; the clock is moved directly (not with AdvanceTimeAsync) to observe the engine between raw clock moves.
/// </summary>
public sealed class VirtualTimeTests(VirtualTimeTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<VirtualTimeTests.Fixture>
{
    private static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly WorkflowDefinition<int, int> ThreeDayDelay = Flow.Create<int>("vt_three_day_delay")
        .Then("before", (int x) => x + 1)
        .Delay("nap", TimeSpan.FromDays(3))
        .Then("after", (int x) => x * 10)
        .Build();

    private static readonly WorkflowDefinition<int, int> RetryAfterTwoHours = Flow.Create<int>("vt_retry_after_two_hours")
        .Then("flaky", (int x, TaskContext ctx) =>
            ctx.Attempt == 1 ? Task.FromException<int>(new InvalidOperationException("first attempt fails")) : Task.FromResult(x + ctx.Attempt),
            o => o.Retry = RetryPolicy.Fixed(2, TimeSpan.FromHours(2)))
        .Build();

    private static readonly WorkflowDefinition<int, string> WeekLongSignal = Flow.Create<int>("vt_week_long_signal")
        .WaitForSignal<string>("approval", "approve", TimeSpan.FromDays(7))
        .Build();

    private static readonly WorkflowDefinition<int, string> WeekLongSignalWithDefault = Flow.Create<int>("vt_week_long_signal_default")
        .WaitForSignal("approval", "approve", TimeSpan.FromDays(7), "nobody answered")
        .Build();

    private static readonly WorkflowDefinition<int, int> HourTimeout = Flow.Create<int>("vt_hour_timeout")
        .Then("stuck", async (int x, TaskContext ctx) =>
        {
            // Counted once the attempt's token (and so its timeout) exists: the test advances the clock only then.
            Probe.Hit(ctx);
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            return x;
        }, o => { o.Timeout = TimeSpan.FromHours(1); o.Retry = RetryPolicy.None; })
        .Build();

    private ISayiirClient Client => fixture.Env.Client;

    private FakeTimeProvider Time => fixture.Env.Time;

    // Returns once every run has reached its next wait or ended, without moving the clock.
    private Task SettleAsync() => fixture.Env.AdvanceTimeAsync(TimeSpan.Zero);

    [Fact]
    public async Task Delay_ThreeDays_CompletesOnlyOnceVirtualTimeReachesWakeInstant()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("vt-delay");
        var start = Time.GetUtcNow();
        await Client.StartAsync(ThreeDayDelay, 4, id);
        await SettleAsync();
        Assert.Equal(WorkflowState.Waiting, (await Client.GetStatusAsync(id)).State);

        Time.Advance(TimeSpan.FromDays(2));
        // The status call is served after the grain has handled the timer that fired during Advance.
        var midway = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Waiting, midway.State);
        Assert.Equal(start + TimeSpan.FromDays(3), midway.WakeAt);

        Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(50, await Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the run to complete after three virtual days"));
        output.WriteLine($"Three virtual days took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task RetryBackoff_TwoHours_NextAttemptRunsOnlyOnceVirtualTimeReachesIt()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("vt-retry");
        await Client.StartAsync(RetryAfterTwoHours, 40, id);
        // Waiting is reported from the moment the backoff's timer is armed (the same synchronous step).
        await SettleAsync();
        var waiting = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Waiting, waiting.State);
        var failedAt = (await Client.GetHistoryAsync(id)).Single(e => e.Kind == RunEventKind.TaskFailed).At;
        Assert.Equal(failedAt + TimeSpan.FromHours(2), waiting.WakeAt);

        Time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1));
        var early = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Waiting, early.State);
        Assert.DoesNotContain(await Client.GetHistoryAsync(id), e => e.Kind == RunEventKind.TaskStarted && e.Attempt == 2);

        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(42, await Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the second attempt after two virtual hours"));
        output.WriteLine($"A two-hour backoff took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task WaitForSignal_SevenDayTimeoutWithoutDefault_FailsWithSignalTimeoutOnceVirtualTimePasses()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("vt-signal");
        var start = Time.GetUtcNow();
        await Client.StartAsync(WeekLongSignal, 1, id);
        await SettleAsync();
        var awaiting = await Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.AwaitingSignal, awaiting.State);
        Assert.Equal(start + TimeSpan.FromDays(7), awaiting.SignalTimeoutAt);

        Time.Advance(TimeSpan.FromDays(7));
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the signal wait to time out"));
        var failure = (await Client.GetStatusAsync(id)).Failure!;
        Assert.Equal("approval", failure.TaskId);
        Assert.Equal(typeof(SignalTimeoutException).FullName, failure.ErrorType);
        Assert.Equal(start + TimeSpan.FromDays(7), failure.At);
        output.WriteLine($"A seven-day signal timeout took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task WaitForSignal_SevenDayTimeoutWithDefault_CompletesWithDefaultOnceVirtualTimePasses()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("vt-signal-default");
        await Client.StartAsync(WeekLongSignalWithDefault, 1, id);
        await SettleAsync();
        Assert.Equal(WorkflowState.AwaitingSignal, (await Client.GetStatusAsync(id)).State);

        Time.Advance(TimeSpan.FromDays(7));
        Assert.Equal("nobody answered", await Wait.ForAsync(Client.WaitForResultAsync<string>(id), Deadline, "the default after seven virtual days"));
        output.WriteLine($"A seven-day signal default took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task TaskTimeout_OneHour_FiresOnlyOnceVirtualTimeReachesIt()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("vt-timeout");
        await Client.StartAsync(HourTimeout, 1, id);
        await Probe.ExecutedAsync(id, "stuck", 1, Deadline);

        Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(WorkflowState.Running, (await Client.GetStatusAsync(id)).State);

        Time.Advance(TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the attempt to time out"));
        Assert.Equal(typeof(TaskTimeoutException).FullName, (await Client.GetStatusAsync(id)).Failure!.ErrorType);
        output.WriteLine($"A one-hour task timeout took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task StatusAndHistory_UnderFakeClock_CarryVirtualTimestamps()
    {
        var id = NewId("vt-stamps");
        var start = Time.GetUtcNow();
        await Client.StartAsync(ThreeDayDelay, 1, id);
        await SettleAsync();
        Assert.Equal(WorkflowState.Waiting, (await Client.GetStatusAsync(id)).State);
        Time.Advance(TimeSpan.FromDays(3));
        await Wait.ForAsync(Client.WaitForResultAsync<int>(id), Deadline, "the run to complete");

        var status = await Client.GetStatusAsync(id);
        Assert.Equal(start, status.CreatedAt);
        Assert.Equal(start + TimeSpan.FromDays(3), status.UpdatedAt);
        var history = await Client.GetHistoryAsync(id);
        Assert.All(history, e => Assert.InRange(e.At, start, start + TimeSpan.FromDays(3)));
        Assert.Equal(start, history.Single(e => e.Kind == RunEventKind.RunStarted).At);
        Assert.Equal(start + TimeSpan.FromDays(3), history.Single(e => e.Kind == RunEventKind.Completed).At);
        // The fake clock started in 2030 (earlier tests of the class only moved it by days): no wall-clock instant slipped in.
        Assert.Equal(Epoch.Year, status.CreatedAt!.Value.Year);
        Assert.All(history, e => Assert.Equal(Epoch.Year, e.At.Year));
    }

    /// <summary>One in-memory environment of two silos sharing one fake engine clock, starting at 2030-01-01 (Orleans keeps real time).</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public SayiirTestEnvironment Env { get; private set; } = null!;

        public async Task InitializeAsync() => Env = await SayiirTestEnvironment.StartAsync(o =>
        {
            o.Silos = 2;
            o.StartTime = Epoch;
            foreach (var workflow in new WorkflowDefinition[] { ThreeDayDelay, RetryAfterTwoHours, WeekLongSignal, WeekLongSignalWithDefault, HourTimeout })
                o.AddWorkflow(workflow);
        });

        public async Task DisposeAsync() => await Env.DisposeAsync();
    }
}
