using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Sayiir.Tests.Definitions;

public sealed class PublicSurfaceTests
{
    private static readonly Assembly[] Shipped = [typeof(Flow).Assembly, typeof(global::Sayiir.Hosting.SayiirHostingExtensions).Assembly];

    [Theory]
    [InlineData(typeof(FlowNode))]
    [InlineData(typeof(TaskNode))]
    [InlineData(typeof(ForkNode))]
    [InlineData(typeof(RouteNode))]
    [InlineData(typeof(LoopNode))]
    [InlineData(typeof(DelayNode))]
    [InlineData(typeof(SignalNode))]
    [InlineData(typeof(ChildFlowNode))]
    [InlineData(typeof(FlowBranch))]
    [InlineData(typeof(TaskSettings))]
    public void InterpreterModel_IsNotPublic(Type type)
    {
        Assert.False(type.IsVisible, $"{type.Name} is the interpreter's model; users see it through WorkflowDefinition.Describe()");
    }

    [Fact]
    public void PublicTypes_ExposeNoRawPayloadBytes()
    {
        // Users read payloads typed (WaitForResultAsync<T>, GetTaskResultAsync<T>, BranchResults.Get<T>). The codec
        // contract (IPayloadCodec) is the one place bytes are public: it is what turns values into them.
        var offenders = Shipped
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => !typeof(IPayloadCodec).IsAssignableFrom(t))
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(p => IsRawBytes(p.PropertyType))
                .Select(p => $"{t.Name}.{p.Name}"))
            .ToList();

        Assert.Empty(offenders);
    }

    [Fact]
    public void WorkflowStatus_OrleansSerializerRoundTrip_KeepsTheInternalOutput()
    {
        // The output left the public surface but still crosses the wire with the status (id 13).
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var original = new WorkflowStatus { InstanceId = "run-1", State = WorkflowState.Completed, OutputPayload = [1, 2, 3] };

        var copy = serializer.Deserialize<WorkflowStatus>(serializer.SerializeToArray(original))!;

        Assert.Equal("run-1", copy.InstanceId);
        Assert.Equal(WorkflowState.Completed, copy.State);
        Assert.Equal([1, 2, 3], copy.OutputPayload);
    }

    private static bool IsRawBytes(Type type) =>
        type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>)
        || (Nullable.GetUnderlyingType(type) is { } inner && IsRawBytes(inner));
}
