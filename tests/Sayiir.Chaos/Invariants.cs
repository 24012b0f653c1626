using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Sayiir.Chaos;

/// <summary>
/// The invariants of the chaos test, checked on the evidence: the runs' outputs, statuses and histories (client), every
/// task execution (<c>chaos_exec</c>, written from inside the tasks) and the kill instants (driver). All instants come
/// from the same machine clock.
/// <list type="bullet">
/// <item>a. every run Completed with exactly the expected output;</item>
/// <item>b. zero unexplained re-executions: when one attempt of one task of one run executed more than once, every
///   execution but the last was on a silo that was killed while it was in flight (or had ended less than the
///   checkpoint grace before the kill, its result not yet checkpointed). A retry (a higher attempt number) is not a
///   re-execution;</item>
/// <item>c. re-executions ≤ executions exposed to kills (in flight, or within the grace, on killed silos);</item>
/// <item>d. no task execution starts after its run completed;</item>
/// <item>e. no two executions of one task of one run overlap in time (an execution cut by a kill ends at the kill);</item>
/// <item>f. history complete and ordered; only the chosen route path executed;</item>
/// <item>g. per kill, kill → first progress of every run interrupted by it within the bound.</item>
/// </list>
/// </summary>
internal sealed partial class Invariants(
    DriverSettings settings,
    IReadOnlyList<RunRecord> runs,
    IReadOnlyList<Execution> executions,
    IReadOnlyList<KillRecord> kills,
    (DateTimeOffset At, TimeSpan Took)? pgRestart,
    IReadOnlyList<SiloProcess> silos,
    ConcurrentDictionary<string, (int Count, string First)> clientRetries)
{
    private const int MaxDetails = 8;
    private readonly Dictionary<int, DateTimeOffset> _killAt = kills.ToDictionary(k => k.Pid, k => k.At);
    private readonly Dictionary<string, string> _siloOf = silos.ToDictionary(s => s.Pid.ToString(CultureInfo.InvariantCulture), s => s.Name);

    public List<string> CheckAndPrint(Action<string> say)
    {
        var failures = new List<string>();
        var rows = new List<(string Name, string Value, bool Ok)>();
        void Row(string name, string value, bool ok = true)
        {
            rows.Add((name, value, ok));
        }
        void Fail(string invariant, string reason, IEnumerable<string> details)
        {
            failures.Add($"{invariant}: {reason}");
            say($"INVARIANT {invariant} VIOLATED: {reason}");
            foreach (var d in details.Take(MaxDetails)) say("    " + d);
        }

        // ----- a. outputs -----
        var wrong = runs.Where(r => r.Output != ChaosWorkflow.ExpectedOutput(r.Seed) || r.Status?.State != WorkflowState.Completed).ToList();
        Row("a. runs completed with the expected output", $"{runs.Count - wrong.Count}/{runs.Count}", wrong.Count == 0);
        if (wrong.Count > 0)
            Fail("a", $"{wrong.Count} run(s) without the expected output", wrong.Select(r => $"{r.InstanceId}: state {r.Status?.State}, output {r.Output}, expected {ChaosWorkflow.ExpectedOutput(r.Seed)} {r.Error}"));

        // ----- b/c. re-executions -----
        var groups = executions.GroupBy(e => (e.InstanceId, e.TaskId, e.Attempt))
            .Select(g => g.OrderBy(e => e.StartedAt).ThenBy(e => e.Id).ToList()).Where(g => g.Count > 1).ToList();
        int inFlightExplained = 0, graceExplained = 0, outageExplained = 0;
        var unexplained = new List<string>();
        int whileAlive = 0, notCheckpointed = 0;
        foreach (var group in groups)
        {
            for (var i = 0; i < group.Count - 1; i++)
            {
                switch (Exposure(group[i]))
                {
                    case ExposureKind.InFlight: inFlightExplained++; break;
                    case ExposureKind.Grace: graceExplained++; break;
                    case ExposureKind.Outage: outageExplained++; break;
                    default:
                        unexplained.Add(Describe(group, i));
                        if (_killAt.TryGetValue(group[i].Pid, out var kill) && kill <= group[i + 1].StartedAt) notCheckpointed++;
                        else whileAlive++;
                        break;
                }
            }
        }
        var reExecutions = inFlightExplained + graceExplained + outageExplained + unexplained.Count;
        Row("b. re-executions (same attempt run again)", $"{reExecutions}: explained {inFlightExplained + graceExplained + outageExplained} ({inFlightExplained} in flight at a kill, {graceExplained} ended < {settings.CheckpointGrace.TotalMilliseconds:F0} ms before it, " +
            $"{outageExplained} ended while PostgreSQL was down and their silo was killed before the write could land), " +
            $"unexplained {unexplained.Count} ({whileAlive} while the first silo was alive, {notCheckpointed} ended long before the kill)", unexplained.Count == 0);
        if (unexplained.Count > 0)
            Fail("b", $"{unexplained.Count} unexplained re-execution(s): {whileAlive} ran again while the silo of the earlier execution was alive, {notCheckpointed} ran again although the earlier one had finished more than {settings.CheckpointGrace.TotalMilliseconds:F0} ms before its silo was killed", unexplained);

        var exposedInFlight = executions.Count(e => Exposure(e) == ExposureKind.InFlight);
        var exposedGrace = executions.Count(e => Exposure(e) is ExposureKind.Grace or ExposureKind.Outage);
        var cOk = reExecutions <= exposedInFlight + exposedGrace;
        Row("c. re-executions <= executions exposed to kills", $"{reExecutions} <= {exposedInFlight + exposedGrace} ({exposedInFlight} in flight + {exposedGrace} within the grace)", cOk);
        if (!cOk) Fail("c", $"{reExecutions} re-executions but only {exposedInFlight + exposedGrace} executions were exposed to kills", []);

        // ----- d. nothing starts after its run completed -----
        var completedAt = runs.ToDictionary(r => r.InstanceId, r =>
            r.History?.FirstOrDefault(e => e.Kind == RunEventKind.Completed)?.At ?? r.Status?.UpdatedAt);
        var late = executions.Where(e => completedAt.GetValueOrDefault(e.InstanceId) is { } done && e.StartedAt > done).ToList();
        Row("d. executions started after their run completed", late.Count.ToString(CultureInfo.InvariantCulture), late.Count == 0);
        if (late.Count > 0)
            Fail("d", $"{late.Count} execution(s) started after their run completed", late.Select(e => $"{e.InstanceId} {e.TaskId}#{e.Attempt} on {Silo(e.Pid)} started {Ms(e.StartedAt - completedAt[e.InstanceId]!.Value)} after completion"));

        // ----- e. no overlapping executions of one task -----
        var overlaps = new List<string>();
        var noEnd = executions.Where(e => e.EndedAt is null && !_killAt.ContainsKey(e.Pid)).ToList();
        foreach (var group in executions.GroupBy(e => (e.InstanceId, e.TaskId)).Where(g => g.Count() > 1))
        {
            var list = group.OrderBy(e => e.StartedAt).ToList();
            for (var i = 0; i < list.Count; i++)
            {
                for (var j = i + 1; j < list.Count; j++)
                {
                    var endI = EffectiveEnd(list[i]);
                    var endJ = EffectiveEnd(list[j]);
                    if (list[j].StartedAt < endI && list[i].StartedAt < endJ)
                        overlaps.Add($"{group.Key.InstanceId} {group.Key.TaskId}: #{list[i].Attempt} on {Silo(list[i].Pid)} [{T(list[i].StartedAt)}, {T(endI)}] overlaps #{list[j].Attempt} on {Silo(list[j].Pid)} [{T(list[j].StartedAt)}, {T(endJ)}]");
                }
            }
        }
        Row("e. overlapping executions of one task", $"{overlaps.Count} (executions without an end on a live silo: {noEnd.Count})", overlaps.Count == 0 && noEnd.Count == 0);
        if (overlaps.Count > 0) Fail("e", $"{overlaps.Count} pair(s) of executions of one task of one run overlapped in time", overlaps);
        if (noEnd.Count > 0) Fail("e", $"{noEnd.Count} execution(s) on live silos never recorded an end", noEnd.Select(e => $"{e.InstanceId} {e.TaskId}#{e.Attempt} on {Silo(e.Pid)} started {T(e.StartedAt)}"));

        // ----- f. history -----
        var historyProblems = new List<string>();
        foreach (var run in runs)
        {
            var problems = HistoryProblems(run);
            if (problems.Count > 0) historyProblems.Add($"{run.InstanceId}: {string.Join("; ", problems)}");
        }
        Row("f. runs with complete, ordered history", $"{runs.Count - historyProblems.Count}/{runs.Count}", historyProblems.Count == 0);
        if (historyProblems.Count > 0) Fail("f", $"{historyProblems.Count} run(s) with incomplete or misordered history (or executions off the chosen path)", historyProblems);

        // ----- g. kill -> first progress -----
        var progressLines = new List<string>();
        var slow = new List<string>();
        var interruptedTotal = 0;
        foreach (var kill in kills)
        {
            var interrupted = executions.Where(e => e.Pid == kill.Pid && e.StartedAt < kill.At && (e.EndedAt is null || e.EndedAt > kill.At))
                .Select(e => e.InstanceId).Distinct().ToList();
            interruptedTotal += interrupted.Count;
            var delays = new List<double>();
            var missing = new List<string>();
            foreach (var run in interrupted)
            {
                var next = executions.Where(e => e.InstanceId == run && e.Pid != kill.Pid && e.StartedAt >= kill.At).MinBy(e => e.StartedAt);
                if (next is null) missing.Add(run);
                else delays.Add((next.StartedAt - kill.At).TotalSeconds);
            }
            delays.Sort();
            var line = $"kill #{kill.Number} {kill.Silo} pid {kill.Pid} at +{(kill.At - Start).TotalSeconds:F1} s: {interrupted.Count} run(s) interrupted";
            if (delays.Count > 0) line += $"; kill -> first progress: first {delays[0]:F2} s, median {delays[delays.Count / 2]:F2} s, max {delays[^1]:F2} s";
            if (missing.Count > 0) line += $"; NO progress: {string.Join(", ", missing)}";
            progressLines.Add(line);
            if (missing.Count > 0) slow.Add($"kill #{kill.Number}: {missing.Count} interrupted run(s) never made progress");
            if (delays.Count > 0 && delays[^1] > settings.ProgressBound.TotalSeconds) slow.Add($"kill #{kill.Number}: kill -> first progress max {delays[^1]:F2} s > {settings.ProgressBound.TotalSeconds:F0} s");
        }
        var allDelays = progressLines.Count;
        Row("g. kill -> first progress within bound", slow.Count == 0 ? $"yes (bound {settings.ProgressBound.TotalSeconds:F0} s, target <= 2 s; {interruptedTotal} interrupted run(s) over {allDelays} kill(s))" : string.Join("; ", slow), slow.Count == 0);
        if (slow.Count > 0) Fail("g", string.Join("; ", slow), []);

        // ----- figures -----
        say("kills:");
        foreach (var line in progressLines) say("  " + line);
        if (pgRestart is { } restart) say($"PostgreSQL immediate restart at +{(restart.At - Start).TotalSeconds:F1} s, back after {restart.Took.TotalSeconds:F1} s");
        var byOutcome = executions.GroupBy(e => e.Outcome ?? "(none)").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}");
        say($"executions: {executions.Count} rows ({string.Join(", ", byOutcome)}); retries (attempt > 1): {executions.Count(e => e.Attempt > 1)}; " +
            $"log writes retried: {executions.Count(e => e.LogRetries > 0)} execution(s)");
        say($"signals: {runs.Count(r => r.SignalEarly)} sent right after the start, {runs.Count(r => !r.SignalEarly)} later; client calls retried: " +
            (clientRetries.IsEmpty ? "none" : string.Join(", ", clientRetries.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} x{p.Value.Count} (first: {p.Value.First})"))));
        say($"silos: {string.Join(", ", silos.Select(s => $"{s.Name}/{s.Pid}{(s.KilledAt is null ? "" : " killed")}{(s.UpAt is { } up ? $" up in {(up - s.StartedAt).TotalSeconds:F1} s" : "")}"))}");
        // How often a run changed activation without a crash (directory partition changes, duplicates settled by
        // the lease): the situations that re-ran tasks on live silos before ownership was settled in storage.
        var logs = silos.Select(s => s.ReadLog()).ToList();
        var handoffs = logs.Sum(l => CountOf(l, ": handing over ("));
        var ownerWaits = logs.Sum(l => CountOf(l, "waiting for it to let go"));
        var partitionLosses = logs.SelectMany(l => PartitionLoss().Matches(l)).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        say($"ownership: {handoffs} graceful hand-off(s) by live activations, {ownerWaits} activation(s) that waited for a previous owner to let go; " +
            $"Orleans deactivated {partitionLosses.Sum()} healthy activation(s) in {partitionLosses.Count} directory-partition loss(es)");
        say("summary:");
        var width = rows.Max(r => r.Name.Length);
        say($"  runs: {runs.Count}, kills: {kills.Count}, PostgreSQL restarts: {(pgRestart is null ? 0 : 1)}, executions: {executions.Count}");
        foreach (var (name, value, ok) in rows) say($"  {(ok ? "ok  " : "FAIL")} {name.PadRight(width)}  {value}");
        return failures;
    }

    [GeneratedRegex(@"LocalGrainDirectory is deactivating (\d+) activations because silo")]
    private static partial Regex PartitionLoss();

    private static int CountOf(string text, string needle)
    {
        var count = 0;
        for (var at = text.IndexOf(needle, StringComparison.Ordinal); at >= 0; at = text.IndexOf(needle, at + needle.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private enum ExposureKind { None, InFlight, Grace, Outage }

    private DateTimeOffset Start => silos.Count > 0 ? silos.Min(s => s.StartedAt) : DateTimeOffset.UtcNow;

    private ExposureKind Exposure(Execution e)
    {
        if (!_killAt.TryGetValue(e.Pid, out var kill) || e.StartedAt >= kill) return ExposureKind.None;
        if (e.EndedAt is null || e.EndedAt > kill) return ExposureKind.InFlight;
        if (e.EndedAt > kill - settings.CheckpointGrace) return ExposureKind.Grace;
        // A task that ended while PostgreSQL was down cannot be checkpointed before the server is back, and the writer's
        // retries back off exponentially meanwhile (the next try can come about one outage length after it is back).
        if (pgRestart is { } restart && e.EndedAt >= restart.At && e.EndedAt <= restart.At + restart.Took
            && kill <= restart.At + restart.Took + restart.Took + settings.CheckpointGrace)
        {
            return ExposureKind.Outage;
        }

        return ExposureKind.None;
    }

    private DateTimeOffset EffectiveEnd(Execution e) =>
        e.EndedAt ?? (_killAt.TryGetValue(e.Pid, out var kill) ? kill : DateTimeOffset.MaxValue);

    private string Describe(List<Execution> group, int i)
    {
        var e = group[i];
        var next = group[i + 1];
        string fate;
        if (!_killAt.TryGetValue(e.Pid, out var kill)) fate = "its silo stayed alive";
        else if (kill > next.StartedAt) fate = $"its silo was still alive when the task ran again (killed only at {T(kill)})";
        else fate = $"its silo was killed at {T(kill)}" + (e.EndedAt is { } end ? $", {Ms(kill - end)} after it ended" : "");
        return $"{e.InstanceId} {e.TaskId}#{e.Attempt}: ran on {Silo(e.Pid)} [{T(e.StartedAt)}, {(e.EndedAt is { } en ? T(en) : "no end")}] ({fate}); again on {Silo(next.Pid)} from {T(next.StartedAt)}";
    }

    private List<string> HistoryProblems(RunRecord run)
    {
        var problems = new List<string>();
        var history = run.History;
        if (history is null || history.Count == 0) return ["no history"];
        var runStarted = history.Count(e => e.Kind == RunEventKind.RunStarted);
        if (runStarted != 1) problems.Add($"{runStarted} RunStarted events (first event: {history[0].Kind})");
        else if (history[0].Kind != RunEventKind.RunStarted) problems.Add($"first event is {history[0].Kind}, not RunStarted");
        var completed = history.Count(e => e.Kind == RunEventKind.Completed);
        if (completed != 1) problems.Add($"{completed} Completed events");
        else if (history[^1].Kind != RunEventKind.Completed) problems.Add($"last event is {history[^1].Kind} (after Completed)");
        for (var i = 1; i < history.Count; i++)
        {
            if (history[i].At < history[i - 1].At) { problems.Add($"event {i} ({history[i].Kind}) is older than event {i - 1}"); break; }
        }
        var expected = ChaosWorkflow.ExpectedTaskIds(run.Seed);
        var completions = history.Where(e => e.Kind == RunEventKind.TaskCompleted).GroupBy(e => e.TaskId ?? "").ToDictionary(g => g.Key, g => g.Count());
        foreach (var id in expected)
        {
            var n = completions.GetValueOrDefault(id);
            if (n != 1) problems.Add($"{n} TaskCompleted for {id}");
        }
        foreach (var extra in completions.Keys.Except(expected)) problems.Add($"TaskCompleted for unexpected task {extra}");
        foreach (var id in expected)
        {
            var done = history.ToList().FindIndex(e => e.Kind == RunEventKind.TaskCompleted && e.TaskId == id);
            if (done >= 0 && !history.Take(done).Any(e => e.Kind == RunEventKind.TaskStarted && e.TaskId == id))
                problems.Add($"TaskCompleted of {id} without an earlier TaskStarted");
        }
        if (!history.Any(e => e.Kind == RunEventKind.SignalReceived)) problems.Add("no SignalReceived");
        var delayStarted = history.ToList().FindIndex(e => e.Kind == RunEventKind.DelayStarted && e.TaskId == "c_wait");
        var delayWoken = history.ToList().FindLastIndex(e => e.Kind == RunEventKind.DelayWoken && e.TaskId == "c_wait");
        if (delayStarted < 0) problems.Add("no DelayStarted");
        if (delayWoken < 0) problems.Add("no DelayWoken");
        else if (delayWoken < delayStarted) problems.Add("DelayWoken before DelayStarted");
        var executed = executions.Where(e => e.InstanceId == run.InstanceId).Select(e => e.TaskId).ToHashSet();
        var offPath = executed.Except(expected).ToList();
        if (offPath.Count > 0) problems.Add($"executed tasks off the chosen path: {string.Join(", ", offPath)}");
        var never = expected.Where(id => id != ChaosWorkflow.RouteId && !executed.Contains(id)).ToList();
        if (never.Count > 0) problems.Add($"tasks with no recorded execution: {string.Join(", ", never)}");
        return problems;
    }

    private string Silo(int pid) => _siloOf.TryGetValue(pid.ToString(CultureInfo.InvariantCulture), out var name) ? $"{name}/{pid}{(_killAt.ContainsKey(pid) ? " (killed)" : " (alive)")}" : $"pid {pid}";

    private string T(DateTimeOffset at) => string.Create(CultureInfo.InvariantCulture, $"+{(at - Start).TotalSeconds:F3}s");

    private static string Ms(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:F0} ms");
}
