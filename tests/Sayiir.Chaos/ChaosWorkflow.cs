namespace Sayiir.Chaos;

/// <summary>
/// The chaos workflow. Input: a run seed; output: a checksum into which every task folds its id exactly once, in
/// flow order, so a skipped, repeated or reordered checkpoint shows in the output.
/// <code>
/// prepare → Fork work { a: a1 → a2 | b: WaitForSignal approve → b1 | c: Delay 1.5 s → c1 } → Join merge
///         → Route parity { even: on_even | odd: on_odd } → finish
/// </code>
/// The signal's payload (<see cref="SignalPayload"/>) becomes branch b's value, so it is mixed into the result.
/// Route keys depend on the data, so both branches are taken across runs. 9 task ids complete per run: prepare, a1,
/// a2, b1, c1, merge, parity (the route's key selector), on_even or on_odd, finish. All but parity are
/// <see cref="ChaosTasks"/> bodies that record every execution in the <c>chaos_exec</c> table.
/// </summary>
public static class ChaosWorkflow
{
    /// <summary>The workflow's registered name.</summary>
    public const string Name = "chaos_flow";

    /// <summary>The signal the run waits for.</summary>
    public const string SignalName = "approve";

    /// <summary>The route node's id (its key selector completes as a task of this id).</summary>
    public const string RouteId = "parity";

    /// <summary>The delay of branch c.</summary>
    public static readonly TimeSpan BranchDelay = TimeSpan.FromMilliseconds(1500);

    /// <summary>Every retry policy of the workflow's tasks: transient errors (a log write during a PostgreSQL restart) do not fail runs.</summary>
    public static readonly RetryPolicy Retry = RetryPolicy.Exponential(maxAttempts: 5, initialDelay: TimeSpan.FromMilliseconds(200), maxDelay: TimeSpan.FromSeconds(2));

    /// <summary>The definition: <c>long</c> seed in, <c>long</c> checksum out.</summary>
    public static WorkflowDefinition<long, long> Definition { get; } = Build();

    /// <summary>The payload the driver sends as the <c>approve</c> signal of the run with <paramref name="seed"/>.</summary>
    public static long SignalPayload(long seed) => unchecked((seed * 7919) + 104_729);

    /// <summary>The route key of a merged value.</summary>
    public static string KeyOf(long merged) => (merged & 1) == 0 ? "even" : "odd";

    /// <summary>The task ids a correct run of <paramref name="seed"/> completes, each exactly once.</summary>
    public static IReadOnlyList<string> ExpectedTaskIds(long seed)
    {
        var merged = MergedValue(seed);
        return ["prepare", "a1", "a2", "b1", "c1", "merge", RouteId, KeyOf(merged) == "even" ? "on_even" : "on_odd", "finish"];
    }

    /// <summary>The output a correct run of <paramref name="seed"/> produces.</summary>
    public static long ExpectedOutput(long seed)
    {
        var merged = MergedValue(seed);
        var routed = Mix(merged, KeyOf(merged) == "even" ? "on_even" : "on_odd");
        return Mix(routed, "finish");
    }

    /// <summary>Folds <paramref name="taskId"/> into <paramref name="value"/>; order-sensitive.</summary>
    public static long Mix(long value, string taskId)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        // FNV-1a over the id: stable across processes (string.GetHashCode is randomized per process).
        var hash = 14_695_981_039_346_656_037UL;
        foreach (var ch in taskId) hash = unchecked((hash ^ ch) * 1_099_511_628_211UL);
        return unchecked((value * 1_000_003L) + (long)(hash >> 1));
    }

    /// <summary>The join's combination of the three branch values.</summary>
    public static long Combine(long a, long b, long c) => unchecked((a * 31) + (b * 17) + (c * 13));

    private static long MergedValue(long seed)
    {
        var prepared = Mix(seed, "prepare");
        var a = Mix(Mix(prepared, "a1"), "a2");
        var b = Mix(SignalPayload(seed), "b1");
        var c = Mix(prepared, "c1");
        return Mix(Combine(a, b, c), "merge");
    }

    private static WorkflowDefinition<long, long> Build()
    {
        static void Options(TaskOptions o) => o.Retry = Retry;
        return Flow.Create<long>(Name, version: "1")
            .Then("prepare", ChaosTasks.RunAsync, Options)
            .Fork("work", f => f
                .Branch("a", b => b.Then("a1", ChaosTasks.RunAsync, Options).Then("a2", ChaosTasks.RunAsync, Options))
                .Branch("b", b => b.WaitForSignal<long>("approve_wait", SignalName).Then("b1", ChaosTasks.RunAsync, Options))
                .Branch("c", b => b.Delay("c_wait", BranchDelay).Then("c1", ChaosTasks.RunAsync, Options)))
            .Join("merge", ChaosTasks.MergeAsync, Options)
            .Route<long>(RouteId, KeyOf, r => r
                .Keys("even", "odd")
                .Branch("even", b => b.Then("on_even", ChaosTasks.RunAsync, Options))
                .Branch("odd", b => b.Then("on_odd", ChaosTasks.RunAsync, Options)))
            .Then("finish", ChaosTasks.RunAsync, Options)
            .Build();
    }
}
