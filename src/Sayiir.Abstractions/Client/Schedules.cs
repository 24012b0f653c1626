using System.Globalization;

namespace Sayiir;

/// <summary>What a schedule does at a tick while the run it started before is still active.</summary>
public enum ScheduleOverlapPolicy
{
    /// <summary>Start nothing for this tick (default).</summary>
    Skip = 0,

    /// <summary>Start the tick's run anyway; runs of several ticks may be active at once.</summary>
    AllowAll = 1,

    /// <summary>
    /// Keep this tick and start its run as soon as the active one ends; while one tick is kept, later ticks that find a
    /// run still active are skipped.
    /// </summary>
    BufferOne = 2,

    /// <summary>Cancel the active run, then start the tick's run.</summary>
    CancelPrevious = 3,
}

/// <summary>What a schedule does with ticks it missed because it could not run then (the cluster was down, say).</summary>
public enum ScheduleCatchUpPolicy
{
    /// <summary>Start nothing for missed ticks; only a tick the schedule wakes for on time starts a run (default).</summary>
    Skip = 0,

    /// <summary>Start one run for the most recent missed tick.</summary>
    RunOnce = 1,

    /// <summary>Start a run for each missed tick, oldest first, at most <see cref="ScheduleSpec.CatchUpLimit"/> (the most recent ones).</summary>
    RunAll = 2,
}

/// <summary>Whether a schedule starts runs.</summary>
public enum ScheduleState
{
    /// <summary>Starts a run at each tick.</summary>
    Active = 0,

    /// <summary>Starts nothing until resumed; ticks that pass while paused are not caught up.</summary>
    Paused = 1,
}

/// <summary>
/// When a schedule ticks — a cron expression in a time zone, or a fixed interval — and what it does on overlaps, missed
/// ticks and jitter. Create one with <see cref="Cron"/> or <see cref="Interval"/> and adjust the policies with
/// <c>with { ... }</c>. The expression and the values are checked when the schedule is declared or created
/// (<see cref="InvalidScheduleException"/> naming the problem).
/// </summary>
/// <remarks>
/// A tick is an instant the expression names; each tick starts at most one run, whose instance id is the schedule id and
/// the tick's UTC instant (<c>nightly-report@20261202T020000Z</c>), so a start repeated after a crash joins the same run.
/// </remarks>
[GenerateSerializer, Alias("sayiir.ScheduleSpec"), Immutable]
public sealed record ScheduleSpec
{
    /// <summary>The most missed ticks <see cref="CatchUpLimit"/> may allow.</summary>
    public const int MaxCatchUpLimit = 1000;

    // Internal: specs come from Cron or Interval (the serializer uses it too).
    internal ScheduleSpec() { }

    /// <summary>
    /// Ticks at the instants a cron expression names, read in <paramref name="timeZone"/> (UTC when null): five fields
    /// (minute, hour, day of month, month, day of week) or six with seconds first, in the syntax of the Cronos library
    /// (<c>*/5</c>, ranges, lists, <c>L</c>, <c>W</c>, <c>#</c>, names). Across a daylight-saving change a local time
    /// that occurs twice ticks once, and one that does not occur ticks at the first instant after the gap.
    /// </summary>
    /// <exception cref="ArgumentException">The expression is empty.</exception>
    public static ScheduleSpec Cron(string expression, TimeZoneInfo? timeZone = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        return new ScheduleSpec { CronExpression = expression.Trim(), TimeZone = timeZone?.Id };
    }

    /// <summary>
    /// Ticks every <paramref name="every"/> (at least one second), at whole multiples of it since 1970-01-01T00:00Z, so
    /// every silo and every restart agree on the ticks: <c>Interval(TimeSpan.FromMinutes(15))</c> ticks at :00, :15,
    /// :30 and :45.
    /// </summary>
    public static ScheduleSpec Interval(TimeSpan every) => new() { Every = every };

    /// <summary>The cron expression; null for an interval schedule.</summary>
    [Id(0)] public string? CronExpression { get; internal init; }

    /// <summary>The time zone id the cron expression is read in (null: UTC).</summary>
    [Id(1)] public string? TimeZone { get; internal init; }

    /// <summary>The interval; null for a cron schedule.</summary>
    [Id(2)] public TimeSpan? Every { get; internal init; }

    /// <summary>What a tick does while the previous run is still active. Default <see cref="ScheduleOverlapPolicy.Skip"/>.</summary>
    [Id(3)] public ScheduleOverlapPolicy Overlap { get; init; } = ScheduleOverlapPolicy.Skip;

    /// <summary>What happens to ticks missed while the schedule could not run. Default <see cref="ScheduleCatchUpPolicy.Skip"/>.</summary>
    [Id(4)] public ScheduleCatchUpPolicy CatchUp { get; init; } = ScheduleCatchUpPolicy.Skip;

    /// <summary>
    /// With <see cref="ScheduleCatchUpPolicy.RunAll"/>: the most missed ticks started (the most recent ones); 1 to
    /// <see cref="MaxCatchUpLimit"/>, default 10.
    /// </summary>
    [Id(5)] public int CatchUpLimit { get; init; } = 10;

    /// <summary>
    /// Delays each tick's start by a pseudo-random amount below this (the same for a given schedule and tick, so a start
    /// repeated after a crash waits the same); the run keeps the tick's identity. Zero (default) to 1 day; for an interval
    /// schedule, less than the interval.
    /// </summary>
    [Id(6)] public TimeSpan Jitter { get; init; }

    /// <summary>A short description: <c>cron '0 2 * * *' in Europe/Paris</c> or <c>every 00:00:01</c>.</summary>
    public string Describe() => CronExpression is { } cron
        ? $"cron '{cron}' in {TimeZone ?? "UTC"}"
        : string.Create(CultureInfo.InvariantCulture, $"every {Every}");
}

/// <summary>A schedule as stored: its spec, workflow, state, and its last and next ticks.</summary>
[GenerateSerializer, Alias("sayiir.ScheduleInfo"), Immutable]
public sealed record ScheduleInfo
{
    /// <summary>The schedule's id.</summary>
    [Id(0)] public required string ScheduleId { get; init; }

    /// <summary>The workflow each tick starts (the latest registered version at the tick).</summary>
    [Id(1)] public required string WorkflowName { get; init; }

    /// <summary>When and how it ticks.</summary>
    [Id(2)] public required ScheduleSpec Spec { get; init; }

    /// <summary>Active or paused.</summary>
    [Id(3)] public ScheduleState State { get; init; }

    /// <summary>Why it was paused, when paused with a reason.</summary>
    [Id(4)] public string? PauseReason { get; init; }

    /// <summary>Whether it was declared in code (<c>AddSchedule</c>): then each silo start updates it to the declared spec.</summary>
    [Id(5)] public bool DeclaredInCode { get; init; }

    /// <summary>When it was created (engine clock).</summary>
    [Id(6)] public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When its spec, workflow or state last changed (engine clock).</summary>
    [Id(7)] public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The last tick that started a run (null: none yet).</summary>
    [Id(8)] public DateTimeOffset? LastTickAt { get; init; }

    /// <summary>The instance id of the last run it started (by a tick or a trigger).</summary>
    [Id(9)] public string? LastRunId { get; init; }

    /// <summary>The next tick it will handle; null while paused.</summary>
    [Id(10)] public DateTimeOffset? NextTickAt { get; init; }

    /// <summary>When the next tick's run is due to start: <see cref="NextTickAt"/> plus its jitter; null while paused.</summary>
    [Id(11)] public DateTimeOffset? NextStartAt { get; init; }

    /// <summary>
    /// With <see cref="ScheduleOverlapPolicy.BufferOne"/>: the tick kept until <see cref="LastRunId"/> ends, whose run
    /// starts then.
    /// </summary>
    [Id(12)] public DateTimeOffset? BufferedTickAt { get; init; }

    /// <summary>How many runs it has started (ticks and triggers).</summary>
    [Id(13)] public long RunsStarted { get; init; }
}
