using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Sayiir.Dashboard.Tests;

/// <summary>
/// The pages in a real browser: Debian's Chromium driven by Playwright, against the dashboard on a real socket. A missing
/// Chromium fails these tests (it never skips them) with the command that installs it.
/// </summary>
[Collection(DashboardGroup.Name)]
public sealed class BrowserTests(DashboardFixture fixture)
{
    private async Task<(IBrowserContext Context, IPage Page)> OpenAsync(string hash)
    {
        var browser = await fixture.BrowserAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        await page.GotoAsync(fixture.App.Root + hash);
        return (context, page);
    }

    private static string RunHash(string id) => "#/runs/" + Uri.EscapeDataString(id);

    /// <summary>The repository's artifacts/ folder (the test runs from tests/…/bin/…).</summary>
    internal static string ArtifactsDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sayiir.sln"))) dir = dir.Parent;
        var path = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "artifacts", "dashboard");
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public async Task RunsPage_RunStartedAfterLoad_AppearsWithoutReload()
    {
        var (context, page) = await OpenAsync("#/runs");
        await using var _ = context;
        await Expect(page.Locator("#runs-table")).ToBeVisibleAsync();
        var marker = await page.EvaluateAsync<double>("() => { window.__loadedOnce = Math.random(); return window.__loadedOnce; }");

        var id = Wait.NewId("live");
        await fixture.Client.StartAsync(Workflows.Order.Name, 2, id);

        var row = page.Locator($"#runs-table tr[data-instance-id='{id}']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.Locator(".state")).ToHaveTextAsync("Completed");
        Assert.Equal(marker, await page.EvaluateAsync<double>("() => window.__loadedOnce")); // same document: no reload

        await row.Locator("a").ClickAsync();
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Completed");
    }

    [Fact]
    public async Task RunsPage_StateFilter_ShowsOnlyThatState()
    {
        var failed = Wait.NewId("filter-failed");
        await fixture.Client.StartAsync(Workflows.Failing.Name, "x", failed);
        await fixture.WaitForStateAsync(failed, WorkflowState.Failed);
        var (context, page) = await OpenAsync("#/runs");
        await using var _ = context;
        await page.Locator("#filter-state-Failed").CheckAsync();
        await Expect(page.Locator($"#runs-table tr[data-instance-id='{failed}']")).ToBeVisibleAsync();
        await Expect(page.Locator("#runs-table tbody .state").First).ToHaveTextAsync("Failed");
        var states = await page.Locator("#runs-table tbody .state").AllTextContentsAsync();
        Assert.All(states, s => Assert.Equal("Failed", s));
    }

    [Fact]
    public async Task RunPage_Timeline_ShowsTasksInOrder_AndTaskOutputOnClick()
    {
        var id = Wait.NewId("timeline");
        await fixture.Client.StartAsync(Workflows.Order.Name, 42, id);
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Completed");
        await Expect(page.Locator("#timeline .timeline-row")).ToHaveCountAsync(3);
        var tasks = await page.Locator("#timeline .timeline-row").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.taskId)");
        Assert.Equal(["validate", "charge", "ship"], tasks);
        await Expect(page.Locator("#timeline .timeline-row[data-task-id='charge'] .dur")).ToHaveTextAsync("120 ms");
        await Expect(page.Locator("#run-output")).ToHaveTextAsync("\"shipped 42\"");

        await page.Locator("#timeline .timeline-row[data-task-id='charge'] .bar").ClickAsync();
        await Expect(page.Locator("#task-output")).ToContainTextAsync("\"status\": \"paid\"");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory(), "run-page.png"), FullPage = true });
    }

    [Fact]
    public async Task RunPage_TaskLogs_ShownUnderTheirAttempt_AndInTheHistory()
    {
        var id = Wait.NewId("task-logs");
        await fixture.Client.StartAsync(Workflows.Logged.Name, "ada", id);
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Completed");
        var logs = page.Locator("#timeline .task-logs[data-task-id='talk'][data-attempt='1'] .log-line");
        await Expect(logs).ToHaveCountAsync(2);
        await Expect(logs.Nth(0).Locator(".log-level")).ToHaveTextAsync("Information");
        await Expect(logs.Nth(0).Locator(".log-message")).ToHaveTextAsync("looking up customer ada");
        await Expect(logs.Nth(1).Locator(".log-level")).ToHaveTextAsync("Warning");
        await Expect(logs.Nth(1).Locator(".log-message")).ToHaveTextAsync("customer ada not cached");
        await Expect(logs.Nth(1).Locator(".log-exception")).ToContainTextAsync("cache <b>miss</b>");
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3}$", await logs.Nth(0).Locator(".log-at").TextContentAsync());
        // Right under the bar of that attempt, and nowhere else.
        Assert.Equal("talk", await page.Locator("#timeline .task-logs").EvaluateAsync<string>("l => l.previousElementSibling.dataset.taskId"));
        Assert.Equal(1, await page.Locator("#timeline .task-logs").CountAsync());
        Assert.Equal(0, await page.Locator("main b").CountAsync());

        var rows = page.Locator("#history-table tr[data-kind='TaskLog']");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Nth(0).Locator("td").Nth(2)).ToHaveTextAsync("Log Information");
        await Expect(rows.Nth(0).Locator("td").Nth(3)).ToHaveTextAsync("talk");
        await Expect(rows.Nth(1).Locator("td").Nth(6)).ToContainTextAsync("customer ada not cached — System.InvalidOperationException");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory(), "task-logs.png"), FullPage = true });
    }

    [Fact]
    public async Task RunPage_FailedRun_ShowsTheStackAndInnerFailure()
    {
        var id = Wait.NewId("stack");
        await fixture.Client.StartAsync(Workflows.Failing.Name, "x", id);
        await fixture.WaitForStateAsync(id, WorkflowState.Failed);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Failed");
        await Expect(page.Locator("#failure-type")).ToHaveTextAsync("System.InvalidOperationException");
        await Expect(page.Locator("#failure-message")).ToHaveTextAsync("payment declined");
        await Expect(page.Locator("#failure-stack")).ToContainTextAsync("at Sayiir.Dashboard.Tests.Workflows");
        await Expect(page.Locator(".inner-failure")).ToContainTextAsync("gateway timed out");
        await Expect(page.Locator("#timeline .timeline-row[data-task-id='pay']")).ToHaveAttributeAsync("data-outcome", "failed");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory(), "failed-run-page.png"), FullPage = true });
    }

    [Fact]
    public async Task RunPage_CancelButton_CancelsTheRun()
    {
        var id = Wait.NewId("ui-cancel");
        await fixture.Client.StartAsync("approval", "x", id, new StartOptions { Version = "1" });
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("AwaitingSignal");
        await page.Locator("#cancel-reason").FillAsync("duplicate order");
        await page.Locator("#cancel-button").ClickAsync();
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Cancelled");
        await Expect(page.Locator("#action-message")).ToContainTextAsync("the run is Cancelled");
        Assert.Equal("duplicate order", (await fixture.Client.GetStatusAsync(id)).Cancellation!.Reason);
    }

    [Fact]
    public async Task RunPage_CancelAndUndoButton_CompensatesTheRun()
    {
        var id = Wait.NewId("ui-cancel-undo");
        await fixture.Client.StartAsync(Workflows.Booking, "room 7", id);
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("AwaitingSignal");
        await page.Locator("#cancel-compensate-button").ClickAsync();
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Compensated");
        Assert.Equal(1, Workflows.Unbooked[id]);
    }

    [Fact]
    public async Task RunPage_SignalForm_CompletesTheRun_PauseWhenCompletedShowsReadableError()
    {
        var id = Wait.NewId("ui-signal");
        await fixture.Client.StartAsync("approval", "x", id, new StartOptions { Version = "1" });
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("AwaitingSignal");
        await page.Locator("#signal-payload").FillAsync("{\"approved\": tru");
        await page.Locator("#signal-name").FillAsync("decision");
        await page.Locator("#signal-button").ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("The payload is not valid JSON");
        await page.Locator("#signal-payload").FillAsync("{\"approved\": true, \"by\": \"the browser\"}");
        await page.Locator("#signal-button").ClickAsync();
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Completed");
        await Expect(page.Locator("#run-output")).ToHaveTextAsync("\"approved by the browser\"");

        await page.Locator("#pause-button").ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("Cannot pause");
        await Expect(page.Locator("#action-message")).ToContainTextAsync("the run is Completed");
    }

    [Fact]
    public async Task RunPage_OutputWithMarkup_IsShownAsText()
    {
        var id = Wait.NewId("markup");
        await fixture.Client.StartAsync(Workflows.MarkupOutput.Name, "x", id);
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        await Expect(page.Locator("#run-output")).ToContainTextAsync("<script>window.__sayiirXss = 1</script>");
        await page.Locator("#timeline .timeline-row[data-task-id='render'] .bar").ClickAsync();
        await Expect(page.Locator("#task-output")).ToContainTextAsync("<img src=x onerror=");
        Assert.Equal(0, await page.Locator("main script, main img, main b").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sayiirXss === undefined"));
    }

    [Fact]
    public async Task RunsPage_InstanceIdPrefix_ShowsOnlyThoseRunsAndTheirCountsPerState()
    {
        var prefix = Wait.NewId("browser-prefix") + "-";
        await fixture.Client.StartAsync(Workflows.Order.Name, 1, prefix + "a");
        await fixture.Client.StartAsync(Workflows.Order.Name, 2, prefix + "b");
        await fixture.Client.StartAsync(Workflows.Failing.Name, "x", prefix + "c");
        await fixture.WaitForStateAsync(prefix + "c", WorkflowState.Failed);
        await fixture.WaitForStateAsync(prefix + "b", WorkflowState.Completed);
        await fixture.WaitForStateAsync(prefix + "a", WorkflowState.Completed);
        var (context, page) = await OpenAsync("#/runs");
        await using var _ = context;

        await page.Locator("#filter-prefix").FillAsync(prefix);
        await Expect(page.Locator("#runs-table tbody tr")).ToHaveCountAsync(3);
        var ids = await page.Locator("#runs-table tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.instanceId)");
        Assert.Equal([prefix + "c", prefix + "b", prefix + "a"], ids); // newest first
        await Expect(page.Locator("#page-counts")).ToHaveAttributeAsync("data-total", "3");
        await Expect(page.Locator("#page-counts .count[data-state='Completed']")).ToHaveTextAsync("Completed 2");
        await Expect(page.Locator("#page-counts .count[data-state='Failed']")).ToHaveTextAsync("Failed 1");

        await page.Locator("#filter-state-Failed").CheckAsync();
        await Expect(page.Locator("#runs-table tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#page-counts")).ToHaveAttributeAsync("data-total", "3"); // counts ignore the state filter
    }

    [Fact]
    public async Task WorkflowsPage_LastHourChart_CountsNewRunsAsTheyStartAndEnd()
    {
        var (context, page) = await OpenAsync("#/workflows");
        await using var _ = context;
        var totals = page.Locator("#activity-table tr[data-workflow='failing'] .activity-totals");
        await Expect(totals).ToBeVisibleAsync();
        var failedBefore = int.Parse((await totals.GetAttributeAsync("data-failed"))!, System.Globalization.CultureInfo.InvariantCulture);
        var startedBefore = int.Parse((await totals.GetAttributeAsync("data-started"))!, System.Globalization.CultureInfo.InvariantCulture);

        var id = Wait.NewId("chart");
        await fixture.Client.StartAsync(Workflows.Failing.Name, "x", id);
        await fixture.WaitForStateAsync(id, WorkflowState.Failed);

        // The page refreshes itself: the chart and the per-state counts move without a reload.
        await Expect(totals).ToHaveAttributeAsync("data-failed", (failedBefore + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(totals).ToHaveAttributeAsync("data-started", (startedBefore + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.Locator("#activity-table tr[data-workflow='failing'] svg.activity-chart rect[fill='var(--failed)']").First).ToBeVisibleAsync();
        await Expect(page.Locator("#activity-table tr[data-workflow='failing'] .state-counts")).ToContainTextAsync("Failed");
    }

    [Fact]
    public async Task WorkflowsPage_ListsVersionsAndLinksToTheirRuns()
    {
        var (context, page) = await OpenAsync("#/workflows");
        await using var _ = context;
        await Expect(page.Locator("#workflows-table tr[data-workflow='approval']")).ToHaveCountAsync(3);
        await page.Locator("#workflows-table tr[data-workflow='order'] a").ClickAsync();
        await Expect(page.Locator("#filter-workflow")).ToHaveValueAsync("order");
        await Expect(page.Locator("#runs-table tbody tr").First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task RunPage_FlowGraph_CompletedForkRun_ShowsEveryNodeCompleted_BranchesSideBySide()
    {
        var id = Wait.NewId("graph");
        await fixture.Client.StartAsync(Workflows.Forked.Name, 5, id);
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        await Expect(page.Locator("#run-output")).ToHaveTextAsync("36");
        var graph = page.Locator("#flow-graph");
        await Expect(graph.Locator(".graph-node")).ToHaveCountAsync(6);
        foreach (var node in new[] { "start", "split", "l1", "r1", "r2", "merge" })
            await Expect(graph.Locator($".graph-node[data-node-id='{node}']")).ToHaveAttributeAsync("data-state", "completed");
        var fork = graph.Locator(".graph-node[data-node-id='split']");
        await Expect(fork.Locator(".branch")).ToHaveCountAsync(2);
        await Expect(fork.Locator(".branch[data-branch='right'] .graph-node")).ToHaveCountAsync(2);
        var left = await fork.Locator(".branch[data-branch='left']").BoundingBoxAsync();
        var right = await fork.Locator(".branch[data-branch='right']").BoundingBoxAsync();
        Assert.NotNull(left);
        Assert.NotNull(right);
        Assert.Equal(left.Y, right.Y);        // side by side,
        Assert.True(right.X > left.X + left.Width - 1, $"left {left.X}+{left.Width}, right {right.X}"); // not overlapping
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory(), "flow-graph.png"), FullPage = true });
    }

    [Fact]
    public async Task RunPage_FlowGraph_WaitingAndFailedRuns_ColorTheirNodes()
    {
        var waiting = Wait.NewId("graph-wait");
        await fixture.Client.StartAsync("approval", "x", waiting, new StartOptions { Version = "2" });
        await fixture.WaitForStateAsync(waiting, WorkflowState.AwaitingSignal);
        var failed = Wait.NewId("graph-failed");
        await fixture.Client.StartAsync(Workflows.Failing.Name, "x", failed);
        await fixture.WaitForStateAsync(failed, WorkflowState.Failed);
        var (context, page) = await OpenAsync(RunHash(waiting));
        await using var _ = context;
        var graph = page.Locator("#flow-graph");
        await Expect(graph.Locator(".graph-node[data-node-id='prepare']")).ToHaveAttributeAsync("data-state", "completed");
        await Expect(graph.Locator(".graph-node[data-node-id='approve']")).ToHaveAttributeAsync("data-state", "waiting");
        await Expect(graph.Locator(".graph-node[data-node-id='approve'] .node-facts")).ToContainTextAsync("signal decision");
        await Expect(graph.Locator(".graph-node[data-node-id='finish']")).ToHaveAttributeAsync("data-state", "not-reached");

        await page.GotoAsync(fixture.App.Root + RunHash(failed));
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Failed");
        await Expect(graph.Locator(".graph-node[data-node-id='prepare']")).ToHaveAttributeAsync("data-state", "completed");
        await Expect(graph.Locator(".graph-node[data-node-id='pay']")).ToHaveAttributeAsync("data-state", "failed");
    }

    [Fact]
    public async Task RunPage_FlowGraph_RouteLoopAndDelay_ShowTakenBranchIterationsAndTheWait()
    {
        var id = Wait.NewId("graph-shapes");
        await fixture.Client.StartAsync(Workflows.Shapes.Name, 3, id);
        await fixture.WaitForStateAsync(id, WorkflowState.Waiting);
        var (context, page) = await OpenAsync(RunHash(id));
        await using var _ = context;
        var graph = page.Locator("#flow-graph");
        await Expect(graph.Locator(".graph-node[data-node-id='nap']")).ToHaveAttributeAsync("data-state", "waiting");
        await Expect(graph.Locator(".graph-node[data-node-id='size']")).ToHaveAttributeAsync("data-kind", "Route");
        await Expect(graph.Locator(".graph-node[data-node-id='size']")).ToHaveAttributeAsync("data-state", "completed");
        await Expect(graph.Locator(".graph-node[data-node-id='small_task']")).ToHaveAttributeAsync("data-state", "completed");
        await Expect(graph.Locator(".graph-node[data-node-id='big_task']")).ToHaveAttributeAsync("data-state", "not-reached");
        await Expect(graph.Locator(".graph-node[data-node-id='other_task']")).ToHaveAttributeAsync("data-state", "not-reached");
        await Expect(graph.Locator(".graph-node[data-node-id='size'] .branch-name")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex[] { new("^big$"), new("^small$"), new(@"\(default\)$") });
        await Expect(graph.Locator(".graph-node[data-node-id='count']")).ToHaveAttributeAsync("data-kind", "Loop");
        await Expect(graph.Locator(".graph-node[data-node-id='count']")).ToHaveAttributeAsync("data-state", "completed");
        await Expect(graph.Locator(".graph-node[data-node-id='count'] .graph-node[data-node-id='tick']")).ToHaveAttributeAsync("data-state", "completed");
        await Expect(graph.Locator(".graph-node[data-node-id='count'] > .node-head .node-iterations")).ToHaveTextAsync("4 iterations run"); // 3, 2, 1, 0
        await Expect(graph.Locator(".graph-node[data-node-id='nap'] .node-facts")).ToContainTextAsync("for 1.00:00:00");
        await Expect(graph.Locator(".graph-node[data-node-id='after']")).ToHaveAttributeAsync("data-state", "not-reached");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory(), "flow-graph-shapes.png"), FullPage = true });
        await fixture.Client.CancelAsync(id, "test done");
    }

    [Fact]
    public async Task WorkflowsPage_FlowButton_ShowsThatVersionsGraph()
    {
        var (context, page) = await OpenAsync("#/workflows");
        await using var _ = context;
        await page.Locator("#workflows-table tr[data-workflow='approval'][data-version='3'] .graph-toggle").ClickAsync();
        var graph = page.Locator("#workflows-table tr.graph-row[data-graph-of='approval'][data-version='3']");
        await Expect(graph.Locator(".graph-node")).ToHaveCountAsync(3);
        await Expect(graph.Locator(".graph-node").First).ToHaveAttributeAsync("data-node-id", "prepare_v3");
        await Expect(graph.Locator(".graph-node[data-node-id='approve']")).ToHaveAttributeAsync("data-state", "definition");
        // Still open after the page's next refresh.
        await page.WaitForResponseAsync(r => r.Url.EndsWith("/api/workflows", StringComparison.Ordinal));
        await Expect(graph.Locator(".graph-node")).ToHaveCountAsync(3);
        await Expect(page.Locator("#workflows-table tr[data-workflow='approval']")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task ClusterPage_ListsTheSilosWithTheirFigures()
    {
        var silos = await fixture.Client.GetClusterAsync();
        Assert.NotEmpty(silos);
        var (context, page) = await OpenAsync("#/runs");
        await using var _ = context;
        await page.Locator("#nav-cluster").ClickAsync();
        await Expect(page.Locator("#cluster-table tbody tr[data-address]")).ToHaveCountAsync(silos.Count);
        foreach (var silo in silos)
        {
            var row = page.Locator($"#cluster-table tr[data-address='{silo.Address}']");
            await Expect(row.Locator("td").First).ToHaveTextAsync(silo.Address);
            await Expect(row.Locator(".silo-status")).ToHaveTextAsync("Active");
            await Expect(row.Locator(".active-runs")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+$"));
            await Expect(row.Locator(".attempts-in-flight")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+$"));
        }
        await Expect(page.Locator("#cluster-totals")).ToContainTextAsync($"{silos.Count} silo");
        await Expect(page.Locator("#nav-cluster")).ToHaveClassAsync("active");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory(), "cluster-page.png"), FullPage = true });
    }

    [Fact]
    public async Task RunsPage_StartForm_StartsARunAndLinksToIt()
    {
        var id = Wait.NewId("ui-start");
        var (context, page) = await OpenAsync("#/runs");
        await using var _ = context;
        await Expect(page.Locator("#start-workflow option", new() { HasText = "order" })).ToHaveCountAsync(1);
        await page.Locator("#start-workflow").SelectOptionAsync(new SelectOptionValue { Label = "order" });
        await page.Locator("#start-input").FillAsync("17");
        await page.Locator("#start-instance").FillAsync(id);
        await page.Locator("#start-button").ClickAsync();
        await page.Locator("#start-result a").ClickAsync();
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("Completed");
        await Expect(page.Locator("#run-output")).ToHaveTextAsync("\"shipped 17\"");
    }

    [Fact]
    public async Task RunPage_ReadOnlyDashboard_HidesActions()
    {
        await using var app = await DashboardApp.StartAsync(fixture.Client, o => o.ReadOnly = true);
        var id = Wait.NewId("ui-readonly");
        await fixture.Client.StartAsync(Workflows.Order.Name, 1, id);
        var browser = await fixture.BrowserAsync();
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(app.Root + RunHash(id));
        await Expect(page.Locator("#actions-disabled")).ToContainTextAsync("read-only");
        Assert.Equal(0, await page.Locator("#cancel-button").CountAsync());
        await Expect(page.Locator("#mode")).ToHaveTextAsync("read-only");
    }
}
