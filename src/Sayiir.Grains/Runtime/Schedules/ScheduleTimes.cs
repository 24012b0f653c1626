using System.Globalization;
using System.Text;
using Cronos;

namespace Sayiir.Runtime.Schedules;

/// <summary>
/// A validated <see cref="ScheduleSpec"/>: its ticks (cron in a time zone through Cronos, or an interval anchored at the
/// Unix epoch so every silo computes the same ticks), its jitter, and the instance ids of its runs.
/// </summary>
internal sealed class ScheduleTimes
{
    /// <summary>The longest schedule id: a run's id adds <c>@</c> and the tick (at most 29 characters) within 256.</summary>
    internal const int MaxIdLength = 200;

    private static readonly TimeSpan MaxJitter = TimeSpan.FromDays(1);

    private readonly CronExpression? _cron;
    private readonly TimeZoneInfo _zone;
    private readonly TimeSpan _every;

    private ScheduleTimes(string scheduleId, ScheduleSpec spec, CronExpression? cron, TimeZoneInfo zone)
    {
        ScheduleId = scheduleId;
        Spec = spec;
        _cron = cron;
        _zone = zone;
        _every = spec.Every ?? TimeSpan.Zero;
    }

    public string ScheduleId { get; }

    public ScheduleSpec Spec { get; }

    /// <summary>Checks the id and the spec; throws <see cref="InvalidScheduleException"/> naming the first problem.</summary>
    public static ScheduleTimes Parse(string scheduleId, ScheduleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        CheckId(scheduleId);
        if (spec.CatchUpLimit is < 1 or > ScheduleSpec.MaxCatchUpLimit)
            throw new InvalidScheduleException(scheduleId, string.Create(CultureInfo.InvariantCulture,
                $"CatchUpLimit {spec.CatchUpLimit} is not within 1 to {ScheduleSpec.MaxCatchUpLimit}."));
        if (spec.Jitter < TimeSpan.Zero || spec.Jitter > MaxJitter)
            throw new InvalidScheduleException(scheduleId, $"Jitter {spec.Jitter} is not within 0 to 1 day.");
        if (!Enum.IsDefined(spec.Overlap)) throw new InvalidScheduleException(scheduleId, $"Overlap policy {spec.Overlap} is not defined.");
        if (!Enum.IsDefined(spec.CatchUp)) throw new InvalidScheduleException(scheduleId, $"Catch-up policy {spec.CatchUp} is not defined.");
        if (spec.CronExpression is { } expression)
        {
            var zone = TimeZoneInfo.Utc;
            if (spec.TimeZone is { } zoneId && !TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out zone))
                throw new InvalidScheduleException(scheduleId, $"time zone '{zoneId}' is not known on this machine.");
            var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            if (fields is not (5 or 6))
                throw new InvalidScheduleException(scheduleId, string.Create(CultureInfo.InvariantCulture,
                    $"cron expression '{expression}' has {fields} field(s); expected 5 (minute hour day month weekday) or 6 (seconds first)."));
            CronExpression cron;
            try
            {
                cron = CronExpression.Parse(expression, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            }
            catch (Exception ex) when (ex is CronFormatException or MissingSeedException or ArgumentException)
            {
                throw new InvalidScheduleException(scheduleId, $"cron expression '{expression}' is invalid: {ex.Message}");
            }
            return new ScheduleTimes(scheduleId, spec, cron, zone!);
        }
        if (spec.Every is not { } every)
            throw new InvalidScheduleException(scheduleId, "the spec has neither a cron expression nor an interval (use ScheduleSpec.Cron or ScheduleSpec.Interval).");
        if (every < TimeSpan.FromSeconds(1))
            throw new InvalidScheduleException(scheduleId, $"interval {every} is shorter than one second.");
        if (every.Ticks % TimeSpan.TicksPerMillisecond != 0)
            throw new InvalidScheduleException(scheduleId, $"interval {every} is not a whole number of milliseconds.");
        if (spec.Jitter >= every)
            throw new InvalidScheduleException(scheduleId, $"Jitter {spec.Jitter} is not shorter than the interval {every}.");
        return new ScheduleTimes(scheduleId, spec, null, TimeZoneInfo.Utc);
    }

    /// <summary>Throws <see cref="InvalidScheduleException"/> when <paramref name="scheduleId"/> cannot be a schedule id.</summary>
    public static void CheckId(string scheduleId)
    {
        ArgumentNullException.ThrowIfNull(scheduleId);
        if (string.IsNullOrWhiteSpace(scheduleId)) throw new InvalidScheduleException(scheduleId, "the id is empty.");
        if (scheduleId.Length > MaxIdLength)
            throw new InvalidScheduleException(scheduleId, string.Create(CultureInfo.InvariantCulture, $"the id has {scheduleId.Length} characters; at most {MaxIdLength} are allowed."));
        if (scheduleId.Any(char.IsControl)) throw new InvalidScheduleException(scheduleId, "the id has control characters.");
    }

    /// <summary>The first tick strictly after <paramref name="after"/>, or null when the expression never ticks again.</summary>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        if (_cron is { } cron) return cron.GetNextOccurrence(after.ToUniversalTime(), _zone, inclusive: false)?.ToUniversalTime();
        // Floor division, so an instant before 1970 (or exactly on a tick) finds the tick strictly after it.
        var since = after.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var steps = since >= 0 ? since / _every.Ticks : -((-since + _every.Ticks - 1) / _every.Ticks);
        var next = DateTimeOffset.UnixEpoch.UtcTicks + (steps + 1) * _every.Ticks;
        return new DateTimeOffset(next, TimeSpan.Zero);
    }

    /// <summary>The next <paramref name="count"/> ticks after <paramref name="after"/>.</summary>
    public List<DateTimeOffset> NextTicks(DateTimeOffset after, int count)
    {
        var ticks = new List<DateTimeOffset>(count);
        var at = after;
        while (ticks.Count < count && Next(at) is { } next)
        {
            ticks.Add(next);
            at = next;
        }
        return ticks;
    }

    /// <summary>
    /// The ticks in (<paramref name="after"/>, <paramref name="upTo"/>], oldest first: at most <paramref name="limit"/>, the
    /// most recent ones; <paramref name="total"/> counts them all (up to a bound, for a report).
    /// </summary>
    public List<DateTimeOffset> TicksBetween(DateTimeOffset after, DateTimeOffset upTo, int limit, out long total)
    {
        total = 0;
        var newest = new List<DateTimeOffset>();
        if (upTo <= after) return newest;
        if (_cron is { } cron)
        {
            foreach (var tick in cron.GetOccurrencesDescending(upTo.ToUniversalTime(), after.ToUniversalTime(), _zone, fromInclusive: true, toInclusive: false))
            {
                total++;
                if (newest.Count < limit) newest.Add(tick.ToUniversalTime());
                else if (total > 100_000) break;
            }
        }
        else
        {
            var first = Next(after)!.Value;
            if (first > upTo) return newest;
            total = (upTo.UtcTicks - first.UtcTicks) / _every.Ticks + 1;
            var last = first.UtcTicks + (total - 1) * _every.Ticks;
            for (var i = 0; i < Math.Min(limit, total); i++) newest.Add(new DateTimeOffset(last - i * _every.Ticks, TimeSpan.Zero));
        }
        newest.Reverse();
        return newest;
    }

    /// <summary>How long after <paramref name="tick"/> its run starts: a stable pseudo-random share of the jitter.</summary>
    public TimeSpan JitterOf(DateTimeOffset tick)
    {
        if (Spec.Jitter <= TimeSpan.Zero) return TimeSpan.Zero;
        // FNV-1a over the schedule id and the tick: the same on every silo and after every restart.
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{ScheduleId}|{tick.UtcTicks}")))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        var millis = (long)(hash % (ulong)Math.Max(1, (long)Spec.Jitter.TotalMilliseconds));
        return TimeSpan.FromMilliseconds(millis);
    }

    /// <summary>The instance id of the run of <paramref name="tick"/>: <c>{scheduleId}@20261202T020000Z</c> (milliseconds only when not zero).</summary>
    public static string RunId(string scheduleId, DateTimeOffset tick) => $"{scheduleId}@{Stamp(tick)}";

    /// <summary>The instance id of a run triggered at <paramref name="now"/>.</summary>
    public static string ManualRunId(string scheduleId, DateTimeOffset now) => $"{scheduleId}@manual-{Stamp(now)}";

    private static string Stamp(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return utc.Millisecond == 0 && utc.Ticks % TimeSpan.TicksPerMillisecond == 0
            ? utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>The schedule id of a run a schedule started (by a tick or a trigger), or null for any other instance id.</summary>
    public static string? ScheduleIdOf(string instanceId)
    {
        var at = instanceId.LastIndexOf('@');
        if (at <= 0) return null;
        var stamp = instanceId.AsSpan(at + 1);
        if (stamp.StartsWith("manual-", StringComparison.Ordinal)) stamp = stamp["manual-".Length..];
        var ok = DateTime.TryParseExact(stamp, ["yyyyMMdd'T'HHmmss'Z'", "yyyyMMdd'T'HHmmss.fff'Z'"], CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out _);
        return ok ? instanceId[..at] : null;
    }
}
