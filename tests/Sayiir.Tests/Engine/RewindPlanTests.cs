using System.Text.Json;
using Sayiir.Runtime;

namespace Sayiir.Tests.Engine;

/// <summary>What a rewind supersedes and which steps it accepts, over nested flows (no cluster involved).</summary>
public sealed class RewindPlanTests
{
    private static readonly WorkflowDefinition<int, int> Child = Flow.Create<int>("plan_child")
        .Then("c1", (int x) => x)
        .Then("c2", (int x) => x)
        .Build();

    // a → fork(left: l1 → route pick(x: x1 → x2 | y: y1), right: r1) → join j → child (c1 → c2) → loop lp(b1) → z
    private static readonly WorkflowDefinition<int, int> Nested = Flow.Create<int>("plan_nested")
        .Then("a", (int x) => x)
        .Fork("split", f => f
            .Branch("left", b => b
                .Then("l1", (int x) => x)
                .Route<int>("pick", (int x) => x > 0 ? "x" : "y", r => r
                    .Branch("x", xb => xb.Then("x1", (int v) => v).Then("x2", (int v) => v))
                    .Branch("y", yb => yb.Then("y1", (int v) => v))))
            .Branch("right", b => b.Then("r1", (int x) => x)))
        .Join("j", (BranchResults r) => r.Get<int>("left") + r.Get<int>("right"))
        .ThenFlow(Child, "child")
        .Loop("lp", body => body.Then("b1", (int x) => LoopOutcome.Done(x)))
        .Then("z", (int x) => x)
        .Build();

    private static readonly string[] NestedLeaves = ["a", "l1", "x1", "x2", "y1", "r1", "j", "child.c1", "child.c2", "b1", "lp", "z"];

    private static WorkflowRunState Finished()
    {
        var run = new WorkflowRunState { Status = WorkflowState.Completed };
        foreach (var id in new[] { "a", "l1", "x1", "x2", "r1", "j", "child.c1", "child.c2", "b1", "lp", "z" }) run.Done.Add(id);
        run.Outputs["pick"] = JsonSerializer.SerializeToUtf8Bytes("x");
        return run;
    }

    private static RewindPlan Plan(string step) => RewindPlan.For(Nested, FlowIndex.For(Nested), Finished(), "run-1", step);

    [Fact]
    public void ValidSteps_FinishedNestedRun_AreTheCompletedLeavesAndChosenRoutesInFlowOrder()
    {
        Assert.Equal(["a", "l1", "pick", "x1", "x2", "r1", "j", "child.c1", "child.c2", "lp", "z"], RewindPlan.ValidSteps(Nested, Finished()));
    }

    [Theory]
    [InlineData("x1", new[] { "x1", "x2", "j", "child", "child.c1", "child.c2", "lp", "b1", "z" })]
    [InlineData("pick", new[] { "pick", "x1", "x2", "y1", "j", "child", "child.c1", "child.c2", "lp", "b1", "z" })]
    [InlineData("r1", new[] { "r1", "j", "child", "child.c1", "child.c2", "lp", "b1", "z" })]
    [InlineData("j", new[] { "j", "child", "child.c1", "child.c2", "lp", "b1", "z" })]
    [InlineData("child.c2", new[] { "child.c2", "lp", "b1", "z" })]
    [InlineData("a", new[] { "a", "split", "l1", "pick", "x1", "x2", "y1", "r1", "j", "child", "child.c1", "child.c2", "lp", "b1", "z" })]
    public void For_CompletedStep_SupersedesItAndEverythingAfterItButNotTheOtherBranch(string step, string[] superseded)
    {
        Assert.Equal(superseded, Plan(step).Superseded.Select(n => n.Id));
    }

    [Theory]
    [InlineData("b1", "inside loop 'lp'")]
    [InlineData("split", "it is a fork")]
    [InlineData("child", "it is a child")]
    [InlineData("y1", "has not completed")]
    [InlineData("nope", "has no step with that id")]
    public void For_InvalidStep_ThrowsWithTheReasonAndTheValidSteps(string step, string reason)
    {
        var ex = Assert.Throws<InvalidRewindStepException>(() => Plan(step));

        Assert.Equal("run-1", ex.InstanceId);
        Assert.Equal(step, ex.StepId);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Equal(RewindPlan.ValidSteps(Nested, Finished()), ex.ValidSteps);
    }

    [Theory]
    [InlineData(5, "x")]
    [InlineData(2, "x")]
    [InlineData(5, "y")]
    [InlineData(5, "other")]
    public void FlowShapeFinishedIdsBefore_CursorOverNestedSteps_AreTheIdsDoneHeldForThem(int cursor, string key)
    {
        // What a run finished up to the cursor, as Done held it before the cursor existed: leaves of the chosen branch only.
        var expected = NestedLeaves
            .Where(id => FlowIndex.For(Nested).TopPosition(Nested.NodesById[id]) < cursor)
            .Where(id => key == "x" ? id != "y1" : key == "y" ? id is not ("x1" or "x2") : id is not ("x1" or "x2" or "y1"));

        var ids = FlowShape.Of(Nested).FinishedIdsBefore(cursor, route => route == "pick" ? key : null);

        Assert.Equal(expected.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        Assert.Equal(3, FlowShape.Of(Nested).TopPosition("b1"));
        Assert.Null(FlowShape.Of(Nested).TopPosition("nope"));
    }

    [Fact]
    public void Detail_RoundTripsIdsWithCommasAndNewLines()
    {
        var plan = Plan("child.c2");
        var detail = plan.Detail("alice: fixed, at last\nreally");

        Assert.Equal(["child.c2", "lp", "b1", "z"], RewindPlan.SupersededIds(detail));
        Assert.Empty(RewindPlan.SupersededIds("not json"));
    }

    [Fact]
    public void MarkSuperseded_TwoRewinds_MarksOnlyEventsBeforeARewindThatNamesTheirNode()
    {
        var at = DateTimeOffset.UnixEpoch;
        RunHistoryEvent E(long seq, RunEventKind kind, string? task, string? detail = null) =>
            new() { At = at, Kind = kind, TaskId = task, Sequence = seq, Detail = detail };
        var history = new List<RunHistoryEvent>
        {
            E(1, RunEventKind.TaskCompleted, "s1"),
            E(2, RunEventKind.TaskCompleted, "s2"),
            E(3, RunEventKind.Completed, null),
            E(4, RunEventKind.Rewound, "s2", """["s2"]"""),
            E(5, RunEventKind.TaskStarted, "s2"),
            E(6, RunEventKind.TaskCompleted, "s2"),
            E(7, RunEventKind.Rewound, "s1", """["s1"]"""),
            E(8, RunEventKind.TaskCompleted, "s1"),
        };

        var marked = RewindPlan.MarkSuperseded(history);

        Assert.Equal([true, true, false, false, false, false, false, false], marked.Select(e => e.Superseded));
    }
}
