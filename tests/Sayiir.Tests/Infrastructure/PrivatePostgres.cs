using System.Diagnostics;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (eng/pgtest.sh on a separate port and directory), for tests that stop and
/// restart the server: the shared test server cannot be restarted under the other tests.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly int _port;
    private readonly string _dir;

    private PrivatePostgres(int port)
    {
        _port = port;
        _dir = $"/tmp/sayiir-pgtest-private-{port}";
    }

    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50;Timeout=5";

    public static async Task<PrivatePostgres> StartAsync(int port)
    {
        var server = new PrivatePostgres(port);
        await server.RunAsync("start");
        return server;
    }

    public Task StopAsync() => RunAsync("stop");

    public Task StartAgainAsync() => RunAsync("start");

    public async ValueTask DisposeAsync() => await RunAsync("destroy");

    private async Task RunAsync(string verb)
    {
        var script = Path.Combine(RepositoryRoot(), "eng", "pgtest.sh");
        var start = new ProcessStartInfo("bash", [script, verb]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PGTEST_PORT"] = _port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PGTEST_DIR"] = _dir;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (process.ExitCode != 0) throw new InvalidOperationException($"pgtest.sh {verb} failed ({process.ExitCode}): {await stderr}");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sayiir.sln"))) return dir.FullName;
        throw new InvalidOperationException("Sayiir.sln not found above " + AppContext.BaseDirectory);
    }
}
