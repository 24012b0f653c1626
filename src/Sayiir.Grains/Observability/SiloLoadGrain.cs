using Orleans.Concurrency;
using Sayiir.Runtime;

namespace Sayiir.Observability;

/// <summary>Answers one silo's figures for the cluster view. Keyed by the silo's parsable address, placed on that silo.</summary>
[Alias("sayiir.ISiloLoadGrain")]
internal interface ISiloLoadGrain : IGrainWithStringKey
{
    [AlwaysInterleave, Alias("GetLoad")]
    Task<SiloLoad> GetLoadAsync();
}

[GenerateSerializer, Alias("sayiir.SiloLoad"), Immutable]
internal sealed record SiloLoad([property: Id(0)] int ActiveRuns, [property: Id(1)] int AttemptsInFlight);

[SiloPinnedPlacement]
[Reentrant]
internal sealed class SiloLoadGrain(RunLeases leases, RunningAttempts attempts) : Grain, ISiloLoadGrain
{
    public Task<SiloLoad> GetLoadAsync() => Task.FromResult(new SiloLoad(leases.Count, attempts.Count));
}
