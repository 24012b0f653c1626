using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Sayiir.Hosting;

namespace Sayiir.Samples.ClusterWorkflows;

/// <summary>Settings of the sample's tasks on a silo, bound from the <c>ClusterWorkflows</c> configuration section.</summary>
public sealed class ClusterWorkflowsOptions
{
    /// <summary>How long each pipeline step takes. Default 400 ms. Not part of the definition hash.</summary>
    public TimeSpan StepDelay { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Directory of the step journal (one file per silo process); null or empty (default) for none.</summary>
    public string? JournalDirectory { get; set; }

    internal void Validate()
    {
        if (StepDelay < TimeSpan.Zero || StepDelay > TimeSpan.FromMinutes(10))
            throw new ValidationException($"ClusterWorkflows:StepDelay must be within [0, 10 min] (was {StepDelay}).");
    }
}

/// <summary>
/// Registers the cluster sample's workflows and their task services on a silo. Loaded by <c>Sayiir.Silo</c> with
/// <c>--Sayiir:Modules path/to/ClusterWorkflows.dll</c>; every silo of the cluster must load it.
/// </summary>
public sealed class ClusterWorkflowsModule : ISayiirModule
{
    /// <inheritdoc />
    public void Configure(SayiirSiloBuilder sayiir, IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(sayiir);
        ArgumentNullException.ThrowIfNull(services);
        sayiir.AddWorkflow(PipelineWorkflow.Definition);
        sayiir.AddWorkflow(FanoutCpuWorkflow.Cluster);
        sayiir.AddWorkflow(FanoutCpuWorkflow.Local);
        services.AddOptions<ClusterWorkflowsOptions>().BindConfiguration("ClusterWorkflows")
            .Validate(o => { o.Validate(); return true; }).ValidateOnStart();
        services.AddSingleton<StepJournal>();
    }
}
