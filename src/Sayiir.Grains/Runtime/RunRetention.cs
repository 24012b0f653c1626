using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sayiir.Hosting;
using Sayiir.Persistence;

namespace Sayiir.Runtime;

/// <summary>Removes ended runs past their retention. One activation in the cluster: concurrent calls queue and find nothing left.</summary>
[Alias("sayiir.IRunPurgeGrain")]
internal interface IRunPurgeGrain : IGrainWithIntegerKey
{
    // One bounded round of purging; true when more runs were due than it removed (call again).
    [Alias("PurgeDue")]
    Task<bool> PurgeDueAsync();
}

internal sealed partial class RunPurgeGrain(
    IRunJournal journal,
    IOptions<SayiirOptions> options,
    [FromKeyedServices(SayiirOptions.TimeProviderKey)] TimeProvider time,
    ILogger<RunPurgeGrain> logger) : Grain, IRunPurgeGrain
{
    private static readonly WorkflowState[] Completed = [WorkflowState.Completed];
    // A compensated run failed or was cancelled too (its steps were then undone).
    private static readonly WorkflowState[] FailedOrCancelled = [WorkflowState.Failed, WorkflowState.Cancelled, WorkflowState.Compensated];
    private static readonly WorkflowState[] NeverStarted = [WorkflowState.NotFound];

    // A round stays well inside Orleans' call timeout; whatever is left is purged by the next round.
    private const int MaxBatchesPerRound = 10;

    public async Task<bool> PurgeDueAsync()
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var batch = settings.PurgeBatchSize;
        var overridden = settings.RetentionByWorkflow.Keys.ToArray();
        var rules = new List<(string? Workflow, WorkflowState[] States, TimeSpan Keep)>();
        if (settings.RetainCompletedRuns is { } completed) rules.Add((null, Completed, completed));
        if (settings.RetainFailedRuns is { } failed) rules.Add((null, FailedOrCancelled, failed));
        // Signals sent to ids whose run never started: kept as long as failed runs (else completed ones).
        if ((settings.RetainFailedRuns ?? settings.RetainCompletedRuns) is { } orphans) rules.Add((null, NeverStarted, orphans));
        foreach (var (workflow, retention) in settings.RetentionByWorkflow)
        {
            if (retention.Completed is { } c) rules.Add((workflow, Completed, c));
            if (retention.FailedOrCancelled is { } f) rules.Add((workflow, FailedOrCancelled, f));
        }

        var purged = 0L;
        var batches = 0;
        foreach (var (workflow, states, keep) in rules)
        {
            var cutoff = now - keep;
            while (true)
            {
                if (batches++ >= MaxBatchesPerRound) return Report(purged, more: true);
                var due = await journal.ExpiredRunsAsync(workflow, overridden, states, cutoff, batch);
                var removed = await PurgeRunsAsync(GrainFactory, due, cutoff, (id, ex) => LogPurgeFailed(logger, ex, id));
                purged += removed;
                // A run that could not be removed now (its end still being saved) is tried again next round.
                if (due.Count < batch || removed == 0) break;
            }
        }
        return Report(purged, more: false);
    }

    private bool Report(long purged, bool more)
    {
        if (purged > 0) LogPurged(logger, purged, more);
        return more;
    }

    /// <summary>
    /// Purges the runs (each through its own grain), some at a time: each purge is a grain call and two deletes, and live
    /// runs share the silos and the database. A failing run is passed to <paramref name="onFailure"/> and counted as not
    /// purged; without it the failure propagates. Returns how many were removed.
    /// </summary>
    internal static async Task<long> PurgeRunsAsync(IGrainFactory grains, IReadOnlyList<string> ids, DateTimeOffset? endedBefore,
        Action<string, Exception>? onFailure)
    {
        var removed = 0L;
        foreach (var chunk in ids.Chunk(16))
        {
            var results = await Task.WhenAll(chunk.Select(async id =>
            {
                try
                {
                    return await grains.GetGrain<IWorkflowGrain>(id).PurgeAsync(endedBefore);
                }
                catch (Exception ex) when (onFailure is not null)
                {
                    onFailure(id, ex);
                    return false;
                }
            }));
            removed += results.Count(r => r);
        }
        return removed;
    }

    [LoggerMessage(3052, LogLevel.Information, "Retention purged {Count} ended run(s){More}")]
    private static partial void LogPurgedCore(ILogger logger, long count, string more);

    private static void LogPurged(ILogger logger, long count, bool more) => LogPurgedCore(logger, count, more ? "; more are due" : "");

    [LoggerMessage(3053, LogLevel.Warning, "Purging run {InstanceId} failed; it is tried again by the next round")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception, string instanceId);
}

/// <summary>
/// Runs the retention purge on a schedule when retention is configured: every silo asks the single purge grain every
/// <see cref="SayiirOptions.PurgeInterval"/> (so the purge goes on while any silo lives), and asks again at once while
/// a round reports more runs due.
/// </summary>
internal sealed partial class RunRetentionService(IGrainFactory grains, IOptions<SayiirOptions> options, ILogger<RunRetentionService> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public void Dispose() => _stopping.Dispose();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RunRetentionService), ServiceLifecycleStage.Active,
            _ =>
            {
                if (options.Value.HasRetention) _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
                return Task.CompletedTask;
            },
            async _ =>
            {
                await _stopping.CancelAsync();
                if (_loop is not null) await _loop.ContinueWith(static _ => { }, TaskScheduler.Default);
            });

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var purger = grains.GetGrain<IRunPurgeGrain>(0);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                while (await purger.PurgeDueAsync() && !cancellationToken.IsCancellationRequested)
                {
                    // Between rounds of a backlog: let live work through.
                    await Task.Yield();
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogRoundFailed(logger, ex);
            }
            try
            {
                // wall clock: how often to look, not engine time (the retention ages themselves are measured on the engine clock)
                await Task.Delay(options.Value.PurgeInterval, TimeProvider.System, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(3054, LogLevel.Warning, "A retention purge round failed; the next one is due after the purge interval")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
