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
