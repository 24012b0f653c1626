using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sayiir.Chaos;

/// <summary>The bodies of the chaos workflow's tasks (they run on the silos, with the module's services).</summary>
public static class ChaosTasks
{
    /// <summary>A chain task: works 50–400 ms, folds its task id into the value.</summary>
    public static Task<long> RunAsync(long input, TaskContext context) =>
        ExecuteAsync(context, () => ChaosWorkflow.Mix(input, context.TaskId));

    /// <summary>The join: combines the three branch values, then folds its id in.</summary>
    public static Task<long> MergeAsync(BranchResults branches, TaskContext context)
    {
        ArgumentNullException.ThrowIfNull(branches);
        var combined = ChaosWorkflow.Combine(branches.Get<long>("a"), branches.Get<long>("b"), branches.Get<long>("c"));
        return ExecuteAsync(context, () => ChaosWorkflow.Mix(combined, context.TaskId));
    }

    private static async Task<long> ExecuteAsync(TaskContext context, Func<long> compute)
    {
        ArgumentNullException.ThrowIfNull(context);
        var log = context.Services.GetRequiredService<ExecLog>();
        var options = context.Services.GetRequiredService<IOptions<ChaosModuleOptions>>().Value;
        var key = Guid.NewGuid();
        await log.StartedAsync(key, context, DateTimeOffset.UtcNow);
        var outcome = "failed";
        try
        {
            var spread = (options.MaxWork - options.MinWork).TotalMilliseconds;
            var work = options.MinWork + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * spread);
            await Task.Delay(work, context.CancellationToken);
            var output = compute();
            outcome = "ok";
            return output;
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            await log.EndedAsync(key, DateTimeOffset.UtcNow, outcome);
        }
    }
}
