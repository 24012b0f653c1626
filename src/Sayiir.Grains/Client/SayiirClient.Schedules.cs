using Sayiir.Runtime.Schedules;

namespace Sayiir.Client;

// Schedules: each is one grain keyed by its id; the index grain lists them.
internal sealed partial class SayiirClient
{
    public async Task<ScheduleInfo> CreateScheduleAsync(string scheduleId, ScheduleSpec spec, string workflowName, object? input,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowName);
        // Checked here too, so a bad expression fails at the caller without a round trip.
        ScheduleTimes.Parse(scheduleId, spec);
        var payload = _codec.Encode(input, input?.GetType() ?? typeof(object), $"input of schedule '{scheduleId}'");
        return await Schedule(scheduleId).CreateAsync(new ScheduleRequest { WorkflowName = workflowName, Spec = spec, Input = payload })
            .WaitAsync(cancellationToken);
    }

    public Task<ScheduleInfo> UpdateScheduleAsync(string scheduleId, ScheduleSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ScheduleTimes.Parse(scheduleId, spec);
        return Schedule(scheduleId).UpdateAsync(spec).WaitAsync(cancellationToken);
    }

    public Task<ScheduleInfo> PauseScheduleAsync(string scheduleId, string? reason = null, CancellationToken cancellationToken = default) =>
        Schedule(scheduleId).PauseAsync(reason).WaitAsync(cancellationToken);

    public Task<ScheduleInfo> ResumeScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        Schedule(scheduleId).ResumeAsync().WaitAsync(cancellationToken);

    public Task DeleteScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        Schedule(scheduleId).DeleteAsync().WaitAsync(cancellationToken);

    public async Task<WorkflowHandle> TriggerScheduleAsync(string scheduleId, CancellationToken cancellationToken = default)
    {
        var runId = await Schedule(scheduleId).TriggerAsync().WaitAsync(cancellationToken);
        var status = await GetStatusAsync(runId, cancellationToken);
        return new WorkflowHandle(this, runId, status);
    }

    public async Task<ScheduleInfo> GetScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        await Schedule(scheduleId).GetAsync().WaitAsync(cancellationToken) ?? throw new ScheduleNotFoundException(scheduleId);

    public async Task<IReadOnlyList<ScheduleInfo>> ListSchedulesAsync(CancellationToken cancellationToken = default)
    {
        var ids = await _grains.GetGrain<IScheduleIndexGrain>(0).ListAsync().WaitAsync(cancellationToken);
        var schedules = await Task.WhenAll(ids.Select(id => _grains.GetGrain<IScheduleGrain>(id).GetAsync())).WaitAsync(cancellationToken);
        return [.. schedules.OfType<ScheduleInfo>()];
    }

    public async Task<IReadOnlyList<DateTimeOffset>> GetScheduleFireTimesAsync(string scheduleId, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 1000);
        return await Schedule(scheduleId).FireTimesAsync(count).WaitAsync(cancellationToken);
    }

    private IScheduleGrain Schedule(string scheduleId)
    {
        ScheduleTimes.CheckId(scheduleId);
        return _grains.GetGrain<IScheduleGrain>(scheduleId);
    }
}
