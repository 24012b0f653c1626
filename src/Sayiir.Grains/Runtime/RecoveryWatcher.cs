using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sayiir.Hosting;
using Sayiir.Persistence;

namespace Sayiir.Runtime;

/// <summary>
/// Fast recovery. When the cluster declares a silo dead, the runs it hosted would otherwise wait for their recovery
/// reminder's next tick (up to a full period after the takeover). Instead one silo — the lowest-addressed active
/// one, so the work is not repeated — reads the active runs from the reminder table (every non-terminal run has a
/// recovery reminder) and wakes each one; a woken run activates on a live silo and continues from its checkpoint.
/// Runs that were never on the dead silo are already driving and ignore the call. The listing also finds the runs
/// that have no reminder yet (a run registers one only once it outlives <see cref="SayiirOptions.RecoveryReminderDelay"/>).
/// When a silo starts as the lowest-addressed active one (the first silo of a cluster started afresh, say), it wakes
/// the active runs the listing shows without a recovery reminder: after a whole-cluster restart nothing else would.
/// </summary>
internal sealed partial class RecoveryWatcher(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    IReminderTable reminders,
    IGrainFactory grains,
    IRunJournal journal,
    IOptions<SayiirOptions> options,
    ILogger<RecoveryWatcher> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _watching;

    public void Dispose() => _stopping.Dispose();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RecoveryWatcher), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken cancellationToken)
    {
        _watching = Task.Run(() => WatchAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task Stop(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_watching is not null) await _watching.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        ClusterMembershipSnapshot? previous = null;
        try
        {
            if (IsRecoveryLeader(membership.CurrentSnapshot)) await WakeRunsWithoutReminderAsync(cancellationToken);
            if (!options.Value.WakeRunsOnSiloDeath) return;
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                if (previous is not null)
                {
                    var died = snapshot.Members.Values
                        .Where(m => m.Status == SiloStatus.Dead && previous.GetSiloStatus(m.SiloAddress) is not (SiloStatus.Dead or SiloStatus.None))
                        .Select(m => m.SiloAddress)
                        .ToList();
                    if (died.Count > 0 && IsRecoveryLeader(snapshot)) await WakeActiveRunsAsync(died, cancellationToken);
                }
                previous = snapshot;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Silo stopping.
        }
        catch (Exception ex)
        {
            LogWatchFailed(logger, ex);
        }
    }

    private bool IsRecoveryLeader(ClusterMembershipSnapshot snapshot)
    {
        var leader = snapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress)
            .OrderBy(a => a.ToParsableString(), StringComparer.Ordinal)
            .FirstOrDefault();
        return leader is not null && leader.Equals(localSilo.SiloAddress);
    }

    private async Task WakeActiveRunsAsync(List<SiloAddress> died, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // The whole ring in two ranges: (0, max] and the wrap-around (max, 0].
        var rows = (await reminders.ReadRows(0, uint.MaxValue, cancellationToken)).Reminders.Concat((await reminders.ReadRows(uint.MaxValue, 0, cancellationToken)).Reminders)
            .Where(r => r.ReminderName == WorkflowGrain.ReminderName)
            .Select(r => r.GrainId.Key.ToString()!)
            .Concat(await ListedActiveRunsAsync(cancellationToken))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        LogWaking(logger, string.Join(", ", died), rows.Count);
        await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (grainId, ct) =>
        {
            for (var attempt = 1; attempt <= 5; attempt++)
            {
                try
                {
                    await grains.GetGrain<IWorkflowGrain>(grainId).WakeAsync().WaitAsync(ct);
                    return;
                }
                catch (Exception) when (attempt < 5 && !ct.IsCancellationRequested)
                {
                    // The dead silo's directory entries may still be settling.
                    await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), TimeProvider.System, ct); // wall clock: waits for the cluster, not for a run
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // Its reminder will still bring it back.
                    LogWakeFailed(logger, ex, grainId);
                }
            }
        });
        LogWoken(logger, rows.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Wakes the listed active runs that have no recovery reminder (those with one come back on its tick).</summary>
    private async Task WakeRunsWithoutReminderAsync(CancellationToken cancellationToken)
    {
        try
        {
            var listed = await ListedActiveRunsAsync(cancellationToken);
            if (listed.Count == 0) return;
            var reminded = (await reminders.ReadRows(0, uint.MaxValue, cancellationToken)).Reminders.Concat((await reminders.ReadRows(uint.MaxValue, 0, cancellationToken)).Reminders)
                .Where(r => r.ReminderName == WorkflowGrain.ReminderName)
                .Select(r => r.GrainId.Key.ToString()!)
                .ToHashSet(StringComparer.Ordinal);
            var orphans = listed.Where(id => !reminded.Contains(id)).Distinct(StringComparer.Ordinal).ToList();
            if (orphans.Count == 0) return;
            LogWakingAtStart(logger, orphans.Count);
            await Parallel.ForEachAsync(orphans, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (grainId, ct) =>
            {
                try
                {
                    await grains.GetGrain<IWorkflowGrain>(grainId).WakeAsync().WaitAsync(ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    LogWakeFailed(logger, ex, grainId);
                }
            });
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogListFailed(logger, ex);
        }
    }

    /// <summary>
    /// Active runs as the run listing sees them: a run whose reminder is not registered yet (its silo's reminder service
    /// was still starting) is found here.
    /// </summary>
    private async Task<List<string>> ListedActiveRunsAsync(CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        var query = new RunQuery { States = RunStateStorage.ActiveStates, PageSize = 1000 };
        try
        {
            for (var page = await journal.ListAsync(query, cancellationToken); ; page = await journal.ListAsync(query, cancellationToken))
            {
                ids.AddRange(page.Runs.Select(r => r.InstanceId));
                if (page.ContinuationToken is null) break;
                query = query with { ContinuationToken = page.ContinuationToken };
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogListFailed(logger, ex);
        }
        return ids;
    }

    [LoggerMessage(3141, LogLevel.Information, "Silo started first: waking {Count} active run(s) that have no recovery reminder yet")]
    private static partial void LogWakingAtStart(ILogger logger, int count);

    [LoggerMessage(3014, LogLevel.Warning, "Could not list active runs from storage; waking the runs that have a recovery reminder")]
    private static partial void LogListFailed(ILogger logger, Exception exception);

    [LoggerMessage(3010, LogLevel.Information, "Silo(s) {Silos} declared dead: waking {Count} active run(s)")]
    private static partial void LogWaking(ILogger logger, string silos, int count);

    [LoggerMessage(3011, LogLevel.Information, "Woke {Count} active run(s) in {Milliseconds:0} ms")]
    private static partial void LogWoken(ILogger logger, int count, double milliseconds);

    [LoggerMessage(3012, LogLevel.Warning, "Could not wake run {GrainId}; its recovery reminder will")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string grainId);

    [LoggerMessage(3013, LogLevel.Error, "The recovery watcher stopped; runs still recover through their reminders")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception);
}
