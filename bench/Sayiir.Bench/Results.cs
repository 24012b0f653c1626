using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sayiir.Bench;

/// <summary>Percentiles (nearest rank) of a sample in milliseconds.</summary>
internal static class Stats
{
    public static double? Percentile(IReadOnlyList<double> sortedAscending, double p)
    {
        if (sortedAscending.Count == 0) return null;
        var rank = (int)Math.Ceiling(p / 100.0 * sortedAscending.Count);
        return sortedAscending[Math.Clamp(rank - 1, 0, sortedAscending.Count - 1)];
    }

    public static List<double> Sorted(IEnumerable<double> values)
    {
        var list = values.ToList();
        list.Sort();
        return list;
    }
}

/// <summary>The result of one workload on one backend: the fields of benchmarks.md's JSON line, then extras.</summary>
internal sealed class RunResult
{
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public required string Backend { get; init; }

    public required WorkloadSpec Spec { get; init; }

    /// <summary>Tasks executed per run inside the timed window.</summary>
    public required int TasksPerRun { get; init; }

    public double WallSeconds { get; set; }

    public double? P50Ms { get; set; }

    public double? P99Ms { get; set; }

    public string Notes { get; set; } = "";

    public int Errors { get; set; }

    public List<string> ErrorSamples { get; } = [];

    /// <summary>Counts an error and keeps the first few messages; safe to call from concurrent runs.</summary>
    public void AddError(string message)
    {
        lock (ErrorSamples)
        {
            Errors++;
            if (ErrorSamples.Count < 5) ErrorSamples.Add(message);
        }
    }

    /// <summary>Extra JSON fields, in order.</summary>
    public JsonObject Extra { get; } = [];

    /// <summary>The workload's key figure for the summary table.</summary>
    public string KeyFigure { get; set; } = "";

    public double WfPerSecond => WallSeconds > 0 ? Spec.Workflows / WallSeconds : 0;

    public double TasksPerSecond => WfPerSecond * TasksPerRun;

    public static string Version
    {
        get
        {
            var v = typeof(Flow).Assembly.GetName().Version;
            return v is null ? "0.0.0" : $"{v.Major}.{v.Minor}.{v.Build}";
        }
    }

    public void Set(string name, double? value, int decimals = 3) =>
        Extra[name] = value is { } v && double.IsFinite(v) ? JsonValue.Create(Math.Round(v, decimals)) : null;

    public void Set(string name, long? value) => Extra[name] = value is { } v ? JsonValue.Create(v) : null;

    public void Set(string name, string? value) => Extra[name] = value is null ? null : JsonValue.Create(value);

    public double? ExtraNumber(string name) => Extra.TryGetPropertyValue(name, out var node) && node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    public string ToJsonLine()
    {
        var json = new JsonObject
        {
            ["system"] = "sayiir-dotnet",
            ["version"] = Version,
            ["backend"] = Backend,
            ["workload"] = Spec.Name,
            ["workflows"] = Spec.Workflows,
            ["steps"] = Spec.Steps,
            ["branches"] = Spec.Branches,
            ["concurrency"] = Spec.Concurrency,
            ["wall_s"] = Math.Round(WallSeconds, 3),
            ["wf_per_s"] = Math.Round(WfPerSecond, 1),
            ["tasks_per_s"] = Math.Round(TasksPerSecond, 1),
            ["p50_ms"] = P50Ms is { } p50 ? Math.Round(p50, 3) : null,
            ["p99_ms"] = P99Ms is { } p99 ? Math.Round(p99, 3) : null,
            ["notes"] = Notes,
        };
        if (Spec.Name == "sleeping") json["delay_s"] = Spec.DelaySeconds;
        json["warmup"] = Spec.Warmup;
        json["errors"] = Errors;
        foreach (var (key, value) in Extra) json[key] = value?.DeepClone();
        return json.ToJsonString(JsonOptions);
    }

    public static string SummaryTable(IReadOnlyList<RunResult> results)
    {
        string F(double? v, string format = "0.0") => v is { } d ? d.ToString(format, CultureInfo.InvariantCulture) : "-";
        var header = new[] { "backend", "workload", "W", "S", "K", "C", "wall_s", "wf/s", "tasks/s", "p50_ms", "p99_ms", "ckpt/run", "ckpt/s", "errors", "key figures" };
        var rows = results.Select(r => new[]
        {
            r.Backend, r.Spec.Name, F(r.Spec.Workflows, "0"), F(r.Spec.Steps, "0"), F(r.Spec.Branches, "0"), F(r.Spec.Concurrency, "0"),
            F(r.WallSeconds, "0.00"), F(r.WfPerSecond), F(r.TasksPerSecond), F(r.P50Ms, "0.00"), F(r.P99Ms, "0.00"),
            F(r.ExtraNumber("checkpoints_per_run"), "0.0"), F(r.ExtraNumber("checkpoints_per_s"), "0"), F(r.Errors, "0"), r.KeyFigure,
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        void Line(string[] cells)
        {
            for (var i = 0; i < cells.Length; i++)
            {
                var last = i == cells.Length - 1;
                var text = i <= 1 || last ? cells[i].PadRight(last ? 0 : widths[i]) : cells[i].PadLeft(widths[i]);
                sb.Append(text);
                if (!last) sb.Append("  ");
            }
            sb.AppendLine();
        }
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var row in rows) Line(row);
        return sb.ToString();
    }

    public static string Ms(double? value) => value is { } v ? v.ToString(v < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) : "-";
}
