using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;

namespace Sayiir;

/// <summary>Entry point of the fluent workflow builder.</summary>
public static class Flow
{
    /// <summary>Starts a workflow definition whose input is <typeparamref name="TInput"/>.</summary>
    /// <param name="name">The workflow's name, unique among registered workflows.</param>
    /// <param name="version">
    /// An optional version label, part of the definition hash. Several versions of one name can be registered side by
    /// side; new runs start on the latest (see <see cref="WorkflowDefinition.Version"/> for how versions are ordered).
    /// </param>
    public static FlowBuilder<TInput, TInput> Create<TInput>(string name, string? version = null) =>
        new(name, version, [], []);

    /// <summary>Starts version <paramref name="version"/> of a workflow definition whose input is <typeparamref name="TInput"/>.</summary>
    /// <param name="name">The workflow's name.</param>
    /// <param name="version">The version number (0 or more), stored as its decimal text: <c>version: 2</c> is the label <c>"2"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="version"/> is negative.</exception>
    public static FlowBuilder<TInput, TInput> Create<TInput>(string name, int version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return new(name, version.ToString(System.Globalization.CultureInfo.InvariantCulture), [], []);
    }
}

/// <summary>
/// An immutable builder: every call returns a new builder with one more node, so partial chains can be shared.
/// Problems are collected and reported together by <see cref="Build"/>.
/// </summary>
/// <typeparam name="TInput">The workflow's input.</typeparam>
/// <typeparam name="TCurrent">The output of the chain so far, the next node's input.</typeparam>
public sealed class FlowBuilder<TInput, TCurrent>
{
    private readonly string _name;
    private readonly string? _version;
    private readonly ImmutableList<FlowNode> _steps;
    private readonly ImmutableList<string> _errors;

    internal FlowBuilder(string name, string? version, ImmutableList<FlowNode> steps, ImmutableList<string> errors)
    {
        _name = name;
        _version = version;
        _steps = steps;
        _errors = errors;
    }

    internal ImmutableList<FlowNode> Steps => _steps;

    internal ImmutableList<string> Errors => _errors;

    /// <summary>Appends a task with access to its <see cref="TaskContext"/>.</summary>
    public FlowBuilder<TInput, TOutput> Then<TOutput>(string id, Func<TCurrent, TaskContext, Task<TOutput>> run, Action<TaskOptions>? configure = null)
    {
        if (run is null) return Fail<TOutput>($"task '{id}': the delegate is null");
        return Append<TOutput>(NewTask<TCurrent, TOutput>(id, async (input, ctx) => await run((TCurrent)input!, ctx), null, configure));
    }

    /// <summary>Appends an asynchronous task.</summary>
    public FlowBuilder<TInput, TOutput> Then<TOutput>(string id, Func<TCurrent, Task<TOutput>> run, Action<TaskOptions>? configure = null)
    {
        if (run is null) return Fail<TOutput>($"task '{id}': the delegate is null");
        return Append<TOutput>(NewTask<TCurrent, TOutput>(id, async (input, _) => await run((TCurrent)input!), null, configure));
    }

    /// <summary>Appends a synchronous task.</summary>
    public FlowBuilder<TInput, TOutput> Then<TOutput>(string id, Func<TCurrent, TOutput> run, Action<TaskOptions>? configure = null)
    {
        if (run is null) return Fail<TOutput>($"task '{id}': the delegate is null");
        return Append<TOutput>(NewTask<TCurrent, TOutput>(id, (input, _) => Task.FromResult<object?>(run((TCurrent)input!)), null, configure));
    }

    /// <summary>
    /// Appends a compensable task with access to its <see cref="TaskContext"/>: should the run fail later (or be
    /// cancelled with compensation), <paramref name="compensate"/> undoes it, given the task's input and output.
    /// </summary>
    /// <param name="id">The task id.</param>
    /// <param name="run">The task.</param>
    /// <param name="compensate">
    /// Its undo step (a refund for a charge, a release for a reservation), run at most once per completed execution
    /// of the task, in reverse completion order with the other compensable tasks of the run; checkpointed and retried
    /// (<see cref="TaskOptions.CompensationRetry"/>) like a task. Its context's <see cref="TaskContext.IsCompensation"/>
    /// is true and its <see cref="TaskContext.IdempotencyKey"/> is the task's key with <c>/undo</c> appended.
    /// </param>
    /// <param name="configure">Retry, timeout and compensation options.</param>
    public FlowBuilder<TInput, TOutput> Then<TOutput>(string id, Func<TCurrent, TaskContext, Task<TOutput>> run,
        Func<TCurrent, TOutput, TaskContext, Task> compensate, Action<TaskOptions>? configure = null)
    {
        if (run is null) return Fail<TOutput>($"task '{id}': the delegate is null");
        if (compensate is null) return Fail<TOutput>($"task '{id}': the compensation delegate is null");
        return Append<TOutput>(NewTask<TCurrent, TOutput>(id, async (input, ctx) => await run((TCurrent)input!, ctx), null, configure,
            async (input, output, ctx) => await compensate((TCurrent)input!, (TOutput)output!, ctx)));
    }

    /// <summary>
    /// Appends a compensable asynchronous task: should the run fail later (or be cancelled with compensation),
    /// <paramref name="compensate"/> undoes it, given the task's input and output (see the overload with a
    /// <see cref="TaskContext"/> for the rules).
    /// </summary>
    public FlowBuilder<TInput, TOutput> Then<TOutput>(string id, Func<TCurrent, Task<TOutput>> run, Func<TCurrent, TOutput, Task> compensate,
        Action<TaskOptions>? configure = null)
    {
        if (run is null) return Fail<TOutput>($"task '{id}': the delegate is null");
        if (compensate is null) return Fail<TOutput>($"task '{id}': the compensation delegate is null");
        return Append<TOutput>(NewTask<TCurrent, TOutput>(id, async (input, _) => await run((TCurrent)input!), null, configure,
            async (input, output, _) => await compensate((TCurrent)input!, (TOutput)output!)));
    }

    /// <summary>
    /// Appends a task class resolved from dependency injection (one scope per attempt). A class that implements
    /// <see cref="ICompensableTask{TInput, TOutput}"/> is compensable: its <c>CompensateAsync</c> undoes it (resolved
    /// in a scope of its own) should the run fail later or be cancelled with compensation.
    /// </summary>
    /// <param name="id">The task id; default: the class name.</param>
    /// <param name="configure">Retry and timeout options.</param>
    public FlowBuilder<TInput, TOutput> Then<TTask, TOutput>(string? id = null, Action<TaskOptions>? configure = null)
        where TTask : class, IWorkflowTask<TCurrent, TOutput> =>
        Append<TOutput>(NewTask<TCurrent, TOutput>(id ?? typeof(TTask).Name, async (input, ctx) =>
        {
            var task = ActivatorUtilities.GetServiceOrCreateInstance<TTask>(ctx.Services);
            return await task.ExecuteAsync((TCurrent)input!, ctx);
        }, typeof(TTask), configure, typeof(ICompensableTask<TCurrent, TOutput>).IsAssignableFrom(typeof(TTask))
            ? async (input, output, ctx) =>
            {
                var task = (ICompensableTask<TCurrent, TOutput>)ActivatorUtilities.GetServiceOrCreateInstance<TTask>(ctx.Services);
                await task.CompensateAsync((TCurrent)input!, (TOutput)output!, ctx);
            }
            : null));

    /// <summary>Runs branches concurrently on the current value; finish with <c>Join</c> or <c>Collect</c>.</summary>
    public ForkBuilder<TInput, TCurrent> Fork(string id, Action<ForkBranches<TCurrent>> branches)
    {
        var collected = new ForkBranches<TCurrent>();
        var errors = _errors;
        if (branches is null) errors = errors.Add($"fork '{id}': the branches callback is null");
        else branches(collected);
        return new ForkBuilder<TInput, TCurrent>(WithErrors(errors), id, collected);
    }

    /// <summary>Picks one branch by the key <paramref name="keySelector"/> returns (run once; the key is checkpointed).</summary>
    public FlowBuilder<TInput, TOutput> Route<TOutput>(string id, Func<TCurrent, string> keySelector, Action<RouteBranches<TCurrent, TOutput>> branches)
    {
        if (keySelector is null) return Fail<TOutput>($"route '{id}': the key selector is null");
        return Route(id, keySelector, branches, []);
    }

    /// <summary>Picks one branch by an enum key: every branch must name a value of <typeparamref name="TKey"/>.</summary>
    public FlowBuilder<TInput, TOutput> Route<TKey, TOutput>(string id, Func<TCurrent, TKey> keySelector, Action<RouteBranches<TCurrent, TOutput>> branches)
        where TKey : struct, Enum
    {
        if (keySelector is null) return Fail<TOutput>($"route '{id}': the key selector is null");
        return Route(id, v => keySelector(v).ToString(), branches, [.. Enum.GetNames<TKey>()]);
    }

    private FlowBuilder<TInput, TOutput> Route<TOutput>(string id, Func<TCurrent, string> keySelector, Action<RouteBranches<TCurrent, TOutput>> branches,
        ImmutableArray<string> enumKeys)
    {
        var routes = new RouteBranches<TCurrent, TOutput>();
        if (branches is null) return Fail<TOutput>($"route '{id}': the branches callback is null");
        branches(routes);
        var selector = NewTask<TCurrent, string>(id, (input, _) => Task.FromResult<object?>(keySelector((TCurrent)input!)), null, null);
        var declared = enumKeys.IsEmpty ? routes.DeclaredKeys : enumKeys;
        var node = new RouteNode(id, selector, routes.Branches.ToImmutableArray(), routes.DefaultBranch, declared);
        return new FlowBuilder<TInput, TOutput>(_name, _version, _steps.Add(node), _errors.AddRange(routes.Errors));
    }

    /// <summary>
    /// Runs <paramref name="body"/> until it returns <see cref="LoopOutcome.Done{T}"/>, feeding each
    /// <see cref="LoopOutcome.Again{T}"/> value back in. The iteration number and the next input are checkpointed.
    /// </summary>
    /// <param name="id">The loop's id.</param>
    /// <param name="body">The body chain; its last task returns a <see cref="LoopOutcome{T}"/>.</param>
    /// <param name="maxIterations">The limit, at least 1. Default 10.</param>
    /// <param name="onMaxIterations">What happens at the limit. Default <see cref="LoopExhaustion.Fail"/>.</param>
    public FlowBuilder<TInput, TCurrent> Loop(string id, Func<FlowBuilder<TCurrent, TCurrent>, FlowBuilder<TCurrent, LoopOutcome<TCurrent>>> body,
        int maxIterations = 10, LoopExhaustion onMaxIterations = LoopExhaustion.Fail)
    {
        if (body is null) return Fail<TCurrent>($"loop '{id}': the body callback is null");
        var chain = body(new FlowBuilder<TCurrent, TCurrent>(id, null, [], []));
        var errors = _errors.AddRange(chain.Errors);
        if (chain.Steps.IsEmpty) errors = errors.Add($"loop '{id}': the body is empty");
        if (maxIterations < 1) errors = errors.Add($"loop '{id}': MaxIterations must be at least 1 (was {maxIterations})");
        var node = new LoopNode(id, chain.Steps.ToImmutableArray(), maxIterations, onMaxIterations, typeof(TCurrent));
        return new FlowBuilder<TInput, TCurrent>(_name, _version, _steps.Add(node), errors);
    }

    /// <summary>Waits <paramref name="duration"/>, then passes the current value on. The wake instant is stored, so a restart does not restart the wait.</summary>
    public FlowBuilder<TInput, TCurrent> Delay(string id, TimeSpan duration)
    {
        var errors = duration < TimeSpan.Zero ? _errors.Add($"delay '{id}': the duration must not be negative (was {duration})") : _errors;
        return new FlowBuilder<TInput, TCurrent>(_name, _version, _steps.Add(new DelayNode(id, duration)), errors);
    }

    /// <summary>Parks until the signal <paramref name="signalName"/> arrives; its payload becomes the next value.</summary>
    /// <param name="id">The node's id.</param>
    /// <param name="signalName">The signal's name.</param>
    /// <param name="timeout">How long to wait; on timeout the run fails with <see cref="SignalTimeoutException"/>. Null waits forever.</param>
    public FlowBuilder<TInput, TSignal> WaitForSignal<TSignal>(string id, string signalName, TimeSpan? timeout = null) =>
        AppendSignal<TSignal>(new SignalNode(id, signalName, typeof(TSignal), timeout, false, null));

    /// <summary>Parks until the signal arrives, or continues with <paramref name="defaultValue"/> after <paramref name="timeout"/>.</summary>
    public FlowBuilder<TInput, TSignal> WaitForSignal<TSignal>(string id, string signalName, TimeSpan timeout, TSignal defaultValue) =>
        AppendSignal<TSignal>(new SignalNode(id, signalName, typeof(TSignal), timeout, true, defaultValue));

    /// <summary>Composes another workflow inline; its tasks checkpoint like this one's.</summary>
    /// <param name="child">The workflow to compose.</param>
    /// <param name="idPrefix">Prefixes the child's node ids (as "prefix.id"), so one child can be composed more than once.</param>
    public FlowBuilder<TInput, TOutput> ThenFlow<TOutput>(WorkflowDefinition<TCurrent, TOutput> child, string? idPrefix = null)
    {
        if (child is null) return Fail<TOutput>("child flow: the definition is null");
        var steps = idPrefix is null ? child.Steps : child.Steps.Select(s => s.WithIdPrefix(idPrefix)).ToImmutableArray();
        var node = new ChildFlowNode(idPrefix ?? child.Name, child.Name, steps);
        return Append<TOutput>(node);
    }

    /// <summary>Validates the whole definition, reporting every problem at once, and freezes it.</summary>
    /// <exception cref="WorkflowValidationException">The definition is invalid.</exception>
    public WorkflowDefinition<TInput, TCurrent> Build()
    {
        var errors = new List<string>(_errors);
        if (string.IsNullOrWhiteSpace(_name)) errors.Insert(0, "the workflow name must not be empty");
        if (_steps.IsEmpty) errors.Add("the workflow has no steps");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in _steps.SelectMany(s => s.SelfAndDescendants()))
        {
            if (string.IsNullOrWhiteSpace(node.Id)) errors.Add($"a {node.Kind} node has an empty id");
            else if (!ids.Add(node.Id)) errors.Add($"duplicate id '{node.Id}' (every node id must be unique, nested ones included)");
            ValidateNode(node, errors);
        }
        if (errors.Count > 0) throw new WorkflowValidationException(_name ?? "", errors);
        return new WorkflowDefinition<TInput, TCurrent>(_name!, _version, _steps.ToImmutableArray());
    }

    private static void ValidateNode(FlowNode node, List<string> errors)
    {
        switch (node)
        {
            case TaskNode task:
                errors.AddRange(task.Settings.Retry.Validate(task.Id));
                if (task.Settings.Timeout is { } t && t <= TimeSpan.Zero) errors.Add($"task '{task.Id}': the timeout must be positive (was {t})");
                if (task.Settings.CompensationRetry is { } undoRetry)
                {
                    if (task.Compensation is null) errors.Add($"task '{task.Id}': a compensation retry policy is set, but the task has no compensation");
                    else errors.AddRange(undoRetry.Validate($"{task.Id} (compensation)"));
                }
                if (task.Settings.ConcurrencyKey is { } key && (string.IsNullOrWhiteSpace(key) || key.Length > 256))
                    errors.Add($"task '{task.Id}': the concurrency key must be non-empty and at most 256 characters (was '{key}')");
                if (task.Settings.Priority is < 1 or > 5) errors.Add($"task '{task.Id}': the priority must be within [1, 5] (was {task.Settings.Priority})");
                if (!Enum.IsDefined(task.Settings.Placement)) errors.Add($"task '{task.Id}': unknown placement {(int)task.Settings.Placement}");
                foreach (var tag in task.Settings.Tags.Where(t => string.IsNullOrWhiteSpace(t) || t.Length > 64))
                    errors.Add($"task '{task.Id}': a required tag must be non-empty and at most 64 characters (was '{tag}')");
                break;
            case ForkNode fork:
                if (fork.Branches.IsEmpty) errors.Add($"fork '{fork.Id}' has no branches");
                foreach (var b in fork.Branches.Where(b => b.Steps.IsEmpty)) errors.Add($"fork '{fork.Id}': branch '{b.Name}' is empty");
                foreach (var dup in fork.Branches.GroupBy(b => b.Name).Where(g => g.Count() > 1)) errors.Add($"fork '{fork.Id}': duplicate branch name '{dup.Key}'");
                break;
            case RouteNode route:
                if (route.Branches.IsEmpty && route.Default is null) errors.Add($"route '{route.Id}' has no branches");
                foreach (var b in route.Branches.Where(b => b.Steps.IsEmpty)) errors.Add($"route '{route.Id}': branch '{b.Name}' is empty");
                if (route.Default is { Steps.IsEmpty: true }) errors.Add($"route '{route.Id}': the default branch is empty");
                foreach (var dup in route.Branches.GroupBy(b => b.Name).Where(g => g.Count() > 1)) errors.Add($"route '{route.Id}': duplicate branch key '{dup.Key}'");
                if (!route.DeclaredKeys.IsEmpty)
                    foreach (var b in route.Branches.Where(b => !route.DeclaredKeys.Contains(b.Name)))
                        errors.Add($"route '{route.Id}': branch '{b.Name}' can never be chosen: its key is not one of the declared keys ({string.Join(", ", route.DeclaredKeys)})");
                break;
            case SignalNode signal:
                if (string.IsNullOrWhiteSpace(signal.SignalName)) errors.Add($"signal '{signal.Id}': the signal name must not be empty");
                if (signal.Timeout is { } st && st <= TimeSpan.Zero) errors.Add($"signal '{signal.Id}': the timeout must be positive (was {st})");
                break;
        }
    }

    private FlowBuilder<TInput, TOutput> Append<TOutput>(FlowNode node) => new(_name, _version, _steps.Add(node), _errors);

    private FlowBuilder<TInput, TSignal> AppendSignal<TSignal>(SignalNode node) => Append<TSignal>(node);

    private FlowBuilder<TInput, TOutput> Fail<TOutput>(string error) => new(_name, _version, _steps, _errors.Add(error));

    // Used by ForkBuilder to carry errors collected while its branch callbacks ran.
    private FlowBuilder<TInput, TCurrent> WithErrors(ImmutableList<string> errors) => new(_name, _version, _steps, errors);

    internal FlowBuilder<TInput, TOutput> WithNode<TOutput>(FlowNode node, IEnumerable<string> errors) =>
        new(_name, _version, _steps.Add(node), _errors.AddRange(errors));

    internal static TaskNode NewTask<TIn, TOut>(string id, TaskInvoker invoker, Type? implementationType, Action<TaskOptions>? configure,
        CompensationInvoker? compensation = null)
    {
        var options = new TaskOptions();
        configure?.Invoke(options);
        return new TaskNode(id, typeof(TIn), typeof(TOut), options.Freeze(), implementationType, invoker, compensation);
    }
}

/// <summary>Collects the branches of a fork.</summary>
/// <typeparam name="TCurrent">The value every branch receives.</typeparam>
public sealed class ForkBranches<TCurrent>
{
    // Created by the builder and handed to the Fork callback; users never create one.
    internal ForkBranches() { }

    internal List<FlowBranch> Branches { get; } = [];

    internal List<string> Errors { get; } = [];

    /// <summary>Adds a branch: a chain built from the fork's input.</summary>
    public ForkBranches<TCurrent> Branch<TOutput>(string name, Func<FlowBuilder<TCurrent, TCurrent>, FlowBuilder<TCurrent, TOutput>> chain)
    {
        if (chain is null) { Errors.Add($"branch '{name}': the chain callback is null"); return this; }
        var built = chain(new FlowBuilder<TCurrent, TCurrent>(name, null, [], []));
        Errors.AddRange(built.Errors);
        Branches.Add(new FlowBranch(name, built.Steps.ToImmutableArray()));
        return this;
    }
}

/// <summary>A fork waiting for its join.</summary>
public sealed class ForkBuilder<TInput, TCurrent>
{
    private readonly FlowBuilder<TInput, TCurrent> _before;
    private readonly string _id;
    private readonly ForkBranches<TCurrent> _branches;

    internal ForkBuilder(FlowBuilder<TInput, TCurrent> before, string id, ForkBranches<TCurrent> branches)
    {
        _before = before;
        _id = id;
        _branches = branches;
    }

    /// <summary>Joins the branch outputs with a task.</summary>
    public FlowBuilder<TInput, TOutput> Join<TOutput>(string id, Func<BranchResults, TaskContext, Task<TOutput>> join, Action<TaskOptions>? configure = null) =>
        Finish<TOutput>(join is null ? null : FlowBuilder<TInput, TCurrent>.NewTask<BranchResults, TOutput>(id, async (input, ctx) => await join((BranchResults)input!, ctx), null, configure), id);

    /// <summary>Joins the branch outputs with an asynchronous task.</summary>
    public FlowBuilder<TInput, TOutput> Join<TOutput>(string id, Func<BranchResults, Task<TOutput>> join, Action<TaskOptions>? configure = null) =>
        Finish<TOutput>(join is null ? null : FlowBuilder<TInput, TCurrent>.NewTask<BranchResults, TOutput>(id, async (input, _) => await join((BranchResults)input!), null, configure), id);

    /// <summary>Joins the branch outputs with a synchronous task.</summary>
    public FlowBuilder<TInput, TOutput> Join<TOutput>(string id, Func<BranchResults, TOutput> join, Action<TaskOptions>? configure = null) =>
        Finish<TOutput>(join is null ? null : FlowBuilder<TInput, TCurrent>.NewTask<BranchResults, TOutput>(id, (input, _) => Task.FromResult<object?>(join((BranchResults)input!)), null, configure), id);

    /// <summary>Ends the fork without a join: its output is the <see cref="BranchResults"/>.</summary>
    public FlowBuilder<TInput, BranchResults> Collect() =>
        _before.WithNode<BranchResults>(new ForkNode(_id, [.. _branches.Branches], null), _branches.Errors);

    private FlowBuilder<TInput, TOutput> Finish<TOutput>(TaskNode? join, string joinId)
    {
        var errors = join is null ? _branches.Errors.Append($"join '{joinId}': the delegate is null") : _branches.Errors;
        return _before.WithNode<TOutput>(new ForkNode(_id, [.. _branches.Branches], join), errors);
    }
}

/// <summary>Collects the branches of a route.</summary>
public sealed class RouteBranches<TCurrent, TOutput>
{
    // Created by the builder and handed to the Route callback; users never create one.
    internal RouteBranches() { }

    internal List<FlowBranch> Branches { get; } = [];

    internal FlowBranch? DefaultBranch { get; private set; }

    internal ImmutableArray<string> DeclaredKeys { get; private set; } = [];

    internal List<string> Errors { get; } = [];

    /// <summary>Declares every key the selector can return; a branch for any other key is a build error.</summary>
    public RouteBranches<TCurrent, TOutput> Keys(params string[] keys)
    {
        DeclaredKeys = [.. keys];
        return this;
    }

    /// <summary>Adds the branch taken for <paramref name="key"/>.</summary>
    public RouteBranches<TCurrent, TOutput> Branch(string key, Func<FlowBuilder<TCurrent, TCurrent>, FlowBuilder<TCurrent, TOutput>> chain)
    {
        if (chain is null) { Errors.Add($"route branch '{key}': the chain callback is null"); return this; }
        var built = chain(new FlowBuilder<TCurrent, TCurrent>(key, null, [], []));
        Errors.AddRange(built.Errors);
        Branches.Add(new FlowBranch(key, built.Steps.ToImmutableArray()));
        return this;
    }

    /// <summary>Adds the branch for an enum key.</summary>
    public RouteBranches<TCurrent, TOutput> Branch<TKey>(TKey key, Func<FlowBuilder<TCurrent, TCurrent>, FlowBuilder<TCurrent, TOutput>> chain)
        where TKey : struct, Enum => Branch(key.ToString(), chain);

    /// <summary>Sets the branch taken when no named branch matches the key.</summary>
    public RouteBranches<TCurrent, TOutput> Default(Func<FlowBuilder<TCurrent, TCurrent>, FlowBuilder<TCurrent, TOutput>> chain)
    {
        if (chain is null) { Errors.Add("route default branch: the chain callback is null"); return this; }
        if (DefaultBranch is not null) Errors.Add("route: more than one default branch");
        var built = chain(new FlowBuilder<TCurrent, TCurrent>("default", null, [], []));
        Errors.AddRange(built.Errors);
        DefaultBranch = new FlowBranch("(default)", built.Steps.ToImmutableArray());
        return this;
    }
}
