using System.Diagnostics;
using System.Globalization;

namespace Sayiir.Chaos;

/// <summary>One real Sayiir.Silo process, output to its own log file; its pid is appended to the work dir's pid file (the script's cleanup uses it).</summary>
internal sealed class SiloProcess
{
    private readonly Process _process;

    private SiloProcess(string name, Process process, int siloPort, int gatewayPort, string logPath)
    {
        Name = name;
        _process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        LogPath = logPath;
        StartedAt = DateTimeOffset.UtcNow;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public string LogPath { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>When its log said "Sayiir silo started".</summary>
    public DateTimeOffset? UpAt { get; private set; }

    /// <summary>The instant just before it was sent SIGKILL.</summary>
    public DateTimeOffset? KilledAt { get; private set; }

    public bool IsUp => UpAt is not null && KilledAt is null;

    public bool HasExited
    {
        get
        {
            try { return _process.HasExited; }
            catch (InvalidOperationException) { return true; }
        }
    }

    public static SiloProcess Start(string name, DriverSettings settings, string clusterId, string connectionString, int siloPort, int gatewayPort,
        IEnumerable<string> timings, string moduleDll)
    {
        var logPath = Path.Combine(settings.WorkDir, $"{name}.log");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // exec: the shell becomes the silo, so the pid we hold is the silo's (kill -9 hits it, not a wrapper).
        foreach (var arg in new[] { "-c", "exec \"$@\" >\"$CHAOS_SILO_LOG\" 2>&1 </dev/null", "sh", "dotnet", settings.SiloDll }) info.ArgumentList.Add(arg);
        string[] args =
        [
            "--Sayiir:Postgres", connectionString, "--Sayiir:ClusterId", clusterId, "--Sayiir:ServiceId", "sayiir-chaos",
            "--Sayiir:SiloPort", siloPort.ToString(CultureInfo.InvariantCulture), "--Sayiir:GatewayPort", gatewayPort.ToString(CultureInfo.InvariantCulture),
            "--Sayiir:AdvertisedAddress", "127.0.0.1", "--Sayiir:Modules", moduleDll, "--Chaos:LogPostgres", connectionString,
            // Orleans logs at Information when a dead silo's directory partition makes it deactivate healthy activations:
            // the situation that used to re-run tasks on live silos, counted in the report.
            "--Logging:LogLevel:Orleans.Runtime.GrainDirectory.LocalGrainDirectory", "Information",
        ];
        foreach (var arg in args.Concat(timings)) info.ArgumentList.Add(arg);
        info.Environment["CHAOS_SILO_LOG"] = logPath;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {name}");
        File.AppendAllText(Path.Combine(settings.WorkDir, "silo.pids"), process.Id.ToString(CultureInfo.InvariantCulture) + "\n");
        return new SiloProcess(name, process, siloPort, gatewayPort, logPath);
    }

    /// <summary>Waits until the log says the silo started; fails if the process exits or the deadline passes.</summary>
    public async Task WaitUpAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + limit;
        while (UpAt is null)
        {
            if (KilledAt is not null) return;
            if (File.Exists(LogPath) && ReadLog().Contains("Sayiir silo started", StringComparison.Ordinal))
            {
                UpAt = DateTimeOffset.UtcNow;
                return;
            }
            if (HasExited) throw new ChaosFailure($"{Name} (pid {Pid}) exited during start-up; see {LogPath}");
            if (DateTimeOffset.UtcNow > deadline) throw new ChaosFailure($"{Name} (pid {Pid}) did not log 'Sayiir silo started' within {limit.TotalSeconds:F0} s; see {LogPath}");
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>SIGKILL; returns the kill instant (taken just before the signal).</summary>
    public DateTimeOffset Kill()
    {
        var at = DateTimeOffset.UtcNow;
        KilledAt = at;
        _process.Kill(entireProcessTree: false);   // SIGKILL on Unix
        _process.WaitForExit(10_000);
        return at;
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (HasExited) return;
        try
        {
            using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
            {
                if (term is not null) await term.WaitForExitAsync();
            }
            using var wait = new CancellationTokenSource(grace);
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: false);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public string ReadLog()
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>A failure of the test (not an invariant): reported as <c>chaos-test: FAIL reason</c>.</summary>
internal sealed class ChaosFailure(string message) : Exception(message);
