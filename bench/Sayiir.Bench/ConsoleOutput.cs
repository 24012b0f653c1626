using System.Diagnostics;
using System.Globalization;

namespace Sayiir.Bench;

/// <summary>Messages on stderr (the progress line is cleared first, so they stay readable).</summary>
internal static class Log
{
    public static readonly Lock Gate = new();

    public static void Info(string message)
    {
        lock (Gate)
        {
            Progress.ClearLine();
            Console.Error.WriteLine($"bench: {message}");
        }
    }
}

/// <summary>A live progress line on stderr, rewritten in place with a carriage return four times a second.</summary>
internal static class Progress
{
    private static string _label = "";
    private static int _total;
    private static int _done;
    private static long _started;
    private static Timer? _timer;
    private static int _lastLength;

    public static bool Enabled { get; set; } = true;

    public static void Begin(string label, int total)
    {
        End();
        _label = label;
        _total = total;
        Interlocked.Exchange(ref _done, 0);
        _started = Stopwatch.GetTimestamp();
        if (Enabled) _timer = new Timer(_ => Print(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    public static void Step() => Interlocked.Increment(ref _done);

    public static void End()
    {
        var timer = Interlocked.Exchange(ref _timer, null);
        if (timer is null) return;
        timer.Dispose();
        lock (Log.Gate) ClearLine();
    }

    /// <summary>Erases the progress line (call under <see cref="Log.Gate"/>).</summary>
    public static void ClearLine()
    {
        if (_lastLength == 0) return;
        Console.Error.Write("\r" + new string(' ', _lastLength) + "\r");
        _lastLength = 0;
    }

    private static void Print()
    {
        var done = Volatile.Read(ref _done);
        var elapsed = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var rate = elapsed > 0 ? done / elapsed : 0;
        var line = string.Create(CultureInfo.InvariantCulture, $"{_label}: {done}/{_total} ({rate:0}/s, {elapsed:0.0} s)");
        lock (Log.Gate)
        {
            if (_timer is null) return;
            var pad = _lastLength > line.Length ? new string(' ', _lastLength - line.Length) : "";
            Console.Error.Write("\r" + line + pad);
            _lastLength = line.Length;
        }
    }
}
