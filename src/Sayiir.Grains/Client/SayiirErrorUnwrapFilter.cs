using Sayiir.Runtime;

namespace Sayiir.Client;

/// <summary>
/// Orleans reports a failure of the storage provider while it activates a grain as an <see cref="OrleansException"/>
/// around the provider's exception. For Sayiir's run grains that inner exception is already a Sayiir type (see
/// <c>TypedErrorGrainStorage</c>): the caller receives it directly, as every other error of <see cref="ISayiirClient"/>.
/// </summary>
internal sealed class SayiirErrorUnwrapFilter : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (OrleansException ex) when (context.Grain is IWorkflowGrain && ex.InnerException is SayiirException inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
        }
    }
}
