// Sayiir observability: traces and metrics to the OpenTelemetry console exporter, then the run's history and a
// listing of runs. Run it with:  dotnet run --project samples/Observability
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Sayiir;
using Sayiir.Hosting;
using Sayiir.Observability;

var shipping = Flow.Create<string>("ship_parcel")
    .Then("label", (string parcel) => $"label:{parcel}")
    .Then("pickup", (string label, TaskContext ctx) => ctx.Attempt == 1
        ? Task.FromException<string>(new TimeoutException("carrier API timed out"))
        : Task.FromResult($"{label}:picked-up"), o => o.Retry = RetryPolicy.Fixed(3, TimeSpan.FromMilliseconds(100)))
    .Delay("in_transit", TimeSpan.FromMilliseconds(300))
    .Then("deliver", (string parcel) => $"{parcel}:delivered")
    .Build();

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error).AddFilter("Sayiir", LogLevel.Error);
builder.Services.AddOpenTelemetry()
    .WithTracing(tracing => tracing.AddSource(SayiirTelemetry.Name, "Sample").AddConsoleExporter())
    .WithMetrics(metrics => metrics.AddMeter(SayiirTelemetry.Name).AddConsoleExporter());
builder.UseOrleans(silo => silo.UseLocalhostClustering().AddSayiir(s => s.AddWorkflow(shipping)));

using var host = builder.Build();
await host.StartAsync();
var sayiir = host.Services.GetRequiredService<ISayiirClient>();

// The caller's span becomes the parent of the run: one trace from the request to the last task.
using var source = new ActivitySource("Sample");
var instanceId = $"parcel-{Guid.NewGuid():n}";
using (source.StartActivity("checkout"))
{
    Console.WriteLine($"Result: {await sayiir.RunAsync(shipping, "p-1001", instanceId)}");
}

Console.WriteLine();
Console.WriteLine($"History of {instanceId}:");
foreach (var e in await sayiir.GetHistoryAsync(instanceId))
{
    Console.WriteLine($"  {e.At:HH:mm:ss.fff} {e.Kind,-14} {e.TaskId,-10} {(e.Attempt is { } a ? $"attempt {a}" : ""),-10} " +
        $"{(e.Duration is { } d ? $"{d.TotalMilliseconds:0.0} ms" : "")} {e.Detail} {e.ErrorType} {e.Message}");
}

Console.WriteLine();
Console.WriteLine("Completed runs of ship_parcel, newest first:");
var page = await sayiir.ListRunsAsync(new RunQuery { WorkflowName = shipping.Name, States = [WorkflowState.Completed], PageSize = 10 });
foreach (var run in page.Runs) Console.WriteLine($"  {run.InstanceId} {run.State} created {run.CreatedAt:o}");

// Stopping the host flushes the exporters (the metrics appear below).
await host.StopAsync();
