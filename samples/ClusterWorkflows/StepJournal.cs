using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sayiir.Samples.ClusterWorkflows;

/// <summary>What a journal line records.</summary>
internal enum StepEvent
{
    Start,
    End,
}

/// <summary>
/// Records when each step attempt starts and ends, so a crash test can see which runs a killed silo was executing
/// and when each of them first made progress again. One file per process,
/// <c>{JournalDirectory}/steps-{pid}.log</c>, one line per event:
/// <c>{unix ms} {start|end} {instance id} {task id} {attempt}</c>. Each line is written and flushed to the OS at
/// once, so a <c>kill -9</c> loses nothing already recorded. Without a directory it only logs at Debug level.
/// </summary>
internal sealed partial class StepJournal : IDisposable
{
    private readonly Lock _gate = new();
    private readonly FileStream? _file;
    private readonly ILogger<StepJournal> _logger;

    public StepJournal(IOptions<ClusterWorkflowsOptions> options, ILogger<StepJournal> logger)
    {
        _logger = logger;
        if (options.Value.JournalDirectory is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, $"steps-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.log");
            _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
            LogJournalOpened(logger, path);
        }
    }

    public void Record(StepEvent stepEvent, TaskContext context)
    {
        var name = stepEvent == StepEvent.Start ? "start" : "end";
        LogStep(_logger, name, context.InstanceId, context.TaskId, context.Attempt);
        if (_file is null) return;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()} {name} {context.InstanceId} {context.TaskId} {context.Attempt}\n");
        var bytes = Encoding.UTF8.GetBytes(line);
        lock (_gate)
        {
            _file.Write(bytes);
            _file.Flush();
        }
    }

    public void Dispose() => _file?.Dispose();

    [LoggerMessage(1, LogLevel.Information, "Step journal: {Path}")]
    private static partial void LogJournalOpened(ILogger logger, string path);

    [LoggerMessage(2, LogLevel.Debug, "Step {Event}: run {InstanceId} {TaskId} attempt {Attempt}")]
    private static partial void LogStep(ILogger logger, string @event, string instanceId, string taskId, int attempt);
}
