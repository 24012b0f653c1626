// Tasks log the way applications do, with the ILogger extension methods (not source-generated messages).
#pragma warning disable CA1848, CA1873
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Sayiir.Tests.Infrastructure;

/// <summary>Workflows of the task-log, run-observer and webhook tests.</summary>
public static class ObserverFlows
{
    /// <summary>
    /// Task "talk" logs three lines per attempt (one a warning with an exception) and a debug line, fails its first
    /// attempt and completes on the second.
    /// </summary>
    public static readonly WorkflowDefinition<int, int> Logged = Flow.Create<int>("obs_task_logs")
        .Then("talk", (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            ctx.Logger.LogInformation("starting attempt {Attempt} with {Input}", ctx.Attempt, x);
            ctx.Logger.LogDebug("a debug line is not kept with the run");
            ctx.Logger.LogWarning(new InvalidOperationException("inner trouble"), "warned on attempt {Attempt}", ctx.Attempt);
            ctx.Logger.LogInformation("ending attempt {Attempt}", ctx.Attempt);
            return ctx.Attempt == 1 ? Task.FromException<int>(new TimeoutException("first attempt fails")) : Task.FromResult(x + 1);
        }, o => o.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(10)))
        .Build();

    /// <summary>Task "chatty" logs 150 short lines (input 0) or 10 lines of 3,000 characters (input 1).</summary>
    public static readonly WorkflowDefinition<int, int> Chatty = Flow.Create<int>("obs_task_logs_bound")
        .Then("chatty", (int mode, TaskContext ctx) =>
        {
            if (mode == 0)
            {
                for (var i = 1; i <= 150; i++) ctx.Logger.LogInformation("line {Number}", i);
            }
            else
            {
                for (var i = 1; i <= 10; i++) ctx.Logger.LogInformation("{Number}:{Text}", i % 10, new string('x', 2998));
            }
            return Task.FromResult(mode);
        })
        .Build();

    /// <summary>Task "check" fails (not retried) for a negative input, else returns it.</summary>
    public static readonly WorkflowDefinition<int, int> Observed = Flow.Create<int>("obs_observed")
        .Then("check", (int x) => x < 0 ? Task.FromException<int>(new ArgumentException($"negative input {x}")) : Task.FromResult(x),
            o => o.Retry = RetryPolicy.Fixed(1, TimeSpan.FromMilliseconds(10)))
        .Build();

    /// <summary>Like <see cref="Observed"/>, under another name (the webhook's workflow filter leaves it out).</summary>
    public static readonly WorkflowDefinition<int, int> Unwatched = Flow.Create<int>("obs_unwatched")
        .Then("check", (int x) => x < 0 ? Task.FromException<int>(new ArgumentException($"negative input {x}")) : Task.FromResult(x),
            o => o.Retry = RetryPolicy.Fixed(1, TimeSpan.FromMilliseconds(10)))
        .Build();

    /// <summary>Waits for signal "go", then returns the payload (cancel tests).</summary>
    public static readonly WorkflowDefinition<int, int> Parked = Flow.Create<int>("obs_parked")
        .WaitForSignal<int>("wait_go", "go")
        .Build();

    public static IEnumerable<WorkflowDefinition> All => [Logged, Chatty, Observed, Unwatched, Parked];
}

/// <summary>Records every change it is told about, by instance id.</summary>
public sealed class RecordingRunObserver : IRunObserver
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<RunChange>> Changes = new();

    public static IReadOnlyList<RunChange> Of(string instanceId) =>
        Changes.TryGetValue(instanceId, out var changes) ? [.. changes] : [];

    public Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken)
    {
        Changes.GetOrAdd(change.InstanceId, _ => new()).Enqueue(change);
        return Task.CompletedTask;
    }
}

/// <summary>Throws for every change of a run whose id starts with <see cref="Prefix"/> (the others must not notice).</summary>
public sealed class ThrowingRunObserver : IRunObserver
{
    public const string Prefix = "observer-throws";

    public Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken) =>
        change.InstanceId.StartsWith(Prefix, StringComparison.Ordinal)
            ? throw new InvalidOperationException($"observer failure for {change.InstanceId}")
            : Task.CompletedTask;
}

/// <summary>
/// Holds the change of a run whose id starts with <see cref="Prefix"/> until the test opens its gate, counting the
/// changes it was given (runs must not wait for it).
/// </summary>
public sealed class BlockingRunObserver : IRunObserver
{
    public const string Prefix = "observer-blocks";

    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();
    private static readonly ConcurrentDictionary<string, int> Seen = new();

    public static void Open(string instanceId) => Gate(instanceId).TrySetResult();

    public static int SeenCount(string instanceId) => Seen.GetValueOrDefault(instanceId);

    private static TaskCompletionSource Gate(string instanceId) =>
        Gates.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public async Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken)
    {
        if (!change.InstanceId.StartsWith(Prefix, StringComparison.Ordinal)) return;
        Seen.AddOrUpdate(change.InstanceId, 1, (_, n) => n + 1);
        await Gate(change.InstanceId).Task.WaitAsync(cancellationToken);
    }
}

/// <summary>A silo logger provider keeping what tasks log (categories <c>Sayiir.Task.*</c>) with the scopes around it.</summary>
public sealed class TaskLogRecorder : ILoggerProvider, ISupportExternalScope
{
    private static readonly ConcurrentQueue<(string Category, LogLevel Level, string Message, string Scopes)> Lines = new();
    private IExternalScopeProvider? _scopes;

    public static IReadOnlyList<(string Category, LogLevel Level, string Message, string Scopes)> LinesOf(string instanceId) =>
        [.. Lines.Where(l => l.Scopes.Contains(instanceId, StringComparison.Ordinal))];

    public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Recorder(TaskLogRecorder provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith("Sayiir.Task.", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var scopes = new List<string>();
            provider._scopes?.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), scopes);
            Lines.Enqueue((category, logLevel, formatter(state, exception), string.Join(" | ", scopes)));
        }
    }
}
