namespace Sayiir.Runtime;

/// <summary>
/// A silo's attempt slots (<see cref="Hosting.SayiirOptions.MaxConcurrentAttempts"/>). When all are taken, waiting
/// attempts start by priority (1 first), FIFO within a priority; each <c>aging</c> interval spent waiting counts as one
/// level more urgent, so a priority-5 attempt overtakes fresh priority-1 attempts after four intervals and nothing
/// starves. A freed slot goes straight to the chosen waiter (no barging by a newcomer).
/// </summary>
internal sealed class AttemptSlots(int capacity, TimeSpan aging, TimeProvider time)
{
    private readonly object _lock = new();
    private readonly List<Waiter> _waiters = [];
    private int _running;
    private long _sequence;

    public int Capacity => capacity;

    /// <summary>Attempts running plus attempts waiting.</summary>
    public int Busy
    {
        get
        {
            lock (_lock) return _running + _waiters.Count;
        }
    }

    public Task AcquireAsync(int priority, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_running < capacity && _waiters.Count == 0)
            {
                _running++;
                return Task.CompletedTask;
            }
            waiter = new Waiter(priority, time.GetTimestamp(), _sequence++);
            _waiters.Add(waiter);
        }
        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(static state =>
            {
                var (slots, w) = ((AttemptSlots, Waiter))state!;
                slots.Cancel(w);
            }, (this, waiter));
        }
        return waiter.Granted.Task;
    }

    public void Release()
    {
        Waiter? next;
        lock (_lock)
        {
            next = PickLocked();
            if (next is null) _running--;
            else _waiters.Remove(next);
        }
        // The slot passes to the waiter as is (_running unchanged).
        if (next is null) return;
        next.Registration.Dispose();
        if (!next.Granted.TrySetResult()) Release();
    }

    private void Cancel(Waiter waiter)
    {
        bool removed;
        lock (_lock) removed = _waiters.Remove(waiter);
        if (removed) waiter.Granted.TrySetCanceled();
    }

    private Waiter? PickLocked()
    {
        if (_waiters.Count == 0) return null;
        var now = time.GetTimestamp();
        Waiter? best = null;
        double bestRank = 0;
        foreach (var w in _waiters)
        {
            var rank = EffectivePriority(w, now);
            if (best is null || rank < bestRank || (rank == bestRank && w.Sequence < best.Sequence))
            {
                best = w;
                bestRank = rank;
            }
        }
        return best;
    }

    private double EffectivePriority(Waiter w, long now)
    {
        var waited = time.GetElapsedTime(w.Since, now);
        // Whole intervals only: within one interval, order is priority then FIFO.
        return w.Priority - Math.Floor(waited / aging);
    }

    private sealed class Waiter(int priority, long since, long sequence)
    {
        public int Priority { get; } = priority;

        public long Since { get; } = since;

        public long Sequence { get; } = sequence;

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }
}
