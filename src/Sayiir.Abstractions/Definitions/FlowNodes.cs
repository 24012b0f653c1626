using System.Collections.Immutable;
using System.Text;

namespace Sayiir;

/// <summary>Runs one attempt of a task on erased types; built by the <see cref="FlowBuilder{TInput, TCurrent}"/>.</summary>
internal delegate Task<object?> TaskInvoker(object? input, TaskContext context);

/// <summary>Runs one attempt of a task's undo step on erased types: the task's input and output.</summary>
internal delegate Task CompensationInvoker(object? input, object? output, TaskContext context);

/// <summary>
/// A node of an immutable workflow definition tree: the interpreter's model, internal to Sayiir. Each node's output is
/// the next node's input. Users see a definition's shape through <see cref="WorkflowDefinition.Describe"/>.
/// </summary>
internal abstract record FlowNode
{
    private protected FlowNode(string id) => Id = id;

    /// <summary>The node's id, unique within its workflow.</summary>
    public string Id { get; }

    /// <summary>The node's kind, as used in the definition hash and in status reports.</summary>
    public abstract string Kind { get; }

    internal abstract void AppendCanonical(StringBuilder sb);

    internal abstract FlowNode WithIdPrefix(string prefix);

    internal virtual IEnumerable<FlowNode> Children => [];

    /// <summary>This node and every node nested inside it, depth first.</summary>
    internal IEnumerable<FlowNode> SelfAndDescendants()
    {
        yield return this;
        foreach (var child in Children)
            foreach (var node in child.SelfAndDescendants())
                yield return node;
    }

    private protected static string Prefixed(string prefix, string id) => $"{prefix}.{id}";

    private protected static ImmutableArray<FlowNode> Prefixed(string prefix, ImmutableArray<FlowNode> nodes) =>
        nodes.Select(n => n.WithIdPrefix(prefix)).ToImmutableArray();

    private protected static void AppendCanonical(StringBuilder sb, ImmutableArray<FlowNode> steps)
    {
        sb.Append('[');
        foreach (var step in steps) { step.AppendCanonical(sb); sb.Append(';'); }
        sb.Append(']');
    }
}

/// <summary>A task: user code from the previous output to this node's output.</summary>
internal sealed record TaskNode : FlowNode
{
    internal TaskNode(string id, Type inputType, Type outputType, TaskSettings settings, Type? implementationType, TaskInvoker invoker,
        CompensationInvoker? compensation = null)
        : base(id)
    {
        Compensation = compensation;
        InputType = inputType;
        OutputType = outputType;
        Settings = settings;
        ImplementationType = implementationType;
        Invoker = invoker;
    }

    /// <inheritdoc />
    public override string Kind => "task";

    /// <summary>The input type.</summary>
    public Type InputType { get; }

    /// <summary>The output type.</summary>
    public Type OutputType { get; }

    /// <summary>Retry policy and timeout.</summary>
    public TaskSettings Settings { get; }

    /// <summary>The task class resolved from DI, or <see langword="null"/> for a delegate task.</summary>
    public Type? ImplementationType { get; }

    internal TaskInvoker Invoker { get; }

    /// <summary>The task's undo step, or <see langword="null"/> when it is not compensable.</summary>
    internal CompensationInvoker? Compensation { get; }

    /// <summary>The retry policy of the undo step: its own, else the task's.</summary>
    internal RetryPolicy CompensationRetry => Settings.CompensationRetry ?? Settings.Retry;

    // A compensable task adds its mark (runs keep what it needs to be undone), so existing definitions keep their hash.
    internal override void AppendCanonical(StringBuilder sb)
    {
        sb.Append("task(").Append(Id).Append('|').Append(Settings.Retry.Canonical()).Append('|').Append(Settings.Timeout?.Ticks);
        if (Compensation is not null) sb.Append("|undo:").Append(CompensationRetry.Canonical());
        sb.Append(')');
    }

    internal override FlowNode WithIdPrefix(string prefix) =>
        new TaskNode(Prefixed(prefix, Id), InputType, OutputType, Settings, ImplementationType, Invoker, Compensation);
}

/// <summary>A named branch of a fork or a route: a chain of nodes.</summary>
/// <param name="Name">The branch name (a route key for route branches).</param>
/// <param name="Steps">The chain of nodes; the last one's output is the branch output.</param>
internal sealed record FlowBranch(string Name, ImmutableArray<FlowNode> Steps)
{
    internal void AppendCanonical(StringBuilder sb)
    {
        sb.Append(Name).Append(':');
        foreach (var step in Steps) { step.AppendCanonical(sb); sb.Append(';'); }
    }

    internal FlowBranch WithIdPrefix(string prefix) => this with { Steps = Steps.Select(s => s.WithIdPrefix(prefix)).ToImmutableArray() };
}

/// <summary>Runs every branch concurrently on the same input, then an optional join task over the branch outputs.</summary>
internal sealed record ForkNode : FlowNode
{
    internal ForkNode(string id, ImmutableArray<FlowBranch> branches, TaskNode? join) : base(id)
    {
        Branches = branches;
        Join = join;
    }

    /// <inheritdoc />
    public override string Kind => "fork";

    /// <summary>The branches, in declaration order.</summary>
    public ImmutableArray<FlowBranch> Branches { get; }

    /// <summary>The join task, receiving <see cref="BranchResults"/>; without one the fork's output is the <see cref="BranchResults"/>.</summary>
    public TaskNode? Join { get; }

    internal override IEnumerable<FlowNode> Children =>
        Branches.SelectMany(b => b.Steps).Concat(Join is null ? [] : [Join]);

    internal override void AppendCanonical(StringBuilder sb)
    {
        sb.Append("fork(").Append(Id).Append('|');
        foreach (var b in Branches) { b.AppendCanonical(sb); sb.Append('/'); }
        sb.Append('|');
        Join?.AppendCanonical(sb);
        sb.Append(')');
    }

    internal override FlowNode WithIdPrefix(string prefix) =>
        new ForkNode(Prefixed(prefix, Id), Branches.Select(b => b.WithIdPrefix(prefix)).ToImmutableArray(), (TaskNode?)Join?.WithIdPrefix(prefix));
}

/// <summary>A key selector (run once, its key checkpointed) picks one named branch, or the default branch.</summary>
internal sealed record RouteNode : FlowNode
{
    internal RouteNode(string id, TaskNode selector, ImmutableArray<FlowBranch> branches, FlowBranch? defaultBranch, ImmutableArray<string> declaredKeys)
        : base(id)
    {
        Selector = selector;
        Branches = branches;
        Default = defaultBranch;
        DeclaredKeys = declaredKeys;
    }

    /// <inheritdoc />
    public override string Kind => "route";

    /// <summary>The key selector; its id is the route's id and its output (the key) is checkpointed.</summary>
    public TaskNode Selector { get; }

    /// <summary>The named branches.</summary>
    public ImmutableArray<FlowBranch> Branches { get; }

    /// <summary>The branch taken when no named branch matches, if any.</summary>
    public FlowBranch? Default { get; }

    /// <summary>The keys the selector can return, when declared (enum keys, or <c>Keys(...)</c>); empty when open.</summary>
    public ImmutableArray<string> DeclaredKeys { get; }

    internal override IEnumerable<FlowNode> Children =>
        Branches.SelectMany(b => b.Steps).Concat(Default?.Steps ?? []);

    internal override void AppendCanonical(StringBuilder sb)
    {
        sb.Append("route(").Append(Id).Append('|').Append(string.Join(",", DeclaredKeys)).Append('|');
        foreach (var b in Branches) { b.AppendCanonical(sb); sb.Append('/'); }
        sb.Append('|');
        Default?.AppendCanonical(sb);
        sb.Append(')');
    }

    internal override FlowNode WithIdPrefix(string prefix) =>
        new RouteNode(Prefixed(prefix, Id), (TaskNode)Selector.WithIdPrefix(prefix), Branches.Select(b => b.WithIdPrefix(prefix)).ToImmutableArray(),
            Default?.WithIdPrefix(prefix), DeclaredKeys);
}

/// <summary>Runs its body repeatedly: the body returns <see cref="LoopOutcome.Again{T}"/> to go round again or <see cref="LoopOutcome.Done{T}"/> to finish.</summary>
internal sealed record LoopNode : FlowNode
{
    internal LoopNode(string id, ImmutableArray<FlowNode> body, int maxIterations, LoopExhaustion onMaxIterations, Type valueType) : base(id)
    {
        Body = body;
        MaxIterations = maxIterations;
        OnMaxIterations = onMaxIterations;
        ValueType = valueType;
    }

    /// <inheritdoc />
    public override string Kind => "loop";

    /// <summary>The loop body; its last node returns a <see cref="LoopOutcome{T}"/>.</summary>
    public ImmutableArray<FlowNode> Body { get; }

    /// <summary>The iteration limit (at least 1).</summary>
    public int MaxIterations { get; }

    /// <summary>What happens at the limit.</summary>
    public LoopExhaustion OnMaxIterations { get; }

    /// <summary>The type carried between iterations and out of the loop.</summary>
    public Type ValueType { get; }

    internal override IEnumerable<FlowNode> Children => Body;

    internal override void AppendCanonical(StringBuilder sb)
    {
        sb.Append("loop(").Append(Id).Append('|').Append(MaxIterations).Append('|').Append(OnMaxIterations).Append('|');
        AppendCanonical(sb, Body);
        sb.Append(')');
    }

    internal override FlowNode WithIdPrefix(string prefix) =>
        new LoopNode(Prefixed(prefix, Id), Prefixed(prefix, Body), MaxIterations, OnMaxIterations, ValueType);
}

/// <summary>Passes its input through after a duration; the wake instant is stored as an absolute time.</summary>
internal sealed record DelayNode : FlowNode
{
    internal DelayNode(string id, TimeSpan duration) : base(id) => Duration = duration;

    /// <inheritdoc />
    public override string Kind => "delay";

    /// <summary>How long the run waits.</summary>
    public TimeSpan Duration { get; }

    internal override void AppendCanonical(StringBuilder sb) => sb.Append("delay(").Append(Id).Append('|').Append(Duration.Ticks).Append(')');

    internal override FlowNode WithIdPrefix(string prefix) => new DelayNode(Prefixed(prefix, Id), Duration);
}

/// <summary>Parks the run until a named signal arrives; its payload becomes the next input.</summary>
internal sealed record SignalNode : FlowNode
{
    internal SignalNode(string id, string signalName, Type payloadType, TimeSpan? timeout, bool hasDefault, object? defaultValue) : base(id)
    {
        SignalName = signalName;
        PayloadType = payloadType;
        Timeout = timeout;
        HasDefault = hasDefault;
        DefaultValue = defaultValue;
    }

    /// <inheritdoc />
    public override string Kind => "signal";

    /// <summary>The signal's name.</summary>
    public string SignalName { get; }

    /// <summary>The payload type.</summary>
    public Type PayloadType { get; }

    /// <summary>How long to wait; <see langword="null"/> to wait forever.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>Whether a timeout continues with <see cref="DefaultValue"/> instead of failing the run.</summary>
    public bool HasDefault { get; }

    /// <summary>The value used when the timeout elapses, if <see cref="HasDefault"/>.</summary>
    public object? DefaultValue { get; }

    internal override void AppendCanonical(StringBuilder sb) =>
        sb.Append("signal(").Append(Id).Append('|').Append(SignalName).Append('|').Append(Timeout?.Ticks).Append('|').Append(HasDefault).Append(')');

    internal override FlowNode WithIdPrefix(string prefix) =>
        new SignalNode(Prefixed(prefix, Id), SignalName, PayloadType, Timeout, HasDefault, DefaultValue);
}

/// <summary>Another workflow's definition composed inline; its tasks checkpoint like the parent's.</summary>
internal sealed record ChildFlowNode : FlowNode
{
    internal ChildFlowNode(string id, string workflowName, ImmutableArray<FlowNode> steps) : base(id)
    {
        WorkflowName = workflowName;
        Steps = steps;
    }

    /// <inheritdoc />
    public override string Kind => "child";

    /// <summary>The composed workflow's name.</summary>
    public string WorkflowName { get; }

    /// <summary>The composed workflow's nodes.</summary>
    public ImmutableArray<FlowNode> Steps { get; }

    internal override IEnumerable<FlowNode> Children => Steps;

    internal override void AppendCanonical(StringBuilder sb)
    {
        sb.Append("child(").Append(Id).Append('|').Append(WorkflowName).Append('|');
        AppendCanonical(sb, Steps);
        sb.Append(')');
    }

    internal override FlowNode WithIdPrefix(string prefix) => new ChildFlowNode(Prefixed(prefix, Id), WorkflowName, Prefixed(prefix, Steps));
}
