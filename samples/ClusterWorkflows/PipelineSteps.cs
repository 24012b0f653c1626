using System.Globalization;
using Microsoft.Extensions.Options;

namespace Sayiir.Samples.ClusterWorkflows;

/// <summary>Step 1: starts the checksum from the run number.</summary>
internal sealed class PipelineFirstStep(StepJournal journal, IOptions<ClusterWorkflowsOptions> options) : IWorkflowTask<int, long>
{
    public Task<long> ExecuteAsync(int input, TaskContext context) =>
        PipelineStepRunner.RunAsync(journal, options.Value, input, context);
}

/// <summary>Steps 2…N: fold the step number into the checksum.</summary>
internal sealed class PipelineStep(StepJournal journal, IOptions<ClusterWorkflowsOptions> options) : IWorkflowTask<long, long>
{
    public Task<long> ExecuteAsync(long input, TaskContext context) =>
        PipelineStepRunner.RunAsync(journal, options.Value, input, context);
}

internal static class PipelineStepRunner
{
    public static async Task<long> RunAsync(StepJournal journal, ClusterWorkflowsOptions options, long input, TaskContext context)
    {
        var step = int.Parse(context.TaskId.AsSpan("step-".Length), NumberStyles.None, CultureInfo.InvariantCulture);
        journal.Record(StepEvent.Start, context);
        await Task.Delay(options.StepDelay, context.CancellationToken);
        var output = PipelineWorkflow.Mix(input, step);
        journal.Record(StepEvent.End, context);
        return output;
    }
}
