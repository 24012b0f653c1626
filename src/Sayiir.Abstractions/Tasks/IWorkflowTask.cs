namespace Sayiir;

/// <summary>
/// A task implemented as a class and resolved from dependency injection (one service scope per attempt),
/// so it can take a DbContext, an HttpClient or any other service in its constructor.
/// </summary>
/// <typeparam name="TInput">The task's input, the previous node's output.</typeparam>
/// <typeparam name="TOutput">The task's output, checkpointed before the next node starts.</typeparam>
public interface IWorkflowTask<in TInput, TOutput>
{
    /// <summary>Runs one attempt of the task.</summary>
    Task<TOutput> ExecuteAsync(TInput input, TaskContext context);
}

/// <summary>
/// A task class that knows how to undo itself (a saga step): should the run fail after it completed, or be cancelled
/// with compensation, <see cref="CompensateAsync"/> runs — in reverse completion order with the run's other
/// compensable tasks, checkpointed and retried like a task. Append it with <c>Then&lt;TTask, TOutput&gt;()</c>.
/// </summary>
/// <typeparam name="TInput">The task's input.</typeparam>
/// <typeparam name="TOutput">The task's output.</typeparam>
public interface ICompensableTask<in TInput, TOutput> : IWorkflowTask<TInput, TOutput>
{
    /// <summary>Undoes one completed execution of the task, given what it received and what it returned.</summary>
    Task CompensateAsync(TInput input, TOutput output, TaskContext context);
}
