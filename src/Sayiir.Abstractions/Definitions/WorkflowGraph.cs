namespace Sayiir;

/// <summary>
/// The shape of a registered workflow definition as data that travels to any client
/// (<see cref="ISayiirClient.GetWorkflowGraphAsync"/>): what <see cref="FlowDescription"/> describes in process, with
/// types and retry policies reduced to names and numbers. Node ids are the ids statuses and history events name.
/// </summary>
[GenerateSerializer, Alias("sayiir.WorkflowGraph"), Immutable]
public sealed record WorkflowGraph
{
    /// <summary>The workflow's name.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>The version label (null: unversioned).</summary>
    [Id(1)] public string? Version { get; init; }

    /// <summary>The definition's hash.</summary>
    [Id(2)] public required string Hash { get; init; }

    /// <summary>The run's input type (full name).</summary>
    [Id(3)] public required string InputType { get; init; }

    /// <summary>The run's output type (full name).</summary>
    [Id(4)] public required string OutputType { get; init; }

    /// <summary>The top-level nodes, in order.</summary>
    [Id(5)] public required IReadOnlyList<WorkflowGraphNode> Steps { get; init; }

    /// <summary>The graph of <paramref name="definition"/>.</summary>
    public static WorkflowGraph From(WorkflowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var description = definition.Describe();
        return new WorkflowGraph
        {
            Name = description.Name,
            Version = description.Version,
            Hash = description.Hash,
            InputType = TypeName(description.InputType),
            OutputType = TypeName(description.OutputType),
            Steps = [.. description.Steps.Select(WorkflowGraphNode.From)],
        };
    }

    internal static string TypeName(Type type) => type.FullName ?? type.Name;
}

/// <summary>One node of a <see cref="WorkflowGraph"/> (see <see cref="FlowNodeDescription"/> for what each member means per kind).</summary>
[GenerateSerializer, Alias("sayiir.WorkflowGraphNode"), Immutable]
public sealed record WorkflowGraphNode
{
    /// <summary>The node id.</summary>
    [Id(0)] public required string Id { get; init; }

    /// <summary>The node kind.</summary>
    [Id(1)] public required FlowNodeKind Kind { get; init; }

    /// <summary>A fork's or route's branches (a route's default branch last).</summary>
    [Id(2)] public IReadOnlyList<WorkflowGraphBranch> Branches { get; init; } = [];

    /// <summary>A fork's join task.</summary>
    [Id(3)] public WorkflowGraphNode? Join { get; init; }

    /// <summary>The keys a route declares.</summary>
    [Id(4)] public IReadOnlyList<string> RouteKeys { get; init; } = [];

    /// <summary>A loop's body or a child flow's steps.</summary>
    [Id(5)] public IReadOnlyList<WorkflowGraphNode> Steps { get; init; } = [];

    /// <summary>A task's class (full name), for a class task.</summary>
    [Id(6)] public string? TaskType { get; init; }

    /// <summary>A task's maximum attempts (its retry policy).</summary>
    [Id(7)] public int? MaxAttempts { get; init; }

    /// <summary>A task's per-attempt timeout.</summary>
    [Id(8)] public TimeSpan? Timeout { get; init; }

    /// <summary>A loop's iteration limit.</summary>
    [Id(9)] public int? MaxIterations { get; init; }

    /// <summary>A delay's duration.</summary>
    [Id(10)] public TimeSpan? Delay { get; init; }

    /// <summary>A signal wait's signal name.</summary>
    [Id(11)] public string? SignalName { get; init; }

    /// <summary>A signal wait's timeout.</summary>
    [Id(12)] public TimeSpan? SignalTimeout { get; init; }

    /// <summary>A child flow's workflow name.</summary>
    [Id(13)] public string? ChildWorkflowName { get; init; }

    internal static WorkflowGraphNode From(FlowNodeDescription node) => new()
    {
        Id = node.Id,
        Kind = node.Kind,
        Branches = [.. node.Branches.Select(b => new WorkflowGraphBranch { Name = b.Name, IsDefault = b.IsDefault, Steps = [.. b.Steps.Select(From)] })],
        Join = node.Join is { } join ? From(join) : null,
        RouteKeys = node.RouteKeys,
        Steps = [.. node.Steps.Select(From)],
        TaskType = node.TaskType is { } type ? WorkflowGraph.TypeName(type) : null,
        MaxAttempts = node.Retry?.MaxAttempts,
        Timeout = node.Timeout,
        MaxIterations = node.MaxIterations,
        Delay = node.Delay,
        SignalName = node.SignalName,
        SignalTimeout = node.SignalTimeout,
        ChildWorkflowName = node.ChildWorkflowName,
    };
}

/// <summary>A branch of a fork or route in a <see cref="WorkflowGraph"/>.</summary>
[GenerateSerializer, Alias("sayiir.WorkflowGraphBranch"), Immutable]
public sealed record WorkflowGraphBranch
{
    /// <summary>The branch name (a route's key).</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>Whether it is a route's default branch.</summary>
    [Id(1)] public bool IsDefault { get; init; }

    /// <summary>Its steps, in order.</summary>
    [Id(2)] public required IReadOnlyList<WorkflowGraphNode> Steps { get; init; }
}
