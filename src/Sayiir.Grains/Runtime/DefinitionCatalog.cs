using Microsoft.Extensions.Logging;
using Sayiir.Persistence;

namespace Sayiir.Runtime;

/// <summary>
/// At silo start-up: records the shape of every registered definition in the catalog (so a run on a version that is
/// later removed can still be checked and upgraded), then logs which definitions the active runs still need — a
/// warning for each one this silo does not register, so an operator sees at deployment that a version was removed
/// too early. Runs in the background: storage trouble delays the catalog, never the silo.
/// </summary>
internal sealed partial class DefinitionCatalog(WorkflowRegistry registry, IRunJournal journal, ILogger<DefinitionCatalog> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _work;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DefinitionCatalog), ServiceLifecycleStage.Active,
            _ =>
            {
                _work = Task.Run(() => RecordAndReportAsync(_stopping.Token), CancellationToken.None);
                return Task.CompletedTask;
            },
            async _ =>
            {
                await _stopping.CancelAsync();
                if (_work is not null) await _work.ContinueWith(static _ => { }, TaskScheduler.Default);
            });

    public void Dispose() => _stopping.Dispose();

    internal static DefinitionRecord RecordOf(WorkflowDefinition definition) =>
        new(definition.Hash, definition.Name, definition.Version, FlowShape.Of(definition).Serialize());

    private async Task RecordAndReportAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await journal.SaveDefinitionsAsync([.. registry.All.Select(RecordOf)], cancellationToken);
                Report(await journal.ActiveRunsByDefinitionAsync(null, cancellationToken));
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogCatalogFailed(logger, ex, attempt);
                // wall clock: a storage outage heals in real time
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt * 2, 30)), TimeProvider.System, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Report(IReadOnlyList<DefinitionUsage> usage)
    {
        foreach (var used in usage.OrderBy(u => u.WorkflowName, StringComparer.Ordinal).ThenBy(u => u.Version, WorkflowVersions.Order))
        {
            var version = WorkflowVersions.Display(used.Version);
            var hash = used.DefinitionHash ?? "(not listed yet)";
            if (used.DefinitionHash is null || registry.FindByHash(used.DefinitionHash) is not null)
                LogVersionInUse(logger, used.WorkflowName, version, hash, used.ActiveRuns);
            else
                LogVersionMissing(logger, used.WorkflowName, version, hash, used.ActiveRuns);
        }
    }

    [LoggerMessage(3037, LogLevel.Information, "Workflow {WorkflowName} {Version} ({DefinitionHash}) has {ActiveRuns} active run(s): keep it registered until it has none")]
    private static partial void LogVersionInUse(ILogger logger, string workflowName, string version, string definitionHash, long activeRuns);

    [LoggerMessage(3038, LogLevel.Warning, "Workflow {WorkflowName} {Version} ({DefinitionHash}) is not registered on this silo but {ActiveRuns} active run(s) need it: they stay blocked until it is registered again or they are upgraded (ISayiirClient.UpgradeAsync)")]
    private static partial void LogVersionMissing(ILogger logger, string workflowName, string version, string definitionHash, long activeRuns);

    [LoggerMessage(3039, LogLevel.Warning, "Recording the registered workflow definitions failed (try {Attempt}); retrying")]
    private static partial void LogCatalogFailed(ILogger logger, Exception exception, int attempt);
}
