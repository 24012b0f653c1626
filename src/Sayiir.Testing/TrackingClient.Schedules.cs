namespace Sayiir.Testing;

// Schedules pass through; a triggered run is tracked like a started one.
internal sealed partial class TrackingClient
{
    public Task<ScheduleInfo> CreateScheduleAsync(string scheduleId, ScheduleSpec spec, string workflowName, object? input,
        CancellationToken cancellationToken = default) =>
        inner.CreateScheduleAsync(scheduleId, spec, workflowName, input, cancellationToken);

    public Task<ScheduleInfo> UpdateScheduleAsync(string scheduleId, ScheduleSpec spec, CancellationToken cancellationToken = default) =>
        inner.UpdateScheduleAsync(scheduleId, spec, cancellationToken);

    public Task<ScheduleInfo> PauseScheduleAsync(string scheduleId, string? reason = null, CancellationToken cancellationToken = default) =>
        inner.PauseScheduleAsync(scheduleId, reason, cancellationToken);

    public Task<ScheduleInfo> ResumeScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        inner.ResumeScheduleAsync(scheduleId, cancellationToken);

    public Task DeleteScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        inner.DeleteScheduleAsync(scheduleId, cancellationToken);

    public async Task<WorkflowHandle> TriggerScheduleAsync(string scheduleId, CancellationToken cancellationToken = default)
    {
        var handle = await inner.TriggerScheduleAsync(scheduleId, cancellationToken).ConfigureAwait(false);
        _started.TryAdd(handle.InstanceId, 0);
        return new WorkflowHandle(this, handle.InstanceId, handle.StartStatus);
    }

    public Task<ScheduleInfo> GetScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        inner.GetScheduleAsync(scheduleId, cancellationToken);

    public Task<IReadOnlyList<ScheduleInfo>> ListSchedulesAsync(CancellationToken cancellationToken = default) =>
        inner.ListSchedulesAsync(cancellationToken);

    public Task<IReadOnlyList<DateTimeOffset>> GetScheduleFireTimesAsync(string scheduleId, int count, CancellationToken cancellationToken = default) =>
        inner.GetScheduleFireTimesAsync(scheduleId, count, cancellationToken);
}
