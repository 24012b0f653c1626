namespace Sayiir;

/// <summary>
/// Told about every change of a run's state (<see cref="WorkflowState"/>) on the silo that drives the run, once the
/// change is durable. Register one with <c>SayiirSiloBuilder.AddRunObserver&lt;T&gt;()</c> (a singleton of the silo).
/// </summary>
/// <remarks>
/// <para>
/// Calls come from a background queue of the silo, one queue per observer, in the order the silo saved the changes:
/// an observer never holds a run back, and a slow or failing observer never delays another one. An exception it throws
/// is logged and otherwise ignored. A queue that is full (<c>SayiirOptions.RunObserverQueueCapacity</c>) drops the new
/// change for that observer (and logs it).
/// </para>
/// <para>
/// The guarantee is <b>at most once per change</b>: a change is reported by the activation that saved it, after the
/// write landed. A silo that dies (or stops and cannot drain its queue within a few seconds) between the write and the
/// call loses that call, and the next owner does not replay it. Use the run's durable history
/// (<see cref="ISayiirClient.GetHistoryAsync"/>) or listing when every change must be seen.
/// </para>
/// </remarks>
public interface IRunObserver
{
    /// <summary>Called once per durable state change of a run; <paramref name="cancellationToken"/> fires when the silo stops.</summary>
    Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken);
}

/// <summary>A run's state changed (and the change is durable).</summary>
public sealed record RunChange
{
    /// <summary>The run's instance id.</summary>
    public required string InstanceId { get; init; }

    /// <summary>The workflow's name.</summary>
    public required string WorkflowName { get; init; }

    /// <summary>The version label of the run's definition (null: unversioned).</summary>
    public string? WorkflowVersion { get; init; }

    /// <summary>The hash of the run's definition.</summary>
    public string? DefinitionHash { get; init; }

    /// <summary>The state the run is in now.</summary>
    public required WorkflowState State { get; init; }

    /// <summary>The state it was in before, as this silo saw it (<see cref="WorkflowState.NotFound"/> for a new run).</summary>
    public required WorkflowState PreviousState { get; init; }

    /// <summary>When the change was saved, on the engine's clock.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Why the run failed, when <see cref="State"/> is <see cref="WorkflowState.Failed"/>.</summary>
    public TaskFailure? Failure { get; init; }

    /// <summary>Who cancelled the run and why, when <see cref="State"/> is <see cref="WorkflowState.Cancelled"/>.</summary>
    public CancellationInfo? Cancellation { get; init; }
}
