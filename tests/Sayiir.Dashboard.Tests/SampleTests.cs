using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Sayiir.Dashboard.Tests;

/// <summary>
/// samples/Dashboard as a user runs it: its own process (a co-hosted silo on real time), the URL it prints, its demo
/// runs on the pages. Its run page is the README's screenshot (artifacts/dashboard/sample-run-page.png).
/// </summary>
[Collection(DashboardGroup.Name)]
public sealed class SampleTests(DashboardFixture fixture)
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string SampleDll()
    {
        // The test runs from tests/Sayiir.Dashboard.Tests/bin/<configuration>/<tfm>/; the sample builds alongside.
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = output.Name;
        var configuration = output.Parent!.Name;
        var repo = output.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(repo, "samples", "Dashboard", "bin", configuration, tfm, "Dashboard.dll");
        Assert.True(File.Exists(dll), $"the sample is not built at {dll}");
        return dll;
    }

    [Fact]
    public async Task DashboardSample_PrintsItsUrl_AndShowsItsDemoRuns()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { SampleDll(), "--urls", "http://127.0.0.1:0", $"--Sayiir:SiloPort={FreePort()}", $"--Sayiir:GatewayPort={FreePort()}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            output.Enqueue(e.Data);
            if (e.Data.StartsWith("Sayiir dashboard: ", StringComparison.Ordinal)) url.TrySetResult(e.Data["Sayiir dashboard: ".Length..]);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var printed = await url.Task.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result
                : throw new TimeoutException($"the sample printed no URL within 60 s; its output:\n{string.Join('\n', output)}"));
            using var http = new HttpClient { BaseAddress = new Uri(printed) };
            string? orderId = null;
            await Wait.UntilAsync(async () =>
            {
                var (status, body) = await ApiTests.GetAsync(http, "api/runs");
                if (status != HttpStatusCode.OK) return false;
                var states = body.GetProperty("runs").EnumerateArray()
                    .ToDictionary(r => r.GetProperty("workflowName").GetString()!, r => (Id: r.GetProperty("instanceId").GetString()!, State: r.GetProperty("state").GetString()));
                orderId = states.TryGetValue("order", out var order) ? order.Id : null;
                return states.Count == 3 && order.State == "Completed" && states["approval"].State == "AwaitingSignal" && states["report"].State == "Failed";
            }, "the sample's three demo runs to be Completed (order), AwaitingSignal (approval) and Failed (report)");

            var browser = await fixture.BrowserAsync();
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 900 } });
            var page = await context.NewPageAsync();
            await page.GotoAsync(printed + "#/runs/" + Uri.EscapeDataString(orderId!));
            await Expect(page.Locator("#run-state")).ToHaveTextAsync("Completed");
            // The retried charge: two attempts, the first failed.
            await Expect(page.Locator("#timeline .timeline-row[data-task-id='charge']")).ToHaveCountAsync(2);
            await Expect(page.Locator("#timeline .timeline-row[data-task-id='charge'][data-attempt='1']")).ToHaveAttributeAsync("data-outcome", "failed");
            await page.Locator("#timeline .timeline-row[data-task-id='charge'][data-attempt='2'] .bar").ClickAsync();
            await Expect(page.Locator("#task-output")).ToContainTextAsync("\"amount\": 120");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserTests.ArtifactsDirectory(), "sample-run-page.png") });
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
