using Orleans.Runtime.Messaging;

namespace Sayiir.Samples.ClusterClient;

/// <summary>Retries calls that fail because a silo or gateway went away (the cluster heals within seconds).</summary>
internal static class Retry
{
    public static async Task<T> TransientAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    private static bool IsTransient(Exception ex) =>
        ex is TimeoutException or SiloUnavailableException or ConnectionFailedException or OrleansMessageRejectionException;
}
