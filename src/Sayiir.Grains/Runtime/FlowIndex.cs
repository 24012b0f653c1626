using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace Sayiir.Runtime;

/// <summary>
/// Where each node sits in its definition: the node before it in its chain and the node that owns the chain. The
/// run uses it to skip finished nodes on resume and to know when an output is no longer needed by any later step.
/// </summary>
internal sealed class FlowIndex
{
    private static readonly ConditionalWeakTable<WorkflowDefinition, FlowIndex> Cache = [];

    private readonly Dictionary<FlowNode, FlowNode?> _predecessor = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<FlowNode, FlowNode?> _owner = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<FlowNode, (ImmutableArray<FlowNode> Chain, int Position)> _chain = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<FlowNode, int> _top = new(ReferenceEqualityComparer.Instance);

    private FlowIndex(WorkflowDefinition definition)
    {
        Steps = definition.Steps;
        Walk(definition.Steps, null, -1);
    }

    /// <summary>The definition's top-level chain (what <see cref="WorkflowRunState.DoneThrough"/> counts).</summary>
    public ImmutableArray<FlowNode> Steps { get; }

    public static FlowIndex For(WorkflowDefinition definition) => Cache.GetValue(definition, static d => new FlowIndex(d));

    /// <summary>The node before <paramref name="node"/> in its chain (null for the first, and for a fork's join).</summary>
    public FlowNode? Predecessor(FlowNode node) => _predecessor.GetValueOrDefault(node);

    /// <summary>The fork, route, loop or child flow whose chain holds <paramref name="node"/> (null at the top level).</summary>
    public FlowNode? Owner(FlowNode node) => _owner.GetValueOrDefault(node);

    /// <summary>The chain that holds <paramref name="node"/> and its position there (none for a fork's join).</summary>
    public (ImmutableArray<FlowNode> Chain, int Position)? ChainOf(FlowNode node) => _chain.TryGetValue(node, out var at) ? at : null;

    /// <summary>The position in the top-level chain of the step that is or holds <paramref name="node"/>.</summary>
    public int TopPosition(FlowNode node) => _top.TryGetValue(node, out var top) ? top
        : throw new InvalidOperationException($"Node '{node.Id}' is not part of the indexed definition.");

    private void Walk(ImmutableArray<FlowNode> steps, FlowNode? owner, int top)
    {
        for (var i = 0; i < steps.Length; i++)
        {
            var node = steps[i];
            var nodeTop = owner is null ? i : top;
            _top[node] = nodeTop;
            _predecessor[node] = i > 0 ? steps[i - 1] : null;
            _owner[node] = owner;
            _chain[node] = (steps, i);
            switch (node)
            {
                case ForkNode fork:
                    foreach (var branch in fork.Branches) Walk(branch.Steps, fork, nodeTop);
                    if (fork.Join is { } join)
                    {
                        _predecessor[join] = null;
                        _owner[join] = fork;
                        _top[join] = nodeTop;
                    }
                    break;
                case RouteNode route:
                    foreach (var branch in route.Branches) Walk(branch.Steps, route, nodeTop);
                    if (route.Default is { } fallback) Walk(fallback.Steps, route, nodeTop);
                    break;
                case LoopNode loop:
                    Walk(loop.Body, loop, nodeTop);
                    break;
                case ChildFlowNode child:
                    Walk(child.Steps, child, nodeTop);
                    break;
            }
        }
    }
}
