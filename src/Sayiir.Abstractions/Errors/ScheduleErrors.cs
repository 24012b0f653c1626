namespace Sayiir;

/// <summary>No schedule with that id exists.</summary>
[GenerateSerializer, Alias("sayiir.ScheduleNotFoundException")]
public sealed class ScheduleNotFoundException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public ScheduleNotFoundException(string scheduleId) : base($"No schedule with id '{scheduleId}' exists.") => ScheduleId = scheduleId;

    /// <summary>The schedule id.</summary>
    [Id(0)] public string ScheduleId { get; }
}

/// <summary>A schedule with that id already exists (<c>CreateScheduleAsync</c>; use <c>UpdateScheduleAsync</c> to change it).</summary>
[GenerateSerializer, Alias("sayiir.ScheduleAlreadyExistsException")]
public sealed class ScheduleAlreadyExistsException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public ScheduleAlreadyExistsException(string scheduleId)
        : base($"A schedule with id '{scheduleId}' already exists. Change it with UpdateScheduleAsync, or delete it first.") => ScheduleId = scheduleId;

    /// <summary>The schedule id.</summary>
    [Id(0)] public string ScheduleId { get; }
}

/// <summary>
/// A schedule cannot be declared or created as given: its id, cron expression, time zone, interval, jitter or catch-up
/// limit is invalid (the message names the value and why). Nothing was written.
/// </summary>
[GenerateSerializer, Alias("sayiir.InvalidScheduleException")]
public sealed class InvalidScheduleException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public InvalidScheduleException(string scheduleId, string problem)
        : base($"Schedule '{scheduleId}' is invalid: {problem}")
    {
        ScheduleId = scheduleId;
        Problem = problem;
    }

    /// <summary>The schedule id.</summary>
    [Id(0)] public string ScheduleId { get; }

    /// <summary>What is wrong, naming the value.</summary>
    [Id(1)] public string Problem { get; }
}
