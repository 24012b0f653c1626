using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Sayiir.Hosting;
using Sayiir.Samples.ClusterWorkflows;

namespace Sayiir.Bench;

/// <summary>
/// The fanout-cpu workload: runs of a fork of <see cref="FanoutCpuWorkflow.Branches"/> branches of fixed CPU work with
/// cluster placement, on a cluster of 1 and then 3 <c>Sayiir.Silo</c> processes (PostgreSQL clustering and storage),
/// the bench process acting as a client. It reports the wall time per run on each and the speed-up; and, on the
/// 3-silo cluster, the cost of placement itself: the same fan-out of trivial branches with Local and Cluster placement.
/// </summary>
internal static class FanoutCpu
{
    public static async Task<RunResult?> RunAsync(PgServer pg, WorkloadSpec spec, int cpuMs, CancellationToken cancellationToken)
    {
        var repo = PgServer.FindRepoRoot() ?? throw new InvalidOperationException("src/Sayiir.Silo not found (run the bench from the repository)");
        Log.Info($"postgres fanout-cpu: building Sayiir.Silo and the ClusterWorkflows module");
        foreach (var project in new[] { "src/Sayiir.Silo/Sayiir.Silo.csproj", "samples/ClusterWorkflows/ClusterWorkflows.csproj" })
        {
            var build = await PgServer.RunAsync("dotnet", ["build", Path.Combine(repo, project), "-c", "Release", "-v", "q", "-nologo"], null, repo, cancellationToken);
            if (build.ExitCode != 0)
            {
                Log.Info($"postgres fanout-cpu: build of {project} failed: {build.StdOut}{build.StdErr}");
                return null;
            }
        }
        var silo = Path.Combine(repo, "src/Sayiir.Silo/bin/Release/net10.0/Sayiir.Silo.dll");
        var module = Path.Combine(repo, "samples/ClusterWorkflows/bin/Release/net10.0/ClusterWorkflows.dll");

        var result = new RunResult { Backend = "postgres", Spec = spec with { Branches = FanoutCpuWorkflow.Branches }, TasksPerRun = FanoutCpuWorkflow.Branches + 1 };
        var one = await MeasureAsync(pg, silo, module, 1, spec, cpuMs, hop: false, result, cancellationToken);
        var three = await MeasureAsync(pg, silo, module, 3, spec, cpuMs, hop: true, result, cancellationToken);
        if (one is null || three is null) return null;

        result.WallSeconds = three.Value.Wall;
        result.P50Ms = Median(three.Value.RunMs);
        result.P99Ms = three.Value.RunMs.Max();
        var speedup = Median(one.Value.RunMs) / Median(three.Value.RunMs);
        result.Set("cpu_ms_per_branch", cpuMs);
        result.Set("run_ms_1_silo_p50", Median(one.Value.RunMs), 1);
        result.Set("run_ms_3_silos_p50", Median(three.Value.RunMs), 1);
        result.Set("speedup_3_vs_1", speedup, 2);
        result.Set("trivial_run_ms_local_p50", Median(three.Value.TrivialLocalMs), 1);
        result.Set("trivial_run_ms_cluster_p50", Median(three.Value.TrivialClusterMs), 1);
        result.KeyFigure = string.Create(CultureInfo.InvariantCulture,
            $"{FanoutCpuWorkflow.Branches}x{cpuMs} ms: 1 silo {Median(one.Value.RunMs):0} ms, 3 silos {Median(three.Value.RunMs):0} ms (x{speedup:0.00}); trivial fan-out local {Median(three.Value.TrivialLocalMs):0} ms, cluster {Median(three.Value.TrivialClusterMs):0} ms");
        result.Notes = $"{pg.DurabilityNote}; Sayiir.Silo processes on one machine ({Environment.ProcessorCount} cores shared by all of them), the bench process as client; " +
            "run times are medians of W sequential runs after one warm-up run; the trivial fan-out (0 ms per branch) on 3 silos shows placement's own cost";
        return result;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    private static async Task<(double Wall, List<double> RunMs, List<double> TrivialLocalMs, List<double> TrivialClusterMs)?> MeasureAsync(
        PgServer pg, string siloDll, string moduleDll, int silos, WorkloadSpec spec, int cpuMs, bool hop, RunResult result, CancellationToken cancellationToken)
    {
        var db = await pg.CreateDatabaseAsync("fanoutcpu", cancellationToken);
        var clusterId = $"fanout-cpu-{Guid.NewGuid():n}"[..24];
        var processes = new List<Process>();
        try
        {
            Log.Info($"postgres fanout-cpu: starting {silos} Sayiir.Silo process(es)");
            for (var i = 0; i < silos; i++)
            {
                var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in new[]
                {
                    siloDll, "--Sayiir:Postgres", db.ConnectionString, "--Sayiir:ClusterId", clusterId, "--Sayiir:ServiceId", "sayiir-fanout-cpu",
                    "--Sayiir:SiloPort", FreePort().ToString(CultureInfo.InvariantCulture), "--Sayiir:GatewayPort", FreePort().ToString(CultureInfo.InvariantCulture),
                    "--Sayiir:AdvertisedAddress", "127.0.0.1", "--Sayiir:Modules", moduleDll,
                })
                {
                    info.ArgumentList.Add(a);
                }
                var process = Process.Start(info) ?? throw new InvalidOperationException("could not start Sayiir.Silo");
                processes.Add(process);
            }
            await Task.WhenAll(processes.Select(p => WaitStartedAsync(p, cancellationToken)));
            await WaitActiveAsync(db.ConnectionString, clusterId, silos, cancellationToken);

            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.UseOrleansClient(client => client
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = "sayiir-fanout-cpu";
                })
                .UseSayiirPostgresClustering(db.ConnectionString));
            builder.Services.AddSayiirClient();
            using var host = builder.Build();
            await host.StartAsync(cancellationToken);
            var client = host.Services.GetRequiredService<ISayiirClient>();

            async Task<double> RunOnceAsync(string workflow, int ms)
            {
                var id = $"{workflow}-{Guid.NewGuid():n}";
                var started = Stopwatch.GetTimestamp();
                await client.StartAsync(workflow, ms, id, cancellationToken: cancellationToken);
                var count = await client.WaitForResultAsync<int>(id, cancellationToken);
                if (count != FanoutCpuWorkflow.Branches) result.AddError($"{id}: output {count}, expected {FanoutCpuWorkflow.Branches}");
                return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            // Warm-up: every silo loads the code paths (and the placement learns every silo's profile).
            await RunOnceAsync(FanoutCpuWorkflow.ClusterName, cpuMs);
            await RunOnceAsync(FanoutCpuWorkflow.LocalName, 0);
            var wall = Stopwatch.StartNew();
            var runs = new List<double>();
            for (var i = 0; i < spec.Workflows; i++)
            {
                runs.Add(await RunOnceAsync(FanoutCpuWorkflow.ClusterName, cpuMs));
            }
            var elapsed = wall.Elapsed.TotalSeconds;
            var local = new List<double>();
            var clustered = new List<double>();
            if (hop)
            {
                for (var i = 0; i < Math.Max(spec.Workflows, 5); i++)
                {
                    local.Add(await RunOnceAsync(FanoutCpuWorkflow.LocalName, 0));
                    clustered.Add(await RunOnceAsync(FanoutCpuWorkflow.ClusterName, 0));
                }
            }
            var summary = string.Create(CultureInfo.InvariantCulture, $"postgres fanout-cpu: {silos} silo(s): run p50 {Median(runs):0} ms");
            if (hop) summary += string.Create(CultureInfo.InvariantCulture, $"; trivial fan-out local {Median(local):0} ms, cluster {Median(clustered):0} ms");
            Log.Info(summary);
            await host.StopAsync(cancellationToken);
            return (elapsed, runs, local, clustered);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Info($"postgres fanout-cpu: {silos} silo(s) failed: {ex.Message}");
            return null;
        }
        finally
        {
            foreach (var process in processes)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
                process.Dispose();
            }
            await db.DropAsync(CancellationToken.None);
        }
    }

    private static async Task WaitStartedAsync(Process process, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(90));
        // stderr is drained so a chatty silo never blocks on a full pipe.
        _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
        while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            if (!line.Contains("Sayiir silo started", StringComparison.Ordinal)) continue;
            _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            return;
        }
        throw new InvalidOperationException($"Sayiir.Silo (pid {process.Id}) exited during start-up");
    }

    private static async Task WaitActiveAsync(string connectionString, string clusterId, int silos, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        while (true)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @c AND status = 3", connection);
            command.Parameters.AddWithValue("c", clusterId);
            if (Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) >= silos) return;
            if (deadline.Elapsed > TimeSpan.FromSeconds(90)) throw new TimeoutException($"the membership table never showed {silos} active silos");
            await Task.Delay(200, cancellationToken);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
