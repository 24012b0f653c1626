using Sayiir;

namespace DashboardSample;

/// <summary>The sample's workflows: one that retries, one that waits for an approval signal, one that fails.</summary>
public static class DemoWorkflows
{
    /// <summary>Validates, charges (the payment gateway times out on the first attempt; the retry succeeds) and ships.</summary>
    public static WorkflowDefinition<int, string> Order { get; } = Flow.Create<int>("order")
        .Then("validate", async (int amount, TaskContext ctx) => { await Task.Delay(60, ctx.CancellationToken); return amount; })
        .Then("charge", async (int amount, TaskContext ctx) =>
            {
                await Task.Delay(150, ctx.CancellationToken);
                if (ctx.Attempt == 1) throw new TimeoutException("payment gateway did not answer");
                return new Payment(amount, $"pay-{ctx.InstanceId}");
            },
            o => o.Retry = RetryPolicy.Fixed(maxAttempts: 3, delay: TimeSpan.FromMilliseconds(400)))
        .Then("ship", async (Payment payment, TaskContext ctx) => { await Task.Delay(90, ctx.CancellationToken); return $"shipped order of {payment.Amount} ({payment.Reference})"; })
        .Build();

    /// <summary>Prepares a request, then waits for the "decision" signal (send it from the run page).</summary>
    public static WorkflowDefinition<string, string> Approval { get; } = Flow.Create<string>("approval")
        .Then("prepare", (string request) => $"request: {request}")
        .WaitForSignal<Decision>("approve", "decision")
        .Then("finish", (Decision d) => d.Approved ? $"approved by {d.By}" : $"rejected by {d.By}")
        .Build();

    /// <summary>Fails: the report store rejects the write (the run page shows the stack and the inner error).</summary>
    public static WorkflowDefinition<string, string> Report { get; } = Flow.Create<string>("report")
        .Then("collect", (string month) => $"figures for {month}")
        .Then("store", (string figures) => StoreReport(figures))
        .Build();

    /// <summary>Every workflow of the sample.</summary>
    public static IReadOnlyList<WorkflowDefinition> All { get; } = [Order, Approval, Report];

    /// <summary>Starts one run of each workflow, so the dashboard has something to show.</summary>
    public static async Task StartDemoRunsAsync(ISayiirClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var suffix = Guid.NewGuid().ToString("n")[..6];
        await client.StartAsync(Order, 120, $"order-{suffix}");
        await client.StartAsync(Approval, "new laptop", $"approval-{suffix}");
        await client.StartAsync(Report, "2026-11", $"report-{suffix}");
    }

    private static string StoreReport(string figures)
    {
        try
        {
            throw new IOException($"disk quota exceeded while writing {figures.Length} bytes");
        }
        catch (IOException e)
        {
            throw new InvalidOperationException("the report store rejected the report", e);
        }
    }
}

/// <summary>A charged payment.</summary>
public sealed record Payment(int Amount, string Reference);

/// <summary>The approval signal's payload, e.g. {"approved": true, "by": "ops"}.</summary>
public sealed record Decision(bool Approved, string By);
