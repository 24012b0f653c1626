using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Sayiir.Runtime;

/// <summary>
/// Decides whether the activation recorded as a run's owner can still start or finish one of its tasks.
/// </summary>
/// <remarks>
/// Why a lease in the run's own row, and not Orleans' directory alone: the default grain directory is eventually
/// consistent. When a silo holding a directory partition dies, healthy activations registered there are deactivated
/// and a new activation may start elsewhere while the old one still runs a task. The row's ETag stops the old
/// activation's next write, but not the task it already started. So a new activation claims the run only once the
/// recorded owner is gone: released (it wrote the row without an owner), on a silo the cluster declared dead, or —
/// asked directly on its live silo — no longer there. The claim itself is an ETag-checked write, so two claimants
/// cannot both win. (The strongly consistent distributed directory was measured too: it removed the duplicates, but
/// recovery after a kill took 22–84 s.)
/// </remarks>
internal interface IRunOwnership
{
    /// <summary>The owner record of an activation of this silo.</summary>
    RunOwner Self(Guid activation, DateTimeOffset now);

    /// <summary>True while <paramref name="owner"/> may still start or finish a task of the run.</summary>
    Task<bool> IsHeldAsync(string instanceId, RunOwner owner, CancellationToken cancellationToken = default);

    /// <summary>Returns when <paramref name="owner"/> may have let go, or after <paramref name="max"/>.</summary>
    Task WaitAsync(string instanceId, RunOwner owner, TimeSpan max, CancellationToken cancellationToken = default);

    /// <summary>Marks a run as held by an activation of this silo.</summary>
    void Hold(string instanceId, Guid activation);

    /// <summary>Marks a run as no longer held by that activation.</summary>
    void Release(string instanceId, Guid activation);
}

/// <summary>The runs held by activations of this silo. A silo answers for its own activations (directly, or through the probe).</summary>
internal sealed class RunLeases
{
    private readonly ConcurrentDictionary<string, Held> _held = new(StringComparer.Ordinal);

    public int Count => _held.Count;

    public void Hold(string instanceId, Guid activation)
    {
        var held = new Held(activation);
        _held.AddOrUpdate(instanceId, held, (_, previous) =>
        {
            previous.Released.TrySetResult();
            return held;
        });
    }

    public void Release(string instanceId, Guid activation)
    {
        if (_held.TryGetValue(instanceId, out var held) && held.Activation == activation && _held.TryRemove(KeyValuePair.Create(instanceId, held)))
            held.Released.TrySetResult();
    }

    public bool IsHeld(string instanceId, Guid activation) => _held.TryGetValue(instanceId, out var held) && held.Activation == activation;

    public Task WhenReleased(string instanceId, Guid activation) =>
        _held.TryGetValue(instanceId, out var held) && held.Activation == activation ? held.Released.Task : Task.CompletedTask;

    private sealed class Held(Guid activation)
    {
        public Guid Activation { get; } = activation;

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Ownership judged by this silo's leases, the cluster's membership, and a probe of the owner's own silo.</summary>
internal sealed partial class SiloRunOwnership(
    RunLeases leases,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    IGrainFactory grains,
    ILogger<SiloRunOwnership> logger) : IRunOwnership
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    // Each poll re-reads the run's row: frequent enough to take over within a fraction of a second of the release,
    // rare enough that many runs waiting at once do not load the database.
    private static readonly TimeSpan RemotePoll = TimeSpan.FromMilliseconds(200);

    private string LocalSilo => localSilo.SiloAddress.ToParsableString();

    public RunOwner Self(Guid activation, DateTimeOffset now) => new() { Silo = LocalSilo, Activation = activation, Since = now };

    public void Hold(string instanceId, Guid activation) => leases.Hold(instanceId, activation);

    public void Release(string instanceId, Guid activation) => leases.Release(instanceId, activation);

    public async Task<bool> IsHeldAsync(string instanceId, RunOwner owner, CancellationToken cancellationToken = default)
    {
        if (owner.Silo == LocalSilo) return leases.IsHeld(instanceId, owner.Activation);
        SiloAddress silo;
        try
        {
            silo = SiloAddress.FromParsableString(owner.Silo);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            return false;
        }
        var status = membership.CurrentSnapshot.GetSiloStatus(silo);
        if (status == SiloStatus.None)
        {
            // Unknown here may only mean this silo's view is behind: refresh once before deciding.
            await membership.Refresh(cancellationToken: cancellationToken);
            status = membership.CurrentSnapshot.GetSiloStatus(silo);
        }
        // A silo declared dead kills itself on learning it; one the table no longer lists is long gone.
        if (status is SiloStatus.Dead or SiloStatus.None) return false;
        try
        {
            return await grains.GetGrain<IRunLeaseProbeGrain>(owner.Silo).IsHeldAsync(instanceId, owner.Activation).WaitAsync(ProbeTimeout, TimeProvider.System, cancellationToken); // wall clock: a call deadline
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Unreachable but not declared dead: assume it still holds the run; failure detection settles it.
            LogProbeFailed(logger, ex, instanceId, owner.Silo);
            return true;
        }
    }

    public async Task WaitAsync(string instanceId, RunOwner owner, TimeSpan max, CancellationToken cancellationToken = default)
    {
        // wall clock: ownership hand-over follows the cluster's real failure detection, whatever the engine's clock says.
        var wait = owner.Silo == LocalSilo ? leases.WhenReleased(instanceId, owner.Activation) : Task.Delay(RemotePoll < max ? RemotePoll : max, TimeProvider.System, cancellationToken);
        try
        {
            await wait.WaitAsync(max, TimeProvider.System, cancellationToken); // wall clock: as above
        }
        catch (TimeoutException)
        {
            // Asked again by the caller.
        }
    }

    [LoggerMessage(3030, LogLevel.Debug, "Run {InstanceId}: could not ask silo {Silo} whether it still drives the run; waiting")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception, string instanceId, string silo);
}

/// <summary>Asks one silo whether an activation of it still holds a run. Keyed by the silo's parsable address, placed on that silo.</summary>
[Alias("sayiir.IRunLeaseProbeGrain")]
internal interface IRunLeaseProbeGrain : IGrainWithStringKey
{
    [Orleans.Concurrency.AlwaysInterleave, Alias("IsHeld")]
    Task<bool> IsHeldAsync(string instanceId, Guid activation);
}

[SiloPinnedPlacement]
[Orleans.Concurrency.Reentrant]
internal sealed class RunLeaseProbeGrain(RunLeases leases) : Grain, IRunLeaseProbeGrain
{
    public Task<bool> IsHeldAsync(string instanceId, Guid activation) => Task.FromResult(leases.IsHeld(instanceId, activation));
}

/// <summary>Places a grain on the silo named by its string key.</summary>
[GenerateSerializer, Alias("sayiir.SiloPinnedPlacement"), Immutable]
internal sealed class SiloPinnedPlacementStrategy : PlacementStrategy
{
    public static SiloPinnedPlacementStrategy Instance { get; } = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacementStrategy.Instance);

internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silo = SiloAddress.FromParsableString(target.GrainIdentity.Key.ToString()!);
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new InvalidOperationException($"Silo {silo} is not an active member of the cluster.");
        return Task.FromResult(silo);
    }
}
