using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Sayiir.Persistence;
using Sayiir.Hosting;

namespace Sayiir.Silo;

/// <summary>How the silo finds the other silos of its cluster.</summary>
internal enum ClusteringMode
{
    /// <summary>A single development silo on the loopback address; no membership table.</summary>
    Localhost,

    /// <summary>Orleans ADO.NET membership table in the PostgreSQL database of <see cref="SiloSettings.Postgres"/>.</summary>
    Postgres,
}

/// <summary>
/// Failure-detection timings (Orleans <c>ClusterMembershipOptions</c>), from <c>Sayiir:Membership:*</c>. Each one is
/// optional: unset means Orleans' own default. The README lists the defaults and the fast-detection values.
/// </summary>
internal sealed class MembershipSettings
{
    /// <summary>Initial timeout of a liveness probe. Orleans default 5 s.</summary>
    public TimeSpan? ProbeTimeout { get; init; }

    /// <summary>Missed probes after which a silo is suspected (and voted dead). Orleans default 3.</summary>
    public int? NumMissedProbesLimit { get; init; }

    /// <summary>Period of a silo's heartbeat row update in the membership table. Orleans default 30 s.</summary>
    public TimeSpan? IAmAliveTablePublishTimeout { get; init; }

    /// <summary>Missed heartbeats after which an active row counts as stale. Orleans default 2.</summary>
    public int? NumMissedTableIAmAliveLimit { get; init; }

    /// <summary>Period of re-reading the membership table. Orleans default 60 s.</summary>
    public TimeSpan? TableRefreshTimeout { get; init; }
}

/// <summary>
/// The host's settings, from the <c>Sayiir</c> configuration section: <c>appsettings.json</c> in the working
/// directory (optional), environment variables (<c>SAYIIR__GATEWAYPORT=30001</c>), command line
/// (<c>--Sayiir:GatewayPort 30001</c>); later sources win. Every setting and default is listed in the README.
/// </summary>
internal sealed class SiloSettings
{
    /// <summary>Default silo-to-silo port (Orleans' default).</summary>
    public const int DefaultSiloPort = 11111;

    /// <summary>Default client gateway port (Orleans' default).</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>Npgsql connection string. Default: null, for in-memory storage and reminders.</summary>
    public string? Postgres { get; init; }

    /// <summary>How silos find each other. Default: localhost when <see cref="Postgres"/> is null, else Postgres.</summary>
    public ClusteringMode Clustering { get; init; }

    /// <summary>Orleans cluster id: silos and clients with the same one form a cluster. Default "sayiir".</summary>
    public string ClusterId { get; init; } = "sayiir";

    /// <summary>Orleans service id: keys grain state and reminders; keep it stable across deployments. Default "sayiir".</summary>
    public string ServiceId { get; init; } = "sayiir";

    /// <summary>Silo-to-silo port. Default 11111.</summary>
    public int SiloPort { get; init; } = DefaultSiloPort;

    /// <summary>Client gateway port. Default 30000.</summary>
    public int GatewayPort { get; init; } = DefaultGatewayPort;

    /// <summary>The address other silos and clients use to reach this one. Default: null, Orleans picks (loopback for localhost clustering).</summary>
    public IPAddress? AdvertisedAddress { get; init; }

    /// <summary>Listen on all interfaces instead of only <see cref="AdvertisedAddress"/> (behind NAT/containers with a published address). Default false.</summary>
    public bool ListenOnAnyAddress { get; init; }

    /// <summary>Period of the per-run recovery reminder. Default: null, the engine default (1 minute).</summary>
    public TimeSpan? RecoveryReminderPeriod { get; init; }

    /// <summary>Failure-detection timings. Default: none set (Orleans' defaults).</summary>
    public MembershipSettings Membership { get; init; } = new();

    /// <summary>The keys of encryption at rest (Sayiir:Encryption); null (the default) stores runs in clear.</summary>
    public PayloadKeyring? Encryption { get; init; }

    /// <summary>The dashboard this silo serves; null (the default) serves none.</summary>
    public DashboardSettings? Dashboard { get; init; }

    /// <summary>Paths of module assemblies (each exposing public <see cref="ISayiirModule"/> implementations). Default: none.</summary>
    public IReadOnlyList<string> ModulePaths { get; init; } = [];

    /// <summary>Reads and validates the settings.</summary>
    /// <exception cref="ValidationException">A setting is malformed or out of range; the message lists every problem.</exception>
    public static SiloSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Sayiir");
        var errors = new List<string>();
        var defaults = new SiloSettings();

        var postgres = Trimmed(section["Postgres"]);
        if (postgres is not null)
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(postgres);
            }
            catch (ArgumentException ex)
            {
                errors.Add($"Sayiir:Postgres is not a valid Npgsql connection string ({ex.Message})");
            }
        }

        var clustering = postgres is null ? ClusteringMode.Localhost : ClusteringMode.Postgres;
        if (Trimmed(section["Clustering"]) is { } clusteringText)
        {
            if (Enum.TryParse<ClusteringMode>(clusteringText, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)) clustering = parsed;
            else errors.Add($"Sayiir:Clustering must be 'localhost' or 'postgres' (was '{clusteringText}')");
        }
        if (clustering == ClusteringMode.Postgres && postgres is null)
            errors.Add("Sayiir:Clustering is 'postgres' but Sayiir:Postgres (SAYIIR__POSTGRES) is not set");

        var clusterId = Trimmed(section["ClusterId"]) ?? defaults.ClusterId;
        var serviceId = Trimmed(section["ServiceId"]) ?? defaults.ServiceId;
        CheckId("ClusterId", clusterId, errors);
        CheckId("ServiceId", serviceId, errors);

        var siloPort = Read(section, "SiloPort", defaults.SiloPort, int.TryParse, errors);
        var gatewayPort = Read(section, "GatewayPort", defaults.GatewayPort, int.TryParse, errors);
        if (siloPort is < 1 or > 65535) errors.Add($"Sayiir:SiloPort must be within [1, 65535] (was {siloPort})");
        if (gatewayPort is < 1 or > 65535) errors.Add($"Sayiir:GatewayPort must be within [1, 65535] (was {gatewayPort})");
        if (siloPort == gatewayPort) errors.Add($"Sayiir:SiloPort and Sayiir:GatewayPort must differ (both {siloPort})");

        IPAddress? advertised = null;
        if (Trimmed(section["AdvertisedAddress"]) is { } addressText)
        {
            advertised = ResolveAddress(addressText, errors);
            if (advertised is not null && clustering == ClusteringMode.Localhost && !IPAddress.IsLoopback(advertised))
                errors.Add($"Sayiir:AdvertisedAddress must be a loopback address with localhost clustering (was {advertised})");
        }
        var listenOnAny = Read(section, "ListenOnAnyAddress", false, bool.TryParse, errors);

        var recovery = ReadOptional<TimeSpan>(section, "RecoveryReminderPeriod", TryParseDuration, errors);
        if (recovery is { } period && period < TimeSpan.FromSeconds(1))
            errors.Add($"Sayiir:RecoveryReminderPeriod must be at least 00:00:01 (was {period})");

        var m = section.GetSection("Membership");
        var membership = new MembershipSettings
        {
            ProbeTimeout = Positive(m, "ProbeTimeout", errors),
            NumMissedProbesLimit = AtLeastOne(m, "NumMissedProbesLimit", errors),
            IAmAliveTablePublishTimeout = Positive(m, "IAmAliveTablePublishTimeout", errors),
            NumMissedTableIAmAliveLimit = AtLeastOne(m, "NumMissedTableIAmAliveLimit", errors),
            TableRefreshTimeout = Positive(m, "TableRefreshTimeout", errors),
        };

        var modulesSection = section.GetSection("Modules");
        var modules = modulesSection.GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Length > 0).ToList();
        if (modules.Count == 0 && modulesSection.Value is { } list)
            modules = [.. list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        foreach (var path in modules.Where(p => !File.Exists(p)))
            errors.Add($"Sayiir:Modules: no such file '{Path.GetFullPath(path)}'");

        DashboardSettings? dashboard = null;
        var d = section.GetSection("Dashboard");
        if (ReadOptional<int>(d, "Port", int.TryParse, errors) is { } dashboardPort)
        {
            if (dashboardPort is < 1 or > 65535) errors.Add($"Sayiir:Dashboard:Port must be within [1, 65535] (was {dashboardPort})");
            if (dashboardPort == siloPort || dashboardPort == gatewayPort)
                errors.Add($"Sayiir:Dashboard:Port must differ from the silo and gateway ports (was {dashboardPort})");
            var path = Trimmed(d["Path"]) ?? DashboardSettings.DefaultPath;
            if (!path.StartsWith('/') || path.Length < 2 || path.EndsWith('/'))
                errors.Add($"Sayiir:Dashboard:Path must start with '/' and not end with one, e.g. /sayiir (was '{path}')");
            dashboard = new DashboardSettings
            {
                Port = dashboardPort,
                Path = path,
                ReadOnly = Read(d, "ReadOnly", false, bool.TryParse, errors),
                AllowRemoteActions = Read(d, "AllowRemoteActions", false, bool.TryParse, errors),
            };
        }
        else if (d.GetChildren().Any())
        {
            errors.Add("Sayiir:Dashboard:Port is required to serve the dashboard (other Sayiir:Dashboard settings are set)");
        }

        PayloadKeyring? encryption = null;
        if (configuration.GetSection(PayloadKeyring.ConfigurationSection).Exists())
        {
            try
            {
                encryption = PayloadKeyring.FromConfiguration(configuration);
            }
            catch (InvalidOperationException ex)
            {
                errors.Add(ex.Message.TrimEnd('.'));
            }
        }

        if (errors.Count > 0) throw new ValidationException("Invalid settings: " + string.Join("; ", errors) + ".");
        return new SiloSettings
        {
            Postgres = postgres,
            Clustering = clustering,
            ClusterId = clusterId,
            ServiceId = serviceId,
            SiloPort = siloPort,
            GatewayPort = gatewayPort,
            AdvertisedAddress = advertised,
            ListenOnAnyAddress = listenOnAny,
            RecoveryReminderPeriod = recovery,
            Membership = membership,
            ModulePaths = modules,
            Dashboard = dashboard,
            Encryption = encryption,
        };
    }

    /// <summary>Instantiates the public parameterless <see cref="ISayiirModule"/> types of every module assembly.</summary>
    /// <exception cref="ValidationException">An assembly cannot be loaded or has no module.</exception>
    public List<ISayiirModule> LoadModules()
    {
        var modules = new List<ISayiirModule>();
        foreach (var path in ModulePaths)
        {
            Assembly assembly;
            try
            {
                assembly = Assembly.LoadFrom(Path.GetFullPath(path));
            }
            catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or FileNotFoundException)
            {
                throw new ValidationException($"Module assembly '{path}' cannot be loaded: {ex.Message}", null, ex);
            }
            var types = assembly.GetExportedTypes()
                .Where(t => typeof(ISayiirModule).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
                .ToList();
            if (types.Count == 0) throw new ValidationException($"Module assembly '{path}' has no public ISayiirModule implementation with a parameterless constructor.");
            modules.AddRange(types.Select(t => (ISayiirModule)Activator.CreateInstance(t)!));
        }
        return modules;
    }

    /// <summary>The PostgreSQL server and database as <c>host:port/database</c>, without credentials.</summary>
    public string DescribePostgres() => Postgres is null ? "(none)" : PostgresTarget.Describe(Postgres);

    private delegate bool TryParser<T>(string text, out T value);

    private static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static T Read<T>(IConfigurationSection section, string key, T fallback, TryParser<T> parse, List<string> errors) where T : struct =>
        ReadOptional(section, key, parse, errors) ?? fallback;

    private static T? ReadOptional<T>(IConfigurationSection section, string key, TryParser<T> parse, List<string> errors) where T : struct
    {
        if (Trimmed(section[key]) is not { } text) return null;
        if (parse(text, out var value)) return value;
        errors.Add($"{section.Path}:{key} has an invalid value '{text}'" + (typeof(T) == typeof(TimeSpan) ? " (expected hh:mm:ss[.fff], e.g. 00:00:02)" : ""));
        return null;
    }

    private static TimeSpan? Positive(IConfigurationSection section, string key, List<string> errors)
    {
        var value = ReadOptional<TimeSpan>(section, key, TryParseDuration, errors);
        if (value is { } v && v <= TimeSpan.Zero) errors.Add($"{section.Path}:{key} must be positive (was {v})");
        return value;
    }

    private static int? AtLeastOne(IConfigurationSection section, string key, List<string> errors)
    {
        var value = ReadOptional<int>(section, key, int.TryParse, errors);
        if (value is < 1) errors.Add($"{section.Path}:{key} must be at least 1 (was {value})");
        return value;
    }

    // The format the configuration binder uses for SayiirOptions (which also reads Sayiir:RecoveryReminderPeriod), so
    // both agree on a value; a bare number ("2", which .NET reads as 2 days) is refused as almost surely a mistake.
    private static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        return text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

    private static void CheckId(string key, string value, List<string> errors)
    {
        if (value.Length > 150 || value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            errors.Add($"Sayiir:{key} must be at most 150 characters without spaces (was '{value}')");
    }

    private static IPAddress? ResolveAddress(string text, List<string> errors)
    {
        if (IPAddress.TryParse(text, out var ip)) return ip;
        try
        {
            // A host name (e.g. a compose service name) is resolved once, at start-up.
            var addresses = Dns.GetHostAddresses(text);
            var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            if (chosen is not null) return chosen;
            errors.Add($"Sayiir:AdvertisedAddress '{text}' resolves to no address");
        }
        catch (SocketException ex)
        {
            errors.Add($"Sayiir:AdvertisedAddress '{text}' is neither an IP address nor a resolvable host name ({ex.Message})");
        }
        return null;
    }
}

/// <summary>The dashboard a silo serves (Sayiir:Dashboard:*).</summary>
internal sealed record DashboardSettings
{
    /// <summary>The default mount path.</summary>
    public const string DefaultPath = "/sayiir";

    /// <summary>The HTTP port (Sayiir:Dashboard:Port). It listens on every address when Sayiir:ListenOnAnyAddress is true, else on loopback.</summary>
    public int Port { get; init; }

    /// <summary>Where the pages and the API are mounted (Sayiir:Dashboard:Path). Default /sayiir.</summary>
    public string Path { get; init; } = DefaultPath;

    /// <summary>Pages and API without actions (Sayiir:Dashboard:ReadOnly). Default false.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Allow actions from other machines than this one (Sayiir:Dashboard:AllowRemoteActions). Default false: loopback only.</summary>
    public bool AllowRemoteActions { get; init; }
}
