namespace Sayiir.Tests.Definitions;

public sealed class FlowDescriptionTests
{
    private enum Speed { Fast, Slow }

    public sealed class DoubleIt : IWorkflowTask<int, int>
    {
        public Task<int> ExecuteAsync(int input, TaskContext context) => Task.FromResult(input * 2);
    }

    private static readonly WorkflowDefinition<int, int> Child = Flow.Create<int>("child").Then("inc", (int x) => x + 1).Build();

    private static readonly RetryPolicy Retry = RetryPolicy.Exponential(3, TimeSpan.FromSeconds(1));

    // One node of every kind, nested inside each other where the language allows it.
    private static WorkflowDefinition<int, int> EveryKind() =>
        Flow.Create<int>("every-kind", version: "7")
            .Then("fetch", (int x) => x, o => { o.Retry = Retry; o.Timeout = TimeSpan.FromSeconds(30); })
            .Then<DoubleIt, int>("double")
            .Fork("fan", f => f
                .Branch("left", b => b.Then("l1", (int x) => x).Delay("l_wait", TimeSpan.FromMinutes(1)))
                .Branch("right", b => b.Then("r1", (int x) => x)))
            .Join("merge", (BranchResults r) => r.Get<int>("left") + r.Get<int>("right"), o => o.Timeout = TimeSpan.FromSeconds(5))
            .Route<Speed, int>("speed", (int x) => x > 10 ? Speed.Fast : Speed.Slow, r => r
                .Branch(Speed.Fast, b => b.Then("fast", (int x) => x))
                .Default(b => b.Then("slow", (int x) => x)))
            .Loop("poll", body => body.Then("check", (int x) => x > 3 ? LoopOutcome.Done(x) : LoopOutcome.Again(x + 1)),
                maxIterations: 5, onMaxIterations: LoopExhaustion.ExitWithLast)
            .Delay("cool_off", TimeSpan.FromHours(1))
            .WaitForSignal<int>("approval", "approve", TimeSpan.FromDays(3), defaultValue: 0)
            .WaitForSignal<int>("go", "go")
            .ThenFlow(Child, "child1")
            .Build();

    [Fact]
    public void Describe_EveryNodeKind_ReportsIdsKindsAndOrder()
    {
        var description = EveryKind().Describe();

        Assert.Equal("every-kind", description.Name);
        Assert.Equal("7", description.Version);
        Assert.Equal(EveryKind().Hash, description.Hash);
        Assert.Equal(typeof(int), description.InputType);
        Assert.Equal(typeof(int), description.OutputType);
        Assert.Equal(
            [("fetch", FlowNodeKind.Task), ("double", FlowNodeKind.Task), ("fan", FlowNodeKind.Fork), ("speed", FlowNodeKind.Route),
             ("poll", FlowNodeKind.Loop), ("cool_off", FlowNodeKind.Delay), ("approval", FlowNodeKind.Signal), ("go", FlowNodeKind.Signal),
             ("child1", FlowNodeKind.ChildFlow)],
            description.Steps.Select(s => (s.Id, s.Kind)));
    }

    [Fact]
    public void Describe_Tasks_ReportRetryTimeoutAndTaskClass()
    {
        var description = EveryKind().Describe();

        var fetch = description.FindNode("fetch")!;
        Assert.Same(Retry, fetch.Retry);
        Assert.Equal(TimeSpan.FromSeconds(30), fetch.Timeout);
        Assert.Null(fetch.TaskType);

        var doubled = description.FindNode("double")!;
        Assert.Equal(typeof(DoubleIt), doubled.TaskType);
        Assert.Equal(RetryPolicy.None, doubled.Retry);
        Assert.Null(doubled.Timeout);
    }

    [Fact]
    public void Describe_Fork_ReportsBranchesInOrderAndItsJoin()
    {
        var fork = EveryKind().Describe().FindNode("fan")!;

        Assert.Equal(["left", "right"], fork.Branches.Select(b => b.Name));
        Assert.All(fork.Branches, b => Assert.False(b.IsDefault));
        Assert.Equal(["l1", "l_wait"], fork.Branches[0].Steps.Select(s => s.Id));
        Assert.Equal(TimeSpan.FromMinutes(1), fork.Branches[0].Steps[1].Delay);
        Assert.NotNull(fork.Join);
        Assert.Equal("merge", fork.Join.Id);
        Assert.Equal(FlowNodeKind.Join, fork.Join.Kind);
        Assert.Equal(TimeSpan.FromSeconds(5), fork.Join.Timeout);
    }

    [Fact]
    public void Describe_ForkEndedWithCollect_HasNoJoin()
    {
        var fork = Flow.Create<int>("collect")
            .Fork("fan", f => f.Branch("a", b => b.Then("a1", (int x) => x)))
            .Collect()
            .Build()
            .Describe()
            .Steps.Single();

        Assert.Equal(FlowNodeKind.Fork, fork.Kind);
        Assert.Null(fork.Join);
    }

    [Fact]
    public void Describe_Route_ReportsDeclaredKeysNamedBranchesThenDefault()
    {
        var route = EveryKind().Describe().FindNode("speed")!;

        Assert.Equal(["Fast", "Slow"], route.RouteKeys);
        Assert.Equal([("Fast", false), ("(default)", true)], route.Branches.Select(b => (b.Name, b.IsDefault)));
        Assert.Equal("slow", route.Branches[1].Steps.Single().Id);
        Assert.Null(route.Retry);
    }

    [Fact]
    public void Describe_LoopDelaySignalAndChildFlow_ReportTheirSettings()
    {
        var description = EveryKind().Describe();

        var loop = description.FindNode("poll")!;
        Assert.Equal(5, loop.MaxIterations);
        Assert.Equal(LoopExhaustion.ExitWithLast, loop.OnMaxIterations);
        Assert.Equal("check", loop.Steps.Single().Id);

        Assert.Equal(TimeSpan.FromHours(1), description.FindNode("cool_off")!.Delay);

        var approval = description.FindNode("approval")!;
        Assert.Equal("approve", approval.SignalName);
        Assert.Equal(TimeSpan.FromDays(3), approval.SignalTimeout);
        Assert.True(approval.SignalHasDefault);
        var go = description.FindNode("go")!;
        Assert.Null(go.SignalTimeout);
        Assert.False(go.SignalHasDefault);

        var child = description.FindNode("child1")!;
        Assert.Equal("child", child.ChildWorkflowName);
        Assert.Equal("child1.inc", child.Steps.Single().Id);
    }

    [Fact]
    public void Describe_AllNodes_ListsEveryNodeOfTheDefinitionOnce()
    {
        var workflow = EveryKind();

        var described = workflow.Describe().AllNodes.Select(n => n.Id).ToList();

        // NodesById is the interpreter's own index: a node kind the description forgets fails here.
        Assert.Equal(described.Count, described.Distinct().Count());
        Assert.Equal(workflow.NodesById.Keys.Order(StringComparer.Ordinal), described.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FindNode_UnknownId_ReturnsNull()
    {
        Assert.Null(EveryKind().Describe().FindNode("nope"));
    }
}
