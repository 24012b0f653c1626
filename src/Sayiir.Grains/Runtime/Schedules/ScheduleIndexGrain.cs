using Sayiir.Hosting;

namespace Sayiir.Runtime.Schedules;

/// <summary>
/// The durable list of schedule ids (one activation, key 0), so schedules can be listed and woken after a restart of the
/// whole cluster. It may hold an id whose schedule was never written (a create that failed half-way): readers skip it.
/// </summary>
[Alias("sayiir.IScheduleIndexGrain")]
internal interface IScheduleIndexGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task AddAsync(string scheduleId);

    [Alias("Remove")]
    Task RemoveAsync(string scheduleId);

    [Alias("List")]
    Task<List<string>> ListAsync();
}

[GenerateSerializer, Alias("sayiir.ScheduleIndex")]
internal sealed class ScheduleIndex
{
    [Id(0)] public List<string> Ids { get; set; } = [];
}

internal sealed class ScheduleIndexGrain(
    [PersistentState(ScheduleIndexGrain.StateName, SayiirOptions.StorageName)] IPersistentState<ScheduleIndex> store) : Grain, IScheduleIndexGrain
{
    internal const string StateName = "sayiir-schedules";

    public async Task AddAsync(string scheduleId)
    {
        var at = store.State.Ids.BinarySearch(scheduleId, StringComparer.Ordinal);
        if (at >= 0) return;
        store.State.Ids.Insert(~at, scheduleId);
        await store.WriteStateAsync();
    }

    public async Task RemoveAsync(string scheduleId)
    {
        var at = store.State.Ids.BinarySearch(scheduleId, StringComparer.Ordinal);
        if (at < 0) return;
        store.State.Ids.RemoveAt(at);
        await store.WriteStateAsync();
    }

    public Task<List<string>> ListAsync() => Task.FromResult(store.State.Ids.ToList());
}
