namespace Sayiir.Runtime;

/// <summary>The silo's task filters (<see cref="ITaskFilter"/>), resolved once, in registration order: the first is the outermost.</summary>
internal sealed class TaskFilterPipeline(IEnumerable<ITaskFilter> filters)
{
    private readonly ITaskFilter[] _filters = [.. filters];

    /// <summary>Runs one attempt of <paramref name="node"/> through every filter (straight to the task when there are none).</summary>
    public Task<object?> InvokeAsync(TaskNode node, object? input, TaskContext context) => InvokeAsync(input, context, (i, c) => node.Invoker(i, c));

    /// <summary>Runs one attempt of <paramref name="node"/>'s undo step through every filter (<see cref="TaskContext.IsCompensation"/> tells them).</summary>
    public Task<object?> CompensateAsync(TaskNode node, object? input, object? output, TaskContext context) =>
        InvokeAsync(input, context, async (i, c) =>
        {
            await node.Compensation!(i, output, c);
            return null;
        });

    private Task<object?> InvokeAsync(object? input, TaskContext context, TaskFilterNext target)
    {
        if (_filters.Length == 0) return target(input, context);
        var next = target;
        for (var k = _filters.Length - 1; k >= 0; k--)
        {
            var filter = _filters[k];
            var inner = next;
            next = (i, c) => filter.InvokeAsync(i, c, inner);
        }
        return next(input, context);
    }
}
