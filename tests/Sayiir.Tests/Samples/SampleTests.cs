using Sayiir.Samples.Approval;
using Sayiir.Samples.OrderProcessing;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Samples;

/// <summary>The samples' workflow definitions, run in a test cluster on both backends (derived classes below).</summary>
public abstract class SampleTests(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    private Task<T> Run<TIn, T>(WorkflowDefinition<TIn, T> flow, TIn input, string id) =>
        Wait.ForAsync(Client.RunAsync(flow, input, id), Deadline, $"run '{id}' of {flow.Name}");

    private Task<WorkflowStatus> AwaitingSignalAsync(string id) =>
        Wait.ForAsync(WaitForStateAsync(id, WorkflowState.AwaitingSignal), Deadline, $"run '{id}' to await its approval signal");

    private async Task<WorkflowStatus> WaitForStateAsync(string id, WorkflowState state)
    {
        WorkflowStatus? status = null;
        await Wait.UntilAsync(async () => (status = await Client.GetStatusAsync(id)).State == state, Deadline, $"run '{id}' to be {state}");
        return status!;
    }

    private static Order NewOrder(string id, string shipping, params OrderLine[] lines) => new(id, $"{id}@example.com", lines, shipping);

    // ----- order processing

    [Fact]
    public async Task OrderProcessing_LargeOrder_PaymentTimesOutOnceThenSucceeds()
    {
        // Real time: the sample's gateway stalls until the 1 s task timeout and has no hook telling when the attempt's timer is armed.
        var id = NewId("order-large");
        var order = NewOrder(id, "standard", new OrderLine("laptop", 1, OrderProcessingWorkflow.SlowReviewThreshold + 499m));

        var receipt = await Run(OrderProcessingWorkflow.Definition, order, id);

        Assert.Equal(2, (await Client.GetTaskResultAsync<Payment>(id, "charge_payment")).Attempt);
        Assert.Equal(order.Total, receipt.Amount);
        Assert.Equal("National Post", receipt.Shipment?.Carrier);
        Assert.NotNull(await Client.GetTaskResultAsync<Receipt>(id, "ship_standard"));
    }

    [Fact]
    public async Task OrderProcessing_OrderWithoutLines_FailsValidationBeforeTheFork()
    {
        var id = NewId("order-empty");

        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => Run(OrderProcessingWorkflow.Definition, NewOrder(id, "express"), id));

        Assert.Equal("validate", ex.Failure.TaskId);
        Assert.Equal(typeof(InvalidOrderException).FullName, ex.Failure.ErrorType);
        Assert.Equal(WorkflowState.Failed, (await Client.GetStatusAsync(id)).State);
        await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<Reservation>(id, "reserve_inventory"));
        await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<Payment>(id, "charge_payment"));
    }

    // ----- approval

    [Fact]
    public async Task Approval_ApprovedSignalWhileAwaiting_RoutesToApproved()
    {
        var id = NewId("expense-approved");
        var started = DateTimeOffset.UtcNow;
        await Client.StartAsync(ApprovalWorkflow.Definition, new ExpenseRequest("dana", "conference ticket", 450m), id);

        var parked = await AwaitingSignalAsync(id);
        Assert.Equal(ApprovalWorkflow.SignalName, parked.SignalName);
        Assert.InRange(parked.SignalTimeoutAt!.Value, started + ApprovalWorkflow.ApprovalWindow, started + ApprovalWorkflow.ApprovalWindow + Deadline);
        await Client.SignalAsync(id, ApprovalWorkflow.SignalName, new Decision(Approved: true, By: "sam"));

        var outcome = await Wait.ForAsync(Client.WaitForResultAsync<ApprovalOutcome>(id), Deadline, "the approved run");
        Assert.Equal(new ApprovalOutcome(id, Verdict.Approved, "sam", "payout scheduled with the next payroll"), outcome);
        Assert.Equal(new Decision(true, "sam"), await Client.GetTaskResultAsync<Decision>(id, "await_approval"));
    }

    [Fact]
    public async Task Approval_RejectedSignalWhileAwaiting_RoutesToRejected()
    {
        var id = NewId("expense-rejected");
        await Client.StartAsync(ApprovalWorkflow.Definition, new ExpenseRequest("kim", "first-class upgrade", 900m), id);
        await AwaitingSignalAsync(id);

        await Client.SignalAsync(id, ApprovalWorkflow.SignalName, new Decision(Approved: false, By: "sam", Comment: "over budget"));

        var outcome = await Wait.ForAsync(Client.WaitForResultAsync<ApprovalOutcome>(id), Deadline, "the rejected run");
        Assert.Equal(Verdict.Rejected, outcome.Verdict);
        Assert.Contains("over budget", outcome.Summary, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<ApprovalOutcome>(id, "schedule_payout"));
    }

    [Fact]
    public async Task Approval_CancelledWhileAwaiting_EndsCancelledWithDetails()
    {
        var id = NewId("expense-cancelled");
        await Client.StartAsync(ApprovalWorkflow.Definition, new ExpenseRequest("lee", "taxi", 62.40m), id);
        await AwaitingSignalAsync(id);

        var status = await Client.CancelAsync(id, reason: "request withdrawn", by: "lee");

        Assert.Equal(WorkflowState.Cancelled, status.State);
        Assert.Equal("lee", status.Cancellation?.By);
        Assert.Equal("request withdrawn", status.Cancellation?.Reason);
        var ex = await Assert.ThrowsAsync<WorkflowCancelledException>(() => Client.WaitForResultAsync<ApprovalOutcome>(id));
        Assert.Equal("lee", ex.Cancellation.By);
        // A decision arriving after the cancel is refused rather than silently dropped.
        await Assert.ThrowsAsync<InvalidRunStateException>(() => Client.SignalAsync(id, ApprovalWorkflow.SignalName, new Decision(true, "sam")));
    }

    [Fact]
    public async Task Approval_DecisionSentBeforeTheRunStarts_IsBufferedAndUsed()
    {
        var id = NewId("expense-early");
        await Client.SignalAsync(id, ApprovalWorkflow.SignalName, new Decision(Approved: true, By: "sam"));

        var outcome = await Run(ApprovalWorkflow.QuickTimeout, new ExpenseRequest("dana", "book", 25m), id);

        Assert.Equal(Verdict.Approved, outcome.Verdict);
    }
}

/// <summary>
/// The samples' runs that wait on engine time (the warehouse's 200 ms retry backoff, the quick approval window), on a
/// virtual clock.
/// </summary>
public abstract class VirtualTimeSampleTests(VirtualTimeFixture fixture) : VirtualTimeScenarios(fixture)
{
    // Starts the run, moves the clock through every wait due within a minute, and returns the result.
    private async Task<T> RunAsync<TIn, T>(WorkflowDefinition<TIn, T> flow, TIn input, string id)
    {
        await Client.StartAsync(flow, input, id);
        await Env.AdvanceTimeAsync(TimeSpan.FromMinutes(1));
        return await Wait.ForAsync(Client.WaitForResultAsync<T>(id), Deadline, $"run '{id}' of {flow.Name}");
    }

    private static Order NewOrder(string id, string shipping, params OrderLine[] lines) => new(id, $"{id}@example.com", lines, shipping);

    [Fact]
    public async Task OrderProcessing_ExpressOrder_RetriesReservationAndShipsExpress()
    {
        var id = NewId("order-express");
        var order = NewOrder(id, "express", new OrderLine("keyboard", 1, 89.90m), new OrderLine("usb-cable", 2, 7.50m));

        var receipt = await RunAsync(OrderProcessingWorkflow.Definition, order, id);

        Assert.Equal(104.90m, receipt.Amount);
        Assert.Equal(order.CustomerEmail, receipt.CustomerEmail);
        Assert.Equal("Rapid Couriers", receipt.Shipment?.Carrier);
        Assert.True(receipt.CustomerNotified);
        // The flaky warehouse rejects the first reservation; the branch's retry policy absorbs it.
        Assert.Equal(2, (await Client.GetTaskResultAsync<Reservation>(id, "reserve_inventory")).Attempt);
        var payment = await Client.GetTaskResultAsync<Payment>(id, "charge_payment");
        Assert.Equal(1, payment.Attempt);
        Assert.Equal(payment.TransactionId, receipt.TransactionId);
    }

    [Fact]
    public async Task OrderProcessing_CourierRefusesTheParcel_RefundsTheChargeAndReleasesTheStock()
    {
        var id = NewId("order-lithium");
        var order = NewOrder(id, "express", new OrderLine("lithium-battery-pack", 1, 129m));

        var ex = await Assert.ThrowsAsync<WorkflowCompensatedException>(() => RunAsync(OrderProcessingWorkflow.Definition, order, id));

        Assert.Equal("ship_express", ex.Failure!.TaskId);
        Assert.Equal(typeof(CourierRefusedException).FullName, ex.Failure.ErrorType);
        var history = await Client.GetHistoryAsync(id);
        // Both compensable steps undone once each, the latest completion first; the receipt (a join) has no undo.
        var completed = history.Where(e => e.Kind == RunEventKind.TaskCompleted && e.TaskId is "charge_payment" or "reserve_inventory").Select(e => e.TaskId);
        Assert.Equal(completed.Reverse(), history.Where(e => e.Kind == RunEventKind.CompensationTaskCompleted).Select(e => e.TaskId));
        Assert.Equal(WorkflowState.Compensated, (await Client.GetStatusAsync(id)).State);
    }

    [Fact]
    public async Task OrderProcessing_UnknownShippingMethod_TakesTheDefaultBranch()
    {
        var id = NewId("order-drone");

        var receipt = await RunAsync(OrderProcessingWorkflow.Definition, NewOrder(id, "drone", new OrderLine("headphones", 1, 59m)), id);

        Assert.Equal("drone", receipt.ShippingMethod);
        Assert.NotNull(receipt.Shipment);
        Assert.NotNull(await Client.GetTaskResultAsync<Receipt>(id, "ship_fallback"));
        await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<Receipt>(id, "ship_standard"));
        await Assert.ThrowsAsync<TaskResultNotFoundException>(() => Client.GetTaskResultAsync<Receipt>(id, "ship_express"));
    }

    [Fact]
    public async Task Approval_NoDecisionWithinQuickWindow_FailsWithSignalTimeout()
    {
        var id = NewId("expense-timeout");

        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() =>
            RunAsync(ApprovalWorkflow.QuickTimeout, new ExpenseRequest("kim", "new monitor", 310m), id));

        Assert.Equal("await_approval", ex.Failure.TaskId);
        Assert.Equal(typeof(SignalTimeoutException).FullName, ex.Failure.ErrorType);
        Assert.Equal(typeof(SignalTimeoutException).FullName, (await Client.GetStatusAsync(id)).Failure?.ErrorType);
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemorySampleTests(MemoryClusterFixture fixture) : SampleTests(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresSampleTests(PostgresClusterFixture fixture) : SampleTests(fixture.Cluster);

[Collection(VirtualTimeEnvironments.Memory)]
public sealed class MemoryVirtualTimeSampleTests(MemoryVirtualTimeFixture fixture) : VirtualTimeSampleTests(fixture);

[Collection(VirtualTimeEnvironments.Postgres)]
public sealed class PostgresVirtualTimeSampleTests(PostgresVirtualTimeFixture fixture) : VirtualTimeSampleTests(fixture);
