using System.Diagnostics;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// Awaits a condition over state that changes only in known places (a probe, a telemetry listener): each change calls
/// <see cref="Notify"/>, and a waiter re-checks its condition on every change, so nothing polls.
/// </summary>
public sealed class ChangeSignal
{
    private TaskCompletionSource _next = NewTcs();

    /// <summary>Wakes every waiter to re-check its condition.</summary>
    public void Notify() => Interlocked.Exchange(ref _next, NewTcs()).TrySetResult();

    /// <summary>Returns once <paramref name="condition"/> holds; throws a <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // Taken before the check: a change between the check and the await completes this one.
            var changed = Volatile.Read(ref _next).Task;
            if (condition()) return;
            var left = timeout - clock.Elapsed;
            try
            {
                if (left <= TimeSpan.Zero) throw new TimeoutException();
                await changed.WaitAsync(left);
            }
            catch (TimeoutException ex)
            {
                if (condition()) return;
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.", ex);
            }
        }
    }

    private static TaskCompletionSource NewTcs() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
