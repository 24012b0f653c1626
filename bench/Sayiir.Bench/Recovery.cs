using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Sayiir.Bench;

/// <summary>
/// The recovery workload: a real two-silo cluster in separate processes on the bench's PostgreSQL, one silo killed
/// with SIGKILL mid-run. It is driven by eng/cluster-test.sh (the same script the test command runs); this class
/// runs it against the bench server and turns its measurements into a result line.
/// </summary>
internal static partial class Recovery
{
    /// <summary>Steps per run of the cluster workflow (samples/ClusterWorkflows, PipelineWorkflow.StepCount).</summary>
    private const int Steps = 8;

    public static async Task<RunResult?> RunAsync(PgServer pg, WorkloadSpec spec, CancellationToken cancellationToken)
    {
        var repo = PgServer.FindRepoRoot() ?? throw new InvalidOperationException("eng/cluster-test.sh not found (run the bench from the repository)");
        var start = new ProcessStartInfo("bash", [Path.Combine(repo, "eng", "cluster-test.sh")])
        {
            WorkingDirectory = repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["SAYIIR_TEST_POSTGRES"] = pg.AdminConnectionString;
        start.Environment["SAYIIR_CLUSTER_RUNS"] = spec.Workflows.ToString(CultureInfo.InvariantCulture);
        Log.Info($"postgres recovery: W={spec.Workflows} runs of {Steps} steps on two Sayiir.Silo processes; eng/cluster-test.sh kills one with SIGKILL");
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        var output = new StringBuilder();
        var stdout = PumpAsync(process.StandardOutput, output);
        var stderr = PumpAsync(process.StandardError, output);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await Task.WhenAll(stdout, stderr);
        var text = output.ToString();
        var last = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith("cluster-test: ", StringComparison.Ordinal)) ?? "(no summary)";
        if (process.ExitCode != 0)
        {
            Log.Info($"postgres recovery: eng/cluster-test.sh failed (exit {process.ExitCode}): {last}");
            return null;
        }

        var completed = CompletedRegex().Match(text);
        var progress = StatsRegex().Match(ProgressLine(text, "kill -> first progress:"));
        var client = StatsRegex().Match(ProgressLine(text, "kill -> client got the result:"));
        var interrupted = InterruptedRegex().Match(text);
        if (!completed.Success || !progress.Success || !interrupted.Success)
        {
            Log.Info($"postgres recovery: could not read the measurements of eng/cluster-test.sh: {last}");
            return null;
        }
        var done = int.Parse(completed.Groups[1].Value, CultureInfo.InvariantCulture);
        var result = new RunResult { Backend = "postgres", Spec = spec with { Steps = Steps }, TasksPerRun = Steps };
        result.WallSeconds = clock.Elapsed.TotalSeconds;
        // p50/p99 here: seconds from the kill until an interrupted run made progress again (median and maximum), in ms.
        result.P50Ms = Seconds(progress, "median") * 1000;
        result.P99Ms = Seconds(progress, "max") * 1000;
        result.Errors = spec.Workflows - done;
        result.Set("runs_lost", spec.Workflows - done);
        result.Set("runs_interrupted", int.Parse(interrupted.Groups[1].Value, CultureInfo.InvariantCulture));
        result.Set("kill_to_progress_min_s", Seconds(progress, "min"), 2);
        result.Set("kill_to_progress_median_s", Seconds(progress, "median"), 2);
        result.Set("kill_to_progress_max_s", Seconds(progress, "max"), 2);
        if (client.Success) result.Set("kill_to_client_result_max_s", Seconds(client, "max"), 2);
        result.Set("cluster_test", last.Replace("cluster-test: ", "", StringComparison.Ordinal));
        result.KeyFigure = string.Create(CultureInfo.InvariantCulture,
            $"kill -> progress max {Seconds(progress, "max"):0.00} s; {done}/{spec.Workflows} runs done, {spec.Workflows - done} lost");
        result.Notes = $"{pg.DurabilityNote}; 2 Sayiir.Silo processes + ClusterClient process, PostgreSQL clustering and reminders; "
            + "kill -9 of the silo running more runs; p50/p99 = median/max of kill -> first progress of each interrupted run; wall_s includes build and start-up";
        return result;
    }

    private static string ProgressLine(string text, string marker) =>
        text.Split('\n').LastOrDefault(l => l.Contains(marker, StringComparison.Ordinal)) is { } line
            ? line[(line.LastIndexOf(marker, StringComparison.Ordinal) + marker.Length)..]
            : "";

    private static double Seconds(Match stats, string which) =>
        double.Parse(stats.Groups[which].Value, CultureInfo.InvariantCulture);

    private static async Task PumpAsync(StreamReader reader, StringBuilder sink)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (sink) sink.AppendLine(line);
            if (line.StartsWith("cluster-test [", StringComparison.Ordinal)) Log.Info(line);
        }
    }

    [GeneratedRegex(@"(\d+)/\d+ runs completed after kill -9")]
    private static partial Regex CompletedRegex();

    [GeneratedRegex(@"interrupted runs: (\d+);")]
    private static partial Regex InterruptedRegex();

    [GeneratedRegex(@"min (?<min>[\d.]+) s, median (?<median>[\d.]+) s, max (?<max>[\d.]+) s")]
    private static partial Regex StatsRegex();
}
