using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace Sayiir;

/// <summary>
/// An immutable, validated workflow: a name, an optional version, a chain of nodes and a stable structural hash.
/// Built by <see cref="Flow.Create{TInput}(string, string?)"/>; register it on every silo with <c>AddSayiir</c>.
/// Its nodes are opaque; <see cref="Describe"/> gives a read-only description of its shape.
/// </summary>
public abstract class WorkflowDefinition
{
    private FlowDescription? _description;

    private protected WorkflowDefinition(string name, string? version, ImmutableArray<FlowNode> steps, Type inputType, Type outputType)
    {
        Name = name;
        Version = version;
        Steps = steps;
        InputType = inputType;
        OutputType = outputType;
        NodesById = steps.SelectMany(s => s.SelfAndDescendants()).ToImmutableDictionary(n => n.Id, StringComparer.Ordinal);
        Hash = ComputeHash(name, version, steps);
    }

    /// <summary>The workflow's name, unique among the workflows registered on a silo.</summary>
    public string Name { get; }

    /// <summary>
    /// An optional version label, part of the hash. Versions of one workflow name are ordered so that the latest is
    /// chosen for new runs: labels that are whole numbers compare numerically ("2" &lt; "10"), dotted numbers compare
    /// part by part ("1.2" &lt; "1.10"), a number sorts before any other text, other labels compare ordinally, and an
    /// unversioned definition (null) comes first.
    /// </summary>
    public string? Version { get; }

    /// <summary>The top-level chain of nodes (the interpreter's model).</summary>
    internal ImmutableArray<FlowNode> Steps { get; }

    /// <summary>The run's input type.</summary>
    public Type InputType { get; }

    /// <summary>The run's output type.</summary>
    public Type OutputType { get; }

    /// <summary>
    /// A stable hash of the structure: node kinds, ids, retry and timeout options, version, signal names, delays.
    /// Stored with every run; resuming a run whose definition now hashes differently is refused.
    /// </summary>
    public string Hash { get; }

    /// <summary>Every node of the tree by id, nested ones included.</summary>
    internal ImmutableDictionary<string, FlowNode> NodesById { get; }

    /// <summary>
    /// A read-only description of the definition's shape — every node's id and kind, the branches of forks and
    /// routes, loop bodies, child flows, and the options of tasks — for tools that show a workflow, such as a
    /// dashboard. Built once and cached; the definition itself stays opaque.
    /// </summary>
    public FlowDescription Describe() =>
        _description ??= new FlowDescription(Name, Version, Hash, InputType, OutputType, [.. Steps.Select(DescribeNode)]);

    /// <inheritdoc />
    public override string ToString() => Version is null ? $"{Name} ({Hash})" : $"{Name} v{Version} ({Hash})";

    private static FlowNodeDescription DescribeNode(FlowNode node) => node switch
    {
        TaskNode task => DescribeTask(task, FlowNodeKind.Task),
        ForkNode fork => new(fork.Id, FlowNodeKind.Fork)
        {
            Branches = [.. fork.Branches.Select(b => DescribeBranch(b, isDefault: false))],
            Join = fork.Join is null ? null : DescribeTask(fork.Join, FlowNodeKind.Join),
        },
        RouteNode route => new(route.Id, FlowNodeKind.Route)
        {
            Branches = [.. route.Branches.Select(b => DescribeBranch(b, isDefault: false)),
                        .. route.Default is null ? [] : new[] { DescribeBranch(route.Default, isDefault: true) }],
            RouteKeys = route.DeclaredKeys,
        },
        LoopNode loop => new(loop.Id, FlowNodeKind.Loop)
        {
            Steps = [.. loop.Body.Select(DescribeNode)],
            MaxIterations = loop.MaxIterations,
            OnMaxIterations = loop.OnMaxIterations,
        },
        DelayNode delay => new(delay.Id, FlowNodeKind.Delay) { Delay = delay.Duration },
        SignalNode signal => new(signal.Id, FlowNodeKind.Signal)
        {
            SignalName = signal.SignalName,
            SignalTimeout = signal.Timeout,
            SignalHasDefault = signal.HasDefault,
        },
        ChildFlowNode child => new(child.Id, FlowNodeKind.ChildFlow)
        {
            Steps = [.. child.Steps.Select(DescribeNode)],
            ChildWorkflowName = child.WorkflowName,
        },
        _ => throw new InvalidOperationException($"Unknown node type {node.GetType().Name}."),
    };

    private static FlowNodeDescription DescribeTask(TaskNode task, FlowNodeKind kind) => new(task.Id, kind)
    {
        Retry = task.Settings.Retry,
        Timeout = task.Settings.Timeout,
        ConcurrencyKey = task.Settings.ConcurrencyKey,
        IsCompensable = task.Compensation is not null,
        TaskType = task.ImplementationType,
    };

    private static FlowBranchDescription DescribeBranch(FlowBranch branch, bool isDefault) =>
        new(branch.Name, isDefault, [.. branch.Steps.Select(DescribeNode)]);

    // The canonical text the hash is computed from. Changing it changes every definition's hash, and stored runs
    // would then be refused as mismatched: keep it byte for byte.
    internal static string Canonical(string name, string? version, ImmutableArray<FlowNode> steps)
    {
        var sb = new StringBuilder();
        sb.Append("sayiir/1|").Append(name).Append('|').Append(version).Append('|');
        foreach (var step in steps) { step.AppendCanonical(sb); sb.Append(';'); }
        return sb.ToString();
    }

    private static string ComputeHash(string name, string? version, ImmutableArray<FlowNode> steps)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(name, version, steps)));
        return Convert.ToHexStringLower(bytes.AsSpan(0, 12));
    }
}

/// <summary>A workflow from <typeparamref name="TInput"/> to <typeparamref name="TOutput"/>.</summary>
public sealed class WorkflowDefinition<TInput, TOutput> : WorkflowDefinition
{
    internal WorkflowDefinition(string name, string? version, ImmutableArray<FlowNode> steps)
        : base(name, version, steps, typeof(TInput), typeof(TOutput)) { }
}
