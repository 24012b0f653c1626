using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sayiir.Samples.Approval;

/// <summary>An expense someone wants reimbursed: the workflow's input.</summary>
public sealed record ExpenseRequest(string Requester, string Description, decimal Amount);

/// <summary>The payload of the <see cref="ApprovalWorkflow.SignalName"/> signal.</summary>
/// <param name="Approved">Whether the expense is approved.</param>
/// <param name="By">Who decided.</param>
/// <param name="Comment">An optional note for the requester.</param>
public sealed record Decision(bool Approved, string By, string? Comment = null);

/// <summary>The route's keys.</summary>
public enum Verdict
{
    /// <summary>Pay it.</summary>
    Approved,

    /// <summary>Tell the requester why not.</summary>
    Rejected,
}

/// <summary>The workflow's output.</summary>
/// <param name="RequestId">The run's instance id, which doubles as the request's reference.</param>
/// <param name="Verdict">The decision.</param>
/// <param name="By">Who decided.</param>
/// <param name="Summary">What happened next.</param>
public sealed record ApprovalOutcome(string RequestId, Verdict Verdict, string By, string Summary);

/// <summary>
/// The approval workflow: submit the request → wait for the "approval" signal (with a timeout) → route on the
/// decision. <see cref="Definition"/> gives approvers three days; <see cref="QuickTimeout"/> is the same flow with a
/// two-second window so the demo can show a timeout. Register both on every silo and call <see cref="AddServices"/>.
/// </summary>
public static class ApprovalWorkflow
{
    /// <summary>The signal an approver sends, with a <see cref="Decision"/> payload.</summary>
    public const string SignalName = "approval";

    /// <summary>How long approvers have in <see cref="Definition"/>.</summary>
    public static readonly TimeSpan ApprovalWindow = TimeSpan.FromDays(3);

    /// <summary>How long approvers have in <see cref="QuickTimeout"/>.</summary>
    public static readonly TimeSpan QuickApprovalWindow = TimeSpan.FromSeconds(2);

    /// <summary>The expense approval workflow.</summary>
    public static WorkflowDefinition<ExpenseRequest, ApprovalOutcome> Definition { get; } = Create("expense_approval", ApprovalWindow);

    /// <summary>The same flow with a two-second approval window (the timeout is part of the definition, so it is a separate workflow).</summary>
    public static WorkflowDefinition<ExpenseRequest, ApprovalOutcome> QuickTimeout { get; } = Create("expense_approval_quick", QuickApprovalWindow);

    /// <summary>Both definitions, for registration.</summary>
    public static IReadOnlyList<WorkflowDefinition> All { get; } = [Definition, QuickTimeout];

    /// <summary>Registers the services the workflow's tasks resolve.</summary>
    public static IServiceCollection AddServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IApproverInbox, ConsoleApproverInbox>();
        return services;
    }

    private static WorkflowDefinition<ExpenseRequest, ApprovalOutcome> Create(string name, TimeSpan approvalWindow) =>
        Flow.Create<ExpenseRequest>(name)
            .Then<SubmitRequest, ExpenseRequest>("submit")
            // The run parks here (durably) until an approver signals; without a signal it fails with SignalTimeoutException.
            .WaitForSignal<Decision>("await_approval", SignalName, approvalWindow)
            .Route<Verdict, ApprovalOutcome>("verdict", (Decision d) => d.Approved ? Verdict.Approved : Verdict.Rejected, routes => routes
                .Branch(Verdict.Approved, b => b.Then("schedule_payout", (Decision d, TaskContext ctx) =>
                    Task.FromResult(new ApprovalOutcome(ctx.InstanceId, Verdict.Approved, d.By, "payout scheduled with the next payroll"))))
                .Branch(Verdict.Rejected, b => b.Then("notify_rejection", (Decision d, TaskContext ctx) =>
                    Task.FromResult(new ApprovalOutcome(ctx.InstanceId, Verdict.Rejected, d.By, $"requester told: {d.Comment ?? "no reason given"}")))))
            .Build();
}

/// <summary>Where approvers see pending requests.</summary>
internal interface IApproverInbox
{
    /// <summary>Puts a request in front of the approvers.</summary>
    Task PostAsync(string requestId, ExpenseRequest request, CancellationToken cancellationToken);
}

/// <summary>Prints requests instead of posting them.</summary>
internal sealed class ConsoleApproverInbox : IApproverInbox
{
    public Task PostAsync(string requestId, ExpenseRequest request, CancellationToken cancellationToken)
    {
        Console.WriteLine($"  [inbox] {request.Requester} asks for {request.Amount:0.00} ({request.Description}), ref {requestId}");
        return Task.CompletedTask;
    }
}

/// <summary>The first step: a class task from DI that notifies the approvers.</summary>
internal sealed class SubmitRequest(IApproverInbox inbox) : IWorkflowTask<ExpenseRequest, ExpenseRequest>
{
    public async Task<ExpenseRequest> ExecuteAsync(ExpenseRequest input, TaskContext context)
    {
        if (input.Amount <= 0) throw new ArgumentException($"the amount must be positive (was {input.Amount})", nameof(input));
        await inbox.PostAsync(context.InstanceId, input, context.CancellationToken);
        return input;
    }
}
