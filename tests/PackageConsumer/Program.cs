// The packaged-consumer check (eng/package-test.sh): a co-hosted silo on the in-memory default runs a two-step flow
// (a delegate task and a DI class task) using only Sayiir's packages. Exits 0 and prints "package-consumer: PASS"
// when the run completes with the expected output; anything else exits non-zero. Then the Sayiir.Testing package: a
// test environment on virtual time runs a flow with a one-day delay through AdvanceTimeAsync. Then the Sayiir.Dashboard
// package: a web app co-hosting a silo serves the dashboard, and its API lists a run the app started.
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sayiir;
using Sayiir.Dashboard;
using Sayiir.Hosting;
using Sayiir.Testing;

var greet = Flow.Create<string>("package_consumer_greet")
    .Then("hello", (string name) => $"Hello, {name}")
    .Then<Shout, string>()
    .Build();

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
builder.UseOrleans(silo => silo
    .UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort())   // free ports: other silos may run here
    .AddSayiir(s => s.AddWorkflow(greet)));

using var host = builder.Build();
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
await host.StartAsync(deadline.Token);

var sayiir = host.Services.GetRequiredService<ISayiirClient>();
var instanceId = $"package-consumer-{Guid.NewGuid():n}";
var output = await sayiir.RunAsync(greet, input: "package", instanceId: instanceId, cancellationToken: deadline.Token);
var status = await sayiir.GetStatusAsync(instanceId, deadline.Token);
await host.StopAsync(CancellationToken.None);

Console.WriteLine($"package-consumer: output \"{output}\", state {status.State}, " +
                  $"Sayiir.Grains {typeof(SayiirSiloBuilder).Assembly.GetName().Version}");
const string Expected = "HELLO, PACKAGE";
if (output != Expected || status.State != WorkflowState.Completed)
{
    Console.Error.WriteLine($"package-consumer: FAIL: expected \"{Expected}\" and state Completed");
    return 1;
}
var nap = Flow.Create<int>("package_consumer_nap")
    .Delay("nap", TimeSpan.FromDays(1))
    .Then("double", (int x) => x * 2)
    .Build();
await using (var env = await SayiirTestEnvironment.StartAsync(o => o.AddWorkflow(nap), deadline.Token))
{
    var napId = $"package-consumer-nap-{Guid.NewGuid():n}";
    await env.Client.StartAsync(nap, 21, napId, cancellationToken: deadline.Token);
    await env.AdvanceTimeAsync(TimeSpan.FromDays(1), deadline.Token);
    var napStatus = await env.Client.GetStatusAsync(napId, deadline.Token);
    var napOutput = await env.Client.WaitForResultAsync<int>(napId, deadline.Token);
    Console.WriteLine($"package-consumer: Sayiir.Testing run {napStatus.State} with {napOutput} after one virtual day");
    if (napStatus.State != WorkflowState.Completed || napOutput != 42)
    {
        Console.Error.WriteLine("package-consumer: FAIL: expected the Sayiir.Testing run Completed with 42");
        return 1;
    }
}
var web = WebApplication.CreateBuilder();
web.WebHost.UseUrls("http://127.0.0.1:0");
web.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
web.UseOrleans(silo => silo
    .UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort())
    .AddSayiir(s => s.AddWorkflow(greet)));
web.Services.AddSayiirDashboard();
await using (var app = web.Build())
{
    app.MapSayiirDashboard("/sayiir");
    await app.StartAsync(deadline.Token);
    var listedId = $"package-consumer-web-{Guid.NewGuid():n}";
    await app.Services.GetRequiredService<ISayiirClient>().RunAsync(greet, "web", listedId, cancellationToken: deadline.Token);
    using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
    var listing = "";
    // The listing is written just after the run's own state: look again briefly.
    for (var look = 0; look < 50 && !listing.Contains(listedId, StringComparison.Ordinal); look++)
    {
        if (look > 0) await Task.Delay(100, deadline.Token);
        listing = await http.GetStringAsync($"/sayiir/api/runs?workflow={greet.Name}", deadline.Token);
    }
    var page = await http.GetStringAsync("/sayiir/", deadline.Token);
    await app.StopAsync(CancellationToken.None);
    Console.WriteLine($"package-consumer: Sayiir.Dashboard listed the run: {listing.Contains(listedId, StringComparison.Ordinal)}; page {page.Length} bytes");
    if (!listing.Contains(listedId, StringComparison.Ordinal) || !page.Contains("<html", StringComparison.OrdinalIgnoreCase))
    {
        Console.Error.WriteLine("package-consumer: FAIL: expected the dashboard API to list the run and its page to be served");
        return 1;
    }
}
Console.WriteLine("package-consumer: PASS");
return 0;

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

/// <summary>The second step: a class task resolved from dependency injection.</summary>
internal sealed class Shout : IWorkflowTask<string, string>
{
    public Task<string> ExecuteAsync(string input, TaskContext context) => Task.FromResult(input.ToUpperInvariant());
}
