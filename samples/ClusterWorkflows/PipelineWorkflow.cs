namespace Sayiir.Samples.ClusterWorkflows;

/// <summary>
/// The cluster sample's workflow: <see cref="StepCount"/> slow steps that fold the run number into a checksum.
/// Clients need this definition for typed <c>RunAsync</c>/<c>StartAsync</c> (its name and hash); the task bodies
/// resolve services that only <see cref="ClusterWorkflowsModule"/> registers, so they run on the silos.
/// </summary>
public static class PipelineWorkflow
{
    /// <summary>The workflow's registered name.</summary>
    public const string Name = "cluster_pipeline";

    /// <summary>Number of steps, ids <c>step-1</c> … <c>step-N</c>.</summary>
    public const int StepCount = 8;

    /// <summary>The definition: <c>int</c> run number in, <c>long</c> checksum out.</summary>
    public static WorkflowDefinition<int, long> Definition { get; } = Build();

    /// <summary>The id of step <paramref name="step"/> (1-based).</summary>
    public static string StepId(int step) => $"step-{step}";

    /// <summary>The output a correct run of <paramref name="input"/> produces (every step applied exactly once in order).</summary>
    public static long ExpectedOutput(int input)
    {
        long value = input;
        for (var step = 1; step <= StepCount; step++) value = Mix(value, step);
        return value;
    }

    /// <summary>One step's transformation; order-sensitive, so a skipped or repeated checkpoint shows in the output.</summary>
    internal static long Mix(long value, int step) => unchecked((value * 31) + (step * 1_000_003L));

    private static WorkflowDefinition<int, long> Build()
    {
        var flow = Flow.Create<int>(Name, version: "1").Then<PipelineFirstStep, long>(StepId(1));
        for (var step = 2; step <= StepCount; step++) flow = flow.Then<PipelineStep, long>(StepId(step));
        return flow.Build();
    }
}
