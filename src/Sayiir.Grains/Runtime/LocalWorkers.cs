namespace Sayiir.Runtime;

/// <summary>
/// The task-worker reference, resolved once per silo: resolving a grain reference looks up its interface type,
/// which showed up in profiles at several percent of a step's CPU when done per dispatch.
/// </summary>
internal sealed class LocalWorkers(IGrainFactory grains)
{
    private ITaskWorkerGrain? _worker;

    /// <summary>The [StatelessWorker] grain that runs tasks; its activations are local to the calling silo.</summary>
    public ITaskWorkerGrain Worker => _worker ??= grains.GetGrain<ITaskWorkerGrain>(0);
}
