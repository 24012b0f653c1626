using System.Collections.Frozen;

namespace Sayiir.Runtime;

/// <summary>The workflows registered on this process, by name. Every silo of a cluster must register the same set.</summary>
internal sealed class WorkflowRegistry
{
    private readonly FrozenDictionary<string, WorkflowDefinition> _workflows;

    public WorkflowRegistry(IEnumerable<WorkflowDefinition> workflows)
    {
        var byName = new Dictionary<string, WorkflowDefinition>(StringComparer.Ordinal);
        foreach (var workflow in workflows)
        {
            if (byName.TryGetValue(workflow.Name, out var existing) && !ReferenceEquals(existing, workflow) && existing.Hash != workflow.Hash)
                throw new WorkflowValidationException(workflow.Name,
                    [$"two different definitions are registered under this name (hashes {existing.Hash} and {workflow.Hash})"]);
            byName[workflow.Name] = workflow;
        }
        _workflows = byName.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IEnumerable<WorkflowDefinition> All => _workflows.Values;

    public WorkflowDefinition? Find(string name) => _workflows.GetValueOrDefault(name);

    public TaskNode? FindTask(string workflowName, string taskId)
    {
        var workflow = Find(workflowName);
        if (workflow is null) return null;
        if (workflow.NodesById.TryGetValue(taskId, out var node) && node is TaskNode task) return task;
        // A route's selector shares its route's id.
        return workflow.NodesById.TryGetValue(taskId, out node) && node is RouteNode route ? route.Selector : null;
    }
}

/// <summary>Collects registrations made through <c>AddSayiir</c> (possibly called several times).</summary>
internal sealed class WorkflowRegistration(WorkflowDefinition definition)
{
    public WorkflowDefinition Definition { get; } = definition;
}
