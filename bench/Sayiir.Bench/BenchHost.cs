using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Sayiir.Hosting;

namespace Sayiir.Bench;

/// <summary>
/// A co-hosted silo (localhost clustering on free ports) with Sayiir and the benchmark workflows, the in-process
/// <see cref="ISayiirClient"/>, and a meter on Sayiir's grain storage that counts and times every state write.
/// Logging: Warning, Orleans Error, all to stderr (stdout carries only results).
/// </summary>
internal sealed class BenchHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;
    private bool _disposed;

    private BenchHost(IHost host, StorageMeter meter)
    {
        _host = host;
        Meter = meter;
        Client = host.Services.GetRequiredService<ISayiirClient>();
    }

    public ISayiirClient Client { get; }

    public StorageMeter Meter { get; }

    public static async Task<BenchHost> StartAsync(string? postgresConnectionString, IEnumerable<WorkflowDefinition> workflows, CancellationToken cancellationToken,
        bool encryption = false)
    {
        var meter = new StorageMeter();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        var siloPort = FreePort();
        var gatewayPort = FreePort();
        var definitions = workflows.ToList();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: $"sayiir-bench-{Guid.NewGuid():n}", clusterId: "sayiir-bench");
            silo.AddSayiir(s =>
            {
                foreach (var workflow in definitions) s.AddWorkflow(workflow);
                if (postgresConnectionString is not null) s.UsePostgres(postgresConnectionString);
                if (encryption)
                {
                    s.UseEncryption(new PayloadKeyring("bench", new Dictionary<string, byte[]>
                    {
                        ["bench"] = System.Security.Cryptography.RandomNumberGenerator.GetBytes(PayloadKeyring.KeySize),
                    }));
                }
            });
            MeteredGrainStorage.Install(silo.Services, SayiirOptions.StorageName, meter);
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new BenchHost(host, meter);
    }

    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await _host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("bench: warning: the silo did not stop within 90 s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await StopAsync();
        if (_host is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync();
        else _host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Counts Sayiir's grain-storage operations and times its successful writes (checkpoints).</summary>
internal sealed class StorageMeter
{
    private readonly Lock _gate = new();
    private long _writes;
    private long _reads;
    private List<double> _writeMs = [];

    /// <summary>Successful state writes (checkpoints) since the host started.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>State reads (one per activation) since the host started.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    public void RecordRead() => Interlocked.Increment(ref _reads);

    public void RecordWrite(double milliseconds)
    {
        Interlocked.Increment(ref _writes);
        lock (_gate) _writeMs.Add(milliseconds);
    }

    /// <summary>The write durations recorded since the last call, in milliseconds.</summary>
    public List<double> TakeWriteDurations()
    {
        lock (_gate)
        {
            var taken = _writeMs;
            _writeMs = [];
            return taken;
        }
    }
}

/// <summary>
/// Wraps the grain storage registered under Sayiir's storage name (memory or ADO.NET) to count and time its calls.
/// Installed by replacing the keyed <see cref="IGrainStorage"/> registration; lifecycle participation is forwarded.
/// </summary>
internal sealed class MeteredGrainStorage(IGrainStorage inner, StorageMeter meter) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public static void Install(IServiceCollection services, string storageName, StorageMeter meter)
    {
        var original = services.LastOrDefault(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, storageName))
            ?? throw new InvalidOperationException($"No grain storage named '{storageName}' is registered: cannot meter checkpoints.");
        services.Remove(original);
        services.Add(ServiceDescriptor.KeyedSingleton<IGrainStorage>(storageName, (sp, key) => new MeteredGrainStorage(Create(original, sp, key), meter)));
    }

    private static IGrainStorage Create(ServiceDescriptor original, IServiceProvider services, object? key)
    {
        if (original.KeyedImplementationFactory is { } factory) return (IGrainStorage)factory(services, key);
        if (original.KeyedImplementationInstance is IGrainStorage instance) return instance;
        return (IGrainStorage)ActivatorUtilities.CreateInstance(services, original.KeyedImplementationType!);
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        meter.RecordRead();
        return inner.ReadStateAsync(stateName, grainId, grainState);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var started = Stopwatch.GetTimestamp();
        await inner.WriteStateAsync(stateName, grainId, grainState);
        meter.RecordWrite(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (inner is ILifecycleParticipant<ISiloLifecycle> participant) participant.Participate(lifecycle);
    }
}
