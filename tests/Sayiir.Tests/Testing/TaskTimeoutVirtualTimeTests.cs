using System.Diagnostics;
using Sayiir.Testing;
using Sayiir.Tests.Infrastructure;
using Xunit.Abstractions;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Testing;

/// <summary>
/// A task's own <see cref="TaskOptions.Timeout"/> under virtual time: a task still running after
/// <see cref="SayiirTestEnvironmentOptions.BlockedTaskGrace"/> is taken to be blocked until its timeout, which
/// <see cref="SayiirTestEnvironment.AdvanceTimeAsync"/> then steps to; a task that ends by itself is left alone.
/// </summary>
public sealed class TaskTimeoutVirtualTimeTests(TaskTimeoutVirtualTimeTests.Fixture fixture, ITestOutputHelper output)
    : IClassFixture<TaskTimeoutVirtualTimeTests.Fixture>
{
    private static readonly WorkflowDefinition<int, int> Stuck = Flow.Create<int>("tt_stuck")
        .Then("wait-forever", async (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            return x;
        }, o => o.Timeout = TimeSpan.FromHours(1))
        .Build();

    // Two attempts, each blocked until its hour runs out, ten minutes apart.
    private static readonly WorkflowDefinition<int, int> StuckWithRetry = Flow.Create<int>("tt_stuck_retry")
        .Then("wait-forever", async (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            return x;
        }, o =>
        {
            o.Timeout = TimeSpan.FromHours(1);
            o.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMinutes(10));
        })
        .Build();

    private static readonly WorkflowDefinition<int, int> Quick = Flow.Create<int>("tt_quick")
        .Then("quick", async (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            // A few milliseconds of real work, far less than the grace.
            await Task.Delay(TimeSpan.FromMilliseconds(5), ctx.CancellationToken);
            return x + 1;
        }, o => o.Timeout = TimeSpan.FromHours(1))
        .Build();

    private SayiirTestEnvironment Env => fixture.Env;

    [Fact]
    public async Task AdvanceTime_TaskBlockedUntilItsOneHourTimeout_FailsTheRunWithTaskTimeout()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("tt-stuck");
        var start = Env.Now;
        await Env.Client.StartAsync(Stuck, 1, id);
        await Wait.UntilAsync(async () => (await Env.Client.GetStatusAsync(id)).TaskTimeoutAt == start + TimeSpan.FromHours(1), Deadline,
            "the running task's TaskTimeoutAt to show dispatch + 1 h");

        await Env.AdvanceTimeAsync(TimeSpan.FromHours(2));

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => Env.Client.WaitForResultAsync<int>(id));
        var timeout = Assert.IsType<TaskTimeoutException>(error.InnerException);
        Assert.Equal("wait-forever", timeout.NodeId);
        Assert.Equal(TimeSpan.FromHours(1), timeout.Timeout);
        Assert.Equal(start + TimeSpan.FromHours(1), error.Failure.At);
        var status = await Env.Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.Failed, status.State);
        Assert.Null(status.TaskTimeoutAt);
        Assert.Equal(start + TimeSpan.FromHours(2), Env.Now);
        Assert.Equal(1, Probe.Executions(id, "wait-forever"));
        output.WriteLine($"Two virtual hours with a blocked task took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task AdvanceTime_BlockedTaskRetried_TimesOutEachAttemptAtItsOwnInstant()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("tt-stuck-retry");
        var start = Env.Now;
        await Env.Client.StartAsync(StuckWithRetry, 1, id);

        await Env.AdvanceTimeAsync(TimeSpan.FromHours(3));

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => Env.Client.WaitForResultAsync<int>(id));
        Assert.IsType<TaskTimeoutException>(error.InnerException);
        Assert.Equal(2, error.Failure.Attempt);
        var history = await Env.HistoryAsync(id);
        // Attempt 1 from 0:00 to its timeout at 1:00; attempt 2 after the 10-minute backoff, until 2:10.
        Assert.Equal([start, start + TimeSpan.FromMinutes(70)], history.OfKind(RunEventKind.TaskStarted, "wait-forever").Select(e => e.At));
        Assert.Equal([start + TimeSpan.FromHours(1), start + TimeSpan.FromMinutes(130)], history.OfKind(RunEventKind.TaskFailed, "wait-forever").Select(e => e.At));
        Assert.Equal(2, Probe.Executions(id, "wait-forever"));
        output.WriteLine($"Three virtual hours with two blocked attempts took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task AdvanceTime_PastTheTimeoutOfATaskThatEndsInMilliseconds_DoesNotTimeItOut()
    {
        var wall = Stopwatch.StartNew();
        var id = NewId("tt-quick");
        await Env.Client.StartAsync(Quick, 41, id);

        await Env.AdvanceTimeAsync(TimeSpan.FromHours(2));

        Assert.Equal(42, await Env.Client.WaitForResultAsync<int>(id));
        var history = await Env.HistoryAsync(id);
        Assert.Equal(1, history.TaskCompletions("quick"));
        Assert.Equal(0, history.TaskFailures("quick"));
        output.WriteLine($"Two virtual hours past a quick task took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(30_000)]
    public async Task StartAsync_GraceNotPositiveOrNotShorterThanSettleTimeout_ThrowsNamingTheOption(int graceMs)
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => SayiirTestEnvironment.StartAsync(o =>
        {
            o.SettleTimeout = TimeSpan.FromSeconds(30);
            o.BlockedTaskGrace = TimeSpan.FromMilliseconds(graceMs);
        }));
        Assert.Equal(nameof(SayiirTestEnvironmentOptions.BlockedTaskGrace), error.ParamName);
    }

    /// <summary>One single-silo environment for the class.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public SayiirTestEnvironment Env { get; private set; } = null!;

        public async Task InitializeAsync() => Env = await SayiirTestEnvironment.StartAsync(o =>
            o.AddWorkflow(Stuck).AddWorkflow(StuckWithRetry).AddWorkflow(Quick));

        public async Task DisposeAsync() => await Env.DisposeAsync();
    }
}
