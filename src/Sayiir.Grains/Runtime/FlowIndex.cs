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

    private FlowIndex(WorkflowDefinition definition) => Walk(definition.Steps, null);

    public static FlowIndex For(WorkflowDefinition definition) => Cache.GetValue(definition, static d => new FlowIndex(d));

    /// <summary>The node before <paramref name="node"/> in its chain (null for the first, and for a fork's join).</summary>
    public FlowNode? Predecessor(FlowNode node) => _predecessor.GetValueOrDefault(node);

    /// <summary>The fork, route, loop or child flow whose chain holds <paramref name="node"/> (null at the top level).</summary>
    public FlowNode? Owner(FlowNode node) => _owner.GetValueOrDefault(node);

    /// <summary>The chain that holds <paramref name="node"/> and its position there (none for a fork's join).</summary>
    public (ImmutableArray<FlowNode> Chain, int Position)? ChainOf(FlowNode node) => _chain.TryGetValue(node, out var at) ? at : null;

    private void Walk(ImmutableArray<FlowNode> steps, FlowNode? owner)
    {
        for (var i = 0; i < steps.Length; i++)
        {
            var node = steps[i];
            _predecessor[node] = i > 0 ? steps[i - 1] : null;
            _owner[node] = owner;
            _chain[node] = (steps, i);
            switch (node)
            {
                case ForkNode fork:
                    foreach (var branch in fork.Branches) Walk(branch.Steps, fork);
                    if (fork.Join is { } join)
                    {
                        _predecessor[join] = null;
                        _owner[join] = fork;
                    }
                    break;
                case RouteNode route:
                    foreach (var branch in route.Branches) Walk(branch.Steps, route);
                    if (route.Default is { } fallback) Walk(fallback.Steps, route);
                    break;
                case LoopNode loop:
                    Walk(loop.Body, loop);
                    break;
                case ChildFlowNode child:
                    Walk(child.Steps, child);
                    break;
            }
        }
    }
}
