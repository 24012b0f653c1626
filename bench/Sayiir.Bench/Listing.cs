using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sayiir.Dashboard;

namespace Sayiir.Bench;

/// <summary>
/// The dashboard over a large store: W stored runs (default 100,000), then the runs page and its companions timed through
/// the dashboard's HTTP API on loopback (the time a browser's request spends in the server, plus a loopback hop).
/// On PostgreSQL the runs are seeded in SQL from real finished runs (copies with their own ids, creation instants one
/// second apart, four workflow names, 4% failed and 1% cancelled), since starting 100,000 runs would take minutes;
/// in memory they are real runs.
/// </summary>
internal static class Listing
{
    public const string Name = "listing";

    private static readonly string[] WorkflowNames = ["orders", "billing", "reports", "emails"];

    private const int Samples = 30;

    public static IReadOnlyList<WorkflowDefinition> Definitions() => [BenchFlows.Linear(1)];

    public static async Task<RunResult> RunAsync(BenchContext ctx, WorkloadSpec spec)
    {
        var seedClock = Stopwatch.StartNew();
        await SeedAsync(ctx, spec);
        var seedSeconds = seedClock.Elapsed.TotalSeconds;
        Log.Info(string.Create(CultureInfo.InvariantCulture, $"{ctx.BackendName} {Name}: {spec.Workflows:N0} runs stored in {seedSeconds:0.0} s"));

        await using var app = await StartDashboardAsync(ctx.Client);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single().TrimEnd('/') + "/sayiir/api/") };
        var firstPage = await http.GetStringAsync("runs?pageSize=50", ctx.Token);
        var token = System.Text.Json.JsonDocument.Parse(firstPage).RootElement.GetProperty("continuationToken").GetString();

        var queries = new (string Key, string Path)[]
        {
            ("runs_page", "runs?pageSize=50"),
            ("runs_page_2", "runs?pageSize=50&continuationToken=" + Uri.EscapeDataString(token ?? "")),
            ("runs_workflow_failed", "runs?pageSize=50&workflow=billing&state=Failed"),
            ("runs_prefix", "runs?pageSize=50&prefix=" + Uri.EscapeDataString(ctx.Backend == BackendKind.Postgres ? "seed-0999" : $"{Name}-{ctx.RunTag}-m999")),
            ("counts", "runs/counts"),

            ("activity_hour", "activity"),
        };
        var result = new RunResult { Backend = ctx.BackendName, Spec = spec, TasksPerRun = 0, WallSeconds = seedSeconds };
        var table = new List<string>();
        // The engine's share, without HTTP and JSON: the two client calls the runs page makes.
        var engineCalls = new (string Key, Func<Task> Call)[]
        {
            ("client_list", () => ctx.Client.ListRunsAsync(new RunQuery { PageSize = 50 }, ctx.Token)),
            ("client_count", () => ctx.Client.CountRunsAsync(new RunQuery(), ctx.Token)),

        };
        var measured = queries.Select(q => (q.Key, Call: (Func<Task>)(async () =>
        {
            using var response = await http.GetAsync(q.Path, ctx.Token);
            var body = await response.Content.ReadAsStringAsync(ctx.Token);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{q.Path}: HTTP {(int)response.StatusCode} {body}");
        }))).Concat(engineCalls);
        foreach (var (key, call) in measured)
        {
            var times = new List<double>();
            for (var i = 0; i < Samples + 3; i++)
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    await call();
                }
                catch (InvalidOperationException ex)
                {
                    result.AddError(ex.Message);
                    break;
                }
                if (i >= 3) times.Add(clock.Elapsed.TotalMilliseconds); // the first three warm caches and code
            }
            var sorted = Stats.Sorted(times);
            result.Set($"{key}_p50_ms", Stats.Percentile(sorted, 50), 2);
            result.Set($"{key}_p95_ms", Stats.Percentile(sorted, 95), 2);
            result.Set($"{key}_max_ms", sorted.Count > 0 ? sorted[^1] : null, 2);
            table.Add($"{key} {RunResult.Ms(Stats.Percentile(sorted, 50))}/{RunResult.Ms(Stats.Percentile(sorted, 95))}");
        }
        result.Set("stored_runs", spec.Workflows);
        result.Set("seed_seconds", seedSeconds, 1);
        result.P50Ms = result.ExtraNumber("runs_page_p50_ms");
        result.P99Ms = result.ExtraNumber("runs_page_p95_ms");
        result.KeyFigure = string.Create(CultureInfo.InvariantCulture,
            $"{spec.Workflows:N0} runs; p50/p95 ms: {string.Join(", ", table)}");
        Console.WriteLine($"# {ctx.BackendName} {Name} over {spec.Workflows:N0} stored runs, HTTP p50/p95 ms (server + loopback): {string.Join(", ", table)}");
        return result;
    }

    private static async Task<WebApplication> StartDashboardAsync(ISayiirClient client)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(client);
        builder.Services.AddSayiirDashboard();
        var app = builder.Build();
        app.MapSayiirDashboard("/sayiir");
        await app.StartAsync();
        return app;
    }

    private static async Task SeedAsync(BenchContext ctx, WorkloadSpec spec)
    {
        var flow = BenchFlows.Linear(1);
        if (ctx.Backend == BackendKind.Memory)
        {
            Progress.Begin($"{ctx.BackendName} {Name} seed", spec.Workflows);
            var batch = await Bounded.RunAsync(spec.Workflows, Math.Max(spec.Concurrency, 1), async i =>
            {
                var handle = await ctx.Client.StartAsync(flow, i, $"{Name}-{ctx.RunTag}-m{i}", cancellationToken: ctx.Token);
                await handle.GetResultAsync(ctx.Token);
            }, ctx.Token);
            Progress.End();
            if (batch.Errors > 0) throw new InvalidOperationException($"seeding failed: {string.Join(" | ", batch.ErrorSamples)}");
            return;
        }

        // A few real runs give the stored layout to copy.
        for (var i = 0; i < 4; i++) await ctx.Client.RunAsync(flow, i, $"{Name}-{ctx.RunTag}-template{i}", cancellationToken: ctx.Token);
        await using var connection = new NpgsqlConnection(ctx.Database!.ConnectionString);
        await connection.OpenAsync(ctx.Token);
        const int Chunk = 20_000;
        for (var start = 1; start <= spec.Workflows; start += Chunk)
        {
            await using var command = new NpgsqlCommand(
                """
                INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
                SELECT hashtext(s.id), t.GrainIdN0, t.GrainIdN1, t.GrainTypeHash, t.GrainTypeString, s.id, t.ServiceId,
                       convert_to(jsonb_set(jsonb_set(jsonb_set(jsonb_set(convert_from(t.PayloadBinary, 'UTF8')::jsonb,
                           '{CreatedAt}', to_jsonb(s.created)), '{UpdatedAt}', to_jsonb(s.created + interval '2 seconds')),
                           '{Status}', to_jsonb(s.status)), '{WorkflowName}', to_jsonb(s.workflow))::text, 'UTF8'),
                       now() AT TIME ZONE 'utc', 1
                  FROM (SELECT * FROM OrleansStorage WHERE GrainTypeString = 'sayiir-run' AND SayiirStatus = 5 LIMIT 1) t,
                       LATERAL (SELECT 'seed-' || lpad(g::text, 6, '0') AS id,
                                       now() - g * interval '1 second' AS created,
                                       CASE WHEN g % 25 = 0 THEN 6 WHEN g % 100 = 1 THEN 7 ELSE 5 END AS status,
                                       (@names)[1 + g % 4] AS workflow
                                  FROM generate_series(@from, @to) g) s
                """, connection);
            command.Parameters.AddWithValue("names", WorkflowNames);
            command.Parameters.AddWithValue("from", start);
            command.Parameters.AddWithValue("to", Math.Min(start + Chunk - 1, spec.Workflows));
            command.CommandTimeout = 300;
            await command.ExecuteNonQueryAsync(ctx.Token);
        }
        // What autovacuum does soon after a bulk insert: statistics, and the visibility map that lets counts read the
        // listing indexes alone. Pages become all-visible only once no open transaction predates the rows, so repeat
        // until the map covers the table (measuring before would time the heap reads autovacuum soon removes).
        for (var round = 0; ; round++)
        {
            await using (var vacuum = new NpgsqlCommand("VACUUM ANALYZE OrleansStorage", connection) { CommandTimeout = 300 })
                await vacuum.ExecuteNonQueryAsync(ctx.Token);
            await using var visible = new NpgsqlCommand("SELECT relallvisible::float8 / greatest(relpages, 1) FROM pg_class WHERE relname = 'orleansstorage'", connection);
            var fraction = (double)(await visible.ExecuteScalarAsync(ctx.Token))!;
            if (fraction >= 0.95 || round == 20)
            {
                Log.Info(string.Create(CultureInfo.InvariantCulture, $"{ctx.BackendName} {Name}: {fraction:P0} of the table all-visible after {round + 1} VACUUM(s)"));
                break;
            }
            await Task.Delay(500, ctx.Token);
        }
    }
}
