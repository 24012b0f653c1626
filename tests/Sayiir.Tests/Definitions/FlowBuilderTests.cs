using Sayiir.Tests.Infrastructure;
namespace Sayiir.Tests.Definitions;

public sealed class FlowBuilderTests
{
    [Fact]
    public void Build_ManyProblems_ReportsThemAllTogether()
    {
        var builder = Flow.Create<int>("broken")
            .Then("same", (int x) => x)
            .Then("same", (int x) => x, o => o.Retry = new RetryPolicy { MaxAttempts = 0 })
            .Delay("wait", TimeSpan.FromSeconds(-1))
            .Loop("loop", b => b.Then("body", (int x) => LoopOutcome.Done(x)), maxIterations: 0)
            .Fork("fork", f => { })
            .Join("join", (BranchResults r) => 1)
            .Then("timed", (int x) => x, o => o.Timeout = TimeSpan.Zero);

        var ex = Assert.Throws<WorkflowValidationException>(() => builder.Build());

        Assert.Equal("broken", ex.WorkflowName);
        Assert.Contains(ex.Errors, e => e.Contains("duplicate id 'same'"));
        Assert.Contains(ex.Errors, e => e.Contains("MaxAttempts must be at least 1"));
        Assert.Contains(ex.Errors, e => e.Contains("delay 'wait'") && e.Contains("negative"));
        Assert.Contains(ex.Errors, e => e.Contains("loop 'loop'") && e.Contains("at least 1"));
        Assert.Contains(ex.Errors, e => e.Contains("fork 'fork' has no branches"));
        Assert.Contains(ex.Errors, e => e.Contains("task 'timed'") && e.Contains("timeout must be positive"));
        Assert.Equal(6, ex.Errors.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void Build_EmptyConcurrencyKey_ThrowsNamingTheTask(string key)
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("keyed")
            .Then("call", (int x) => x, o => o.ConcurrencyKey = key)
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("task 'call'") && e.Contains("concurrency key must be non-empty"));
    }

    [Fact]
    public void Build_BadPriorityAndEmptyTag_ThrowsListingBoth()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("placed")
            .Then("call", (int x) => x, o =>
            {
                o.Priority = 6;
                o.RequireTags("gpu", "");
            })
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("task 'call': the priority must be within [1, 5] (was 6)"));
        Assert.Contains(ex.Errors, e => e.Contains("task 'call': a required tag must be non-empty"));
    }

    [Fact]
    public void Build_PlacementPriorityAndTags_AreNotHashed()
    {
        var plain = Flow.Create<int>("placed").Then("call", (int x) => x).Build();
        var placed = Flow.Create<int>("placed").Then("call", (int x) => x, o =>
        {
            o.Placement = TaskPlacement.Cluster;
            o.Priority = 1;
            o.RequireTags("gpu");
        }).Build();

        // Where and how urgently a task runs is deployment, not flow: changing it does not strand runs in flight.
        Assert.Equal(plain.Hash, placed.Hash);
    }

    [Fact]
    public void Build_ConcurrencyKey_IsDescribedButNotHashed()
    {
        var plain = Flow.Create<int>("keyed").Then("call", (int x) => x).Build();
        var keyed = Flow.Create<int>("keyed").Then("call", (int x) => x, o => o.ConcurrencyKey = "partner-api").Build();

        Assert.Equal("partner-api", keyed.Describe().AllNodes.Single().ConcurrencyKey);
        Assert.Null(plain.Describe().AllNodes.Single().ConcurrencyKey);
        // A throttle, not a change of the flow: adding one does not strand the runs in flight.
        Assert.Equal(plain.Hash, keyed.Hash);
    }

    [Fact]
    public void Build_CompensationRetryWithoutCompensation_ThrowsNamingTheTask()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("undo")
            .Then("charge", (int x) => x, o => o.CompensationRetry = RetryPolicy.Fixed(3, TimeSpan.FromSeconds(1)))
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("task 'charge'") && e.Contains("has no compensation"));
    }

    [Fact]
    public void Build_NullCompensation_IsReported()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("undo")
            .Then("charge", (int x) => Task.FromResult(x), compensate: null!)
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("task 'charge': the compensation delegate is null"));
    }

    [Fact]
    public void Build_CompensableTask_IsDescribedAndHashedWhilePlainTasksKeepTheirHash()
    {
        var plain = Flow.Create<int>("undo").Then("charge", (int x) => Task.FromResult(x)).Build();
        var compensable = Flow.Create<int>("undo").Then("charge", (int x) => Task.FromResult(x), (int x, int charged) => Task.CompletedTask).Build();
        var otherUndoRetry = Flow.Create<int>("undo").Then("charge", (int x) => Task.FromResult(x), (int x, int charged) => Task.CompletedTask,
            o => o.CompensationRetry = RetryPolicy.Fixed(3, TimeSpan.FromSeconds(1))).Build();

        Assert.True(compensable.Describe().AllNodes.Single().IsCompensable);
        Assert.False(plain.Describe().AllNodes.Single().IsCompensable);
        // Runs keep what an undo step needs only under a compensable definition: a run in flight is not moved across.
        Assert.NotEqual(plain.Hash, compensable.Hash);
        Assert.NotEqual(compensable.Hash, otherUndoRetry.Hash);
        Assert.True(Flow.Create<int>("undo").Then<SagaFlows.ReserveSeatInt, int>("seat").Build().Describe().AllNodes.Single().IsCompensable);
    }

    [Fact]
    public void Build_NoSteps_Throws()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("empty").Build());

        Assert.Contains("the workflow has no steps", ex.Errors);
    }

    [Fact]
    public void Build_EmptyName_Throws()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>(" ").Then("a", (int x) => x).Build());

        Assert.Contains(ex.Errors, e => e.Contains("name must not be empty"));
    }

    [Fact]
    public void Build_DuplicateIdNestedInBranch_IsReported()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("nested")
            .Then("a", (int x) => x)
            .Fork("f", f => f.Branch("left", b => b.Then("a", (int x) => x)).Branch("right", b => b.Then("r", (int x) => x)))
            .Collect()
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("duplicate id 'a'"));
    }

    [Fact]
    public void Build_EmptyBranchAndDuplicateBranchName_AreReported()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("branches")
            .Fork("f", f => f.Branch("x", b => b).Branch("y", b => b.Then("y1", (int v) => v)).Branch("y", b => b.Then("y2", (int v) => v)))
            .Collect()
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("branch 'x' is empty"));
        Assert.Contains(ex.Errors, e => e.Contains("duplicate branch name 'y'"));
    }

    private enum Color { Red, Green }

    [Fact]
    public void Build_RouteBranchForUndeclaredKey_IsReported()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("route")
            .Route<string>("pick", (int x) => x > 0 ? "pos" : "neg", r => r
                .Keys("pos", "neg")
                .Branch("pos", b => b.Then("p", (int x) => "p"))
                .Branch("zero", b => b.Then("z", (int x) => "z")))
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("branch 'zero' can never be chosen"));
    }

    [Fact]
    public void Build_EnumRouteBranchOutsideTheEnum_IsReported()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("enum-route")
            .Route<Color, string>("pick", (int x) => x > 0 ? Color.Red : Color.Green, r => r
                .Branch(Color.Red, b => b.Then("r", (int x) => "r"))
                .Branch("Blue", b => b.Then("b", (int x) => "b")))
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("branch 'Blue' can never be chosen"));
    }

    [Fact]
    public void Build_SignalWithEmptyName_IsReported()
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => Flow.Create<int>("signal")
            .WaitForSignal<string>("wait", "")
            .Build());

        Assert.Contains(ex.Errors, e => e.Contains("signal name must not be empty"));
    }

    [Fact]
    public void Build_ValidFlow_ExposesNameVersionTypesAndSteps()
    {
        var workflow = Flow.Create<int>("ok", version: "2")
            .Then("a", (int x) => x + 1)
            .Then("b", (int x) => x.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Build();

        Assert.Equal("ok", workflow.Name);
        Assert.Equal("2", workflow.Version);
        Assert.Equal(typeof(int), workflow.InputType);
        Assert.Equal(typeof(string), workflow.OutputType);
        Assert.Equal(["a", "b"], workflow.Describe().Steps.Select(s => s.Id));
    }

    [Fact]
    public void Builder_IsImmutable_SharedPrefixesDoNotInterfere()
    {
        var prefix = Flow.Create<int>("shared").Then("a", (int x) => x);
        var left = prefix.Then("left", (int x) => x).Build();
        var right = prefix.Then("right", (int x) => x).Build();

        Assert.Equal(["a", "left"], left.Describe().Steps.Select(s => s.Id));
        Assert.Equal(["a", "right"], right.Describe().Steps.Select(s => s.Id));
    }

    [Fact]
    public void ThenFlow_WithPrefix_ComposesTheSameChildTwice()
    {
        var child = Flow.Create<int>("child").Then("inc", (int x) => x + 1).Build();

        var parent = Flow.Create<int>("parent").ThenFlow(child, "first").ThenFlow(child, "second").Build();

        var ids = parent.Describe().AllNodes.Select(n => n.Id).ToList();
        Assert.Contains("first.inc", ids);
        Assert.Contains("second.inc", ids);
    }
}

public sealed class DefinitionHashTests
{
    private static WorkflowDefinition<int, int> Make(int attempts = 3, string signal = "go", TimeSpan? delay = null) =>
        Flow.Create<int>("hashing", version: "1")
            .Then("a", (int x) => x, o => o.Retry = RetryPolicy.Exponential(attempts, TimeSpan.FromSeconds(1)))
            .Delay("d", delay ?? TimeSpan.FromSeconds(5))
            .WaitForSignal<int>("s", signal)
            .Build();

    [Fact]
    public void Hash_SameStructureBuiltTwice_IsEqual()
    {
        Assert.Equal(Make().Hash, Make().Hash);
    }

    [Fact]
    public void Hash_FixedDefinition_IsPinnedAcrossReleases()
    {
        // A change here means stored runs would no longer resume: only change the hashing on purpose.
        Assert.Equal("ac8093e47b520a29c1099763", Make().Hash);
    }

    [Fact]
    public void Hash_UnderAnotherCulture_IsUnchanged()
    {
        var original = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            var policy = RetryPolicy.Exponential(3, TimeSpan.FromSeconds(1), multiplier: 1.5) with { Jitter = 0.25 };
            var german = Flow.Create<int>("culture").Then("a", (int x) => x, o => o.Retry = policy).Build().Hash;
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
            var invariant = Flow.Create<int>("culture").Then("a", (int x) => x, o => o.Retry = policy).Build().Hash;
            Assert.Equal(invariant, german);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = original;
        }
    }

    [Fact]
    public void Hash_DelegateBodyChange_DoesNotChangeHash()
    {
        var one = Flow.Create<int>("body").Then("a", (int x) => x + 1).Build();
        var two = Flow.Create<int>("body").Then("a", (int x) => x + 2).Build();

        Assert.Equal(one.Hash, two.Hash);
    }

    [Theory]
    [InlineData("retry")]
    [InlineData("signal")]
    [InlineData("delay")]
    public void Hash_StructuralChange_ChangesHash(string change)
    {
        var changed = change switch
        {
            "retry" => Make(attempts: 4),
            "signal" => Make(signal: "stop"),
            _ => Make(delay: TimeSpan.FromSeconds(6)),
        };

        Assert.NotEqual(Make().Hash, changed.Hash);
    }

    [Fact]
    public void Hash_VersionOrIdChange_ChangesHash()
    {
        var baseline = Flow.Create<int>("v", version: "1").Then("a", (int x) => x).Build();
        var otherVersion = Flow.Create<int>("v", version: "2").Then("a", (int x) => x).Build();
        var otherId = Flow.Create<int>("v", version: "1").Then("b", (int x) => x).Build();

        Assert.NotEqual(baseline.Hash, otherVersion.Hash);
        Assert.NotEqual(baseline.Hash, otherId.Hash);
    }
}

public sealed class RetryPolicyTests
{
    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 400)]
    [InlineData(4, 800)]
    public void GetDelay_Exponential_DoublesEachAttempt(int failedAttempt, int expectedMs)
    {
        var policy = RetryPolicy.Exponential(10, TimeSpan.FromMilliseconds(100));

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), policy.GetDelay(failedAttempt));
    }

    [Fact]
    public void GetDelay_MaxDelay_CapsTheDelay()
    {
        var policy = RetryPolicy.Exponential(10, TimeSpan.FromSeconds(1), multiplier: 3, maxDelay: TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(3), policy.GetDelay(2));
        Assert.Equal(TimeSpan.FromSeconds(5), policy.GetDelay(3));
        Assert.Equal(TimeSpan.FromSeconds(5), policy.GetDelay(500));
    }

    [Fact]
    public void GetDelay_HugeExponentWithoutCap_DoesNotOverflow()
    {
        var policy = RetryPolicy.Exponential(int.MaxValue, TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.MaxValue, policy.GetDelay(5000));
    }

    [Fact]
    public void GetDelay_Fixed_IsConstant()
    {
        var policy = RetryPolicy.Fixed(5, TimeSpan.FromSeconds(2));

        Assert.All(Enumerable.Range(1, 4), n => Assert.Equal(TimeSpan.FromSeconds(2), policy.GetDelay(n)));
    }

    [Fact]
    public void GetDelay_Jitter_StaysWithinItsBand()
    {
        var policy = RetryPolicy.Exponential(5, TimeSpan.FromSeconds(10)) with { Jitter = 0.5 };
        var random = new Random(42);

        for (var i = 0; i < 1000; i++)
        {
            var delay = policy.GetDelay(1, random);
            Assert.InRange(delay, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public void IsRetryable_NonRetryableType_CoversSubclasses()
    {
        var policy = RetryPolicy.Exponential(3, TimeSpan.FromSeconds(1)).WithNonRetryable<ArgumentException>();

        Assert.False(policy.IsRetryable(typeof(ArgumentNullException)));
        Assert.True(policy.IsRetryable(typeof(TimeoutException)));
    }

    [Fact]
    public void GetDelay_AttemptBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RetryPolicy.None.GetDelay(0));
    }
}
