using System.Diagnostics;
using Sayiir.Testing;
using Xunit.Abstractions;

namespace Sayiir.Tests.Testing;

// The README's "Testing your workflows" example: a flow that cools off for three days, then waits up to a week for
// an approval, tested in milliseconds with Sayiir.Testing's virtual time.
public sealed class OrderApprovalTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly WorkflowDefinition<int, string> Order = Flow.Create<int>("order_approval")
        .Then("reserve", (int quantity) => quantity * 2)
        .Delay("cool-off", TimeSpan.FromDays(3))
        .WaitForSignal("approval", "approve", TimeSpan.FromDays(7), "expired")
        .Then("finish", (string decision) => $"order {decision}")
        .Build();

    private SayiirTestEnvironment _env = null!;

    public async Task InitializeAsync() => _env = await SayiirTestEnvironment.StartAsync(o => o.AddWorkflow(Order));

    public async Task DisposeAsync() => await _env.DisposeAsync();

    [Fact]
    public async Task Order_ApprovedOnDayFive_Completes()
    {
        var wall = Stopwatch.StartNew();
        var id = $"order-{Guid.NewGuid():n}";
        await _env.Client.StartAsync(Order, 5, id);

        await _env.AdvanceTimeAsync(TimeSpan.FromDays(5));
        var status = await _env.Client.GetStatusAsync(id);
        Assert.Equal(WorkflowState.AwaitingSignal, status.State);
        // The week-long signal wait started when the delay ended, on day 3.
        Assert.Equal(SayiirTestEnvironmentOptions.DefaultStartTime + TimeSpan.FromDays(10), status.SignalTimeoutAt);

        await _env.Client.SignalAsync(id, "approve", "approved");
        Assert.Equal("order approved", await _env.Client.WaitForResultAsync<string>(id));
        output.WriteLine($"Five virtual days took {wall.ElapsedMilliseconds} ms of wall time.");
    }

    [Fact]
    public async Task Order_NobodyApproves_ExpiresAfterTenDays()
    {
        var wall = Stopwatch.StartNew();
        var id = $"order-{Guid.NewGuid():n}";
        var start = _env.Now;
        await _env.Client.StartAsync(Order, 5, id);

        // One call steps through the delay's wake instant (day 3) and the signal timeout (day 10), in order.
        await _env.AdvanceTimeAsync(TimeSpan.FromDays(10));

        Assert.Equal(WorkflowState.Completed, (await _env.Client.GetStatusAsync(id)).State);
        Assert.Equal("order expired", await _env.Client.WaitForResultAsync<string>(id));
        var history = await _env.HistoryAsync(id);
        Assert.Equal(1, history.TaskExecutions("reserve"));
        Assert.Equal(start + TimeSpan.FromDays(10), history.OfKind(RunEventKind.Completed).Single().At);
        output.WriteLine($"Ten virtual days took {wall.ElapsedMilliseconds} ms of wall time.");
    }
}
