using Microsoft.Extensions.Logging;
using Sayiir.Hosting;

namespace Sayiir.Runtime.Schedules;

/// <summary>A schedule declared in code with <see cref="SayiirSiloBuilder.AddSchedule{TInput, TOutput}"/>.</summary>
internal sealed record ScheduleDeclaration(string ScheduleId, ScheduleSpec Spec, WorkflowDefinition Workflow, object? Input);

/// <summary>
/// The silo side of schedules: at start-up it creates or updates the code-declared schedules and wakes every stored one
/// (so a cluster restarted after a while catches up at once, not at the first reminder tick); whenever a silo is declared
/// dead, the lowest-addressed active silo wakes them all again, so a schedule that lived there moves at once.
/// </summary>
internal sealed partial class ScheduleService(
    IEnumerable<ScheduleDeclaration> declarations,
    IGrainFactory grains,
    IPayloadCodec codec,
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    ILogger<ScheduleService> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _watching;

    public void Dispose() => _stopping.Dispose();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ScheduleService), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var declaration in declarations)
        {
            var input = codec.Encode(declaration.Input, declaration.Workflow.InputType, $"input of schedule '{declaration.ScheduleId}'");
            await grains.GetGrain<IScheduleGrain>(declaration.ScheduleId)
                .DeclareAsync(new ScheduleRequest { WorkflowName = declaration.Workflow.Name, Spec = declaration.Spec, Input = input })
                .WaitAsync(cancellationToken);
        }
        _watching = Task.Run(() => WatchAsync(_stopping.Token), CancellationToken.None);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_watching is not null) await _watching.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WakeAllAsync(cancellationToken);
            ClusterMembershipSnapshot? previous = null;
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                var died = previous is not null && snapshot.Members.Values.Any(m =>
                    m.Status == SiloStatus.Dead && previous.GetSiloStatus(m.SiloAddress) is not (SiloStatus.Dead or SiloStatus.None));
                if (died && IsLeader(snapshot)) await WakeAllAsync(cancellationToken);
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

    private bool IsLeader(ClusterMembershipSnapshot snapshot) =>
        snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress)
            .OrderBy(a => a.ToParsableString(), StringComparer.Ordinal).FirstOrDefault() is { } leader && leader.Equals(localSilo.SiloAddress);

    private async Task WakeAllAsync(CancellationToken cancellationToken)
    {
        List<string> ids;
        try
        {
            ids = await grains.GetGrain<IScheduleIndexGrain>(0).ListAsync().WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogWakeFailed(logger, ex, "(index)");
            return;
        }
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            for (var attempt = 1; attempt <= 5; attempt++)
            {
                try
                {
                    await grains.GetGrain<IScheduleGrain>(id).WakeAsync().WaitAsync(ct);
                    return;
                }
                catch (Exception) when (attempt < 5 && !ct.IsCancellationRequested)
                {
                    // The dead silo's directory entries may still be settling.
                    await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), TimeProvider.System, ct); // wall clock: waits for the cluster, not for a tick
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // Its reminder still wakes it.
                    LogWakeFailed(logger, ex, id);
                }
            }
        });
    }

    [LoggerMessage(3073, LogLevel.Warning, "Could not wake schedule {ScheduleId}; its reminder will")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string scheduleId);

    [LoggerMessage(3074, LogLevel.Error, "The schedule watcher stopped; schedules still move through their reminders")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception);
}

/// <summary>
/// Tells a schedule when one of its runs ended, so a tick it buffered (<see cref="ScheduleOverlapPolicy.BufferOne"/>)
/// starts at once. At most once, like every run observer: the schedule's reminder and its next tick look again.
/// </summary>
internal sealed class ScheduleRunObserver(IGrainFactory grains) : IRunObserver
{
    public Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken)
    {
        if (!IsEnded(change.State) || ScheduleTimes.ScheduleIdOf(change.InstanceId) is not { } scheduleId) return Task.CompletedTask;
        return grains.GetGrain<IScheduleGrain>(scheduleId).RunEndedAsync(change.InstanceId).WaitAsync(cancellationToken);
    }

    private static bool IsEnded(WorkflowState state) => state is WorkflowState.Completed or WorkflowState.Failed or WorkflowState.Cancelled or WorkflowState.Compensated;
}
