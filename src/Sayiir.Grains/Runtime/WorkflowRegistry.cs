using System.Collections.Frozen;

namespace Sayiir.Runtime;

/// <summary>
/// The workflows registered on this process: by name, every version side by side (the latest starts new runs), and by
/// definition hash (a run always continues on the exact definition it started with). Every silo of a cluster must
/// register the same set.
/// </summary>
internal sealed class WorkflowRegistry
{
    private readonly FrozenDictionary<string, WorkflowDefinition[]> _byName;
    private readonly FrozenDictionary<string, WorkflowDefinition> _byHash;

    public WorkflowRegistry(IEnumerable<WorkflowDefinition> workflows)
    {
        var byName = new Dictionary<string, List<WorkflowDefinition>>(StringComparer.Ordinal);
        var byHash = new Dictionary<string, WorkflowDefinition>(StringComparer.Ordinal);
        foreach (var workflow in workflows)
        {
            if (!byName.TryGetValue(workflow.Name, out var versions)) byName[workflow.Name] = versions = [];
            var sameVersion = versions.FirstOrDefault(v => v.Version == workflow.Version);
            if (sameVersion is not null)
            {
                if (sameVersion.Hash != workflow.Hash)
                    throw new WorkflowValidationException(workflow.Name,
                        [$"two different definitions are registered as {WorkflowVersions.Display(workflow.Version)} of this name (hashes {sameVersion.Hash} and {workflow.Hash}); give the new one another version"]);
                continue;
            }
            versions.Add(workflow);
            byHash[workflow.Hash] = workflow;
        }
        _byName = byName.ToFrozenDictionary(p => p.Key, p => p.Value.OrderBy(v => v.Version, WorkflowVersions.Order).ToArray(), StringComparer.Ordinal);
        _byHash = byHash.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every registered definition, every version.</summary>
    public IEnumerable<WorkflowDefinition> All => _byName.Values.SelectMany(v => v);

    /// <summary>The latest registered version of the workflow, or null.</summary>
    public WorkflowDefinition? Find(string name) => _byName.TryGetValue(name, out var versions) ? versions[^1] : null;

    /// <summary>The registered definition of that name and version (null version: the unversioned one), or null.</summary>
    public WorkflowDefinition? Find(string name, string? version) =>
        _byName.TryGetValue(name, out var versions) ? versions.FirstOrDefault(v => v.Version == version) : null;

    /// <summary>
    /// The registered definition of <paramref name="name"/> in <paramref name="version"/> (null: the latest version).
    /// </summary>
    /// <exception cref="WorkflowNotFoundException">No version of the workflow, or not that version, is registered.</exception>
    public WorkflowDefinition Resolve(string name, string? version)
    {
        var versions = Versions(name);
        if (versions.Count == 0) throw new WorkflowNotFoundException(name);
        if (version is null) return versions[^1];
        return versions.FirstOrDefault(v => v.Version == version)
            ?? throw new WorkflowNotFoundException(name, version, [.. versions.Select(v => v.Version)]);
    }

    /// <summary>The registered versions of the workflow, oldest first (empty when none).</summary>
    public IReadOnlyList<WorkflowDefinition> Versions(string name) => _byName.TryGetValue(name, out var versions) ? versions : [];

    /// <summary>The registered definition with that hash, or null.</summary>
    public WorkflowDefinition? FindByHash(string? hash) => hash is not null ? _byHash.GetValueOrDefault(hash) : null;

    /// <summary>
    /// The task <paramref name="taskId"/> of the definition a run runs on: by its hash, or (attempts sent by a silo of an
    /// earlier version, which did not name the hash) the latest version of the workflow.
    /// </summary>
    public TaskNode? FindTask(string workflowName, string? definitionHash, string taskId)
    {
        var workflow = definitionHash is not null ? FindByHash(definitionHash) : Find(workflowName);
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
