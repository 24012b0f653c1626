using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Sayiir.Runtime;

namespace Sayiir.Hosting;

/// <summary>
/// Fails silo start-up when a class task of a registered workflow cannot be created from the silo's services, so a
/// missing registration is found at deployment rather than as a failing task in production. Every problem of a
/// workflow is reported together, in a <see cref="WorkflowValidationException"/>.
/// </summary>
internal sealed class TaskServicesCheck(WorkflowRegistry registry, IServiceProvider services) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(TaskServicesCheck), ServiceLifecycleStage.RuntimeInitialize, _ =>
        {
            Check();
            return Task.CompletedTask;
        });

    internal void Check()
    {
        var known = services.GetService<IServiceProviderIsService>();
        if (known is null) return; // a container that cannot answer: tasks are resolved at run time as before
        foreach (var workflow in registry.All)
        {
            var problems = workflow.NodesById.Values
                .OfType<TaskNode>()
                .Where(task => task.ImplementationType is not null)
                .Select(task => Problem(task, task.ImplementationType!, known))
                .OfType<string>()
                .ToList();
            if (problems.Count > 0) throw new WorkflowValidationException(workflow.Name, problems);
        }
    }

    private static string? Problem(TaskNode task, Type type, IServiceProviderIsService known)
    {
        if (known.IsService(type)) return null;
        var constructors = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        if (constructors.Length == 0) return $"task '{task.Id}': {type.FullName} has no public constructor and is not registered as a service";
        var missing = constructors
            .Select(c => c.GetParameters().Where(p => !p.HasDefaultValue && !known.IsService(p.ParameterType)).Select(p => p.ParameterType).ToList())
            .MinBy(m => m.Count)!;
        return missing.Count == 0
            ? null
            : $"task '{task.Id}': {type.FullName} needs {string.Join(", ", missing.Select(t => t.FullName))}, not registered on this silo";
    }
}
