using Microsoft.Extensions.Logging;

namespace Sayiir.Silo;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information,
        "Sayiir silo starting: cluster {ClusterId}, service {ServiceId}, clustering {Clustering}, storage {Storage}, advertised address {Address}, silo port {SiloPort}, gateway port {GatewayPort}, {ModuleCount} module(s)")]
    public static partial void Starting(ILogger logger, string clusterId, string serviceId, string clustering, string storage, string address,
        int siloPort, int gatewayPort, int moduleCount);

    [LoggerMessage(2, LogLevel.Information, "Sayiir silo started (pid {ProcessId}, silo port {SiloPort}, gateway port {GatewayPort})")]
    public static partial void Started(ILogger logger, int processId, int siloPort, int gatewayPort);

    [LoggerMessage(3, LogLevel.Critical, "Sayiir silo cannot start: storage {Target} unavailable: {Message}")]
    public static partial void StorageUnavailable(ILogger logger, string target, string message);

    [LoggerMessage(4, LogLevel.Critical, "Sayiir silo cannot start")]
    public static partial void StartFailed(ILogger logger, Exception exception);

    [LoggerMessage(5, LogLevel.Information, "Sayiir dashboard serving at {Urls}")]
    public static partial void DashboardStarted(ILogger logger, string urls);
}
