using Microsoft.Extensions.Time.Testing;
using Sayiir.Runtime;
using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Placement;

/// <summary>The silo's attempt slots: capacity, priority order, FIFO within a priority, aging (virtual time).</summary>
public sealed class AttemptSlotsTests
{
    private static readonly TimeSpan Aging = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Release_WaitersOfMixedPriorities_StartByPriorityThenFifo()
    {
        var slots = new AttemptSlots(1, Aging, new FakeTimeProvider());
        await slots.AcquireAsync(3, CancellationToken.None);
        var order = new List<string>();
        var waiters = new[] { ("5a", 5), ("1a", 1), ("3a", 3), ("1b", 1) }
            .Select(w => slots.AcquireAsync(w.Item2, CancellationToken.None).ContinueWith(_ => { lock (order) order.Add(w.Item1); }, TaskScheduler.Default))
            .ToList();
        Assert.Equal(5, slots.Busy);

        for (var i = 0; i < 4; i++)
        {
            slots.Release();
            await Wait.UntilAsync(() => { lock (order) return order.Count == i + 1; }, TimeSpan.FromSeconds(5), $"waiter {i + 1} to be granted");
        }
        Assert.Equal(["1a", "1b", "3a", "5a"], order);
    }

    [Fact]
    public async Task Release_LowPriorityWaitedFourAgingIntervals_OvertakesFreshHighPriority()
    {
        var time = new FakeTimeProvider();
        var slots = new AttemptSlots(1, Aging, time);
        await slots.AcquireAsync(3, CancellationToken.None);
        var old = slots.AcquireAsync(5, CancellationToken.None);
        time.Advance(Aging * 4);
        var fresh = slots.AcquireAsync(1, CancellationToken.None);

        slots.Release();

        // Equal effective priority (5 - 4 = 1): FIFO, so the older one goes first.
        await old.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(fresh.IsCompleted);
        slots.Release();
        await fresh.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_LeavesQueueAndSlotGoesToNext()
    {
        var slots = new AttemptSlots(1, Aging, new FakeTimeProvider());
        await slots.AcquireAsync(3, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var cancelled = slots.AcquireAsync(1, cts.Token);
        var next = slots.AcquireAsync(5, CancellationToken.None);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(2, slots.Busy);

        slots.Release();
        await next.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, slots.Busy);
    }
}
