namespace Sayiir.Dashboard.Tests;

/// <summary>Waits on conditions with deadlines that name what they waited for (no sleeps as synchronisation).</summary>
public static class Wait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Deadline); // wall clock: test deadline
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {(timeout ?? Deadline).TotalSeconds} s waiting for {what}.");
            await Task.Delay(20);
        }
    }

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():n}";
}
