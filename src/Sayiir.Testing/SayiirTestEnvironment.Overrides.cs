using System.Collections.Immutable;

namespace Sayiir.Testing;

// Task overrides: a task (by id) replaced by a stub or a failure for one test, through a task filter on every silo,
// so the registered definition (and its hash) stays as it is.
public sealed partial class SayiirTestEnvironment
{
    private readonly WorkflowDefinition[] _workflows;
    private readonly TaskOverrides _overrides;

    /// <summary>
    /// Replaces the task <paramref name="taskId"/> with <paramref name="replacement"/> on every silo until the returned
    /// handle is disposed: attempts started meanwhile run the replacement instead of the task's code. The definition
    /// is not touched (runs keep its hash), and the task keeps its retry policy and timeout; the replacement's output
    /// is checkpointed, and shown in history, as the task's.
    /// </summary>
    /// <remarks>
    /// The override applies to the task of that id in every registered workflow, or only in
    /// <paramref name="workflowName"/>'s when given. A fork's join and a route's key selector (by the route's id) can
    /// be overridden too. The latest override of a task wins; disposing it restores the one before, or the task.
    /// An attempt already running when the override is added or removed is not affected.
    /// </remarks>
    /// <typeparam name="TInput">The task's input type (or a type it converts to by reference, such as <see cref="object"/>).</typeparam>
    /// <typeparam name="TOutput">The task's output type; a value of another type fails the attempt with a <see cref="PayloadSerializationException"/>.</typeparam>
    /// <param name="taskId">The task's id, as given to <c>Then</c> (nested ids included).</param>
    /// <param name="replacement">Runs instead of the task, with the task's input and the attempt's context.</param>
    /// <param name="workflowName">Only in this workflow; null for every registered workflow that has the task.</param>
    /// <returns>A handle that restores the task when disposed.</returns>
    /// <exception cref="ArgumentException">No registered workflow (or none named <paramref name="workflowName"/>) has a task with that id.</exception>
    public IDisposable OverrideTask<TInput, TOutput>(string taskId, Func<TInput, TaskContext, Task<TOutput>> replacement, string? workflowName = null)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        EnsureTaskExists(taskId, workflowName);
        return _overrides.Add(workflowName, taskId, async (input, context) =>
        {
            if (input is not TInput typed)
            {
                if (input is not null || default(TInput) is not null)
                {
                    throw new InvalidCastException(
                        $"The override of task '{context.TaskId}' takes {typeof(TInput).FullName}, but the task's input is {input?.GetType().FullName ?? "null"}.");
                }
                typed = default!;
            }
            return await replacement(typed, context).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// Makes every attempt of the task <paramref name="taskId"/> fail with the exception <paramref name="error"/>
    /// returns, on every silo, until the returned handle is disposed; the task's code does not run. The failure is the
    /// attempt's, as if the task had thrown it: the task's retry policy applies (by the exception's type), and a run
    /// whose retries run out fails with it (<see cref="WorkflowFailedException.Failure"/> names its type).
    /// </summary>
    /// <remarks>Scope, precedence and disposal are those of <see cref="OverrideTask{TInput, TOutput}(string, Func{TInput, TaskContext, Task{TOutput}}, string?)"/>.</remarks>
    /// <param name="taskId">The task's id.</param>
    /// <param name="error">Makes the exception of an attempt (given its context: the attempt number, for instance).</param>
    /// <param name="workflowName">Only in this workflow; null for every registered workflow that has the task.</param>
    /// <returns>A handle that restores the task when disposed.</returns>
    /// <exception cref="ArgumentException">No registered workflow (or none named <paramref name="workflowName"/>) has a task with that id.</exception>
    public IDisposable FailTask(string taskId, Func<TaskContext, Exception> error, string? workflowName = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        EnsureTaskExists(taskId, workflowName);
        return _overrides.Add(workflowName, taskId, (_, context) => throw (error(context) ??
            new InvalidOperationException($"The failure factory of task '{context.TaskId}' returned no exception.")));
    }

    private void EnsureTaskExists(string taskId, string? workflowName)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        var workflows = _workflows.Where(w => workflowName is null || string.Equals(w.Name, workflowName, StringComparison.Ordinal)).ToList();
        if (workflowName is not null && workflows.Count == 0)
        {
            throw new ArgumentException(
                $"No workflow named '{workflowName}' is registered in this environment, so its task '{taskId}' cannot be overridden.", nameof(workflowName));
        }
        var nodes = workflows.Select(w => w.Describe().FindNode(taskId)).OfType<FlowNodeDescription>().ToList();
        if (nodes.Exists(n => n.Kind is FlowNodeKind.Task or FlowNodeKind.Join or FlowNodeKind.Route)) return;
        throw new ArgumentException(
            nodes.Count > 0 ? $"'{taskId}' is a {nodes[0].Kind} node, not a task: only tasks, joins and route selectors can be overridden."
            : workflowName is null ? $"No registered workflow has a task '{taskId}': it cannot be overridden."
            : $"The workflow '{workflowName}' has no task '{taskId}': it cannot be overridden.",
            nameof(taskId));
    }
}

/// <summary>The task overrides in force, shared by every silo of an environment; the latest of a task wins.</summary>
internal sealed class TaskOverrides
{
    private readonly Lock _gate = new();
    private ImmutableList<Entry> _entries = [];

    public Func<object?, TaskContext, Task<object?>>? Find(string workflowName, string taskId)
    {
        var entries = Volatile.Read(ref _entries);
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var entry = entries[i];
            if (string.Equals(entry.TaskId, taskId, StringComparison.Ordinal)
                && (entry.WorkflowName is null || string.Equals(entry.WorkflowName, workflowName, StringComparison.Ordinal)))
            {
                return entry.Run;
            }
        }
        return null;
    }

    public IDisposable Add(string? workflowName, string taskId, Func<object?, TaskContext, Task<object?>> run)
    {
        var entry = new Entry(workflowName, taskId, run);
        lock (_gate) _entries = _entries.Add(entry);
        return new Removal(this, entry);
    }

    private void Remove(Entry entry)
    {
        lock (_gate) _entries = _entries.Remove(entry, ReferenceEqualityComparer.Instance);
    }

    private sealed class Entry(string? workflowName, string taskId, Func<object?, TaskContext, Task<object?>> run)
    {
        public string? WorkflowName { get; } = workflowName;
        public string TaskId { get; } = taskId;
        public Func<object?, TaskContext, Task<object?>> Run { get; } = run;
    }

    private sealed class Removal(TaskOverrides overrides, Entry entry) : IDisposable
    {
        public void Dispose() => overrides.Remove(entry);
    }
}

/// <summary>The environment's task filter: runs a task's override, when it has one, instead of the task.</summary>
internal sealed class TaskOverrideFilter(TaskOverrides overrides) : ITaskFilter
{
    public Task<object?> InvokeAsync(object? input, TaskContext context, TaskFilterNext invokeNext) =>
        // An override replaces the task, not its undo step.
        !context.IsCompensation && overrides.Find(context.WorkflowName, context.TaskId) is { } run ? run(input, context) : invokeNext(input, context);
}
