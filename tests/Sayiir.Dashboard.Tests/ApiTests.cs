using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace Sayiir.Dashboard.Tests;

/// <summary>The JSON API on the in-memory backend.</summary>
[Collection(DashboardGroup.Name)]
public sealed class ApiTests(DashboardFixture fixture) : ApiScenarios(fixture);

/// <summary>The JSON API on PostgreSQL (a fresh database on the SAYIIR_TEST_POSTGRES server; never skipped).</summary>
[Collection(PostgresDashboardGroup.Name)]
public sealed class PostgresApiTests(PostgresDashboardFixture fixture) : ApiScenarios(fixture);

/// <summary>The JSON API over a real cluster, through a real socket.</summary>
public abstract class ApiScenarios(DashboardFixture fixture)
{
    private HttpClient Http => fixture.App.Http;

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient http, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await BodyAsync(response));
    }

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, string? json = "{}", bool header = true,
        Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (header) request.Headers.Add("X-Sayiir-Dashboard", "1");
        configure?.Invoke(request);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await BodyAsync(response));
    }

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Run(string id) => "api/runs/" + Uri.EscapeDataString(id);

    private async Task<string> StartAsync<TIn, TOut>(WorkflowDefinition<TIn, TOut> workflow, TIn input, string prefix, string? version = null)
    {
        var id = Wait.NewId(prefix);
        await fixture.Client.StartAsync(workflow.Name, input, id, new StartOptions { Version = version });
        return id;
    }

    private static void AssertProblem(HttpStatusCode expected, (HttpStatusCode Status, JsonElement Body) response, string? detailContains = null)
    {
        Assert.True(response.Status == expected, $"expected {(int)expected}, got {(int)response.Status}: {response.Body}");
        Assert.Equal((int)expected, response.Body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(response.Body.GetProperty("title").GetString()));
        if (detailContains is not null) Assert.Contains(detailContains, response.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private async Task<List<string>> ListIdsAsync(string query)
    {
        var (status, body) = await GetAsync(Http, "api/runs?" + query);
        Assert.Equal(HttpStatusCode.OK, status);
        return [.. body.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("instanceId").GetString()!)];
    }

    [Fact]
    public async Task ListRuns_FilterByWorkflowAndState_ReturnsMatchingRunsWithStringStates()
    {
        var completed = await StartAsync(Workflows.Order, 5, "list-ok");
        var failed = await StartAsync(Workflows.Failing, "x", "list-failed");
        await fixture.WaitForStateAsync(completed, WorkflowState.Completed);
        await fixture.WaitForStateAsync(failed, WorkflowState.Failed);

        var (status, body) = await GetAsync(Http, "api/runs?workflow=order&state=Completed&pageSize=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        var run = body.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("instanceId").GetString() == completed);
        Assert.Equal("Completed", run.GetProperty("state").GetString());
        Assert.Equal("order", run.GetProperty("workflowName").GetString());
        Assert.True(body.GetProperty("counts").GetProperty("Completed").GetInt64() >= 1);
        Assert.False(body.GetProperty("counts").TryGetProperty("Failed", out _), "counts follow the workflow filter");
        Assert.DoesNotContain(failed, await ListIdsAsync("state=Completed&pageSize=1000"));
        Assert.Contains(failed, await ListIdsAsync("state=Failed,Cancelled&pageSize=1000"));
        Assert.DoesNotContain(failed, await ListIdsAsync("workflow=order&pageSize=1000"));
    }

    [Fact]
    public async Task ListRuns_KeysetPaging_ReturnsEveryRunOnceNewestFirst()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await StartAsync(Workflows.MarkupOutput, "x", $"page{i}"));
            Workflows.Clock!.Advance(TimeSpan.FromSeconds(1)); // distinct creation instants, so "newest first" is observable
        }
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var (status, body) = await GetAsync(Http, "api/runs?workflow=markup&pageSize=2" + (token is null ? "" : "&continuationToken=" + Uri.EscapeDataString(token)));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(body.GetProperty("runs").GetArrayLength() <= 2);
            seen.AddRange(body.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("instanceId").GetString()!));
            token = body.TryGetProperty("continuationToken", out var t) ? t.GetString() : null;
            pages++;
        } while (token is not null);
        Assert.True(pages >= 3, $"5 runs at 2 per page take at least 3 pages, got {pages}");
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var mine = seen.Where(ids.Contains).ToList();
        Assert.Equal(Enumerable.Reverse(ids), mine);
    }

    [Fact]
    public async Task ListRuns_CreatedRange_FiltersByCreationInstant()
    {
        var id = await StartAsync(Workflows.MarkupOutput, "x", "range");
        var now = fixture.Env.Now;
        Assert.Contains(id, await ListIdsAsync($"workflow=markup&pageSize=1000&from={Uri.EscapeDataString(now.AddMinutes(-1).ToString("o"))}&before={Uri.EscapeDataString(now.AddMinutes(1).ToString("o"))}"));
        Assert.DoesNotContain(id, await ListIdsAsync($"workflow=markup&pageSize=1000&from={Uri.EscapeDataString(now.AddMinutes(1).ToString("o"))}"));
        Assert.DoesNotContain(id, await ListIdsAsync($"workflow=markup&pageSize=1000&before={Uri.EscapeDataString(now.AddMinutes(-1).ToString("o"))}"));
    }

    [Fact]
    public async Task ListRuns_InstanceIdPrefix_ListsAndCountsOnlyThoseRuns()
    {
        var prefix = Wait.NewId("prefixed") + "-";
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = prefix + i;
            await fixture.Client.StartAsync(i < 2 ? Workflows.Order.Name : Workflows.Failing.Name, i < 2 ? (object)i : "x", id);
            ids.Add(id);
        }
        await fixture.WaitForStateAsync(ids[0], WorkflowState.Completed);
        await fixture.WaitForStateAsync(ids[1], WorkflowState.Completed);
        await fixture.WaitForStateAsync(ids[2], WorkflowState.Failed);

        var escaped = Uri.EscapeDataString(prefix);
        Assert.Equal(ids.Order(StringComparer.Ordinal), (await ListIdsAsync($"prefix={escaped}&pageSize=1000")).Order(StringComparer.Ordinal));
        var (status, body) = await GetAsync(Http, $"api/runs?prefix={escaped}&state=Failed");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([ids[2]], body.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("instanceId").GetString()));
        Assert.Equal(2, body.GetProperty("counts").GetProperty("Completed").GetInt64());
        Assert.Equal(1, body.GetProperty("counts").GetProperty("Failed").GetInt64());

        (status, body) = await GetAsync(Http, $"api/runs/counts?prefix={escaped}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, body.GetProperty("total").GetInt64());
        Assert.Equal(2, body.GetProperty("counts").GetProperty("Completed").GetInt64());
        (status, body) = await GetAsync(Http, $"api/runs/counts?prefix={escaped}&workflow=order&state=Failed");
        Assert.Equal(0, body.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Activity_RunsOfTheWindow_CountedPerBucket()
    {
        // The cluster's clock is virtual: a window of its own, after every run the other tests started.
        fixture.Env.Time.Advance(TimeSpan.FromHours(2));
        var from = fixture.Env.Now;
        var completed = await StartAsync(Workflows.Order, 1, "activity-ok");
        var failed = await StartAsync(Workflows.Failing, "x", "activity-failed");
        await fixture.WaitForStateAsync(completed, WorkflowState.Completed);
        await fixture.WaitForStateAsync(failed, WorkflowState.Failed);
        var window = $"from={Uri.EscapeDataString(from.ToString("o"))}&to={Uri.EscapeDataString(from.AddMinutes(10).ToString("o"))}&bucketSeconds=300";

        var (status, body) = await GetAsync(Http, "api/activity?" + window);
        Assert.Equal(HttpStatusCode.OK, status);
        var buckets = body.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(2, buckets.Count);
        Assert.Equal(2, buckets[0].GetProperty("started").GetInt64());
        Assert.Equal(1, buckets[0].GetProperty("completed").GetInt64());
        Assert.Equal(1, buckets[0].GetProperty("failed").GetInt64());
        Assert.Equal(0, buckets[1].GetProperty("started").GetInt64());

        (status, body) = await GetAsync(Http, "api/activity?workflow=failing&" + window);
        Assert.Equal(1, body.GetProperty("buckets")[0].GetProperty("started").GetInt64());
        Assert.Equal(0, body.GetProperty("buckets")[0].GetProperty("completed").GetInt64());
    }

    [Theory]
    [InlineData("bucketSeconds=ten", "bucketSeconds must be an integer")]
    [InlineData("bucketSeconds=0", "BucketSize must be between 1 second and 1 day")]
    [InlineData("from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z", "at most 1440")]
    [InlineData("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "must be after")]
    [InlineData("to=soon", "'to' is not a date")]
    public async Task Activity_InvalidWindow_Returns400Problem(string query, string detail)
    {
        AssertProblem(HttpStatusCode.BadRequest, await GetAsync(Http, "api/activity?" + query), detail);
    }

    [Theory]
    [InlineData("state=Done", "Unknown state 'Done'")]
    [InlineData("state=5", "Unknown state '5'")]
    [InlineData("pageSize=0", "PageSize must be between 1 and 1000")]
    [InlineData("pageSize=ten", "pageSize must be an integer")]
    [InlineData("from=yesterday", "'from' is not a date")]
    [InlineData("from=2026-01-02T00:00:00Z&before=2026-01-01T00:00:00Z", "must be before")]
    [InlineData("continuationToken=not-a-token", null)]
    public async Task ListRuns_InvalidQuery_Returns400Problem(string query, string? detail)
    {
        AssertProblem(HttpStatusCode.BadRequest, await GetAsync(Http, "api/runs?" + query), detail);
    }

    [Fact]
    public async Task GetRun_Completed_HasStatusAndOutputAsJson()
    {
        var id = await StartAsync(Workflows.Order, 7, "detail");
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var (status, body) = await GetAsync(Http, Run(id));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Completed", body.GetProperty("status").GetProperty("state").GetString());
        Assert.Equal("order", body.GetProperty("status").GetProperty("workflowName").GetString());
        Assert.Equal("shipped 7", body.GetProperty("output").GetString());
    }

    [Fact]
    public async Task GetRun_Failed_HasFailureWithStackAndInnerChain()
    {
        var id = await StartAsync(Workflows.Failing, "x", "failed");
        await fixture.WaitForStateAsync(id, WorkflowState.Failed);
        var (status, body) = await GetAsync(Http, Run(id));
        Assert.Equal(HttpStatusCode.OK, status);
        var failure = body.GetProperty("status").GetProperty("failure");
        Assert.Equal("pay", failure.GetProperty("taskId").GetString());
        Assert.Equal("System.InvalidOperationException", failure.GetProperty("errorType").GetString());
        Assert.Equal("payment declined", failure.GetProperty("message").GetString());
        Assert.Contains("Workflows", failure.GetProperty("stackTrace").GetString(), StringComparison.Ordinal);
        Assert.Equal("gateway timed out for 1", failure.GetProperty("innerFailure").GetProperty("message").GetString());
        Assert.False(body.TryGetProperty("output", out _));
    }

    [Fact]
    public async Task History_CompletedRun_ListsItsTasksInOrder()
    {
        var id = await StartAsync(Workflows.Order, 1, "history");
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var (status, body) = await GetAsync(Http, Run(id) + "/history");
        Assert.Equal(HttpStatusCode.OK, status);
        var completedTasks = body.EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "TaskCompleted").ToList();
        Assert.Equal(["validate", "charge", "ship"], completedTasks.Select(e => e.GetProperty("taskId").GetString()));
        Assert.Equal(120, completedTasks[1].GetProperty("durationMs").GetDouble());
        Assert.Equal("RunStarted", body[0].GetProperty("kind").GetString());
    }

    [Fact]
    public async Task TaskOutput_CompletedTask_ReturnsItsJson_UnknownTask404()
    {
        var id = await StartAsync(Workflows.Order, 9, "task-output");
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var (status, body) = await GetAsync(Http, Run(id) + "/tasks/charge/output");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(9, body.GetProperty("amount").GetInt32());
        Assert.Equal("paid", body.GetProperty("status").GetString());
        AssertProblem(HttpStatusCode.NotFound, await GetAsync(Http, Run(id) + "/tasks/nope/output"));
    }

    [Fact]
    public async Task GetRun_InstanceIdWithSlashAndSpace_IsFoundThroughItsEncodedPath()
    {
        var id = "team/a b-" + Guid.NewGuid().ToString("n");
        await fixture.Client.StartAsync(Workflows.Order.Name, 4, id);
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var (status, body) = await GetAsync(Http, Run(id));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(id, body.GetProperty("status").GetProperty("instanceId").GetString());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(Http, Run(id) + "/tasks/ship/output")).Status);
    }

    [Fact]
    public async Task UnknownRun_ReadsAndActions_Return404Problem()
    {
        var id = Wait.NewId("missing");
        AssertProblem(HttpStatusCode.NotFound, await GetAsync(Http, Run(id)), id);
        AssertProblem(HttpStatusCode.NotFound, await GetAsync(Http, Run(id) + "/history"));
        AssertProblem(HttpStatusCode.NotFound, await PostAsync(Http, Run(id) + "/cancel"));
        AssertProblem(HttpStatusCode.NotFound, await PostAsync(Http, Run(id) + "/signal", """{"name":"decision","payload":{}}"""));
    }

    [Fact]
    public async Task Workflows_ListsRegisteredVersionsWithActiveRuns()
    {
        var id = await StartAsync(Workflows.Approval("1"), "x", "versions", version: "1");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        var (status, body) = await GetAsync(Http, "api/workflows?workflow=approval");
        Assert.Equal(HttpStatusCode.OK, status);
        var versions = body.EnumerateArray().ToList();
        Assert.Equal(["1", "2", "3"], versions.Select(v => v.GetProperty("version").GetString()).Order());
        Assert.True(versions.Single(v => v.GetProperty("version").GetString() == "3").GetProperty("isLatest").GetBoolean());
        Assert.True(versions.Single(v => v.GetProperty("version").GetString() == "1").GetProperty("activeRuns").GetInt64() >= 1);
        var (_, all) = await GetAsync(Http, "api/workflows");
        Assert.Contains(all.EnumerateArray(), v => v.GetProperty("workflowName").GetString() == "order");
    }

    [Fact]
    public async Task WorkflowGraph_ReturnsNodesBranchesAndJoin_UnknownWorkflowOrVersion404()
    {
        var (status, body) = await GetAsync(Http, "api/workflows/forked/graph");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("forked", body.GetProperty("name").GetString());
        var steps = body.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["start", "split"], steps.Select(n => n.GetProperty("id").GetString()));
        Assert.Equal(["Task", "Fork"], steps.Select(n => n.GetProperty("kind").GetString()));
        var branches = steps[1].GetProperty("branches").EnumerateArray().ToList();
        Assert.Equal(["left", "right"], branches.Select(b => b.GetProperty("name").GetString()));
        Assert.Equal(["r1", "r2"], branches[1].GetProperty("steps").EnumerateArray().Select(n => n.GetProperty("id").GetString()));
        Assert.Equal("merge", steps[1].GetProperty("join").GetProperty("id").GetString());

        var (v2, approval) = await GetAsync(Http, "api/workflows/approval/graph?version=2");
        Assert.Equal(HttpStatusCode.OK, v2);
        Assert.Equal("2", approval.GetProperty("version").GetString());
        var decision = approval.GetProperty("steps")[1];
        Assert.Equal("Signal", decision.GetProperty("kind").GetString());
        Assert.Equal("decision", decision.GetProperty("signalName").GetString());
        Assert.Equal("3", (await GetAsync(Http, "api/workflows/approval/graph")).Body.GetProperty("version").GetString());

        AssertProblem(HttpStatusCode.NotFound, await GetAsync(Http, "api/workflows/nope/graph"));
        AssertProblem(HttpStatusCode.NotFound, await GetAsync(Http, "api/workflows/approval/graph?version=9"));
    }

    [Fact]
    public async Task Cluster_ListsTheLiveSilosWithTheirFigures()
    {
        // A run parked on its signal is driven by the silo whose activation holds it.
        var id = await StartAsync(Workflows.Approval("1"), "x", "cluster", version: "1");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        var (status, body) = await GetAsync(Http, "api/cluster");
        Assert.Equal(HttpStatusCode.OK, status);
        var silos = body.EnumerateArray().ToList();
        var expected = await fixture.Client.GetClusterAsync();
        Assert.Equal(expected.Select(s => s.Address).Order(), silos.Select(s => s.GetProperty("address").GetString()).Order());
        Assert.All(silos, s =>
        {
            Assert.Equal("Active", s.GetProperty("status").GetString());
            Assert.True(s.GetProperty("attemptsInFlight").GetInt32() >= 0);
        });
        Assert.True(silos.Sum(s => s.GetProperty("activeRuns").GetInt32()) >= 1, body.ToString());
    }

    [Fact]
    public async Task Start_ByNameWithJsonInput_Returns201AndTheRunCompletes()
    {
        var id = Wait.NewId("start");
        var (status, body) = await PostAsync(Http, "api/runs", $$"""{"workflow":"order","input":11,"instanceId":"{{id}}"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(id, body.GetProperty("instanceId").GetString());
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        Assert.Equal("shipped 11", (await fixture.Client.WaitForResultAsync<string>(id)));

        AssertProblem(HttpStatusCode.Conflict, await PostAsync(Http, "api/runs", $$"""{"workflow":"order","input":11,"instanceId":"{{id}}"}"""), id);
    }

    [Fact]
    public async Task Start_WithoutInstanceIdAndWithVersion_StartsThatVersion()
    {
        var (status, body) = await PostAsync(Http, "api/runs", """{"workflow":"approval","input":"x","version":"2"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var id = body.GetProperty("instanceId").GetString()!;
        var run = await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        Assert.Equal("2", run.WorkflowVersion);
        await fixture.Client.CancelAsync(id);
    }

    [Fact]
    public async Task Start_Errors_ReturnProblemDetails()
    {
        AssertProblem(HttpStatusCode.NotFound, await PostAsync(Http, "api/runs", """{"workflow":"no-such-workflow","input":1}"""), "no-such-workflow");
        AssertProblem(HttpStatusCode.BadRequest, await PostAsync(Http, "api/runs", """{"workflow":"order","input":1"""), "The request body is not valid JSON");
        AssertProblem(HttpStatusCode.BadRequest, await PostAsync(Http, "api/runs", """{"input":1}"""), "'workflow' is required");
        AssertProblem(HttpStatusCode.BadRequest, await PostAsync(Http, "api/runs", """[1]"""), "must be a JSON object");
        AssertProblem(HttpStatusCode.BadRequest, await PostAsync(Http, "api/runs", """{"workflow":"order","input":1,"instanceId":"bad\u0001id"}"""));
    }

    [Fact]
    public async Task Cancel_AwaitingRun_CancelsWithReason_CompletedRun409()
    {
        var id = await StartAsync(Workflows.Approval("1"), "x", "cancel", "1");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        var (status, body) = await PostAsync(Http, Run(id) + "/cancel", """{"reason":"not needed"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Cancelled", body.GetProperty("state").GetString());
        var run = await fixture.Client.GetStatusAsync(id);
        Assert.Equal("not needed", run.Cancellation!.Reason);
        Assert.Equal("dashboard", run.Cancellation.By);

        var done = await StartAsync(Workflows.Order, 1, "cancel-done");
        await fixture.WaitForStateAsync(done, WorkflowState.Completed);
        var conflict = await PostAsync(Http, Run(done) + "/cancel");
        AssertProblem(HttpStatusCode.Conflict, conflict);
        Assert.Equal("Completed", conflict.Body.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Cancel_WithCompensate_UndoesTheBookingAndEndsCompensated_BadFlag400()
    {
        var id = await StartAsync(Workflows.Booking, "room 12", "cancel-undo");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);

        AssertProblem(HttpStatusCode.BadRequest, await PostAsync(Http, Run(id) + "/cancel", """{"compensate":"yes"}"""));
        Assert.Equal(WorkflowState.AwaitingSignal, (await fixture.Client.GetStatusAsync(id)).State);

        var (status, body) = await PostAsync(Http, Run(id) + "/cancel", """{"reason":"guest left","compensate":true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("state").GetString() is "Compensating" or "Compensated", body.GetProperty("state").GetString());
        await fixture.WaitForStateAsync(id, WorkflowState.Compensated);
        Assert.Equal(1, Workflows.Unbooked[id]);
        Assert.Equal("guest left", (await fixture.Client.GetStatusAsync(id)).Cancellation!.Reason);
        Assert.Contains(id, await ListIdsAsync("state=Compensated&pageSize=1000"));
    }

    [Fact]
    public async Task PauseAndUnpause_AwaitingRun_PausesThenContinues()
    {
        var id = await StartAsync(Workflows.Approval("1"), "x", "pause", "1");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        var (status, body) = await PostAsync(Http, Run(id) + "/pause", """{"reason":"investigating"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Paused", body.GetProperty("state").GetString());
        Assert.Equal("investigating", (await fixture.Client.GetStatusAsync(id)).Pause!.Reason);
        (status, body) = await PostAsync(Http, Run(id) + "/unpause", json: null);
        Assert.Equal(HttpStatusCode.OK, status);
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        await fixture.Client.CancelAsync(id);
        AssertProblem(HttpStatusCode.Conflict, await PostAsync(Http, Run(id) + "/pause"));
    }

    [Fact]
    public async Task Resume_FailedRun_CompletesOnceTheCauseIsFixed()
    {
        Workflows.FlakyFails = true;
        var id = await StartAsync(Workflows.Flaky, "x", "resume");
        await fixture.WaitForStateAsync(id, WorkflowState.Failed);
        Workflows.FlakyFails = false;
        var (status, _) = await PostAsync(Http, Run(id) + "/resume");
        Assert.Equal(HttpStatusCode.OK, status);
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        Assert.Equal("x ok", await fixture.Client.WaitForResultAsync<string>(id));
    }

    [Fact]
    public async Task Signal_AwaitingRun_DeliversJsonPayload_MissingName400_EndedRun409()
    {
        var id = await StartAsync(Workflows.Approval("1"), "x", "signal", "1");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        AssertProblem(HttpStatusCode.BadRequest, await PostAsync(Http, Run(id) + "/signal", """{"payload":{}}"""), "'name' is required");
        var (status, _) = await PostAsync(Http, Run(id) + "/signal", """{"name":"decision","payload":{"approved":true,"by":"ops"}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        Assert.Equal("approved by ops", await fixture.Client.WaitForResultAsync<string>(id));
        AssertProblem(HttpStatusCode.Conflict, await PostAsync(Http, Run(id) + "/signal", """{"name":"decision","payload":{}}"""));
    }

    [Fact]
    public async Task Rewind_CompletedRun_RunsTheStepAgain_InvalidStep409WithValidSteps()
    {
        var id = await StartAsync(Workflows.Order, 3, "rewind");
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var invalid = await PostAsync(Http, Run(id) + "/rewind", """{"beforeStep":"nope"}""");
        AssertProblem(HttpStatusCode.Conflict, invalid);
        Assert.Contains("charge", invalid.Body.GetProperty("validSteps").EnumerateArray().Select(s => s.GetString()));
        AssertProblem(HttpStatusCode.BadRequest, await PostAsync(Http, Run(id) + "/rewind", "{}"), "'beforeStep' is required");

        var (status, _) = await PostAsync(Http, Run(id) + "/rewind", """{"beforeStep":"ship","reason":"re-ship"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        await fixture.WaitForStateAsync(id, WorkflowState.Completed);
        var history = await fixture.Client.GetHistoryAsync(id);
        Assert.Equal(2, history.Count(e => e.Kind == RunEventKind.TaskCompleted && e.TaskId == "ship"));
        Assert.Single(history, e => e.Kind == RunEventKind.TaskCompleted && e.TaskId == "charge");
    }

    [Fact]
    public async Task Upgrade_AwaitingRun_MovesToCompatibleVersion_Incompatible409_Ended409()
    {
        var id = await StartAsync(Workflows.Approval("1"), "x", "upgrade", "1");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        var incompatible = await PostAsync(Http, Run(id) + "/upgrade", """{"toVersion":"3"}""");
        AssertProblem(HttpStatusCode.Conflict, incompatible);
        Assert.True(incompatible.Body.GetProperty("differences").GetArrayLength() > 0);
        AssertProblem(HttpStatusCode.NotFound, await PostAsync(Http, Run(id) + "/upgrade", """{"toVersion":"9"}"""));

        var (status, body) = await PostAsync(Http, Run(id) + "/upgrade", """{"toVersion":"2"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("2", body.GetProperty("workflowVersion").GetString());
        await fixture.Client.CancelAsync(id);
        AssertProblem(HttpStatusCode.Conflict, await PostAsync(Http, Run(id) + "/upgrade", """{"toVersion":"2"}"""));
    }

    [Fact]
    public async Task Actions_WithoutTheDashboardHeader_Return403()
    {
        var response = await PostAsync(Http, "api/runs", """{"workflow":"order","input":1}""", header: false);
        AssertProblem(HttpStatusCode.Forbidden, response, "X-Sayiir-Dashboard");
    }

    [Fact]
    public async Task Actions_FromRemoteAddress_RefusedByDefault_AllowedWhenConfigured()
    {
        var id = Wait.NewId("remote");
        void Remote(HttpRequestMessage r) => r.Headers.Add(DashboardApp.RemoteIpHeader, "203.0.113.7");
        var refused = await PostAsync(Http, "api/runs", $$"""{"workflow":"order","input":1,"instanceId":"{{id}}"}""", configure: Remote);
        AssertProblem(HttpStatusCode.Forbidden, refused, "AllowRemoteActions");
        Assert.Equal(WorkflowState.NotFound, (await fixture.Client.GetStatusAsync(id)).State);
        var (readStatus, config) = await GetAsync(Http, "api/config", Remote);
        Assert.Equal(HttpStatusCode.OK, readStatus);
        Assert.False(config.GetProperty("actionsAllowed").GetBoolean());

        await using var open = await DashboardApp.StartAsync(fixture.Client, o => o.AllowRemoteActions = true);
        var (status, _) = await PostAsync(open.Http, "api/runs", $$"""{"workflow":"order","input":1,"instanceId":"{{id}}"}""", configure: Remote);
        Assert.Equal(HttpStatusCode.Created, status);
    }

    [Fact]
    public async Task ReadOnly_RefusesEveryAction_ReadsStillWork()
    {
        await using var app = await DashboardApp.StartAsync(fixture.Client, o => o.ReadOnly = true);
        var id = await StartAsync(Workflows.Approval("1"), "x", "readonly", "1");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);
        foreach (var action in new[] { "cancel", "pause", "unpause", "resume", "signal", "rewind", "upgrade" })
            AssertProblem(HttpStatusCode.Forbidden, await PostAsync(app.Http, Run(id) + "/" + action), "read-only");
        AssertProblem(HttpStatusCode.Forbidden, await PostAsync(app.Http, "api/runs", """{"workflow":"order","input":1}"""), "read-only");
        Assert.Equal(WorkflowState.AwaitingSignal, (await fixture.Client.GetStatusAsync(id)).State);
        var (status, config) = await GetAsync(app.Http, "api/config");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(config.GetProperty("readOnly").GetBoolean());
        Assert.False(config.GetProperty("actionsAllowed").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app.Http, Run(id))).Status);
        await fixture.Client.CancelAsync(id);
    }

    [Fact]
    public async Task Policies_ReadAndActionPolicies_AreEnforcedSeparately()
    {
        await using var app = await DashboardApp.StartAsync(fixture.Client, o => { o.ReadPolicy = "readers"; o.ActionPolicy = "operators"; }, authentication: true);
        static Action<HttpRequestMessage> As(string user) => r => r.Headers.Add(TestAuthentication.Header, user);
        var id = await StartAsync(Workflows.Approval("1"), "x", "policy", "1");
        await fixture.WaitForStateAsync(id, WorkflowState.AwaitingSignal);

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app.Http, Run(id))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app.Http, "")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app.Http, Run(id), As("ann:reader"))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(app.Http, Run(id), As("bob:operator"))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(app.Http, Run(id) + "/pause", configure: As("ann:reader"))).Status);
        var (status, _) = await PostAsync(app.Http, Run(id) + "/cancel", """{"reason":"policy test"}""", configure: As("carol:reader,operator"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("carol", (await fixture.Client.GetStatusAsync(id)).Cancellation!.By);
    }

    [Fact]
    public async Task MapSayiirDashboard_RequireAuthorizationOnTheReturnedBuilder_AppliesToPagesApiAndActions()
    {
        await using var app = await DashboardApp.StartAsync(fixture.Client, authentication: true, map: b => b.RequireAuthorization("staff"));
        static void Staff(HttpRequestMessage r) => r.Headers.Add(TestAuthentication.Header, "dan:staff");
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app.Http, "")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app.Http, "api/runs")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(app.Http, "api/runs", """{"workflow":"order","input":1}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app.Http, "api/runs", Staff)).Status);
        var (status, _) = await PostAsync(app.Http, "api/runs", """{"workflow":"order","input":1}""", configure: Staff);
        Assert.Equal(HttpStatusCode.Created, status);
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheApiOnly()
    {
        var (status, body) = await GetAsync(Http, "api/openapi/sayiir-dashboard.json");
        Assert.Equal(HttpStatusCode.OK, status);
        var paths = body.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/sayiir/api/runs", paths);
        Assert.Contains("/sayiir/api/runs/{instanceId}/signal", paths);
        Assert.Contains("/sayiir/api/workflows", paths);
        Assert.Contains("/sayiir/api/cluster", paths);
        Assert.Contains("/sayiir/api/workflows/{workflowName}/graph", paths);
        Assert.DoesNotContain(paths, p => p.EndsWith("app.js", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(Http, "api/openapi/v1.json")).Status);
    }

    [Fact]
    public async Task Pages_ServedFromTheAssembly_WithStrictContentSecurityPolicy()
    {
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.App.Root };
        using var redirect = await noRedirect.GetAsync(new Uri(fixture.App.Root, "/sayiir"));
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/sayiir/", redirect.Headers.Location!.OriginalString);

        using var page = await Http.GetAsync("");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("<script src=\"app.js\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var script = await Http.GetAsync("app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        var js = await script.Content.ReadAsStringAsync();
        Assert.Contains("textContent", js, StringComparison.Ordinal);
        Assert.DoesNotContain("innerHTML", js, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("app.css")).StatusCode);
    }

    [Fact]
    public async Task Options_Invalid_FailWhenMapped_MissingServicesExplained()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            DashboardApp.StartAsync(fixture.Client, o => { o.RefreshInterval = TimeSpan.Zero; o.DefaultPageSize = 0; o.ReadPolicy = " "; }));
        Assert.Contains("RefreshInterval", error.Message, StringComparison.Ordinal);
        Assert.Contains("DefaultPageSize", error.Message, StringComparison.Ordinal);
        Assert.Contains("ReadPolicy", error.Message, StringComparison.Ordinal);

        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder();
        await using var bare = builder.Build();
        var missing = Assert.Throws<InvalidOperationException>(() => bare.MapSayiirDashboard());
        Assert.Contains("AddSayiirDashboard", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => bare.MapSayiirDashboard("sayiir"));
    }
}
