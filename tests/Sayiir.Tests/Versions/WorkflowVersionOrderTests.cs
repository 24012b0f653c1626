using Sayiir.Runtime;

namespace Sayiir.Tests.Versions;

/// <summary>How version labels order, and so which registered version is the latest that new runs start on.</summary>
public sealed class WorkflowVersionOrderTests
{
    [Theory]
    [InlineData(null, "1")]
    [InlineData("2", "10")]
    [InlineData("1.2", "1.10")]
    [InlineData("1.9.9", "2")]
    [InlineData("10", "beta")]
    [InlineData("alpha", "beta")]
    public void Compare_Labels_OrdersLowerBeforeHigher(string? lower, string higher)
    {
        Assert.True(WorkflowVersions.Compare(lower, higher) < 0, $"{lower ?? "null"} should sort before {higher}");
        Assert.True(WorkflowVersions.Compare(higher, lower) > 0, $"{higher} should sort after {lower ?? "null"}");
    }

    [Fact]
    public void Find_SeveralVersionsRegisteredInAnyOrder_LatestIsTheHighestAndEachIsFoundByLabelAndHash()
    {
        var v1 = Flow.Create<int>("order_test", version: 1).Then("a", (int x) => x).Build();
        var v2 = Flow.Create<int>("order_test", version: 2).Then("a", (int x) => x + 1).Build();
        var v10 = Flow.Create<int>("order_test", version: 10).Then("a", (int x) => x + 2).Build();

        var registry = new WorkflowRegistry([v10, v1, v2]);

        Assert.Same(v10, registry.Find("order_test"));
        Assert.Same(v2, registry.Resolve("order_test", "2"));
        Assert.Same(v1, registry.FindByHash(v1.Hash));
        Assert.Equal(["1", "2", "10"], registry.Versions("order_test").Select(d => d.Version));
        var missing = Assert.Throws<WorkflowNotFoundException>(() => registry.Resolve("order_test", "3"));
        Assert.Contains("v1, v2, v10", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_SameNameAndVersionWithAnotherDefinition_ThrowsNamingBothHashes()
    {
        var first = Flow.Create<int>("order_clash", version: 1).Then("a", (int x) => x).Build();
        var second = Flow.Create<int>("order_clash", version: 1).Then("b", (int x) => x).Build();

        var ex = Assert.Throws<WorkflowValidationException>(() => new WorkflowRegistry([first, second]));

        Assert.Contains(first.Hash, ex.Message, StringComparison.Ordinal);
        Assert.Contains(second.Hash, ex.Message, StringComparison.Ordinal);
    }
}
