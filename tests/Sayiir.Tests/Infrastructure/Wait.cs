using System.Diagnostics;

namespace Sayiir.Tests.Infrastructure;

/// <summary>Waits on conditions with deadlines that name what they waited for (never sleeps as synchronisation).</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception ex)
            {
                // Calls may fail transiently while silos come and go.
                last = ex;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}." + (last is null ? "" : $" Last error: {last.Message}"), last);
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Awaits a task with a deadline naming it.</summary>
    public static async Task<T> ForAsync<T>(Task<T> task, TimeSpan timeout, string what)
    {
        try
        {
            return await task.WaitAsync(timeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.", ex);
        }
    }

    public static async Task ForAsync(Task task, TimeSpan timeout, string what)
    {
        try
        {
            await task.WaitAsync(timeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.", ex);
        }
    }
}
