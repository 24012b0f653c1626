namespace Sayiir.Testing;

// Auto-advance (SayiirTestEnvironmentOptions.AutoAdvance): while the test awaits a run's result through Client, idle
// virtual time is skipped.
public sealed partial class SayiirTestEnvironment
{
    private static readonly TimeSpan AutoAdvancePoll = TimeSpan.FromMilliseconds(10);

    // Awaits a result while jumping the clock, whenever every active run is settled and the awaited one has not ended,
    // to the earliest instant a run is due. Nothing due: keep waiting (a signal may come from elsewhere).
    internal async Task<T> AwaitAdvancingAsync<T>(string instanceId, Task<T> result, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var advancing = AutoAdvanceAsync(instanceId, result, stop.Token);
        await Task.WhenAny(result, advancing).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await advancing.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped because the result came (or the caller gave up, which the result reports).
        }
        catch
        {
            // The advancing failed first: that error is the caller's; the result is no longer awaited.
            _ = result.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }
        return await result.ConfigureAwait(false);
    }

    private async Task AutoAdvanceAsync(string instanceId, Task result, CancellationToken cancellationToken)
    {
        while (!result.IsCompleted)
        {
            await _advancing.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var awaited = await _client.GetStatusAsync(instanceId, cancellationToken).ConfigureAwait(false);
                // Ended: its result is on the way. Not found yet: its start is still in flight, so jumping now could
                // skip time it should see (a wait of another run, due before this one starts).
                if (awaited.IsTerminal) return;
                if (awaited.State != WorkflowState.NotFound)
                {
                    // Schedules tick forever, so they are never a reason to jump by themselves; on the way to a run's due
                    // instant the clock stops at each tick before it, as AdvanceTimeAsync does.
                    var look = await PollAsync(cancellationToken).ConfigureAwait(false);
                    var now = look.Now;
                    if (look.Settled && !result.IsCompleted && look.Statuses.Select(DueAt).Where(at => at > now).Min() is { } due
                        && look.Schedules.Select(ScheduleDueAt).Where(at => at > now).Append(due).Min() is { } next)
                    {
                        Time.Advance(next - now);
                        continue; // the next look waits for the runs woken here to settle
                    }
                }
            }
            finally
            {
                _advancing.Release();
            }
            // wall clock: polling while the runs react, or while nothing is due (a signal may come from elsewhere).
            await Task.Delay(AutoAdvancePoll, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
    }
}
