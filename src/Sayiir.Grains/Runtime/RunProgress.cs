using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Sayiir.Persistence;

namespace Sayiir.Runtime;

/// <summary>
/// What is finished in a run and which outputs are still needed. A finished leaf's output stays in the state only
/// while a later step needs it; its event archives it in history (taken from the state when the event is delivered,
/// or moved into the event if the output leaves the state first), so a checkpoint rewrites what the continuation
/// needs, not the run's whole past, and holds each output once.
/// </summary>
internal sealed class RunProgress(RunWriter writer, IPayloadCodec codec, IRunJournal journal, string instanceId)
{
    private WorkflowRunState Run => writer.Run;

    public FlowIndex? Index { get; set; }

    public bool IsDone(FlowNode node) => node switch
    {
        ForkNode fork => fork.Join is { } join ? IsDone(join) : fork.Branches.All(b => IsDone(b.Steps[^1])),
        RouteNode route => ChosenBranch(route) is { } branch && IsDone(branch.Steps[^1]),
        ChildFlowNode child => IsDone(child.Steps[^1]),
        _ => Run.Done.Contains(node.Id) || BeforeCursor(node),
    };

    // A leaf of a top-level step the cursor has passed: finished, though its id left Done.
    private bool BeforeCursor(FlowNode node)
    {
        if (Run.DoneThrough == 0) return false;
        if (Index is null) throw new InvalidOperationException($"Whether node '{node.Id}' is finished is asked before the run's flow is indexed.");
        if (Index.TopPosition(node) >= Run.DoneThrough) return false;
        // Behind the cursor every node is finished but those of a route's branches not taken.
        for (var inner = node; Index.Owner(inner) is { } owner; inner = owner)
        {
            if (owner is not RouteNode route) continue;
            if (ChosenBranch(route) is not { } chosen || !chosen.Steps.Contains(inner)) return false;
        }
        return true;
    }

    /// <summary>
    /// Moves the cursor over the leading top-level steps that are finished, and drops their ids from Done, so the state
    /// does not grow with the run's length. The latest finished step keeps its ids: a version without the cursor (a silo
    /// not yet upgraded in a rolling deployment) still resumes after it instead of from the first step.
    /// </summary>
    public void AdvanceCursor()
    {
        if (Index is null) return;
        var steps = Index.Steps;
        while (Run.DoneThrough + 1 < steps.Length && IsDone(steps[Run.DoneThrough]) && IsDone(steps[Run.DoneThrough + 1]))
        {
            foreach (var node in steps[Run.DoneThrough].SelfAndDescendants()) Run.Done.Remove(node.Id);
            Run.DoneThrough++;
        }
    }

    // The ids Done would hold for the top-level steps before the cursor of the indexed definition.
    private IEnumerable<string> CursorIds(FlowIndex index) => index.Steps.Take(Run.DoneThrough).SelectMany(FinishedLeafIds);

    /// <summary>Every finished leaf id, the cursor's expanded, over the run's definition indexed by <paramref name="index"/>.</summary>
    public HashSet<string> FinishedIdsOver(FlowIndex index) => [.. Run.Done, .. CursorIds(index)];

    /// <summary>
    /// Gives up the cursor: every finished id goes back into Done (as states written before the cursor hold them), for
    /// a change of definition, whose top-level steps the cursor does not count.
    /// </summary>
    public void ExpandCursor(IEnumerable<string> finishedIds)
    {
        Run.Done = [.. finishedIds];
        Run.DoneThrough = 0;
    }

    // The leaf ids a finished node recorded: a route's chosen branch only, a loop's last iteration.
    private IEnumerable<string> FinishedLeafIds(FlowNode node) => node switch
    {
        ForkNode fork => fork.Branches.SelectMany(b => b.Steps).SelectMany(FinishedLeafIds).Concat(fork.Join is { } join ? [join.Id] : []),
        RouteNode route => ChosenBranch(route) is { } branch ? branch.Steps.SelectMany(FinishedLeafIds) : [],
        ChildFlowNode child => child.Steps.SelectMany(FinishedLeafIds),
        LoopNode loop => loop.Body.SelectMany(FinishedLeafIds).Prepend(loop.Id),
        _ => [node.Id],
    };

    /// <summary>The key a finished route chose, or null when it has none.</summary>
    public string? RouteKey(string routeId) =>
        Run.Outputs.TryGetValue(routeId, out var keyPayload) ? (string?)codec.Decode(keyPayload, typeof(string), $"key of route '{routeId}'") ?? "" : null;

    public FlowBranch? ChosenBranch(RouteNode route) => RouteKey(route.Id) is { } key ? BranchFor(route, key) : null;

    public static FlowBranch? BranchFor(RouteNode route, string key) => route.Branches.FirstOrDefault(b => b.Name == key) ?? route.Default;

    /// <summary>The output of a finished node: from the state, the outbox, or the history archive.</summary>
    public async Task<byte[]> OutputOfAsync(FlowNode node)
    {
        switch (node)
        {
            case ForkNode { Join: { } join }:
                return await OutputOfAsync(join);
            case ForkNode fork:
                return await BranchResultsOfAsync(fork);
            case RouteNode route:
                return await OutputOfAsync(ChosenBranch(route)!.Steps[^1]);
            case ChildFlowNode child:
                return await OutputOfAsync(child.Steps[^1]);
        }
        if (OutputAtHand(node.Id) is { } atHand) return atHand;
        switch (node)
        {
            // Neither is archived, and neither is read again once a later step finished, except by a rewind to that step.
            case DelayNode:
                return await InputOfAsync(node);
            case LoopNode loop:
                return await LoopValueAsync(loop);
        }
        return await journal.ReadTaskOutputAsync(instanceId, node.Id)
            ?? throw new InvalidOperationException($"The output of finished node '{node.Id}' is neither in the run's state nor archived.");
    }

    private async Task<byte[]> BranchResultsOfAsync(ForkNode fork)
    {
        var outputs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var branch in fork.Branches) outputs[branch.Name] = await OutputOfAsync(branch.Steps[^1]);
        return BranchResults.Encode(outputs);
    }

    /// <summary>The output of a finished task if it is still at hand (state or outbox), else null. A rewind hides the output it superseded.</summary>
    public byte[]? OutputAtHand(string nodeId) =>
        Run.Outputs.TryGetValue(nodeId, out var output) ? output : writer.OutboxOutput(nodeId, Run.Rewound.GetValueOrDefault(nodeId));

    /// <summary>What a finished node was given: a delay passes it on as its output.</summary>
    private async Task<byte[]> InputOfAsync(FlowNode node)
    {
        if (Index is null) throw new InvalidOperationException($"The input of node '{node.Id}' is needed before the run's flow is indexed.");
        if (Index.Predecessor(node) is { } predecessor) return await OutputOfAsync(predecessor);
        return Index.Owner(node) switch
        {
            null => Run.Input!,
            ForkNode fork when ReferenceEquals(fork.Join, node) => await BranchResultsOfAsync(fork),
            LoopNode loop => Run.Loops.GetValueOrDefault(loop.Id)?.Input ?? await InputOfAsync(loop),
            { } owner => await InputOfAsync(owner),
        };
    }

    /// <summary>A finished loop's value, from its last iteration's outcome (archived with the body's last task).</summary>
    private async Task<byte[]> LoopValueAsync(LoopNode loop)
    {
        var context = $"value of loop '{loop.Id}'";
        var outcome = (ILoopOutcome)codec.Decode(await OutputOfAsync(loop.Body[^1]), typeof(LoopOutcome<>).MakeGenericType(loop.ValueType), context)!;
        return codec.Encode(outcome.BoxedValue, loop.ValueType, context);
    }

    /// <summary>
    /// Supersedes <paramref name="nodes"/> for a rewind recorded as event <paramref name="rewoundSeq"/>: they are no
    /// longer finished, their outputs (route keys too) leave the state, archived with their events, and their retry,
    /// loop and deadline checkpoints go, so they run afresh.
    /// </summary>
    public void Supersede(IReadOnlyList<FlowNode> nodes, long rewoundSeq)
    {
        if (Index is null) throw new InvalidOperationException("A rewind is applied before the run's flow is indexed.");
        // The cursor goes back to just before the step that holds the first superseded node (the latest step that stays
        // finished keeps its ids, as AdvanceCursor leaves it); what stays finished from there on is named again.
        var back = nodes.Count == 0 ? Run.DoneThrough : Math.Max(nodes.Min(Index.TopPosition) - 1, 0);
        if (back < Run.DoneThrough)
        {
            Run.Done.UnionWith(Index.Steps[back..Run.DoneThrough].SelectMany(FinishedLeafIds));
            Run.DoneThrough = back;
        }
        foreach (var node in nodes)
        {
            Drop(node.Id);
            Run.Done.Remove(node.Id);
            Run.Retries.Remove(node.Id);
            Run.Loops.Remove(node.Id);
            Run.Deadlines.Remove(node.Id);
            Run.Rewound[node.Id] = rewoundSeq;
        }
        writer.Changed();
    }

    /// <summary>Records a finished leaf (task, delay, signal, loop), drops outputs no later step needs, and asks for a prompt write.</summary>
    public void CompleteLeaf(FlowNode leaf, byte[] output)
    {
        Run.Outputs[leaf.Id] = output;
        Run.Done.Add(leaf.Id);
        ReleaseInputsOf(leaf);
        AdvanceCursor();
        writer.Changed();
        writer.FlushSoon();
    }

    private void ReleaseInputsOf(FlowNode node)
    {
        if (Index is null) return;
        var owner = Index.Owner(node);
        if (owner is ForkNode fork && ReferenceEquals(fork.Join, node))
        {
            foreach (var branch in fork.Branches) Release(branch.Steps[^1]);
        }
        else if (Index.Predecessor(node) is { } predecessor)
        {
            Release(predecessor);
        }
        // A chain that just finished releases what came before its owner, up the tree.
        if (owner is not null and not LoopNode && IsDone(owner)) ReleaseInputsOf(owner);
    }

    private void Release(FlowNode node)
    {
        switch (node)
        {
            case ForkNode { Join: { } join }: Release(join); return;
            case ForkNode fork: foreach (var forkBranch in fork.Branches) Release(forkBranch.Steps[^1]); return;
            case RouteNode route: if (ChosenBranch(route) is { } routeBranch) Release(routeBranch.Steps[^1]); return;
            case ChildFlowNode child: Release(child.Steps[^1]); return;
            default:
                // A task's or signal's output is archived with its event (outbox, then history): the state can drop it.
                Drop(node.Id);
                return;
        }
    }

    /// <summary>Clears everything a loop body recorded, so its next iteration runs afresh.</summary>
    public void ForgetProgress(ImmutableArray<FlowNode> body)
    {
        foreach (var node in body.SelectMany(n => n.SelfAndDescendants()))
        {
            Drop(node.Id);
            Run.Done.Remove(node.Id);
            Run.Retries.Remove(node.Id);
            Run.Loops.Remove(node.Id);
            Run.Deadlines.Remove(node.Id);
        }
    }

    private void Drop(string nodeId)
    {
        if (!Run.Outputs.Remove(nodeId, out var output)) return;
        writer.KeepForArchive(nodeId, output);
    }

    /// <summary>
    /// The stable key of one logical execution of a task: the same across retries and re-executions after a crash,
    /// different for each iteration of every enclosing loop, for each run of the instance id, and after each rewind
    /// that superseded the task (keys of tasks never superseded are unchanged).
    /// </summary>
    public string IdempotencyKey(FlowNode task)
    {
        var path = new StringBuilder();
        foreach (var (loop, iteration) in EnclosingLoops(task).Reverse())
            path.Append(loop.Id).Append('#').Append(iteration.ToString(CultureInfo.InvariantCulture)).Append('/');
        path.Append(task.Id);
        if (Run.Rewound.TryGetValue(task.Id, out var rewound)) path.Append('@').Append(rewound.ToString(CultureInfo.InvariantCulture));
        return $"{instanceId}/{Run.RunId:N}/{path}";
    }

    /// <summary>The iteration (1-based) of the innermost loop around <paramref name="node"/>, or null outside loops.</summary>
    public int? LoopIteration(FlowNode node) => EnclosingLoops(node).Select(l => (int?)l.Iteration).FirstOrDefault();

    // Innermost first.
    private IEnumerable<(LoopNode Loop, int Iteration)> EnclosingLoops(FlowNode node)
    {
        if (Index is null) yield break;
        for (var owner = Index.Owner(node); owner is not null; owner = Index.Owner(owner))
        {
            if (owner is LoopNode loop) yield return (loop, Run.Loops.GetValueOrDefault(loop.Id)?.Iteration ?? 1);
        }
    }
}
