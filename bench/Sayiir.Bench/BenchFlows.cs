using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sayiir.Bench;

/// <summary>
/// The benchmark workflows. Every task is trivial (<c>int -&gt; int + 1</c>, or a sum for the join), so what is
/// measured is the engine's own cost. Definitions are memoized per shape.
/// </summary>
internal static class BenchFlows
{
    /// <summary>Length of each task output of the bigstate workflow, in characters (10 KB of base64).</summary>
    public const int BlobLength = 10 * 1024;

    private static readonly ConcurrentDictionary<string, WorkflowDefinition> Cache = new(StringComparer.Ordinal);

    /// <summary>S sequential <c>x + 1</c> tasks: the output is input + S.</summary>
    public static WorkflowDefinition<int, int> Linear(int steps) => Memo($"bench_linear_s{steps}", name =>
    {
        var flow = Flow.Create<int>(name);
        for (var i = 1; i <= steps; i++) flow = flow.Then<int>($"t{i}", x => x + 1);
        return flow.Build();
    });

    /// <summary>One task, a fork of K one-task branches, a join summing them: the output is K * (input + 2).</summary>
    public static WorkflowDefinition<int, int> Fanout(int branches) => Memo($"bench_fanout_k{branches}", name =>
        Flow.Create<int>(name)
            .Then<int>("start", x => x + 1)
            .Fork("fork", fork =>
            {
                for (var i = 0; i < branches; i++)
                {
                    var branch = $"b{i}";
                    fork.Branch(branch, chain => chain.Then<int>($"{branch}.task", x => x + 1));
                }
            })
            .Join<int>("join", results => results.Names.Sum(results.Get<int>))
            .Build());

    /// <summary>One task, a wait for the signal "go" (an int payload), one task: the output is payload + 1.</summary>
    public static WorkflowDefinition<int, int> Signal() => Memo("bench_signal", name =>
        Flow.Create<int>(name)
            .Then<int>("before", x => x + 1)
            .WaitForSignal<int>("wait", "go")
            .Then<int>("after", x => x + 1)
            .Build());

    /// <summary>
    /// One task, a delay, one task: the output is input + 2. The first task records when it ends and the second
    /// when it starts (<see cref="SleepMarks"/>), keyed by instance id, so wake lateness can be computed.
    /// </summary>
    public static WorkflowDefinition<int, int> Sleeping(TimeSpan delay) => Memo($"bench_sleep_{(long)delay.TotalMilliseconds}ms", name =>
        Flow.Create<int>(name)
            .Then<int>("before", (x, ctx) =>
            {
                SleepMarks.FirstTaskEnded(ctx.InstanceId);
                return Task.FromResult(x + 1);
            })
            .Delay("sleep", delay)
            .Then<int>("after", (x, ctx) =>
            {
                SleepMarks.SecondTaskStarted(ctx.InstanceId);
                return Task.FromResult(x + 1);
            })
            .Build());

    /// <summary>S tasks, each returning a fresh, incompressible 10 KB string (so the run state grows by 10 KB a step).</summary>
    public static WorkflowDefinition<int, string> BigState(int steps) => Memo($"bench_bigstate_s{steps}", name =>
    {
        var flow = Flow.Create<int>(name).Then<string>("t1", x => Blob(x, 1));
        for (var i = 2; i <= steps; i++)
        {
            var step = i;
            flow = flow.Then<string>($"t{step}", s => Blob(s.Length, step));
        }
        return flow.Build();
    });

    private static WorkflowDefinition<TIn, TOut> Memo<TIn, TOut>(string name, Func<string, WorkflowDefinition<TIn, TOut>> build) =>
        (WorkflowDefinition<TIn, TOut>)Cache.GetOrAdd(name, n => build(n));

    /// <summary>A pseudo-random base64 string of <see cref="BlobLength"/> characters (TOAST/pglz cannot shrink it much).</summary>
    private static string Blob(int seed, int step)
    {
        var bytes = new byte[BlobLength / 4 * 3];
        new Random(HashCode.Combine(seed, step)).NextBytes(bytes);
        return Convert.ToBase64String(bytes);
    }
}

/// <summary>Timestamps (<see cref="Stopwatch.GetTimestamp"/>) recorded inside the sleeping workflow's tasks.</summary>
internal static class SleepMarks
{
    private static int _firstCount;
    private static int _secondCount;

    public static ConcurrentDictionary<string, long> FirstEnded { get; } = new(StringComparer.Ordinal);

    public static ConcurrentDictionary<string, long> SecondStarted { get; } = new(StringComparer.Ordinal);

    /// <summary>First tasks ended since <see cref="Reset"/> (a re-execution counts again).</summary>
    public static int FirstCount => Volatile.Read(ref _firstCount);

    /// <summary>Second tasks started since <see cref="Reset"/>.</summary>
    public static int SecondCount => Volatile.Read(ref _secondCount);

    public static void FirstTaskEnded(string instanceId)
    {
        FirstEnded[instanceId] = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _firstCount);
    }

    public static void SecondTaskStarted(string instanceId)
    {
        SecondStarted[instanceId] = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _secondCount);
    }

    public static void Reset()
    {
        FirstEnded.Clear();
        SecondStarted.Clear();
        Interlocked.Exchange(ref _firstCount, 0);
        Interlocked.Exchange(ref _secondCount, 0);
    }
}
