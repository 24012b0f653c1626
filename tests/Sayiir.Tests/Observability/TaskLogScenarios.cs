using System.Text;
using Microsoft.Extensions.Logging;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Observability;

/// <summary>What tasks write through <see cref="TaskContext.Logger"/>: kept in the run's history and sent to the silo's logging.</summary>
public abstract class TaskLogScenarios(SayiirCluster cluster) : ClusterScenarios(cluster)
{
    [Fact]
    public async Task TaskLogger_AttemptsWithRetry_RecordsEachAttemptsLinesBeforeItsOutcome()
    {
        var id = NewId("task-logs");
        Assert.Equal(6, await Wait.ForAsync(Client.RunAsync(ObserverFlows.Logged, 5, id), Deadline, "the logged run"));

        var history = await Client.GetHistoryAsync(id);

        Assert.Equal(
            [RunEventKind.RunStarted, RunEventKind.TaskStarted, RunEventKind.TaskLog, RunEventKind.TaskLog, RunEventKind.TaskLog,
             RunEventKind.TaskFailed, RunEventKind.RetryScheduled, RunEventKind.TaskStarted, RunEventKind.TaskLog, RunEventKind.TaskLog,
             RunEventKind.TaskLog, RunEventKind.TaskCompleted, RunEventKind.Completed],
            history.Select(e => e.Kind));
        var lines = history.Where(e => e.Kind == RunEventKind.TaskLog).ToList();
        Assert.All(lines, l => Assert.Equal("talk", l.TaskId));
        Assert.Equal([1, 1, 1, 2, 2, 2], lines.Select(l => l.Attempt ?? 0));
        Assert.Equal(
            ["starting attempt 1 with 5", "warned on attempt 1", "ending attempt 1", "starting attempt 2 with 5", "warned on attempt 2", "ending attempt 2"],
            lines.Select(l => l.Detail));
        Assert.Equal(["Information", "Warning", "Information", "Information", "Warning", "Information"], lines.Select(l => l.ErrorType));
        Assert.Equal([null, "System.InvalidOperationException: inner trouble", null, null, "System.InvalidOperationException: inner trouble", null],
            lines.Select(l => l.Message));
        // Each line's instant lies within its attempt, on the engine's clock.
        foreach (var attempt in new[] { 1, 2 })
        {
            var started = history.Single(e => e.Kind == RunEventKind.TaskStarted && e.Attempt == attempt).At;
            var ended = history.Single(e => e.Kind is RunEventKind.TaskFailed or RunEventKind.TaskCompleted && e.Attempt == attempt).At;
            Assert.All(lines.Where(l => l.Attempt == attempt), l => Assert.InRange(l.At, started, ended));
        }
        Assert.Equal(2, Probe.Executions(id, "talk"));
    }

    [Fact]
    public async Task TaskLogger_MoreLinesThanTheBound_KeepsTheFirstAndCountsTheDropped()
    {
        var id = NewId("task-logs-lines");
        await Wait.ForAsync(Client.RunAsync(ObserverFlows.Chatty, 0, id), Deadline, "the chatty run");

        var lines = (await Client.GetHistoryAsync(id)).Where(e => e.Kind == RunEventKind.TaskLog).ToList();

        Assert.Equal(101, lines.Count);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => $"line {i}"), lines.Take(100).Select(l => l.Detail));
        Assert.Equal("… 50 more line(s) dropped (at most 100 lines and 16384 bytes are kept per attempt)", lines[^1].Detail);
        Assert.Equal("Warning", lines[^1].ErrorType);
        Assert.Equal(1, lines[^1].Attempt);
    }

    [Fact]
    public async Task TaskLogger_MoreBytesThanTheBound_CutsTheCrossingLineAndCountsTheDropped()
    {
        var id = NewId("task-logs-bytes");
        await Wait.ForAsync(Client.RunAsync(ObserverFlows.Chatty, 1, id), Deadline, "the chatty run");

        var lines = (await Client.GetHistoryAsync(id)).Where(e => e.Kind == RunEventKind.TaskLog).Select(e => e.Detail!).ToList();

        // Five whole lines of 3,000 bytes, the sixth cut to the 16,384-byte bound, then the count of the four dropped.
        Assert.Equal(7, lines.Count);
        Assert.All(lines.Take(5), l => Assert.Equal(3000, Encoding.UTF8.GetByteCount(l)));
        Assert.StartsWith("6:xxx", lines[5], StringComparison.Ordinal);
        Assert.EndsWith("…", lines[5], StringComparison.Ordinal);
        Assert.Equal(16 * 1024, lines.Take(6).Sum(l => Encoding.UTF8.GetByteCount(l)));
        Assert.Equal("… 4 more line(s) dropped (at most 100 lines and 16384 bytes are kept per attempt)", lines[6]);
    }

    [Fact]
    public async Task TaskLogger_Lines_ReachTheSiloLoggingInTheAttemptsScope()
    {
        var id = NewId("task-logs-silo");
        await Wait.ForAsync(Client.RunAsync(ObserverFlows.Logged, 7, id), Deadline, "the logged run");

        var lines = TaskLogRecorder.LinesOf(id);

        Assert.All(lines, l => Assert.Equal("Sayiir.Task.obs_task_logs.talk", l.Category));
        var first = Assert.Single(lines, l => l.Message == "starting attempt 1 with 7");
        Assert.Equal(LogLevel.Information, first.Level);
        Assert.Contains($"run {id} task talk attempt 1", first.Scopes, StringComparison.Ordinal);
        var warning = Assert.Single(lines, l => l.Message == "warned on attempt 2");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains($"run {id} task talk attempt 2", warning.Scopes, StringComparison.Ordinal);
    }
}

[Collection(SharedClusters.Memory)]
public sealed class MemoryTaskLogScenarios(MemoryClusterFixture fixture) : TaskLogScenarios(fixture.Cluster);

[Collection(SharedClusters.Postgres)]
public sealed class PostgresTaskLogScenarios(PostgresClusterFixture fixture) : TaskLogScenarios(fixture.Cluster);
