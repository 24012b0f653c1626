using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Sayiir.Hosting;
using Sayiir.Runtime;

namespace Sayiir.Persistence;

/// <summary>
/// The in-memory store of a single silo: grain states in a dictionary of this process, with the ETag rule of Orleans'
/// memory storage (a write or clear with a stale ETag throws <see cref="InconsistentStateException"/>). Orleans' memory
/// storage keeps states in storage grains, so every checkpoint is a grain call carrying a serialized copy; a silo that
/// is its own cluster has no one to share those grains with. A run's state is kept as the snapshot the run writer hands
/// over (it never changes it after the write) and copied on read; any other state is kept serialized, as Orleans'
/// memory storage keeps it. Like it, nothing survives the process.
/// </summary>
internal sealed class ProcessLocalGrainStorage(IGrainStorageSerializer serializer, IActivatorProvider activators) : IGrainStorage
{
    private readonly Dictionary<(string State, GrainId Grain), Entry> _entries = [];
    private long _versions;

    /// <summary>
    /// Whether this silo runs alone: the in-memory default's store is process-local when
    /// <see cref="SayiirOptions.ProcessLocalStore"/> says so, or (unset) when the silo uses localhost development
    /// clustering as its own primary (the default <c>UseLocalhostClustering()</c>). In-memory multi-silo clusters (test
    /// clusters, silos joining a primary) keep Orleans' memory storage, which they share.
    /// </summary>
    public static bool AppliesTo(IServiceProvider services)
    {
        if (services.GetRequiredService<IOptions<SayiirOptions>>().Value.ProcessLocalStore is { } chosen) return chosen;
        var primary = services.GetService<IOptions<DevelopmentClusterMembershipOptions>>()?.Value.PrimarySiloEndpoint;
        if (primary is null || services.GetService<IMembershipTable>() is null) return false;
        var endpoint = services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        var own = endpoint.AdvertisedIPAddress ?? IPAddress.Loopback;
        return primary.Port == endpoint.SiloPort && (primary.Address.Equals(own) || (IPAddress.IsLoopback(primary.Address) && IPAddress.IsLoopback(own)));
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Entry? entry;
        lock (_entries) _entries.TryGetValue((stateName, grainId), out entry);
        if (entry is null)
        {
            grainState.State = activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }
        grainState.State = entry.Run is { } run ? (T)(object)run.Snapshot() : serializer.Deserialize<T>(new BinaryData(entry.Bytes!));
        grainState.ETag = entry.ETag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Serialized outside the lock; a run's snapshot is kept as it is.
        var run = grainState.State as WorkflowRunState;
        var bytes = run is null ? serializer.Serialize(grainState.State).ToArray() : null;
        string etag;
        lock (_entries)
        {
            Check("WriteState", stateName, grainId, grainState.ETag);
            etag = NextETag();
            _entries[(stateName, grainId)] = new Entry(etag, run, bytes);
        }
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_entries)
        {
            Check("ClearState", stateName, grainId, grainState.ETag);
            _entries.Remove((stateName, grainId));
        }
        grainState.State = activators.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    // Under the lock: the caller's ETag must be the stored one (none for a state not stored).
    private void Check(string operation, string stateName, GrainId grainId, string? etag)
    {
        var stored = _entries.TryGetValue((stateName, grainId), out var entry) ? entry.ETag : null;
        if (!string.Equals(stored, string.IsNullOrEmpty(etag) ? null : etag, StringComparison.Ordinal))
        {
            throw new InconsistentStateException($"Version conflict ({operation}): state {stateName} of {grainId}: stored ETag {stored ?? "(none)"}, given {etag ?? "(none)"}.",
                stored ?? "", etag ?? "");
        }
    }

    private string NextETag() => (++_versions).ToString(CultureInfo.InvariantCulture);

    private sealed record Entry(string ETag, WorkflowRunState? Run, byte[]? Bytes);
}
