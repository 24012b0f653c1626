namespace Sayiir;

// Schedules: durable cron or interval schedules that start runs of a registered workflow (see ScheduleSpec).
public partial interface ISayiirClient
{
    /// <summary>
    /// Creates a schedule that starts a run of <paramref name="workflowName"/> (the latest registered version) with
    /// <paramref name="input"/> at each tick of <paramref name="spec"/>, from now on. It is stored durably with its last
    /// and next ticks and survives restarts of the whole cluster.
    /// </summary>
    /// <param name="scheduleId">The schedule's id (at most 200 characters, no control characters); its runs are <c>{scheduleId}@{tick}</c>.</param>
    /// <param name="spec">When it ticks and its policies.</param>
    /// <param name="workflowName">A workflow registered on the silos.</param>
    /// <param name="input">The input of every run.</param>
    /// <param name="cancellationToken">Stops the caller's wait.</param>
    /// <exception cref="InvalidScheduleException">The id, cron expression, time zone, interval, jitter or catch-up limit is invalid.</exception>
    /// <exception cref="WorkflowNotFoundException">No workflow of that name is registered on the silo.</exception>
    /// <exception cref="PayloadSerializationException">The input cannot be encoded, or does not decode as the workflow's input type.</exception>
    /// <exception cref="ScheduleAlreadyExistsException">A schedule with that id exists.</exception>
    Task<ScheduleInfo> CreateScheduleAsync(string scheduleId, ScheduleSpec spec, string workflowName, object? input,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes when a schedule ticks and its policies; its workflow, input and state stay. The new spec ticks from now on:
    /// neither ticks already handled nor the new spec's instants before now start runs.
    /// </summary>
    /// <exception cref="InvalidScheduleException">The spec is invalid.</exception>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    Task<ScheduleInfo> UpdateScheduleAsync(string scheduleId, ScheduleSpec spec, CancellationToken cancellationToken = default);

    /// <summary>Pauses a schedule: it starts nothing, and the ticks that pass until it is resumed are not caught up. Runs already started continue.</summary>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    Task<ScheduleInfo> PauseScheduleAsync(string scheduleId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused schedule from its next tick after now; no-op on an active schedule.</summary>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    Task<ScheduleInfo> ResumeScheduleAsync(string scheduleId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes a schedule; runs it started are untouched. A schedule declared in code (<c>AddSchedule</c>) is created again
    /// by the next silo start unless its declaration is removed.
    /// </summary>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    Task DeleteScheduleAsync(string scheduleId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a run of the schedule now, outside its ticks (also while paused, whatever the overlap policy), with instance
    /// id <c>{scheduleId}@manual-{now}</c>; it becomes the schedule's last run.
    /// </summary>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    /// <exception cref="WorkflowNotFoundException">The schedule's workflow is not registered on the silo.</exception>
    Task<WorkflowHandle> TriggerScheduleAsync(string scheduleId, CancellationToken cancellationToken = default);

    /// <summary>The schedule with its state, last tick and run, and next tick.</summary>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    Task<ScheduleInfo> GetScheduleAsync(string scheduleId, CancellationToken cancellationToken = default);

    /// <summary>Every schedule, by id.</summary>
    Task<IReadOnlyList<ScheduleInfo>> ListSchedulesAsync(CancellationToken cancellationToken = default);

    /// <summary>The schedule's next <paramref name="count"/> ticks after now (1 to 1000), whether or not it is paused.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not within 1 to 1000.</exception>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    Task<IReadOnlyList<DateTimeOffset>> GetScheduleFireTimesAsync(string scheduleId, int count, CancellationToken cancellationToken = default);
}
