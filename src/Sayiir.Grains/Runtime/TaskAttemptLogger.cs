using System.Collections;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Sayiir.Runtime;

/// <summary>One line a task attempt wrote through <see cref="TaskContext.Logger"/>, carried back with its result.</summary>
[GenerateSerializer, Alias("sayiir.TaskLogLine"), Immutable]
internal sealed record TaskLogLine
{
    [Id(0)] public required DateTimeOffset At { get; init; }

    // A LogLevel, kept as its number on the wire.
    [Id(1)] public required int Level { get; init; }

    [Id(2)] public required string Message { get; init; }

    // "type: message" of the exception logged with the line, if any.
    [Id(3)] public string? Exception { get; init; }

    public string LevelName => ((LogLevel)Level).ToString();
}

/// <summary>The per-attempt bounds of the captured lines (from <see cref="Hosting.SayiirOptions"/>).</summary>
internal sealed record TaskLogLimits(int MaxLines, int MaxBytes, LogLevel MinimumLevel);

/// <summary>
/// <see cref="TaskContext.Logger"/>: forwards every line to the silo's logger for the task (inside a scope naming the
/// run, task and attempt) and keeps the lines of this attempt, up to the limits, until <see cref="Drain"/> seals them.
/// Tasks may log from several threads, so the capture is locked.
/// </summary>
internal sealed class TaskAttemptLogger(ILogger inner, TimeProvider time, TaskLogLimits limits, TaskLogScope scope) : ILogger
{
    // A cut line keeps at least this many bytes; below that it is dropped whole.
    private const int MinimumCut = 32;
    private const string Ellipsis = "…";

    private readonly Lock _gate = new();
    private readonly List<TaskLogLine> _lines = [];
    private int _bytes;
    private int _dropped;
    private bool _full;
    private bool _sealed;

    private bool Captures(LogLevel level) => level != LogLevel.None && level >= limits.MinimumLevel;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => Captures(logLevel) || inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (inner.IsEnabled(logLevel))
        {
            using (inner.BeginScope(scope)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
        if (!Captures(logLevel)) return;
        Capture(logLevel, formatter(state, exception) ?? "", exception is null ? null : $"{exception.GetType().FullName}: {exception.Message}");
    }

    private void Capture(LogLevel level, string message, string? error)
    {
        var at = time.GetUtcNow();
        lock (_gate)
        {
            if (_sealed) return;
            if (_full || _lines.Count >= limits.MaxLines)
            {
                _full = true;
                _dropped++;
                return;
            }
            var size = Encoding.UTF8.GetByteCount(message) + (error is null ? 0 : Encoding.UTF8.GetByteCount(error));
            var room = limits.MaxBytes - _bytes;
            if (size > room)
            {
                // The line that crosses the byte bound is cut to fit (its exception summary goes first), and it is the last one kept.
                _full = true;
                if (room < MinimumCut)
                {
                    _dropped++;
                    return;
                }
                message = Cut(message, room - Encoding.UTF8.GetByteCount(Ellipsis)) + Ellipsis;
                error = null;
                size = Encoding.UTF8.GetByteCount(message);
            }
            _bytes += size;
            _lines.Add(new TaskLogLine { At = at, Level = (int)level, Message = message, Exception = error });
        }
    }

    /// <summary>Takes the lines kept (plus a last line counting the dropped ones), or null when none; later lines are only forwarded.</summary>
    public TaskLogLine[]? Drain()
    {
        lock (_gate)
        {
            _sealed = true;
            if (_dropped > 0)
            {
                _lines.Add(new TaskLogLine
                {
                    At = time.GetUtcNow(),
                    Level = (int)LogLevel.Warning,
                    Message = string.Create(CultureInfo.InvariantCulture,
                        $"… {_dropped} more line(s) dropped (at most {limits.MaxLines} lines and {limits.MaxBytes} bytes are kept per attempt)"),
                });
                _dropped = 0;
            }
            if (_lines.Count == 0) return null;
            TaskLogLine[] lines = [.. _lines];
            _lines.Clear();
            return lines;
        }
    }

    // The longest prefix of whole characters within maxBytes of UTF-8.
    private static string Cut(string text, int maxBytes)
    {
        var used = 0;
        var builder = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            used += rune.Utf8SequenceLength;
            if (used > maxBytes) break;
            builder.Append(rune.ToString());
        }
        return builder.ToString();
    }
}

/// <summary>The logging scope of a task attempt's lines on the silo: structured values, and a readable text.</summary>
internal sealed class TaskLogScope(string workflowName, string instanceId, string taskId, int attempt) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _values =
    [
        new("SayiirWorkflow", workflowName),
        new("SayiirInstanceId", instanceId),
        new("SayiirTaskId", taskId),
        new("SayiirAttempt", attempt),
    ];

    public KeyValuePair<string, object?> this[int index] => _values[index];

    public int Count => _values.Length;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"run {instanceId} task {taskId} attempt {attempt}");
}
