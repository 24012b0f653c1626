// Sayiir dashboard sample: a co-hosted silo (in-memory storage) with a few workflows, and the dashboard at /sayiir.
// Run it with:  dotnet run --project samples/Dashboard      then open the printed URL.
// Options: --urls http://127.0.0.1:5080 (the default), --Sayiir:SiloPort=11111 --Sayiir:GatewayPort=30000.
using DashboardSample;
using Sayiir;
using Sayiir.Dashboard;
using Sayiir.Hosting;

var builder = WebApplication.CreateBuilder(args);
// Loopback only by default: without authorization, actions are allowed only from this machine anyway.
if (builder.Configuration["urls"] is null) builder.WebHost.UseUrls("http://127.0.0.1:5080");
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
builder.UseOrleans(silo => silo
    .UseLocalhostClustering(
        siloPort: builder.Configuration.GetValue("Sayiir:SiloPort", 11111),
        gatewayPort: builder.Configuration.GetValue("Sayiir:GatewayPort", 30000))
    .AddSayiir(s =>
    {
        foreach (var workflow in DemoWorkflows.All) s.AddWorkflow(workflow);
    }));
builder.Services.AddSayiirDashboard();

var app = builder.Build();
app.MapSayiirDashboard("/sayiir");
app.MapGet("/", () => Results.Redirect("/sayiir/"));
await app.StartAsync();

await DemoWorkflows.StartDemoRunsAsync(app.Services.GetRequiredService<ISayiirClient>());
foreach (var url in app.Urls) Console.WriteLine($"Sayiir dashboard: {url.TrimEnd('/')}/sayiir/");
Console.WriteLine("Press Ctrl+C to stop.");
await app.WaitForShutdownAsync();
