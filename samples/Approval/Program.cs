// Sayiir approval: a run that waits for a signal, in a co-hosted silo with the embedded (in-memory) default.
// Shows one run approved by a signal, one cancelled while it waits, and one whose approval window times out.
// Run it with:  dotnet run --project samples/Approval
// The workflow lives in ApprovalWorkflow.cs, so tests can run the same definitions.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sayiir;
using Sayiir.Hosting;
using Sayiir.Samples.Approval;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
ApprovalWorkflow.AddServices(builder.Services);
builder.UseOrleans(silo => silo
    .UseLocalhostClustering()
    .AddSayiir(s =>
    {
        foreach (var workflow in ApprovalWorkflow.All) s.AddWorkflow(workflow);
    }));

using var host = builder.Build();
await host.StartAsync();
var sayiir = host.Services.GetRequiredService<ISayiirClient>();

// (a) Approved: start the run, see it park on the signal, then signal it as the approver would.
Console.WriteLine("(a) approved by a signal");
var approvedId = NewRequestId();
await sayiir.StartAsync(ApprovalWorkflow.Definition, new ExpenseRequest("dana", "conference ticket", 450m), approvedId);
var parked = await AwaitingSignalAsync(sayiir, approvedId);
Console.WriteLine($"  status: {parked.State} on '{parked.SignalName}', times out at {parked.SignalTimeoutAt:u}");
await sayiir.SignalAsync(approvedId, ApprovalWorkflow.SignalName, new Decision(Approved: true, By: "sam", Comment: "enjoy the talks"));
var outcome = await sayiir.WaitForResultAsync<ApprovalOutcome>(approvedId);
Console.WriteLine($"  => {outcome.Verdict} by {outcome.By}: {outcome.Summary}");

// (b) Cancelled while waiting: the run ends Cancelled and records who, why and when.
Console.WriteLine("(b) cancelled while waiting");
var cancelledId = NewRequestId();
await sayiir.StartAsync(ApprovalWorkflow.Definition, new ExpenseRequest("lee", "taxi to the airport", 62.40m), cancelledId);
await AwaitingSignalAsync(sayiir, cancelledId);
var cancelled = await sayiir.CancelAsync(cancelledId, reason: "request withdrawn", by: "lee");
var info = cancelled.Cancellation!;
Console.WriteLine($"  status: {cancelled.State}, by {info.By} at {info.At:u}, reason '{info.Reason}', interrupted task: {info.InterruptedTaskId ?? "(none)"}");
try
{
    await sayiir.WaitForResultAsync<ApprovalOutcome>(cancelledId);
}
catch (WorkflowCancelledException ex)
{
    Console.WriteLine($"  => awaiting the result throws {ex.GetType().Name}: {ex.Message}");
}

// (c) Timed out: nobody answers within the quick flow's two-second window, so the run fails with a typed error.
Console.WriteLine($"(c) no decision within {ApprovalWorkflow.QuickApprovalWindow.TotalSeconds:0} s");
var timedOutId = NewRequestId();
try
{
    await sayiir.RunAsync(ApprovalWorkflow.QuickTimeout, new ExpenseRequest("kim", "new monitor", 310m), timedOutId);
}
catch (WorkflowFailedException ex) when (ex.InnerException is SignalTimeoutException timeout)
{
    // Sayiir's own flow errors come back typed, with the run's and the node's ids.
    Console.WriteLine($"  => run {timeout.InstanceId} failed in '{timeout.NodeId}': signal '{timeout.SignalName}' did not arrive within {timeout.Timeout}");
    var status = await sayiir.GetStatusAsync(timedOutId);
    Console.WriteLine($"  status: {status.State}, is a signal timeout: {status.Failure!.IsCausedBy<SignalTimeoutException>()}");
}

await host.StopAsync();

static string NewRequestId() => $"expense-{Guid.NewGuid():n}";

// Polls the run's status until it parks on its signal (an approver UI would do the same to show pending requests).
static async Task<WorkflowStatus> AwaitingSignalAsync(ISayiirClient sayiir, string instanceId)
{
    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
    while (true)
    {
        var status = await sayiir.GetStatusAsync(instanceId, deadline.Token);
        if (status.State == WorkflowState.AwaitingSignal) return status;
        if (status.IsTerminal) throw new InvalidOperationException($"run {instanceId} ended ({status.State}) before awaiting its signal");
        await poll.WaitForNextTickAsync(deadline.Token);
    }
}
