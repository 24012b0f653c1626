using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Sayiir.Hosting;

namespace Sayiir.Runtime.Schedules;

/// <summary>One schedule, keyed by its id: its spec, workflow and input, and which ticks it has handled.</summary>
[Alias("sayiir.IScheduleGrain")]
internal interface IScheduleGrain : IGrainWithStringKey
{
    // Throws ScheduleAlreadyExistsException when the id is taken.
    [Alias("Create")]
    Task<ScheduleInfo> CreateAsync(ScheduleRequest request);

    // A code-declared schedule at silo start: created when missing, updated when its spec, workflow or input changed.
    [Alias("Declare")]
    Task<ScheduleInfo> DeclareAsync(ScheduleRequest request);

    [Alias("Update")]
    Task<ScheduleInfo> UpdateAsync(ScheduleSpec spec);

    [Alias("Pause")]
    Task<ScheduleInfo> PauseAsync(string? reason);

    [Alias("Resume")]
    Task<ScheduleInfo> ResumeAsync();

    [Alias("Delete")]
    Task DeleteAsync();

    // Starts a run now; its instance id.
    [Alias("Trigger")]
    Task<string> TriggerAsync();

    // Null when there is no such schedule.
    [Alias("Get")]
    Task<ScheduleInfo?> GetAsync();

    [Alias("FireTimes")]
    Task<List<DateTimeOffset>> FireTimesAsync(int count);

    // Starts the runs of due ticks and arms the timer for the next one; no-op for a missing or paused schedule.
    [Alias("Wake")]
    Task WakeAsync();

    // A run ended: a tick buffered behind it (BufferOne) may start now.
    [Alias("RunEnded")]
    Task RunEndedAsync(string instanceId);
}

[GenerateSerializer, Alias("sayiir.ScheduleRequest"), Immutable]
internal sealed record ScheduleRequest
{
    [Id(0)] public required string WorkflowName { get; init; }

    [Id(1)] public required ScheduleSpec Spec { get; init; }

    [Id(2)] public required byte[] Input { get; init; }
}

/// <summary>
/// A schedule's stored state (state name <see cref="ScheduleGrain.StateName"/>). <see cref="Cursor"/> is the heart of
/// it: every tick at or before it has been handled — its run started (and only then recorded), or skipped by a policy —
/// and none after it has.
/// </summary>
[GenerateSerializer, Alias("sayiir.ScheduleRecord")]
internal sealed class ScheduleRecord
{
    [Id(0)] public bool Exists { get; set; }

    [Id(1)] public string WorkflowName { get; set; } = "";

    [Id(2)] public byte[] Input { get; set; } = [];

    [Id(3)] public string? Cron { get; set; }

    [Id(4)] public string? TimeZone { get; set; }

    [Id(5)] public TimeSpan? Every { get; set; }

    [Id(6)] public ScheduleOverlapPolicy Overlap { get; set; }

    [Id(7)] public ScheduleCatchUpPolicy CatchUp { get; set; }

    [Id(8)] public int CatchUpLimit { get; set; } = 10;

    [Id(9)] public TimeSpan Jitter { get; set; }

    [Id(10)] public bool Paused { get; set; }

    [Id(11)] public string? PauseReason { get; set; }

    [Id(12)] public bool DeclaredInCode { get; set; }

    [Id(13)] public DateTimeOffset CreatedAt { get; set; }

    [Id(14)] public DateTimeOffset UpdatedAt { get; set; }

    [Id(15)] public DateTimeOffset Cursor { get; set; }

    [Id(16)] public DateTimeOffset? LastTickAt { get; set; }

    [Id(17)] public string? LastRunId { get; set; }

    [Id(18)] public DateTimeOffset? BufferedTickAt { get; set; }

    [Id(19)] public long RunsStarted { get; set; }

    public ScheduleSpec Spec => new()
    {
        CronExpression = Cron,
        TimeZone = TimeZone,
        Every = Every,
        Overlap = Overlap,
        CatchUp = CatchUp,
        CatchUpLimit = CatchUpLimit,
        Jitter = Jitter,
    };

    public void SetSpec(ScheduleSpec spec)
    {
        Cron = spec.CronExpression;
        TimeZone = spec.TimeZone;
        Every = spec.Every;
        Overlap = spec.Overlap;
        CatchUp = spec.CatchUp;
        CatchUpLimit = spec.CatchUpLimit;
        Jitter = spec.Jitter;
    }
}

/// <summary>
/// Drives one schedule. Exactly one run per tick: the run's instance id is derived from the schedule id and the tick,
/// and it is started with <see cref="ConflictPolicy.UseExisting"/>, so a start repeated after a crash (or by a second
/// activation during a membership change) joins the run already started; the tick is recorded as handled only after
/// the start succeeded. Ticks are timed on the engine clock by a timer of this activation; the schedule's reminder
/// (every <see cref="SayiirOptions.RecoveryReminderPeriod"/>) brings it back on another silo when its silo dies, and
/// missed ticks are then handled by the catch-up policy.
/// </summary>
internal sealed partial class ScheduleGrain(
    [PersistentState(ScheduleGrain.StateName, SayiirOptions.StorageName)] IPersistentState<ScheduleRecord> store,
    WorkflowRegistry registry,
    IPayloadCodec codec,
    IOptions<SayiirOptions> options,
    [FromKeyedServices(SayiirOptions.TimeProviderKey)] TimeProvider time,
    ILogger<ScheduleGrain> logger) : Grain, IScheduleGrain, IRemindable
{
    /// <summary>The state name of a schedule's row.</summary>
    internal const string StateName = "sayiir-schedule";

    internal const string ReminderName = "sayiir-schedule";

    /// <summary>Run metadata naming the schedule that started the run.</summary>
    internal const string ScheduleMetadata = "sayiir.schedule";

    /// <summary>Run metadata: the tick the run is for (ISO 8601, UTC); absent for a triggered run.</summary>
    internal const string TickMetadata = "sayiir.tick";

    // A tick is late (missed, for the catch-up policy) once its start is this late, or later than the next tick.
    private static readonly TimeSpan MaxLateness = TimeSpan.FromMinutes(1);

    // wall clock: how long a start that failed for a reason that may pass waits before it is tried again.
    private static readonly TimeSpan FailedStartRetry = TimeSpan.FromSeconds(1);

    private ITimer? _timer;
    private bool _startFailed;
    private IScheduleGrain? _self;
    private ScheduleTimes? _times;

    private ScheduleRecord R => store.State;

    private string Id => this.GetPrimaryKeyString();

    private bool Exists => store.RecordExists && R.Exists;

    private ScheduleTimes Times => _times ??= ScheduleTimes.Parse(Id, R.Spec);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _self = this.AsReference<IScheduleGrain>();
        if (Exists && !R.Paused)
        {
            await RegisterReminderAsync();
            Arm();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        DisarmTimer();
        return Task.CompletedTask;
    }

    public async Task<ScheduleInfo> CreateAsync(ScheduleRequest request)
    {
        var times = Validate(request);
        if (Exists) throw new ScheduleAlreadyExistsException(Id);
        return await CreateCoreAsync(request, times, declaredInCode: false);
    }

    public async Task<ScheduleInfo> DeclareAsync(ScheduleRequest request)
    {
        // The spec only: the declaring silo registers the workflow and encoded the input itself, while this activation
        // may live on a silo of the previous deploy that does not have the workflow yet (a rolling deploy).
        ArgumentNullException.ThrowIfNull(request);
        var times = ScheduleTimes.Parse(Id, request.Spec);
        if (!Exists) return await CreateCoreAsync(request, times, declaredInCode: true);
        if (R.Spec == request.Spec && R.WorkflowName == request.WorkflowName && R.Input.AsSpan().SequenceEqual(request.Input) && R.DeclaredInCode)
            return Info();
        LogDeclaredUpdated(logger, Id, R.Spec.Describe(), request.Spec.Describe());
        R.WorkflowName = request.WorkflowName;
        R.Input = request.Input;
        R.DeclaredInCode = true;
        await ChangeSpecAsync(request.Spec, times);
        return Info();
    }

    public async Task<ScheduleInfo> UpdateAsync(ScheduleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var times = ScheduleTimes.Parse(Id, spec);
        EnsureExists();
        if (R.Spec != spec) await ChangeSpecAsync(spec, times);
        return Info();
    }

    public async Task<ScheduleInfo> PauseAsync(string? reason)
    {
        EnsureExists();
        if (R.Paused) return Info();
        R.Paused = true;
        R.PauseReason = reason;
        // A paused schedule starts nothing, a buffered tick included.
        R.BufferedTickAt = null;
        R.UpdatedAt = time.GetUtcNow();
        await WriteAsync();
        DisarmTimer();
        await UnregisterReminderAsync();
        LogPaused(logger, Id, reason);
        return Info();
    }

    public async Task<ScheduleInfo> ResumeAsync()
    {
        EnsureExists();
        if (!R.Paused) return Info();
        var now = time.GetUtcNow();
        R.Paused = false;
        R.PauseReason = null;
        // Ticks that passed while paused are not caught up.
        if (R.Cursor < now) R.Cursor = now;
        R.UpdatedAt = now;
        await WriteAsync();
        await RegisterReminderAsync();
        Arm();
        LogResumed(logger, Id);
        return Info();
    }

    public async Task DeleteAsync()
    {
        EnsureExists();
        DisarmTimer();
        await UnregisterReminderAsync();
        await store.ClearStateAsync();
        _times = null;
        await GrainFactory.GetGrain<IScheduleIndexGrain>(0).RemoveAsync(Id);
        LogDeleted(logger, Id);
        DeactivateOnIdle();
    }

    public async Task<string> TriggerAsync()
    {
        EnsureExists();
        var now = time.GetUtcNow();
        var runId = ScheduleTimes.ManualRunId(Id, now);
        await StartRunAsync(runId, tick: null);
        R.LastRunId = runId;
        R.RunsStarted++;
        await WriteAsync();
        return runId;
    }

    public Task<ScheduleInfo?> GetAsync() => Task.FromResult(Exists ? Info() : null);

    public Task<List<DateTimeOffset>> FireTimesAsync(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 1000);
        EnsureExists();
        var now = time.GetUtcNow();
        return Task.FromResult(Times.NextTicks(now > R.Cursor ? now : R.Cursor, count));
    }

    public async Task WakeAsync()
    {
        if (!Exists)
        {
            DeactivateOnIdle();
            return;
        }
        if (R.Paused) return;
        try
        {
            if (await StartBufferedIfFreeAsync()) await HandleDueTicksAsync();
        }
        finally
        {
            Arm();
        }
    }

    public async Task RunEndedAsync(string instanceId)
    {
        if (!Exists)
        {
            DeactivateOnIdle();
            return;
        }
        if (R.BufferedTickAt is not null && R.LastRunId == instanceId) await WakeAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return;
        if (!Exists || R.Paused)
        {
            await UnregisterReminderAsync();
            if (!Exists) DeactivateOnIdle();
            return;
        }
        await WakeAsync();
    }

    // ----- ticks ----------------------------------------------------------------------------------------------

    private async Task HandleDueTicksAsync()
    {
        var times = Times;
        var spec = R.Spec;
        var now = time.GetUtcNow();
        var ticks = times.TicksBetween(R.Cursor, now, spec.CatchUpLimit + 1, out var total);
        // A tick whose jittered start is still ahead waits for it (and so do later ones).
        var ready = ticks.FindIndex(t => t + times.JitterOf(t) > now);
        if (ready >= 0)
        {
            total -= ticks.Count - ready;
            ticks.RemoveRange(ready, ticks.Count - ready);
        }
        if (ticks.Count == 0) return;
        var newest = ticks[^1];
        var onTime = IsOnTime(times, newest, now);
        List<DateTimeOffset> fire = spec.CatchUp switch
        {
            ScheduleCatchUpPolicy.RunOnce => [newest],
            ScheduleCatchUpPolicy.RunAll => [.. ticks.TakeLast(spec.CatchUpLimit + (onTime ? 1 : 0))],
            _ => onTime ? [newest] : [],
        };
        var missed = total - (onTime ? 1 : 0);
        if (missed > 0)
        {
            var caughtUp = fire.Count - (onTime ? 1 : 0);
            LogMissedTicks(logger, Id, missed, spec.CatchUp, caughtUp);
        }
        foreach (var tick in fire)
        {
            // A start that failed for a reason that may pass: the tick stays due and the next wake tries again.
            if (!await HandleTickAsync(tick)) return;
        }
        if (R.Cursor < newest)
        {
            R.Cursor = newest;
            await WriteAsync();
        }
    }

    private static bool IsOnTime(ScheduleTimes times, DateTimeOffset tick, DateTimeOffset now)
    {
        var lateness = now - (tick + times.JitterOf(tick));
        var grace = MaxLateness;
        if (times.Next(tick) is { } next && next - tick < grace) grace = next - tick;
        return lateness < grace;
    }

    // Starts the tick's run as the overlap policy says; false when the start failed and may succeed later.
    private async Task<bool> HandleTickAsync(DateTimeOffset tick)
    {
        var runId = ScheduleTimes.RunId(Id, tick);
        if (R.Overlap == ScheduleOverlapPolicy.BufferOne && R.BufferedTickAt is not null)
        {
            // The buffered tick goes first (its run may have become free since this wake looked); while it still
            // waits, this tick is skipped.
            if (!await StartBufferedIfFreeAsync()) return false;
            if (R.BufferedTickAt is not null)
            {
                LogOverlapSkipped(logger, Id, tick, R.LastRunId ?? "");
                R.Cursor = tick;
                await WriteAsync();
                return true;
            }
        }
        if (R.Overlap != ScheduleOverlapPolicy.AllowAll && R.LastRunId is { } previous && previous != runId && await IsActiveAsync(previous))
        {
            switch (R.Overlap)
            {
                case ScheduleOverlapPolicy.Skip:
                    LogOverlapSkipped(logger, Id, tick, previous);
                    R.Cursor = tick;
                    await WriteAsync();
                    return true;
                case ScheduleOverlapPolicy.BufferOne:
                    if (R.BufferedTickAt is null) R.BufferedTickAt = tick;
                    else LogOverlapSkipped(logger, Id, tick, previous);
                    R.Cursor = tick;
                    await WriteAsync();
                    return true;
                case ScheduleOverlapPolicy.CancelPrevious:
                    try
                    {
                        await GrainFactory.GetGrain<IWorkflowGrain>(previous).CancelAsync($"superseded by the schedule's tick {tick:o}", $"schedule {Id}");
                    }
                    catch (InvalidRunStateException)
                    {
                        // It ended meanwhile.
                    }
                    break;
            }
        }
        return await StartTickAsync(tick, runId);
    }

    private async Task<bool> StartTickAsync(DateTimeOffset tick, string runId)
    {
        try
        {
            await StartRunAsync(runId, tick);
        }
        catch (Exception ex) when (IsPermanent(ex))
        {
            // Retrying cannot help (the workflow is not registered here, or the input no longer fits): the tick is
            // handled without a run, and the error is logged.
            LogStartRefused(logger, ex, Id, tick);
            R.Cursor = tick;
            await WriteAsync();
            return true;
        }
        catch (Exception ex)
        {
            LogStartFailed(logger, ex, Id, tick);
            _startFailed = true;
            return false;
        }
        R.LastTickAt = tick;
        R.LastRunId = runId;
        R.RunsStarted++;
        if (R.Cursor < tick) R.Cursor = tick;
        await WriteAsync();
        LogTickStarted(logger, Id, tick, runId);
        return true;
    }

    // Starts the buffered tick's run when the run it waits for has ended; false when that start failed and may succeed later.
    private async Task<bool> StartBufferedIfFreeAsync()
    {
        if (R.BufferedTickAt is not { } buffered) return true;
        if (R.LastRunId is { } previous && await IsActiveAsync(previous)) return true;
        var runId = ScheduleTimes.RunId(Id, buffered);
        if (!await StartTickAsync(buffered, runId)) return false;
        R.BufferedTickAt = null;
        await WriteAsync();
        return true;
    }

    private async Task StartRunAsync(string runId, DateTimeOffset? tick)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [ScheduleMetadata] = Id };
        if (tick is { } at) metadata[TickMetadata] = at.UtcDateTime.ToString("o", CultureInfo.InvariantCulture);
        await GrainFactory.GetGrain<IWorkflowGrain>(runId).StartAsync(new StartRequest
        {
            WorkflowName = R.WorkflowName,
            Input = R.Input,
            OnConflict = ConflictPolicy.UseExisting,
            Metadata = metadata,
        });
    }

    private async Task<bool> IsActiveAsync(string instanceId)
    {
        var status = await GrainFactory.GetGrain<IWorkflowGrain>(instanceId).GetStatusAsync();
        return status.State != WorkflowState.NotFound && !status.IsTerminal;
    }

    private static bool IsPermanent(Exception ex) =>
        ex is WorkflowNotFoundException or PayloadSerializationException or DefinitionMismatchException or InvalidInstanceIdException;

    // ----- timer and reminder ---------------------------------------------------------------------------------

    // Arms the engine-clock timer for the next tick's start; a start already due wakes the schedule at once.
    private void Arm()
    {
        DisarmTimer();
        if (!Exists || R.Paused || NextTick() is not { } tick) return;
        var wait = tick + Times.JitterOf(tick) - time.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            if (!_startFailed)
            {
                Wake();
                return;
            }
            // The tick is still due because its start just failed: try again shortly, not in a tight loop.
            _startFailed = false;
            _timer = TimeProvider.System.CreateTimer(static state => ((ScheduleGrain)state!).Wake(), this, FailedStartRetry, Timeout.InfiniteTimeSpan); // wall clock: a retry delay
            return;
        }
        // Timers take at most ~49 days; a longer wait goes round again (an early wake finds nothing due).
        if (wait > TimeSpan.FromDays(1)) wait = TimeSpan.FromDays(1);
        _timer = time.CreateTimer(static state => ((ScheduleGrain)state!).Wake(), this, wait, Timeout.InfiniteTimeSpan);
    }

    // Off the grain's scheduler (a timer callback): a call to itself, so the ticks are handled as one grain turn.
    private void Wake()
    {
        var id = Id;
        _ = _self!.WakeAsync().ContinueWith(t => LogWakeFailed(logger, t.Exception!, id),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private void DisarmTimer()
    {
        _timer?.Dispose();
        _timer = null;
    }

    private async Task RegisterReminderAsync()
    {
        var period = options.Value.RecoveryReminderPeriod;
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, period, period);
        }
        catch (Exception ex)
        {
            // The timer still ticks while this activation lives; the next activation registers it again.
            LogReminderFailed(logger, ex, Id);
        }
    }

    private async Task UnregisterReminderAsync()
    {
        try
        {
            if (await this.GetReminder(ReminderName) is { } reminder) await this.UnregisterReminder(reminder);
        }
        catch (Exception ex)
        {
            LogReminderFailed(logger, ex, Id);
        }
    }

    // ----- state ----------------------------------------------------------------------------------------------

    private ScheduleTimes Validate(ScheduleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var times = ScheduleTimes.Parse(Id, request.Spec);
        // Throws WorkflowNotFoundException or PayloadSerializationException: nothing is written then.
        var definition = registry.Resolve(request.WorkflowName, null);
        codec.Decode(request.Input, definition.InputType, $"input of workflow '{definition.Name}' for schedule '{Id}'");
        return times;
    }

    private async Task<ScheduleInfo> CreateCoreAsync(ScheduleRequest request, ScheduleTimes times, bool declaredInCode)
    {
        var now = time.GetUtcNow();
        // Listed first: an index entry whose schedule was never written is skipped by the listing, while a schedule
        // missing from the index would be invisible to it.
        await GrainFactory.GetGrain<IScheduleIndexGrain>(0).AddAsync(Id);
        store.State = new ScheduleRecord
        {
            Exists = true,
            WorkflowName = request.WorkflowName,
            Input = request.Input,
            DeclaredInCode = declaredInCode,
            CreatedAt = now,
            UpdatedAt = now,
            // Ticks up to now are not this schedule's.
            Cursor = now,
        };
        R.SetSpec(request.Spec);
        _times = times;
        await WriteAsync();
        await RegisterReminderAsync();
        Arm();
        LogCreated(logger, Id, request.Spec.Describe(), request.WorkflowName);
        return Info();
    }

    private async Task ChangeSpecAsync(ScheduleSpec spec, ScheduleTimes times)
    {
        var now = time.GetUtcNow();
        R.SetSpec(spec);
        R.UpdatedAt = now;
        // The new spec ticks from now on: its instants before the change are not due (nor missed).
        if (R.Cursor < now) R.Cursor = now;
        _times = times;
        await WriteAsync();
        Arm();
    }

    private void EnsureExists()
    {
        if (!Exists) throw new ScheduleNotFoundException(Id);
    }

    private async Task WriteAsync()
    {
        try
        {
            await store.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation of this schedule wrote meanwhile (a membership change): it is the one to go on.
            DisarmTimer();
            DeactivateOnIdle();
            throw;
        }
    }

    private DateTimeOffset? NextTick() => Times.Next(R.Cursor);

    private ScheduleInfo Info()
    {
        var next = R.Paused ? null : NextTick();
        return new ScheduleInfo
        {
            ScheduleId = Id,
            WorkflowName = R.WorkflowName,
            Spec = R.Spec,
            State = R.Paused ? ScheduleState.Paused : ScheduleState.Active,
            PauseReason = R.PauseReason,
            DeclaredInCode = R.DeclaredInCode,
            CreatedAt = R.CreatedAt,
            UpdatedAt = R.UpdatedAt,
            LastTickAt = R.LastTickAt,
            LastRunId = R.LastRunId,
            NextTickAt = next,
            NextStartAt = next is { } at ? at + Times.JitterOf(at) : null,
            BufferedTickAt = R.BufferedTickAt,
            RunsStarted = R.RunsStarted,
        };
    }

    [LoggerMessage(3061, LogLevel.Information, "Schedule {ScheduleId} created: {Spec}, workflow {Workflow}")]
    private static partial void LogCreated(ILogger logger, string scheduleId, string spec, string workflow);

    [LoggerMessage(3062, LogLevel.Information, "Code-declared schedule {ScheduleId} updated from {Old} to {New}")]
    private static partial void LogDeclaredUpdated(ILogger logger, string scheduleId, string old, string @new);

    [LoggerMessage(3063, LogLevel.Information, "Schedule {ScheduleId} started run {InstanceId} for its tick {Tick:o}")]
    private static partial void LogTickStarted(ILogger logger, string scheduleId, DateTimeOffset tick, string instanceId);

    [LoggerMessage(3064, LogLevel.Information, "Schedule {ScheduleId} skipped its tick {Tick:o}: run {Previous} is still active")]
    private static partial void LogOverlapSkipped(ILogger logger, string scheduleId, DateTimeOffset tick, string previous);

    [LoggerMessage(3065, LogLevel.Warning, "Schedule {ScheduleId} missed {Missed} tick(s); catch-up policy {Policy} starts {CaughtUp} of them")]
    private static partial void LogMissedTicks(ILogger logger, string scheduleId, long missed, ScheduleCatchUpPolicy policy, int caughtUp);

    [LoggerMessage(3066, LogLevel.Error, "Schedule {ScheduleId} could not start the run of its tick {Tick:o}; the tick is skipped")]
    private static partial void LogStartRefused(ILogger logger, Exception exception, string scheduleId, DateTimeOffset tick);

    [LoggerMessage(3067, LogLevel.Warning, "Schedule {ScheduleId} could not start the run of its tick {Tick:o} yet; it tries again at its next wake")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, string scheduleId, DateTimeOffset tick);

    [LoggerMessage(3068, LogLevel.Warning, "Schedule {ScheduleId}: its reminder could not be registered or removed")]
    private static partial void LogReminderFailed(ILogger logger, Exception exception, string scheduleId);

    [LoggerMessage(3069, LogLevel.Warning, "Schedule {ScheduleId}: a timer wake failed; its reminder wakes it again")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string scheduleId);

    [LoggerMessage(3070, LogLevel.Information, "Schedule {ScheduleId} paused ({Reason})")]
    private static partial void LogPaused(ILogger logger, string scheduleId, string? reason);

    [LoggerMessage(3071, LogLevel.Information, "Schedule {ScheduleId} resumed")]
    private static partial void LogResumed(ILogger logger, string scheduleId);

    [LoggerMessage(3072, LogLevel.Information, "Schedule {ScheduleId} deleted")]
    private static partial void LogDeleted(ILogger logger, string scheduleId);
}
