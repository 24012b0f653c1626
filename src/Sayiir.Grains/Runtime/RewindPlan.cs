using System.Collections.Immutable;
using System.Text.Json;

namespace Sayiir.Runtime;

/// <summary>
/// What a rewind before one step supersedes: the step and every node that runs after it in flow order. Built from the
/// definition alone (which nodes come later), checked against the run (which steps it completed); building it changes
/// nothing, so a refused rewind leaves the run as it was.
/// </summary>
internal sealed class RewindPlan
{
    private RewindPlan(FlowNode step, IReadOnlyList<FlowNode> superseded)
    {
        Step = step;
        Superseded = superseded;
    }

    /// <summary>The step the run is rewound before.</summary>
    public FlowNode Step { get; }

    /// <summary>The step, its descendants and every later node, in flow order (each once).</summary>
    public IReadOnlyList<FlowNode> Superseded { get; }

    /// <summary>
    /// The plan for a rewind of <paramref name="run"/> before <paramref name="stepId"/>, or the typed refusal.
    /// <paramref name="finished"/>: every finished leaf id, the cursor's included (<see cref="RunProgress.FinishedIdsOver"/>);
    /// the run's Done when omitted.
    /// </summary>
    public static RewindPlan For(WorkflowDefinition definition, FlowIndex index, WorkflowRunState run, string instanceId, string stepId,
        IReadOnlySet<string>? finished = null)
    {
        var valid = ValidSteps(definition, run, finished);
        if (!definition.NodesById.TryGetValue(stepId, out var step))
            throw new InvalidRewindStepException(instanceId, stepId, valid, $"workflow '{definition.Name}' has no step with that id.");
        // The outermost loop around the step: iterations share node ids, so only a whole loop can be rewound.
        LoopNode? loop = null;
        for (var owner = index.Owner(step); owner is not null; owner = index.Owner(owner))
        {
            if (owner is LoopNode enclosing) loop = enclosing;
        }
        if (loop is not null)
            throw new InvalidRewindStepException(instanceId, stepId, valid,
                $"it is inside loop '{loop.Id}', which is rewound as a whole: rewind before '{loop.Id}' to run the loop again from iteration 1.");
        if (step is ForkNode or ChildFlowNode)
            throw new InvalidRewindStepException(instanceId, stepId, valid,
                $"it is a {step.Kind}, not a step of its own: rewind before its first step (or, for a fork, a step of one branch).");
        if (!valid.Contains(stepId, StringComparer.Ordinal))
            throw new InvalidRewindStepException(instanceId, stepId, valid,
                step is RouteNode ? "the run has not chosen that route's branch yet." : "the run has not completed that step.");
        return new RewindPlan(step, Later(index, step));
    }

    /// <summary>The steps the run can be rewound before, in flow order: completed leaves outside loop bodies, and routes whose key is chosen.</summary>
    public static IReadOnlyList<string> ValidSteps(WorkflowDefinition definition, WorkflowRunState run, IReadOnlySet<string>? finished = null)
    {
        var done = finished ?? run.Done;
        var valid = new List<string>();
        Walk(definition.Steps);
        return valid;

        void Walk(ImmutableArray<FlowNode> steps)
        {
            foreach (var node in steps)
            {
                switch (node)
                {
                    case ForkNode fork:
                        foreach (var branch in fork.Branches) Walk(branch.Steps);
                        if (fork.Join is { } join && done.Contains(join.Id)) valid.Add(join.Id);
                        break;
                    case RouteNode route:
                        if (run.Outputs.ContainsKey(route.Id)) valid.Add(route.Id);
                        foreach (var branch in route.Branches) Walk(branch.Steps);
                        if (route.Default is { } fallback) Walk(fallback.Steps);
                        break;
                    case ChildFlowNode child:
                        Walk(child.Steps);
                        break;
                    default:
                        // A loop's body is not walked: its nodes are not steps of their own.
                        if (done.Contains(node.Id)) valid.Add(node.Id);
                        break;
                }
            }
        }
    }

    // The step with its descendants, then, going up, the later nodes of each enclosing chain (and a fork's join).
    private static List<FlowNode> Later(FlowIndex index, FlowNode step)
    {
        var superseded = new List<FlowNode>();
        var seen = new HashSet<FlowNode>(ReferenceEqualityComparer.Instance);
        void Add(FlowNode node)
        {
            foreach (var n in node.SelfAndDescendants())
            {
                if (seen.Add(n)) superseded.Add(n);
            }
        }

        Add(step);
        for (var node = step; ;)
        {
            var owner = index.Owner(node);
            // A fork's join follows every branch; nothing inside the fork comes after it (a join is in no chain).
            if (index.ChainOf(node) is (var chain, var at))
            {
                for (var i = at + 1; i < chain.Length; i++) Add(chain[i]);
                if (owner is ForkNode { Join: { } join }) Add(join);
            }
            if (owner is null) return superseded;
            node = owner;
        }
    }

    // ----- the Rewound event --------------------------------------------------------------------------------------

    /// <summary>The Rewound event's detail: a JSON array of the superseded ids on the first line, then <c>by: reason</c> if given.</summary>
    public string Detail(string? actor)
    {
        var ids = JsonSerializer.Serialize(Superseded.Select(n => n.Id).ToArray());
        return actor is null ? ids : $"{ids}\n{actor}";
    }

    /// <summary>The superseded ids a Rewound event's detail names (none if it cannot be read).</summary>
    public static IReadOnlyList<string> SupersededIds(string? detail)
    {
        if (string.IsNullOrEmpty(detail)) return [];
        var firstLine = detail.Split('\n', 2)[0];
        try
        {
            return JsonSerializer.Deserialize<string[]>(firstLine) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>
    /// Marks the events of nodes that a later rewind superseded. <paramref name="history"/> is in sequence order; the
    /// events after a rewind (the re-run) stay unmarked until a later rewind supersedes them in turn.
    /// </summary>
    public static List<RunHistoryEvent> MarkSuperseded(List<RunHistoryEvent> history)
    {
        if (!history.Exists(e => e.Kind == RunEventKind.Rewound)) return history;
        var superseded = new HashSet<string>(StringComparer.Ordinal);
        for (var i = history.Count - 1; i >= 0; i--)
        {
            var e = history[i];
            if (e.Kind == RunEventKind.Rewound) superseded.UnionWith(SupersededIds(e.Detail));
            else if (IsNodeOutcome(e) && superseded.Contains(e.TaskId!)) history[i] = e with { Superseded = true };
        }
        return history;
    }

    private static bool IsNodeOutcome(RunHistoryEvent e) => e.TaskId is not null && e.Kind is RunEventKind.TaskStarted
        or RunEventKind.TaskCompleted or RunEventKind.TaskFailed or RunEventKind.RetryScheduled or RunEventKind.TaskLog or RunEventKind.DelayStarted
        or RunEventKind.DelayWoken or RunEventKind.SignalAwaited or RunEventKind.SignalReceived or RunEventKind.SignalConsumed;
}
