using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Sayiir.Tests.Hosting;

/// <summary>
/// Generic hosts built the way an application builds them (not through the TestingHost), each a single localhost silo
/// of its own cluster on free ports, so start-up behaviour (options validation, registration) is the real one.
/// </summary>
internal static class TestHosts
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A silo host builder: no configuration but <paramref name="settings"/>, no log output.</summary>
    public static SiloHostBuilder Silo(Action<ISiloBuilder> configure, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        var (siloPort, gatewayPort) = FreePorts();
        var cluster = $"hosting-{Guid.NewGuid():n}";
        ISiloBuilder? silo = null;
        builder.UseOrleans(s =>
        {
            silo = s;
            s.UseLocalhostClustering(siloPort, gatewayPort, serviceId: cluster, clusterId: cluster);
            configure(s);
        });
        return new SiloHostBuilder(builder, silo!, gatewayPort, cluster);
    }

    /// <summary>A client-only host of the silo's cluster.</summary>
    public static HostApplicationBuilder Client(SiloHostBuilder silo)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseOrleansClient(c => c.UseLocalhostClustering(silo.GatewayPort, serviceId: silo.Cluster, clusterId: silo.Cluster));
        return builder;
    }

    public static async Task StartAsync(IHost host)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        await host.StartAsync(timeout.Token);
    }

    public static async Task StopAsync(IHost host)
    {
        try
        {
            using var timeout = new CancellationTokenSource(StartTimeout);
            await host.StopAsync(timeout.Token);
        }
        finally
        {
            host.Dispose();
        }
    }

    // Both listeners are held until both ports are known, so the two ports differ.
    private static (int Silo, int Gateway) FreePorts()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        using var second = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        second.Start();
        var ports = (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
        first.Stop();
        second.Stop();
        return ports;
    }
}

/// <summary>A silo host being configured, with what a client of it needs.</summary>
internal sealed record SiloHostBuilder(HostApplicationBuilder Builder, ISiloBuilder Silo, int GatewayPort, string Cluster);
