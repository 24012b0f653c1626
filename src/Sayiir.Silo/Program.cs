// Sayiir.Silo: a standalone silo host.
//
//   dotnet run --project src/Sayiir.Silo                              in-memory storage, localhost clustering
//   dotnet run --project src/Sayiir.Silo -- --Sayiir:Postgres "Host=...;Database=...;Username=..."
//   SAYIIR__POSTGRES="Host=..." dotnet run --project src/Sayiir.Silo
//
// Workflows come from modules: assemblies listed in Sayiir:Modules (paths, ';'-separated or as an array),
// each exposing public ISayiirModule implementations.
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sayiir.Hosting;

var builder = Host.CreateApplicationBuilder(args);
var settings = SiloSettings.From(builder.Configuration);
var modules = settings.LoadModules();

builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort);
    silo.AddSayiir(sayiir =>
    {
        if (settings.Postgres is { } connectionString) sayiir.UsePostgres(connectionString);
        foreach (var module in modules) module.Configure(sayiir, builder.Services);
    });
});

using var host = builder.Build();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sayiir.Silo");
logger.LogInformation("Sayiir silo starting: storage {Storage}, {ModuleCount} module(s), silo port {SiloPort}, gateway port {GatewayPort}",
    settings.Postgres is null ? "in-memory" : "PostgreSQL", modules.Count, settings.SiloPort, settings.GatewayPort);
await host.RunAsync();

/// <summary>The host's settings, from configuration (appsettings, SAYIIR__* environment variables, command line).</summary>
internal sealed record SiloSettings(string? Postgres, int SiloPort, int GatewayPort, IReadOnlyList<string> ModulePaths)
{
    public static SiloSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Sayiir");
        var modules = section.GetSection("Modules").Get<string[]>()
            ?? (section["Modules"]?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? []);
        return new SiloSettings(
            string.IsNullOrWhiteSpace(section["Postgres"]) ? null : section["Postgres"],
            section.GetValue("SiloPort", 11111),
            section.GetValue("GatewayPort", 30000),
            modules);
    }

    public List<ISayiirModule> LoadModules()
    {
        var modules = new List<ISayiirModule>();
        foreach (var path in ModulePaths)
        {
            var assembly = Assembly.LoadFrom(Path.GetFullPath(path));
            var types = assembly.GetExportedTypes()
                .Where(t => typeof(ISayiirModule).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
                .ToList();
            if (types.Count == 0) throw new InvalidOperationException($"Module assembly '{path}' has no public ISayiirModule implementation with a parameterless constructor.");
            modules.AddRange(types.Select(t => (ISayiirModule)Activator.CreateInstance(t)!));
        }
        return modules;
    }
}
