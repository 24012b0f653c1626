using Orleans.Concurrency;
using Sayiir.Persistence;
using Sayiir.Runtime;

namespace Sayiir.Observability;

[StatelessWorker, Reentrant]
internal sealed class RunQueryGrain(IRunJournal journal, WorkflowRegistry registry) : Grain, IRunQueryGrain
{
    public async Task<PurgeStep> PurgePageAsync(RunQuery query)
    {
        query.Validate();
        var page = await journal.ListAsync(query);
        var ended = page.Runs.Where(r => r.State is WorkflowState.Completed or WorkflowState.Failed or WorkflowState.Cancelled or WorkflowState.Compensated).Select(r => r.InstanceId);
        // An explicit purge reports a failing run to its caller.
        var purged = await RunPurgeGrain.PurgeRunsAsync(GrainFactory, [.. ended], endedBefore: null, onFailure: null);
        return new PurgeStep(purged, page.ContinuationToken);
    }

    public Task<WorkflowGraph> GraphAsync(string workflowName, string? version) =>
        Task.FromResult(WorkflowGraph.From(registry.Resolve(workflowName, version)));

    public async Task<List<WorkflowVersionInfo>> VersionsAsync(string? workflowName)
    {
        var usage = await journal.ActiveRunsByDefinitionAsync(workflowName);
        var versions = new Dictionary<string, WorkflowVersionInfo>(StringComparer.Ordinal);
        foreach (var definition in registry.All.Where(d => workflowName is null || d.Name == workflowName))
        {
            versions[definition.Hash] = new WorkflowVersionInfo
            {
                WorkflowName = definition.Name,
                Version = definition.Version,
                DefinitionHash = definition.Hash,
                IsRegistered = true,
                IsLatest = ReferenceEquals(registry.Find(definition.Name), definition),
            };
        }
        foreach (var used in usage)
        {
            // Runs stored before hashes were listed are counted under their version once their state is next written.
            var hash = used.DefinitionHash ?? "";
            versions[hash] = versions.TryGetValue(hash, out var known)
                ? known with { ActiveRuns = known.ActiveRuns + used.ActiveRuns }
                : new WorkflowVersionInfo { WorkflowName = used.WorkflowName, Version = used.Version, DefinitionHash = hash, ActiveRuns = used.ActiveRuns };
        }
        return [.. versions.Values
            .OrderBy(v => v.WorkflowName, StringComparer.Ordinal)
            .ThenBy(v => v.Version, WorkflowVersions.Order)
            .ThenBy(v => v.DefinitionHash, StringComparer.Ordinal)];
    }

    public Task<RunPage> ListAsync(RunQuery query)
    {
        query.Validate();
        return journal.ListAsync(query);
    }

    public Task<RunCounts> CountAsync(RunQuery query)
    {
        query.Validate();
        return journal.CountAsync(query);
    }

    public async Task<List<RunActivityBucket>> ActivityAsync(RunActivityQuery query)
    {
        query.Validate();
        return [.. await journal.ActivityAsync(query)];
    }
}
