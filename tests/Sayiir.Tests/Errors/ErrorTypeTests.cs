using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Sayiir.Runtime;

namespace Sayiir.Tests.Errors;

/// <summary>The failure chain, the typed flow errors rebuilt from a stored failure, and how both travel and persist.</summary>
public sealed class ErrorTypeTests
{
    private static readonly DateTimeOffset At = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void FromException_ChainDeeperThanTheBound_KeepsTheOuterTenInnerFailures()
    {
        Exception error = new InvalidOperationException("level 15");
        for (var level = 14; level >= 0; level--) error = new InvalidOperationException($"level {level}", error);

        var failure = TaskFailure.FromException("t", 1, error, At);

        var messages = new List<string>();
        for (var inner = failure.InnerFailure; inner is not null; inner = inner.InnerFailure) messages.Add(inner.Message);
        Assert.Equal("level 0", failure.Message);
        Assert.Equal(FailureChain.MaxInnerFailures, messages.Count);
        Assert.Equal(Enumerable.Range(1, FailureChain.MaxInnerFailures).Select(i => $"level {i}"), messages);
    }

    [Fact]
    public void FromException_ThrownChain_KeepsTypesMessagesAndStackTracesInOrder()
    {
        var error = Thrown(() => throw Thrown(() => throw new IOException("disk"), e => new ArgumentException("bad file", e)),
            e => new InvalidOperationException("outer", e));

        var failure = TaskFailure.FromException("t", 2, error, At);

        Assert.Equal(typeof(InvalidOperationException).FullName, failure.ErrorType);
        Assert.Equal(typeof(ArgumentException).FullName, failure.InnerFailure!.ErrorType);
        Assert.Equal("bad file", failure.InnerFailure.Message);
        Assert.Equal(typeof(IOException).FullName, failure.InnerFailure.InnerFailure!.ErrorType);
        Assert.Equal("disk", failure.InnerFailure.InnerFailure.Message);
        Assert.Contains(nameof(FromException_ThrownChain_KeepsTypesMessagesAndStackTracesInOrder), failure.InnerFailure.InnerFailure.StackTrace);
        Assert.Null(failure.InnerFailure.InnerFailure.InnerFailure);
    }

    [Fact]
    public void FromException_AggregateException_RecordsTheAggregateThenItsFirstInnerUnwrapped()
    {
        var error = new AggregateException(new AggregateException(new IOException("first")), new ArgumentException("second"));

        var failure = TaskFailure.FromException("t", 1, error, At);

        Assert.Equal(typeof(AggregateException).FullName, failure.ErrorType);
        Assert.Contains("first", failure.Message);
        Assert.Contains("second", failure.Message);
        Assert.Equal(typeof(IOException).FullName, failure.InnerFailure!.ErrorType);
        Assert.Equal("first", failure.InnerFailure.Message);
        Assert.Null(failure.InnerFailure.InnerFailure);
        Assert.True(failure.IsCausedBy<IOException>());
        Assert.False(failure.IsCausedBy<ArgumentException>());
    }

    [Fact]
    public void IsCausedBy_TypeNames_MatchExactNamesAndLoadedDerivedTypesOnly()
    {
        var known = new FailureDetails { ErrorType = typeof(FileNotFoundException).FullName!, Message = "m" };
        var unknown = new FailureDetails { ErrorType = "Some.Unloaded.StrangeException", Message = "m" };
        var qualified = new FailureDetails { ErrorType = typeof(IOException).AssemblyQualifiedName!, Message = "m" };

        Assert.True(known.IsCausedBy<FileNotFoundException>());
        Assert.True(known.IsCausedBy<IOException>());
        Assert.True(known.IsCausedBy<Exception>());
        Assert.False(known.IsCausedBy<ArgumentException>());
        Assert.False(unknown.IsCausedBy<Exception>());
        Assert.True((unknown with { InnerFailure = known }).IsCausedBy<IOException>());
        // A stored name is never used to load an assembly.
        Assert.False(qualified.IsCausedBy<IOException>());
    }

    private static SayiirException[] FlowErrorSamples() =>
    [
        new LoopLimitExceededException("run-1", "loop", 7),
        new NoRouteBranchException("run-1", "route", "gold"),
        new SignalTimeoutException("run-1", "wait", "approve", TimeSpan.FromMinutes(90)),
        new TaskTimeoutException("run-1", "slow", TimeSpan.FromMilliseconds(1500)),
    ];

    public static TheoryData<SayiirException> FlowErrors() => new(FlowErrorSamples());

    [Theory]
    [MemberData(nameof(FlowErrors))]
    public void WorkflowFailedException_FailureOfAFlowError_RebuildsTheTypedErrorWithItsIds(SayiirException error)
    {
        var nodeId = (string)Property(error, "NodeId")!;
        var failure = TaskFailure.FromException(nodeId, 1, error, At);

        var rebuilt = new WorkflowFailedException("run-1", failure).InnerException;

        Assert.IsType(error.GetType(), rebuilt);
        Assert.Equal(error.Message, rebuilt!.Message);
        Assert.Equal("run-1", Property(rebuilt, "InstanceId"));
        Assert.Equal(nodeId, Property(rebuilt, "NodeId"));
        AssertSameProperties(error, rebuilt);
    }

    [Fact]
    public void WorkflowFailedException_FlowErrorStoredWithoutProperties_HasNoInnerException()
    {
        // A failure recorded before flow errors stored their values: described, not rebuilt.
        var old = new TaskFailure { TaskId = "loop", Attempt = 3, ErrorType = typeof(LoopLimitExceededException).FullName!, Message = "Loop 'loop' reached its limit" };

        var ex = new WorkflowFailedException("run-1", old);

        Assert.Null(ex.InnerException);
        Assert.True(ex.Failure.IsCausedBy<LoopLimitExceededException>());
    }

    [Fact]
    public void TaskFailure_StoredJsonWithoutTheNewFields_LoadsWithNoChainAndNoProperties()
    {
        const string stored = """{"TaskId":"check","Attempt":1,"ErrorType":"System.InvalidOperationException","Message":"refused","StackTrace":"at X","At":"2025-01-02T03:04:05+00:00"}""";

        var failure = JsonSerializer.Deserialize<TaskFailure>(stored)!;

        Assert.Equal("check", failure.TaskId);
        Assert.Equal("refused", failure.Message);
        Assert.Null(failure.InnerFailure);
        Assert.Null(failure.Properties);
    }

    [Fact]
    public void TaskFailure_JsonRoundTrip_KeepsChainAndProperties()
    {
        var failure = TaskFailure.FromException("route", 1, new NoRouteBranchException("run-1", "route", "gold"), At) with
        {
            InnerFailure = new FailureDetails { ErrorType = "A", Message = "a", InnerFailure = new FailureDetails { ErrorType = "B", Message = "b" } },
        };

        var copy = JsonSerializer.Deserialize<TaskFailure>(JsonSerializer.SerializeToUtf8Bytes(failure))!;

        Assert.Equal(failure, copy);
        Assert.NotSame(failure.Properties, copy.Properties);
        Assert.Equal("gold", copy.Properties!["Key"]);
        Assert.Equal("b", copy.InnerFailure!.InnerFailure!.Message);
        Assert.NotEqual(failure, copy with { Properties = new Dictionary<string, string>(copy.Properties) { ["Key"] = "silver" } });
    }

    [Fact]
    public void OrleansSerializer_SayiirErrors_KeepTheirTypedProperties()
    {
        using var services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(SayiirException).Assembly)).BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        T RoundTrip<T>(T value) where T : Exception => (T)serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(value))!;

        var failure = TaskFailure.FromException("forever", 3, new LoopLimitExceededException("run-1", "forever", 3), At) with
        {
            InnerFailure = new FailureDetails { ErrorType = typeof(IOException).FullName!, Message = "inner" },
        };
        var failed = RoundTrip(new WorkflowFailedException("run-1", failure));
        var notFound = RoundTrip(new TaskResultNotFoundException("run-1", "t", "why"));
        var moved = RoundTrip(new WorkflowRunMovedException("run-1", "Pause"));
        var branch = RoundTrip(new BranchNotFoundException("x", ["a", "b"]));

        Assert.Equal("run-1", failed.InstanceId);
        Assert.Equal(failure, failed.Failure);
        Assert.True(failed.Failure.IsCausedBy<IOException>());
        var limit = Assert.IsType<LoopLimitExceededException>(failed.InnerException);
        Assert.Equal(("run-1", "forever", 3), (limit.InstanceId, limit.NodeId, limit.MaxIterations));
        Assert.Equal(("run-1", "t", "why"), (notFound.InstanceId, notFound.TaskId, notFound.Message));
        Assert.Equal(("run-1", "Pause"), (moved.InstanceId, moved.Operation));
        Assert.Equal(["a", "b"], branch.Branches);
        foreach (var error in FlowErrorSamples())
            AssertSameProperties(error, RoundTrip(error));
    }

    [Fact]
    public void BranchResultsGet_UnknownBranch_ThrowsBranchNotFoundListingTheBranches()
    {
        var codec = new JsonPayloadCodec();
        var results = new BranchResults(ImmutableDictionary<string, byte[]>.Empty.Add("left", codec.Serialize(1, typeof(int))).Add("right", codec.Serialize(2, typeof(int))), codec);

        var ex = Assert.Throws<BranchNotFoundException>(() => results.Get<int>("middle"));

        Assert.Equal("middle", ex.BranchName);
        Assert.Equal(["left", "right"], ex.Branches);
        Assert.Equal(2, results.Get<int>("right"));
    }

    [Fact]
    public void WorkflowRegistry_TwoDefinitionsUnderOneName_ThrowsWorkflowValidationNamingIt()
    {
        var first = Flow.Create<int>("twice").Then("a", (int x) => x).Build();
        var second = Flow.Create<int>("twice").Then("b", (int x) => x).Build();

        var ex = Assert.Throws<WorkflowValidationException>(() => new WorkflowRegistry([first, second]));

        Assert.Equal("twice", ex.WorkflowName);
        Assert.Contains(first.Hash, Assert.Single(ex.Errors));
    }

    private static object? Property(Exception error, string name) => error.GetType().GetProperty(name)!.GetValue(error);

    private static void AssertSameProperties(Exception expected, Exception actual)
    {
        Assert.IsType(expected.GetType(), actual);
        foreach (var property in expected.GetType().GetProperties().Where(p => p.DeclaringType == expected.GetType()))
            Assert.Equal(property.GetValue(expected), property.GetValue(actual));
    }

    private static Exception Thrown(Action fail, Func<Exception, Exception> wrap)
    {
        try
        {
            fail();
        }
        catch (Exception ex)
        {
            try
            {
                throw wrap(ex);
            }
            catch (Exception wrapped)
            {
                return wrapped;
            }
        }
        throw new InvalidOperationException("the action did not fail");
    }
}
