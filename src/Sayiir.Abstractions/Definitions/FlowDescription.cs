using System.Collections.Immutable;

namespace Sayiir;

/// <summary>The kind of a node of a workflow, as shown by <see cref="FlowNodeDescription.Kind"/>.</summary>
public enum FlowNodeKind
{
    /// <summary>A task: user code from the previous output to this node's output (<c>Then</c>).</summary>
    Task = 0,

    /// <summary>Branches run concurrently on the same input (<c>Fork</c>); see <see cref="FlowNodeDescription.Branches"/> and <see cref="FlowNodeDescription.Join"/>.</summary>
    Fork = 1,

    /// <summary>The task that combines a fork's branch outputs (<c>Join</c>); found as <see cref="FlowNodeDescription.Join"/> of its fork.</summary>
    Join = 2,

    /// <summary>A key selector picks one branch (<c>Route</c>); see <see cref="FlowNodeDescription.Branches"/> and <see cref="FlowNodeDescription.RouteKeys"/>.</summary>
    Route = 3,

    /// <summary>A body run repeatedly (<c>Loop</c>); see <see cref="FlowNodeDescription.Steps"/> and <see cref="FlowNodeDescription.MaxIterations"/>.</summary>
    Loop = 4,

    /// <summary>A durable wait of a fixed duration (<c>Delay</c>); see <see cref="FlowNodeDescription.Delay"/>.</summary>
    Delay = 5,

    /// <summary>A wait for a named signal (<c>WaitForSignal</c>); see <see cref="FlowNodeDescription.SignalName"/>.</summary>
    Signal = 6,

    /// <summary>Another workflow composed inline (<c>ThenFlow</c>); see <see cref="FlowNodeDescription.Steps"/>.</summary>
    ChildFlow = 7,
}

/// <summary>
/// A read-only description of a workflow definition's shape, from <see cref="WorkflowDefinition.Describe"/>: its
/// nodes in order, their kinds, ids, branches and task options. It is what tools such as a dashboard draw; it carries
/// no delegates and runs nothing. Node ids are the ids that statuses and history events name
/// (<see cref="WorkflowStatus.CurrentTaskId"/>, <see cref="RunHistoryEvent.TaskId"/>).
/// </summary>
public sealed class FlowDescription
{
    internal FlowDescription(string name, string? version, string hash, Type inputType, Type outputType, ImmutableArray<FlowNodeDescription> steps)
    {
        Name = name;
        Version = version;
        Hash = hash;
        InputType = inputType;
        OutputType = outputType;
        Steps = steps;
        AllNodes = [.. steps.SelectMany(s => s.SelfAndDescendants())];
    }

    /// <summary>The workflow's name.</summary>
    public string Name { get; }

    /// <summary>The workflow's version label, if any.</summary>
    public string? Version { get; }

    /// <summary>The definition hash (see <see cref="WorkflowDefinition.Hash"/>).</summary>
    public string Hash { get; }

    /// <summary>The run's input type.</summary>
    public Type InputType { get; }

    /// <summary>The run's output type.</summary>
    public Type OutputType { get; }

    /// <summary>The top-level nodes, in order: each node's output is the next one's input.</summary>
    public IReadOnlyList<FlowNodeDescription> Steps { get; }

    /// <summary>Every node, nested ones included, depth first in declaration order (a fork's branches before its join).</summary>
    public IReadOnlyList<FlowNodeDescription> AllNodes { get; }

    /// <summary>The node with id <paramref name="nodeId"/>, nested ones included, or <see langword="null"/> when there is none.</summary>
    public FlowNodeDescription? FindNode(string nodeId) => AllNodes.FirstOrDefault(n => string.Equals(n.Id, nodeId, StringComparison.Ordinal));
}

/// <summary>
/// One node of a <see cref="FlowDescription"/>. Which properties are set depends on <see cref="Kind"/>; the others
/// are <see langword="null"/> or empty.
/// </summary>
public sealed class FlowNodeDescription
{
    internal FlowNodeDescription(string id, FlowNodeKind kind)
    {
        Id = id;
        Kind = kind;
    }

    /// <summary>The node's id, unique within its workflow (a child flow composed with a prefix has "prefix.id" ids).</summary>
    public string Id { get; }

    /// <summary>The node's kind.</summary>
    public FlowNodeKind Kind { get; }

    /// <summary>The retry policy of a <see cref="FlowNodeKind.Task"/> or <see cref="FlowNodeKind.Join"/>.</summary>
    public RetryPolicy? Retry { get; internal init; }

    /// <summary>The per-attempt timeout of a <see cref="FlowNodeKind.Task"/> or <see cref="FlowNodeKind.Join"/>, if it has one.</summary>
    public TimeSpan? Timeout { get; internal init; }

    /// <summary>The <see cref="TaskOptions.ConcurrencyKey"/> of a <see cref="FlowNodeKind.Task"/> or <see cref="FlowNodeKind.Join"/>, if it has one.</summary>
    public string? ConcurrencyKey { get; internal init; }

    /// <summary>Whether this <see cref="FlowNodeKind.Task"/> has an undo step (declared with <c>compensate:</c> or an <see cref="ICompensableTask{TInput, TOutput}"/> class).</summary>
    public bool IsCompensable { get; internal init; }

    /// <summary>The task class resolved from dependency injection, for a class task; <see langword="null"/> for a delegate.</summary>
    public Type? TaskType { get; internal init; }

    /// <summary>
    /// The branches of a <see cref="FlowNodeKind.Fork"/> (in declaration order) or a <see cref="FlowNodeKind.Route"/>
    /// (named branches, then the default branch if there is one).
    /// </summary>
    public IReadOnlyList<FlowBranchDescription> Branches { get; internal init; } = [];

    /// <summary>The join task of a <see cref="FlowNodeKind.Fork"/>; <see langword="null"/> when the fork ends with <c>Collect()</c>.</summary>
    public FlowNodeDescription? Join { get; internal init; }

    /// <summary>The keys a <see cref="FlowNodeKind.Route"/>'s selector can return, when declared (enum keys or <c>Keys(...)</c>); empty when open.</summary>
    public IReadOnlyList<string> RouteKeys { get; internal init; } = [];

    /// <summary>The body of a <see cref="FlowNodeKind.Loop"/>, or the composed nodes of a <see cref="FlowNodeKind.ChildFlow"/>.</summary>
    public IReadOnlyList<FlowNodeDescription> Steps { get; internal init; } = [];

    /// <summary>The iteration limit of a <see cref="FlowNodeKind.Loop"/>.</summary>
    public int? MaxIterations { get; internal init; }

    /// <summary>What a <see cref="FlowNodeKind.Loop"/> does at its limit.</summary>
    public LoopExhaustion? OnMaxIterations { get; internal init; }

    /// <summary>The duration of a <see cref="FlowNodeKind.Delay"/>.</summary>
    public TimeSpan? Delay { get; internal init; }

    /// <summary>The signal a <see cref="FlowNodeKind.Signal"/> waits for.</summary>
    public string? SignalName { get; internal init; }

    /// <summary>How long a <see cref="FlowNodeKind.Signal"/> waits; <see langword="null"/> to wait forever.</summary>
    public TimeSpan? SignalTimeout { get; internal init; }

    /// <summary>Whether a <see cref="FlowNodeKind.Signal"/>'s timeout continues with a default value instead of failing the run.</summary>
    public bool SignalHasDefault { get; internal init; }

    /// <summary>The composed workflow's name, for a <see cref="FlowNodeKind.ChildFlow"/>.</summary>
    public string? ChildWorkflowName { get; internal init; }

    /// <inheritdoc />
    public override string ToString() => $"{Kind} '{Id}'";

    internal IEnumerable<FlowNodeDescription> SelfAndDescendants()
    {
        yield return this;
        var nested = Branches.SelectMany(b => b.Steps).Concat(Join is null ? [] : [Join]).Concat(Steps);
        foreach (var child in nested)
            foreach (var node in child.SelfAndDescendants())
                yield return node;
    }
}

/// <summary>A branch of a fork or a route in a <see cref="FlowDescription"/>.</summary>
public sealed class FlowBranchDescription
{
    internal FlowBranchDescription(string name, bool isDefault, ImmutableArray<FlowNodeDescription> steps)
    {
        Name = name;
        IsDefault = isDefault;
        Steps = steps;
    }

    /// <summary>The branch name: a fork branch's name, or the route key that selects it (<c>"(default)"</c> for a route's default branch).</summary>
    public string Name { get; }

    /// <summary>Whether this is a route's default branch, taken when no named branch matches the key.</summary>
    public bool IsDefault { get; }

    /// <summary>The branch's nodes, in order; the last one's output is the branch output.</summary>
    public IReadOnlyList<FlowNodeDescription> Steps { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
