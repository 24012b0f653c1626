// Sayiir scheduled workflow: a durable interval schedule declared in code, in a co-hosted silo with the embedded
// (in-memory) default. Prints each run as it starts and completes, then pauses the schedule and exits.
// Run it with:  dotnet run --project samples/Scheduled            (three runs; --runs N for more)
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sayiir;
using Sayiir.Hosting;
using Sayiir.Samples.Scheduled;

var runs = args is ["--runs", var n] && int.TryParse(n, out var parsed) && parsed > 0 ? parsed : 3;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
// One instance: it observes the runs and the program waits on it.
var printer = new PrintRuns();
builder.Services.AddSingleton<IRunObserver>(printer);
builder.UseOrleans(silo => silo
    .UseLocalhostClustering()
    .AddSayiir(s => s
        // Created at start-up, or updated if its spec changed since the last deploy (never duplicated).
        .AddSchedule(HeartbeatReport.ScheduleId, HeartbeatReport.Schedule, HeartbeatReport.Definition, HeartbeatReport.Input)));

using var host = builder.Build();
await host.StartAsync();
var sayiir = host.Services.GetRequiredService<ISayiirClient>();
var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

var schedule = await sayiir.GetScheduleAsync(HeartbeatReport.ScheduleId);
Console.WriteLine($"schedule '{schedule.ScheduleId}': {schedule.Spec.Describe()}, next tick {schedule.NextTickAt:HH:mm:ss}");
Console.WriteLine($"(in production: {HeartbeatReport.Nightly.Describe()})");

try
{
    await printer.WaitForAsync(runs).WaitAsync(stopping);
}
catch (OperationCanceledException)
{
    // Ctrl+C: stop without the summary.
    await host.StopAsync();
    return;
}
var paused = await sayiir.PauseScheduleAsync(HeartbeatReport.ScheduleId, "sample done");
Console.WriteLine($"paused after {paused.RunsStarted} run(s); last tick {paused.LastTickAt:HH:mm:ss}, run '{paused.LastRunId}'");
foreach (var result in printer.Completed.Take(runs))
    Console.WriteLine($"  {result} => {await sayiir.WaitForResultAsync<string>(result)}");

await host.StopAsync();

namespace Sayiir.Samples.Scheduled
{
    /// <summary>Prints the scheduled runs as they change, and lets the program wait for a number of completed runs.</summary>
    internal sealed class PrintRuns : IRunObserver
    {
        private readonly List<string> _completed = [];
        private readonly TaskCompletionSource _enough = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _wanted = int.MaxValue;

        public IReadOnlyList<string> Completed
        {
            get
            {
                lock (_completed) return [.. _completed];
            }
        }

        public Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken)
        {
            if (change.WorkflowName != HeartbeatReport.Definition.Name) return Task.CompletedTask;
            Console.WriteLine($"{change.At:HH:mm:ss.fff} {change.InstanceId}: {change.State}");
            if (change.State != WorkflowState.Completed) return Task.CompletedTask;
            lock (_completed)
            {
                _completed.Add(change.InstanceId);
                if (_completed.Count >= _wanted) _enough.TrySetResult();
            }
            return Task.CompletedTask;
        }

        public Task WaitForAsync(int runs)
        {
            lock (_completed)
            {
                _wanted = runs;
                if (_completed.Count >= runs) _enough.TrySetResult();
            }
            return _enough.Task;
        }
    }
}
