using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Sayiir.Dashboard;

/// <summary>The JSON API: reads, actions, their security checks and the mapping of Sayiir's errors to problem details.</summary>
internal static class DashboardApi
{
    public const string DocumentName = "sayiir-dashboard";

    /// <summary>The header every action request must carry (see <see cref="ActionsRefusal"/>).</summary>
    public const string ActionHeader = "X-Sayiir-Dashboard";

    private const string Tag = "Sayiir dashboard";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void MapReads(RouteGroupBuilder reads, SayiirDashboardOptions options)
    {
        var api = reads.MapGroup("/api").WithGroupName(DocumentName).WithTags(Tag).AddEndpointFilter(MapErrors);

        api.MapGet("/config", (HttpContext http) => Results.Json(new DashboardConfig(
                options.ReadOnly,
                ActionsRefusal(http, options) is null,
                ActionsRefusal(http, options),
                (int)options.RefreshInterval.TotalMilliseconds,
                options.DefaultPageSize), Json))
            .WithSummary("What the pages need: whether actions are allowed to this caller, and the refresh interval.")
            .Produces<DashboardConfig>();

        api.MapGet("/runs", (ISayiirClient client, string? workflow, string[]? state, string? from, string? before, string? prefix, string? pageSize,
                string? continuationToken, CancellationToken cancellationToken) =>
                ListRunsAsync(client, options, workflow, state, from, before, prefix, pageSize, continuationToken, cancellationToken))
            .WithSummary("Lists runs, newest first, filtered by workflow, states, creation time and instance-id prefix, with keyset paging, and counts the matching runs per state.")
            .Produces<RunListResponse>().ProducesProblem(400);

        api.MapGet("/runs/counts", async (ISayiirClient client, string? workflow, string[]? state, string? from, string? before, string? prefix,
                CancellationToken cancellationToken) =>
                Results.Json(RunCountsResponse.From(await client.CountRunsAsync(Query(workflow, state, from, before, prefix), cancellationToken).ConfigureAwait(false)), Json))
            .WithSummary("Counts the runs matching the filters, per state.")
            .Produces<RunCountsResponse>().ProducesProblem(400);

        api.MapGet("/activity", ActivityAsync)
            .WithSummary("Runs started, completed, failed and cancelled per bucket of a window (default: the last hour in one-minute buckets), of one workflow or all.")
            .Produces<ActivityResponse>().ProducesProblem(400);

        api.MapGet("/runs/{instanceId}", GetRunAsync)
            .WithSummary("A run's status, failure (with stack and inner chain) and, once completed, its output as JSON.")
            .Produces<RunDetailResponse>().ProducesProblem(404);

        api.MapGet("/runs/{instanceId}/history", async (string instanceId, ISayiirClient client, CancellationToken cancellationToken) =>
            {
                var history = await client.GetHistoryAsync(Id(instanceId), cancellationToken).ConfigureAwait(false);
                return Results.Json(history.Select(HistoryEventResponse.From).ToList(), Json);
            })
            .WithSummary("A run's durable history, oldest first.")
            .Produces<List<HistoryEventResponse>>().ProducesProblem(404);

        api.MapGet("/runs/{instanceId}/tasks/{taskId}/output", async (string instanceId, string taskId, ISayiirClient client, CancellationToken cancellationToken) =>
                Results.Json(await client.GetTaskResultAsync<JsonElement>(Id(instanceId), Id(taskId), cancellationToken).ConfigureAwait(false), Json))
            .WithSummary("The output of a completed task (or signal wait, loop, delay or route key) of a run, as JSON.")
            .Produces<JsonElement>().ProducesProblem(404);

        api.MapGet("/workflows", async (string? workflow, ISayiirClient client, CancellationToken cancellationToken) =>
                Results.Json(await client.GetWorkflowVersionsAsync(string.IsNullOrEmpty(workflow) ? null : workflow, cancellationToken).ConfigureAwait(false), Json))
            .WithSummary("Registered workflow versions and the versions active runs use, with their active run counts.")
            .Produces<List<WorkflowVersionInfo>>();

        api.MapGet("/workflows/{workflowName}/graph", async (string workflowName, string? version, ISayiirClient client, CancellationToken cancellationToken) =>
                Results.Json(await client.GetWorkflowGraphAsync(Id(workflowName), string.IsNullOrEmpty(version) ? null : version, cancellationToken).ConfigureAwait(false), Json))
            .WithSummary("The graph of a registered workflow version (the latest when version is omitted): its nodes with ids, kinds, branches, joins, bodies and options.")
            .Produces<WorkflowGraph>().ProducesProblem(404);

        api.MapGet("/cluster", async (ISayiirClient client, CancellationToken cancellationToken) =>
                Results.Json(await client.GetClusterAsync(cancellationToken).ConfigureAwait(false), Json))
            .WithSummary("The live silos: address, name, host, membership status, start time, the runs each drives and its task attempts in flight.")
            .Produces<List<SiloInfo>>();

        reads.MapOpenApi("/api/openapi/{documentName:regex(^" + DocumentName + "$)}.json");
    }

    public static void MapActions(RouteGroupBuilder actions, SayiirDashboardOptions options)
    {
        var api = actions.MapGroup("/api").WithGroupName(DocumentName).WithTags(Tag)
            .AddEndpointFilter((context, next) => ActionsRefusal(context.HttpContext, options) is { } refusal
                ? ValueTask.FromResult<object?>(Results.Problem(refusal, statusCode: StatusCodes.Status403Forbidden, title: "Action refused"))
                : next(context))
            .AddEndpointFilter(MapErrors);

        api.MapPost("/runs", StartAsync)
            .WithSummary("Starts a run of a registered workflow by name, with a JSON input.")
            .Accepts<StartRequest>("application/json").Produces<StatusResponse>(201).ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);

        api.MapPost("/runs/{instanceId}/cancel", (string instanceId, HttpContext http, ISayiirClient client) =>
                ActAsync(http, async (body, ct) => await client.CancelAsync(Id(instanceId), OptionalString(body, "reason"), By(http), OptionalBool(body, "compensate"), ct).ConfigureAwait(false)))
            .WithSummary("Cancels a running, waiting or paused run.").Accepts<ReasonRequest>("application/json");
        api.MapPost("/runs/{instanceId}/pause", (string instanceId, HttpContext http, ISayiirClient client) =>
                ActAsync(http, async (body, ct) => await client.PauseAsync(Id(instanceId), OptionalString(body, "reason"), By(http), ct).ConfigureAwait(false)))
            .WithSummary("Pauses a run at its next step boundary.").Accepts<ReasonRequest>("application/json");
        api.MapPost("/runs/{instanceId}/unpause", (string instanceId, HttpContext http, ISayiirClient client) =>
                ActAsync(http, async (_, ct) => await client.UnpauseAsync(Id(instanceId), ct).ConfigureAwait(false)))
            .WithSummary("Continues a paused run.");
        api.MapPost("/runs/{instanceId}/resume", (string instanceId, HttpContext http, ISayiirClient client) =>
                ActAsync(http, async (_, ct) => await client.ResumeAsync(Id(instanceId), ct).ConfigureAwait(false)))
            .WithSummary("Continues a failed or interrupted run from its last checkpoint.");
        api.MapPost("/runs/{instanceId}/rewind", (string instanceId, HttpContext http, ISayiirClient client) =>
                ActAsync(http, async (body, ct) => await client.RewindAsync(Id(instanceId), RequiredString(body, "beforeStep"), OptionalString(body, "reason"), By(http), ct).ConfigureAwait(false)))
            .WithSummary("Rewinds an ended or paused run to just before a step it completed.").Accepts<RewindRequest>("application/json");
        api.MapPost("/runs/{instanceId}/upgrade", (string instanceId, HttpContext http, ISayiirClient client) =>
                ActAsync(http, async (body, ct) => await client.UpgradeAsync(Id(instanceId), OptionalString(body, "toVersion"), ct).ConfigureAwait(false)))
            .WithSummary("Moves a run onto another registered version of its workflow (the latest when toVersion is null).").Accepts<UpgradeRequest>("application/json");
        api.MapPost("/runs/{instanceId}/signal", (string instanceId, HttpContext http, ISayiirClient client) =>
                ActAsync(http, async (body, ct) =>
                {
                    var id = Id(instanceId);
                    var name = RequiredString(body, "name");
                    var payload = body.TryGetProperty("payload", out var p) ? p : default;
                    // The client buffers a signal for a run that does not exist yet; from the dashboard that is a typo.
                    var before = await client.GetStatusAsync(id, ct).ConfigureAwait(false);
                    if (before.State == WorkflowState.NotFound) throw new WorkflowRunNotFoundException(id);
                    await client.SignalAsync(id, name, payload, ct).ConfigureAwait(false);
                    return await client.GetStatusAsync(id, ct).ConfigureAwait(false);
                }))
            .WithSummary("Sends a signal (name and JSON payload) to an existing run.").Accepts<SignalRequest>("application/json");
    }

    private static async Task<IResult> ListRunsAsync(ISayiirClient client, SayiirDashboardOptions options, string? workflow, string[]? state,
        string? from, string? before, string? prefix, string? pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        var size = options.DefaultPageSize;
        if (!string.IsNullOrEmpty(pageSize) && !int.TryParse(pageSize, NumberStyles.Integer, CultureInfo.InvariantCulture, out size))
            throw new ArgumentException($"pageSize must be an integer (was '{pageSize}').", nameof(pageSize));
        var query = Query(workflow, state, from, before, prefix) with
        {
            PageSize = size,
            ContinuationToken = string.IsNullOrEmpty(continuationToken) ? null : continuationToken,
        };
        var page = client.ListRunsAsync(query, cancellationToken);
        var counts = client.CountRunsAsync(query with { States = null }, cancellationToken);
        await Task.WhenAll(page, counts).ConfigureAwait(false);
        return Results.Json(new RunListResponse(page.Result.Runs, page.Result.ContinuationToken,
            counts.Result.ByState.ToDictionary(c => c.Key.ToString(), c => c.Value)), Json);
    }

    private static RunQuery Query(string? workflow, string[]? state, string? from, string? before, string? prefix)
    {
        var states = new List<WorkflowState>();
        foreach (var s in (state ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Enum.TryParse<WorkflowState>(s, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(s, out _))
                throw new ArgumentException($"Unknown state '{s}'. States: {string.Join(", ", Enum.GetNames<WorkflowState>())}.", nameof(state));
            states.Add(parsed);
        }
        return new RunQuery
        {
            WorkflowName = string.IsNullOrEmpty(workflow) ? null : workflow,
            States = states.Count == 0 ? null : states,
            CreatedFrom = Instant(from, nameof(from)),
            CreatedBefore = Instant(before, nameof(before)),
            InstanceIdPrefix = string.IsNullOrEmpty(prefix) ? null : prefix,
        };
    }

    private static async Task<IResult> ActivityAsync(HttpContext http, ISayiirClient client, string? workflow, string? from, string? to, string? bucketSeconds,
        CancellationToken cancellationToken)
    {
        var bucket = TimeSpan.FromMinutes(1);
        if (!string.IsNullOrEmpty(bucketSeconds))
        {
            if (!int.TryParse(bucketSeconds, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
                throw new ArgumentException($"bucketSeconds must be an integer (was '{bucketSeconds}').", nameof(bucketSeconds));
            bucket = TimeSpan.FromSeconds(seconds);
            if (seconds < 1) throw new ArgumentOutOfRangeException(nameof(bucketSeconds), seconds, "BucketSize must be between 1 second and 1 day.");
        }
        var end = Instant(to, nameof(to));
        var start = Instant(from, nameof(from));
        if (start is null)
        {
            // The last hour, in whole buckets ending with the current one.
            // wall clock: the app's TimeProvider when it registers one (the engine's clock may be another process's).
            var now = end ?? (http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
            var last = new DateTimeOffset(now.UtcTicks - now.UtcTicks % bucket.Ticks, TimeSpan.Zero);
            end ??= last + bucket;
            start = end.Value - TimeSpan.FromHours(1);
        }
        var query = new RunActivityQuery { From = start.Value, To = end, BucketSize = bucket, WorkflowName = string.IsNullOrEmpty(workflow) ? null : workflow };
        var buckets = await client.GetRunActivityAsync(query, cancellationToken).ConfigureAwait(false);
        return Results.Json(new ActivityResponse(query.WorkflowName, query.From, query.End, bucket.TotalSeconds, buckets), Json);
    }

    private static async Task<IResult> GetRunAsync(string instanceId, ISayiirClient client, CancellationToken cancellationToken)
    {
        var id = Id(instanceId);
        var status = await client.GetStatusAsync(id, cancellationToken).ConfigureAwait(false);
        if (status.State == WorkflowState.NotFound) throw new WorkflowRunNotFoundException(id);
        JsonElement? output = null;
        string? outputError = null;
        if (status.State == WorkflowState.Completed)
        {
            try
            {
                output = await client.WaitForResultAsync<JsonElement>(id, cancellationToken).ConfigureAwait(false);
            }
            catch (PayloadSerializationException e)
            {
                // An output the app's codec did not write as JSON: the rest of the page still shows.
                outputError = e.Message;
            }
        }
        return Results.Json(new RunDetailResponse(status, output, outputError), Json);
    }

    private static async Task<IResult> StartAsync(HttpContext http, ISayiirClient client)
    {
        return await ActAsync(http, async (body, ct) =>
        {
            var workflow = RequiredString(body, "workflow");
            var input = body.TryGetProperty("input", out var i) && i.ValueKind != JsonValueKind.Undefined ? (object?)i : null;
            var instanceId = OptionalString(body, "instanceId");
            var version = OptionalString(body, "version");
            var handle = await client.StartAsync(workflow, input, string.IsNullOrEmpty(instanceId) ? null : instanceId,
                new StartOptions { Version = string.IsNullOrEmpty(version) ? null : version }, ct).ConfigureAwait(false);
            return handle.StartStatus;
        }, StatusCodes.Status201Created).ConfigureAwait(false);
    }

    /// <summary>Reads the JSON body (an empty body is an empty object), runs the action, answers with the run's status.</summary>
    private static async Task<IResult> ActAsync(HttpContext http, Func<JsonElement, CancellationToken, Task<WorkflowStatus>> action, int statusCode = StatusCodes.Status200OK)
    {
        JsonElement body;
        using (var reader = new StreamReader(http.Request.Body, leaveOpen: true))
        {
            var text = await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false);
            try
            {
                // An empty body is an empty object: unpause and resume need none.
                using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
                body = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                return Results.Problem($"The request body is not valid JSON: {e.Message}", statusCode: StatusCodes.Status400BadRequest, title: "Invalid JSON");
            }
        }
        if (body.ValueKind != JsonValueKind.Object)
            return Results.Problem($"The request body must be a JSON object (was {body.ValueKind}).", statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");
        var status = await action(body, http.RequestAborted).ConfigureAwait(false);
        return Results.Json(StatusResponse.From(status), Json, statusCode: statusCode);
    }

    /// <summary>
    /// Why this caller may not act, or null. Actions need the <see cref="ActionHeader"/> header: a cross-site page can
    /// make a browser send a form post (no custom header) without asking, but a request with a custom header needs a
    /// CORS preflight the dashboard never grants, so another site cannot trigger actions with the user's cookies.
    /// </summary>
    internal static string? ActionsRefusal(HttpContext http, SayiirDashboardOptions options)
    {
        if (options.ReadOnly) return "The dashboard is read-only (SayiirDashboardOptions.ReadOnly).";
        if (!options.AllowRemoteActions && !IsLoopback(http.Connection.RemoteIpAddress))
            return "Actions are allowed only from the local machine unless SayiirDashboardOptions.AllowRemoteActions is set (protect them with ActionPolicy first).";
        if (HttpMethods.IsPost(http.Request.Method) && http.Request.Headers[ActionHeader] != "1")
            return $"Action requests must carry the header '{ActionHeader}: 1' (protection against cross-site requests).";
        return null;
    }

    private static bool IsLoopback(IPAddress? address) => address is not null && IPAddress.IsLoopback(address);

    private static async ValueTask<object?> MapErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (Problem(e) is { } problem)
        {
            return problem;
        }
    }

    /// <summary>The problem details for an error the caller can act on; null for anything else (a 500 then).</summary>
    internal static IResult? Problem(Exception error)
    {
        IResult P(int status, string title, Dictionary<string, object?>? extensions = null) =>
            Results.Problem(error.Message, statusCode: status, title: title, extensions: extensions);
        return error switch
        {
            WorkflowRunNotFoundException e => P(404, "Run not found", new() { ["instanceId"] = e.InstanceId }),
            WorkflowNotFoundException e => P(404, "Workflow not found", new() { ["workflowName"] = e.WorkflowName, ["version"] = e.Version }),
            TaskResultNotFoundException e => P(404, "Task output not found", new() { ["instanceId"] = e.InstanceId, ["taskId"] = e.TaskId }),
            InvalidRunStateException e => P(409, $"Cannot {e.Operation}: the run is {e.State}", new() { ["instanceId"] = e.InstanceId, ["state"] = e.State.ToString(), ["operation"] = e.Operation }),
            WorkflowAlreadyExistsException e => P(409, "Run already exists", new() { ["instanceId"] = e.InstanceId, ["state"] = e.State.ToString() }),
            InvalidRewindStepException e => P(409, "Cannot rewind before that step", new() { ["instanceId"] = e.InstanceId, ["stepId"] = e.StepId, ["validSteps"] = e.ValidSteps }),
            IncompatibleUpgradeException e => P(409, "Incompatible upgrade", new() { ["instanceId"] = e.InstanceId, ["differences"] = e.Differences }),
            DefinitionMismatchException e => P(409, "Definition changed", new() { ["instanceId"] = e.InstanceId, ["workflowName"] = e.WorkflowName }),
            WorkflowRunMovedException => P(503, "Run moved to another silo: try again"),
            InvalidInstanceIdException => P(400, "Invalid instance id"),
            PayloadSerializationException => P(400, "Invalid payload"),
            PayloadTooLargeException e => P(413, "Payload too large", new() { ["size"] = e.Size, ["limit"] = e.Limit }),
            PayloadKeyNotFoundException e => P(500, "Encryption key not configured", new() { ["keyId"] = e.KeyId }),
            ArgumentException => P(400, "Invalid request"),
            _ => null,
        };
    }

    // Routing leaves an encoded '/' encoded in a route value; instance ids may contain one.
    private static string Id(string value) => value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    private static string? By(HttpContext http) => http.User.Identity?.Name is { Length: > 0 } name ? name : "dashboard";

    private static string? OptionalString(JsonElement body, string name) =>
        !body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new ArgumentException($"'{name}' must be a string (was {value.ValueKind}).", name);

    private static bool OptionalBool(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ArgumentException($"'{name}' must be true or false (was {value.ValueKind}).", name),
            }
            : false;

    private static string RequiredString(JsonElement body, string name) =>
        OptionalString(body, name) is { Length: > 0 } value ? value : throw new ArgumentException($"'{name}' is required.", name);

    private static DateTimeOffset? Instant(string? value, string name) =>
        string.IsNullOrEmpty(value) ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant) ? instant
        : throw new ArgumentException($"'{name}' is not a date and time (was '{value}'); use ISO 8601, e.g. 2026-01-31T12:00:00Z.", name);
}
