namespace Sayiir;

/// <summary>
/// The rest of a task filter chain: the next filter, or the task itself after the last one. Call it at most once per
/// invocation, with the task's input (or a replacement of the task's input type) and the same context.
/// </summary>
/// <param name="input">The task's input, of the task's input type.</param>
/// <param name="context">The attempt's context.</param>
/// <returns>The task's output, of the task's output type.</returns>
public delegate Task<object?> TaskFilterNext(object? input, TaskContext context);

/// <summary>
/// Code that runs around every attempt of every task on a silo (registered with <c>SayiirSiloBuilder.AddTaskFilter</c>):
/// to log or measure attempts, set up an ambient context, or replace a task's behaviour, as
/// <c>Sayiir.Testing</c>'s task overrides do. Filters are singletons; the first registered is the outermost.
/// </summary>
/// <remarks>
/// The task's timeout and the attempt's cancellation (<see cref="TaskContext.CancellationToken"/>) cover the whole
/// chain. An exception a filter throws is the attempt's failure, retried by the task's <see cref="RetryPolicy"/> as
/// if the task had thrown it. The value a filter returns is the attempt's output, checkpointed as the task's own: a
/// value that is not of the task's output type fails the attempt with a <see cref="PayloadSerializationException"/>
/// naming the task. A filter that does not call the next step short-circuits the task (its code does not run).
/// </remarks>
public interface ITaskFilter
{
    /// <summary>Runs one attempt, calling <paramref name="invokeNext"/> to run the rest of the chain and the task.</summary>
    /// <param name="input">The task's input (the previous node's output).</param>
    /// <param name="context">The attempt's context: workflow, instance, task id, attempt, services, cancellation.</param>
    /// <param name="invokeNext">The rest of the chain.</param>
    /// <returns>The attempt's output.</returns>
    Task<object?> InvokeAsync(object? input, TaskContext context, TaskFilterNext invokeNext);
}
