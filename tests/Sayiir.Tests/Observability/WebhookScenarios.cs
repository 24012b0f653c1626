using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Observability;

/// <summary>
/// A one-silo cluster of its own whose webhook notifier posts failed and cancelled runs of two workflows to a local
/// listener. One silo: its notifier queue is in order, so once a later run's POST arrived, an earlier run that was to
/// post nothing has been passed over for good.
/// </summary>
public abstract class WebhookFixture(Backend backend) : IAsyncLifetime
{
    public WebhookReceiver Receiver { get; } = new();

    public SayiirCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await SayiirCluster.StartAsync(backend, new ClusterSettings
    {
        Silos = 1,
        Workflows = [.. ObserverFlows.All],
        DatabasePrefix = "sayiir_webhook",
        Sayiir = s => s.AddWebhookNotifier(o =>
        {
            o.Url = Receiver.Url;
            o.Workflows = [ObserverFlows.Observed.Name, ObserverFlows.Parked.Name];
            o.MaxAttempts = 4;
            o.InitialBackoff = TimeSpan.FromMilliseconds(50);
        }),
    });

    public async Task DisposeAsync()
    {
        try
        {
            await Cluster.DisposeAsync();
        }
        finally
        {
            await Receiver.DisposeAsync();
        }
    }
}

public sealed class MemoryWebhookFixture() : WebhookFixture(Backend.Memory);

public sealed class PostgresWebhookFixture() : WebhookFixture(Backend.Postgres);

public abstract class WebhookScenarios(WebhookFixture fixture)
{
    private ISayiirClient Client => fixture.Cluster.Client;

    private WebhookReceiver Receiver => fixture.Receiver;

    [Fact]
    public async Task WebhookNotifier_FailedRun_PostsOnceWithTheFailure()
    {
        var id = NewId("webhook-failed");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(ObserverFlows.Observed, -1, id), Deadline, "the failing run"));

        await Wait.UntilAsync(() => Receiver.PostsFor(id).Count > 0, Deadline, "the webhook POST of the failed run");
        await FailMarkerRunAsync();

        var post = Assert.Single(Receiver.PostsFor(id));
        Assert.Equal("application/json; charset=utf-8", post.ContentType);
        var body = post.Body;
        Assert.Equal(id, body.GetProperty("instanceId").GetString());
        Assert.Equal("obs_observed", body.GetProperty("workflow").GetString());
        Assert.Equal(ObserverFlows.Observed.Hash, body.GetProperty("definitionHash").GetString());
        Assert.Equal("Failed", body.GetProperty("state").GetString());
        Assert.Equal("Running", body.GetProperty("previousState").GetString());
        var status = await Client.GetStatusAsync(id);
        Assert.Equal(status.UpdatedAt, body.GetProperty("at").GetDateTimeOffset());
        var failure = body.GetProperty("failure");
        Assert.Equal("check", failure.GetProperty("taskId").GetString());
        Assert.Equal(1, failure.GetProperty("attempt").GetInt32());
        Assert.Equal(typeof(ArgumentException).FullName, failure.GetProperty("errorType").GetString());
        Assert.Equal("negative input -1", failure.GetProperty("message").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("cancellation").ValueKind);
    }

    [Fact]
    public async Task WebhookNotifier_ReceiverAnswers500First_RetriesUntilAccepted()
    {
        var id = NewId("webhook-retried");
        Receiver.FailFirst(id, 2);
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(ObserverFlows.Observed, -2, id), Deadline, "the failing run"));

        await Wait.UntilAsync(() => Receiver.PostsFor(id).Any(p => p.AnsweredStatus == 204), Deadline, "the webhook POST to be accepted");
        await FailMarkerRunAsync();

        var posts = Receiver.PostsFor(id);
        Assert.Equal([500, 500, 204], posts.Select(p => p.AnsweredStatus));
        // Every try carries the same change, under the same event id.
        Assert.Single(posts.Select(p => p.EventId).Distinct());
        Assert.False(string.IsNullOrEmpty(posts[0].EventId));
        Assert.Single(posts.Select(p => p.Body.GetRawText()).Distinct());
    }

    [Fact]
    public async Task WebhookNotifier_CancelledRun_PostsTheCancellation()
    {
        var id = NewId("webhook-cancelled");
        await Client.StartAsync(ObserverFlows.Parked, 0, id);
        await Wait.UntilAsync(async () => (await Client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, "the run to await its signal");
        await Client.CancelAsync(id, "stale order", "ops");

        await Wait.UntilAsync(() => Receiver.PostsFor(id).Count > 0, Deadline, "the webhook POST of the cancelled run");

        var body = Assert.Single(Receiver.PostsFor(id)).Body;
        Assert.Equal("Cancelled", body.GetProperty("state").GetString());
        Assert.Equal("AwaitingSignal", body.GetProperty("previousState").GetString());
        Assert.Equal("stale order", body.GetProperty("cancellation").GetProperty("reason").GetString());
        Assert.Equal("ops", body.GetProperty("cancellation").GetProperty("by").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("failure").ValueKind);
    }

    [Fact]
    public async Task WebhookNotifier_CompletedRunAndUnwatchedWorkflow_PostNothing()
    {
        var completed = NewId("webhook-completed");
        var unwatched = NewId("webhook-unwatched");
        Assert.Equal(1, await Wait.ForAsync(Client.RunAsync(ObserverFlows.Observed, 1, completed), Deadline, "the completed run"));
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(ObserverFlows.Unwatched, -1, unwatched), Deadline, "the unwatched failing run"));

        // Their changes were queued before the marker's: once the marker is posted, they were passed over.
        await FailMarkerRunAsync();

        Assert.Empty(Receiver.PostsFor(completed));
        Assert.Empty(Receiver.PostsFor(unwatched));
    }

    // A failed run of a watched workflow, waited for until its POST arrived: everything queued before it was handled.
    private async Task FailMarkerRunAsync()
    {
        var marker = NewId("webhook-marker");
        await Assert.ThrowsAsync<WorkflowFailedException>(() => Wait.ForAsync(Client.RunAsync(ObserverFlows.Observed, -9, marker), Deadline, "the marker run"));
        await Wait.UntilAsync(() => Receiver.PostsFor(marker).Any(p => p.AnsweredStatus == 204), Deadline, "the marker run's webhook POST");
    }
}

public sealed class MemoryWebhookScenarios(MemoryWebhookFixture fixture) : WebhookScenarios(fixture), IClassFixture<MemoryWebhookFixture>;

public sealed class PostgresWebhookScenarios(PostgresWebhookFixture fixture) : WebhookScenarios(fixture), IClassFixture<PostgresWebhookFixture>;
