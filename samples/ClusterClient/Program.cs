// ClusterClient: a client-only application that runs workflows on a Sayiir cluster.
//
// It holds no silo and registers no task service: it finds the cluster's gateways in the PostgreSQL membership table,
// starts runs of the pipeline workflow (whose definition it shares with the silos through samples/ClusterWorkflows),
// waits for every result and checks it. The task bodies run on the silos, which load ClusterWorkflows as a module.
//
//   dotnet run --project samples/ClusterClient -- --Sayiir:Postgres "Host=...;Database=...;Username=..." --ClusterClient:Runs 40
//
// Exit status: 0 when every run completed with the expected output; 1 when a run failed, returned a wrong output or
// did not finish in time; 2 for invalid settings; 3 when the cluster could not be reached.
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Sayiir;
using Sayiir.Hosting;
using Sayiir.Samples.ClusterClient;
using Sayiir.Samples.ClusterWorkflows;

var builder = Host.CreateApplicationBuilder(args);
// Quiet by default; Logging:LogLevel:* settings from any source override these.
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
{
    InitialData = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning", ["Logging:LogLevel:Orleans"] = "Error" },
});

ClientSettings settings;
try
{
    settings = ClientSettings.From(builder.Configuration);
}
catch (Exception ex) when (ex is InvalidOperationException or FormatException)
{
    await Console.Error.WriteLineAsync($"ClusterClient: invalid settings: {ex.Message}");
    return 2;
}

var connectDeadline = DateTimeOffset.UtcNow + settings.ConnectTimeout;
builder.UseOrleansClient(client => client
    .Configure<ClusterOptions>(o =>
    {
        o.ClusterId = settings.ClusterId;
        o.ServiceId = settings.ServiceId;
    })
    .UseSayiirPostgresClustering(settings.Postgres)
    // The silos may still be starting: keep trying to reach a gateway until ConnectTimeout.
    .UseConnectionRetryFilter(async (exception, cancellationToken) =>
    {
        if (DateTimeOffset.UtcNow >= connectDeadline) return false;
        Console.Error.WriteLine($"ClusterClient: no gateway yet ({exception.GetType().Name}: {exception.Message}); retrying");
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        return true;
    }));
builder.Services.AddSayiirClient();

using var host = builder.Build();
try
{
    await host.StartAsync();
}
catch (Exception ex)
{
    await Console.Error.WriteLineAsync(
        $"ClusterClient: cannot connect to cluster '{settings.ClusterId}' (service '{settings.ServiceId}') through {settings.DescribePostgres()}: {ex.GetType().Name}: {ex.Message}");
    return 3;
}

var sayiir = host.Services.GetRequiredService<ISayiirClient>();
using var timeout = new CancellationTokenSource(settings.Timeout);
var clock = System.Diagnostics.Stopwatch.StartNew();

// Start every run first (durably recorded), then wait for all of them: runs execute concurrently on the silos.
var ids = Enumerable.Range(1, settings.Runs).Select(i => (Input: i, InstanceId: $"{settings.RunIdPrefix}-{i:D4}")).ToList();
try
{
    await Task.WhenAll(ids.Select(run => Retry.TransientAsync(
        () => sayiir.StartAsync(PipelineWorkflow.Definition, run.Input, run.InstanceId,
            // A start retried after a lost reply must join the run it created, not fail on it.
            new StartOptions { OnConflict = ConflictPolicy.UseExisting }, timeout.Token),
        timeout.Token)));
}
catch (Exception ex)
{
    await Console.Error.WriteLineAsync($"ClusterClient: starting the runs failed: {ex.GetType().Name}: {ex.Message}");
    await host.StopAsync(CancellationToken.None);
    return 1;
}
Console.WriteLine($"ClusterClient: started {settings.Runs} run(s) of {PipelineWorkflow.Name} (ids {settings.RunIdPrefix}-0001…) in {clock.Elapsed.TotalSeconds:F1} s");

var outcomes = await Task.WhenAll(ids.Select(async run =>
{
    try
    {
        var output = await sayiir.WaitForResultAsync<long>(run.InstanceId, timeout.Token);
        var expected = PipelineWorkflow.ExpectedOutput(run.Input);
        var ok = output == expected;
        Console.WriteLine($"run {run.InstanceId}: completed at {clock.Elapsed.TotalSeconds:F1} s (unix ms {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}), output {output}{(ok ? "" : $" WRONG (expected {expected})")}");
        return ok;
    }
    catch (OperationCanceledException) when (timeout.IsCancellationRequested)
    {
        Console.WriteLine($"run {run.InstanceId}: NOT FINISHED within {settings.Timeout}");
        return false;
    }
    catch (SayiirException ex)
    {
        Console.WriteLine($"run {run.InstanceId}: FAILED: {ex.GetType().Name}: {ex.Message}");
        return false;
    }
}));

var good = outcomes.Count(ok => ok);
Console.WriteLine($"ClusterClient: {good}/{settings.Runs} run(s) completed with the expected output in {clock.Elapsed.TotalSeconds:F1} s");
await host.StopAsync(CancellationToken.None);
return good == settings.Runs ? 0 : 1;
