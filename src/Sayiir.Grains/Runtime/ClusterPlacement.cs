using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Sayiir.Hosting;

namespace Sayiir.Runtime;

[SiloPinnedPlacement]
[Reentrant]
internal sealed class AttemptHostGrain(AttemptExecutor executor, IOptions<SayiirOptions> options, ILocalSiloDetails localSilo) : Grain, IAttemptHostGrain
{
    // Placement pins the grain to the silo of its key; should it ever run elsewhere, it knows none of that silo's attempts.
    private bool IsHome => this.GetPrimaryKeyString() == localSilo.SiloAddress.ToParsableString();

    public Task<TaskAttemptResult> ExecuteAsync(TaskAttemptRequest request) =>
        IsHome ? executor.ExecuteAsync(request, retain: true) : Task.FromResult(TaskAttemptResult.Abandoned);

    public Task<TaskAttemptResult> AwaitAsync(Guid attemptId) =>
        IsHome ? executor.AwaitAsync(attemptId, retain: true) : Task.FromResult(TaskAttemptResult.Abandoned);

    public Task ForgetAsync(Guid attemptId)
    {
        executor.Running.Forget(attemptId);
        return Task.CompletedTask;
    }

    public Task AbandonAsync(Guid attemptId)
    {
        executor.Running.Abandon(attemptId);
        return Task.CompletedTask;
    }

    public Task<SiloProfile> DescribeAsync() =>
        Task.FromResult(new SiloProfile([.. options.Value.Tags], executor.Running.Capacity, executor.Running.Busy));
}

/// <summary>
/// Where a task attempt runs when it may leave its run's silo: the live silos (from membership), what each offers
/// (tags and capacity, asked once per silo) and how busy each is (reported with every attempt's answer, plus what this
/// silo sent since). The least loaded silo relative to its capacity wins; the local silo on a tie (no hop).
/// </summary>
internal sealed partial class ClusterPlacement(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    IGrainFactory grains,
    RunningAttempts running,
    IOptions<SayiirOptions> options,
    ILogger<ClusterPlacement> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private static readonly TimeSpan DescribeTimeout = TimeSpan.FromSeconds(5);

    // A silo that could not describe itself is left out for a while rather than asked (and waited for) at every choice.
    private static readonly TimeSpan DescribeBackoff = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<SiloAddress, Profile> _profiles = new();
    private readonly ConcurrentDictionary<SiloAddress, long> _describeFailed = new();
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _roundRobin;

    public SiloAddress LocalSilo => localSilo.SiloAddress;

    public void Dispose() => _stopping.Dispose();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ClusterPlacement), ServiceLifecycleStage.Active, ct =>
        {
            _ = Task.Run(() => WatchAsync(_stopping.Token), CancellationToken.None);
            return Task.CompletedTask;
        }, ct => _stopping.CancelAsync());

    public IAttemptHostGrain Host(SiloAddress silo) => grains.GetGrain<IAttemptHostGrain>(silo.ToParsableString());

    /// <summary>Completes on the next membership change (a silo joined, left or died).</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>
    /// The silo to run an attempt on: among the active silos declaring every tag, the least loaded for its capacity
    /// (the local silo when <paramref name="preferLocal"/> and it qualifies). Null when no live silo has the tags.
    /// </summary>
    public async Task<SiloAddress?> ChooseAsync(ImmutableArray<string> tags, bool preferLocal)
    {
        var candidates = new List<(SiloAddress Silo, Profile Profile)>();
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status != SiloStatus.Active) continue;
            var profile = await ProfileOfAsync(member.SiloAddress);
            if (profile is null || !tags.All(profile.Tags.Contains)) continue;
            candidates.Add((member.SiloAddress, profile));
        }
        if (candidates.Count == 0) return null;
        var local = candidates.FirstOrDefault(c => c.Silo.Equals(LocalSilo));
        // The local silo's load is known exactly.
        if (local.Profile is not null && running.Busy > Volatile.Read(ref local.Profile.Load)) Volatile.Write(ref local.Profile.Load, running.Busy);
        if (preferLocal && local.Profile is not null) return Reserve(local.Silo, local.Profile);
        // Ties go to the local silo, then round-robin, so equal silos share a burst evenly.
        var offset = (int)(Interlocked.Increment(ref _roundRobin) % candidates.Count);
        var best = candidates[offset];
        var bestLoad = best.Profile.Relative;
        for (var i = 0; i < candidates.Count; i++)
        {
            var c = candidates[(offset + i) % candidates.Count];
            var load = c.Profile.Relative;
            if (load < bestLoad || (load == bestLoad && c.Silo.Equals(LocalSilo)))
            {
                best = c;
                bestLoad = load;
            }
        }
        return Reserve(best.Silo, best.Profile);
    }

    private static SiloAddress Reserve(SiloAddress silo, Profile profile)
    {
        Interlocked.Increment(ref profile.Load);
        return silo;
    }

    /// <summary>An attempt sent to <paramref name="silo"/> answered (or was given up): its reported load replaces the estimate.</summary>
    public void Answered(SiloAddress silo, int? reportedLoad)
    {
        if (!_profiles.TryGetValue(silo, out var profile)) return;
        if (reportedLoad is { } load) Volatile.Write(ref profile.Load, load);
        else if (Interlocked.Decrement(ref profile.Load) < 0) Volatile.Write(ref profile.Load, 0);
    }

    /// <summary>Whether the cluster has given up on <paramref name="silo"/> (declared dead, or no longer listed).</summary>
    public async Task<bool> IsGoneAsync(SiloAddress silo)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo);
        if (status == SiloStatus.None)
        {
            // Unknown may only mean this silo's view is behind.
            await membership.Refresh();
            status = membership.CurrentSnapshot.GetSiloStatus(silo);
        }
        return status is SiloStatus.Dead or SiloStatus.None;
    }

    private async Task<Profile?> ProfileOfAsync(SiloAddress silo)
    {
        if (_profiles.TryGetValue(silo, out var known)) return known;
        if (silo.Equals(LocalSilo))
        {
            return _profiles.GetOrAdd(silo, _ => new Profile([.. options.Value.Tags], running.Capacity) { Load = running.Busy });
        }
        // wall clock: the back-off follows the cluster, not a run.
        if (_describeFailed.TryGetValue(silo, out var failedAt) && Stopwatch.GetElapsedTime(failedAt) < DescribeBackoff) return null;
        try
        {
            var described = await Host(silo).DescribeAsync().WaitAsync(DescribeTimeout, TimeProvider.System); // wall clock: a call deadline
            _describeFailed.TryRemove(silo, out _);
            return _profiles.GetOrAdd(silo, _ => new Profile([.. described.Tags], described.Capacity) { Load = described.Busy });
        }
        catch (Exception ex)
        {
            // Left out for the back-off, then asked again (a tagged silo that joins wakes waiting tasks anyway).
            _describeFailed[silo] = Stopwatch.GetTimestamp();
            LogDescribeFailed(logger, ex, silo.ToString());
            return null;
        }
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                foreach (var silo in _profiles.Keys)
                    if (snapshot.GetSiloStatus(silo) is SiloStatus.Dead or SiloStatus.None) _profiles.TryRemove(silo, out _);
                // A membership change is a reason to ask again at once.
                _describeFailed.Clear();
                Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
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

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(3120, LogLevel.Warning, "Could not ask silo {Silo} what it offers; it is left out of this placement")]
    private static partial void LogDescribeFailed(ILogger logger, Exception exception, string silo);

    [LoggerMessage(3121, LogLevel.Error, "The placement membership watcher stopped; tasks waiting for tagged silos re-check on their own")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception);

    private sealed class Profile(ImmutableHashSet<string> tags, int capacity)
    {
        public ImmutableHashSet<string> Tags { get; } = tags;

        public int Capacity { get; } = Math.Max(1, capacity);

        public int Load;

        public double Relative => (double)Volatile.Read(ref Load) / Capacity;
    }
}
