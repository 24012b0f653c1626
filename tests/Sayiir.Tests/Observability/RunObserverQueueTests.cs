using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sayiir.Hosting;
using Sayiir.Observability;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Observability;

/// <summary>The observer queues and the webhook notifier on their own, without a cluster.</summary>
public sealed class RunObserverQueueTests
{
    [Fact]
    public async Task Notify_QueueFullWhileObserverBlocks_DropsTheNewChangeAndGoesOn()
    {
        var observer = new GatedObserver();
        await using var observers = new RunObservers([observer], Options.Create(new SayiirOptions { RunObserverQueueCapacity = 1 }), NullLogger<RunObservers>.Instance);

        observers.Notify(Change("run-1"));
        await Wait.UntilAsync(() => observer.Seen.Count == 1, LocalDeadline, "the observer to be given run-1");
        observers.Notify(Change("run-2"));   // queued (capacity 1)
        observers.Notify(Change("run-3"));   // the queue is full: dropped
        observer.Gate.TrySetResult();
        await Wait.UntilAsync(() => observer.Seen.Count == 2, LocalDeadline, "the observer to be given run-2");
        // The queue is empty again: a new change is taken.
        observers.Notify(Change("run-4"));
        await Wait.UntilAsync(() => observer.Seen.Count == 3, LocalDeadline, "the observer to be given run-4");

        Assert.Equal(["run-1", "run-2", "run-4"], observer.Seen);
    }

    [Fact]
    public async Task Notify_ObserverThrows_LaterChangesStillReachIt()
    {
        var observer = new ThrowsOnFirstObserver();
        await using var observers = new RunObservers([observer], Options.Create(new SayiirOptions()), NullLogger<RunObservers>.Instance);

        observers.Notify(Change("run-1"));
        observers.Notify(Change("run-2"));
        await Wait.UntilAsync(() => observer.Seen.Count == 2, LocalDeadline, "the observer to be given both changes");

        Assert.Equal(["run-1", "run-2"], observer.Seen);
    }

    [Fact]
    public async Task WebhookNotifier_ReceiverAlwaysFails_GivesUpAfterMaxAttempts()
    {
        await using var receiver = new WebhookReceiver();
        var options = new WebhookNotifierOptions { Url = receiver.Url, MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(10) };
        using var notifier = new WebhookNotifier(options, NullLogger<WebhookNotifier>.Instance);
        receiver.FailFirst("run-down", 100);

        await notifier.OnRunChangedAsync(Change("run-down"), CancellationToken.None).WaitAsync(LocalDeadline);

        Assert.Equal([500, 500, 500], receiver.PostsFor("run-down").Select(p => p.AnsweredStatus));
    }

    [Fact]
    public async Task WebhookNotifier_StateNotWatched_PostsNothing()
    {
        await using var receiver = new WebhookReceiver();
        using var notifier = new WebhookNotifier(new WebhookNotifierOptions { Url = receiver.Url }, NullLogger<WebhookNotifier>.Instance);

        await notifier.OnRunChangedAsync(Change("run-paused", WorkflowState.Paused), CancellationToken.None).WaitAsync(LocalDeadline);
        await notifier.OnRunChangedAsync(Change("run-failed"), CancellationToken.None).WaitAsync(LocalDeadline);

        Assert.Empty(receiver.PostsFor("run-paused"));
        Assert.Single(receiver.PostsFor("run-failed"));
    }

    private static RunChange Change(string instanceId, WorkflowState state = WorkflowState.Failed) => new()
    {
        InstanceId = instanceId,
        WorkflowName = "wf",
        State = state,
        PreviousState = WorkflowState.Running,
        At = DateTimeOffset.UnixEpoch,
    };

    private sealed class GatedObserver : IRunObserver
    {
        public ConcurrentQueue<string> Seen { get; } = new();

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken)
        {
            Seen.Enqueue(change.InstanceId);
            await Gate.Task.WaitAsync(cancellationToken);
        }
    }

    private sealed class ThrowsOnFirstObserver : IRunObserver
    {
        public ConcurrentQueue<string> Seen { get; } = new();

        public Task OnRunChangedAsync(RunChange change, CancellationToken cancellationToken)
        {
            Seen.Enqueue(change.InstanceId);
            return Seen.Count == 1 ? throw new InvalidOperationException("first change fails") : Task.CompletedTask;
        }
    }
}
