using Microsoft.Extensions.DependencyInjection;
using Sayiir.Samples.Approval;
using Sayiir.Samples.OrderProcessing;

namespace Sayiir.Tests.Samples;

/// <summary>What a cluster needs to run the samples' workflows: their definitions and the services their tasks resolve.</summary>
public static class SampleCluster
{
    public static IReadOnlyList<WorkflowDefinition> Workflows { get; } = [OrderProcessingWorkflow.Definition, .. ApprovalWorkflow.All];

    public static void AddServices(IServiceCollection services)
    {
        OrderProcessingWorkflow.AddServices(services);
        ApprovalWorkflow.AddServices(services);
    }
}
