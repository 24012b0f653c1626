using System.Diagnostics;

namespace Sayiir.Samples.ClusterWorkflows;

/// <summary>
/// The bench's <c>fanout-cpu</c> workload: a fork of <see cref="Branches"/> branches, each one task that keeps a core
/// busy for the input's number of milliseconds, then a join counting them. <see cref="Cluster"/> places the branches
/// anywhere in the cluster (<see cref="TaskPlacement.Cluster"/>), <see cref="Local"/> keeps them on the run's silo.
/// Clients start them by name with an <c>int</c> input (milliseconds of CPU per branch); the output is the branch count.
/// </summary>
public static class FanoutCpuWorkflow
{
    /// <summary>The name of the cluster-placed variant.</summary>
    public const string ClusterName = "cluster_fanout_cpu";

    /// <summary>The name of the local-placed variant.</summary>
    public const string LocalName = "cluster_fanout_cpu_local";

    /// <summary>Branches per run.</summary>
    public const int Branches = 24;

    /// <summary>Branches placed anywhere in the cluster.</summary>
    public static WorkflowDefinition<int, int> Cluster { get; } = Build(ClusterName, TaskPlacement.Cluster);

    /// <summary>Branches kept on the run's silo.</summary>
    public static WorkflowDefinition<int, int> Local { get; } = Build(LocalName, TaskPlacement.Local);

    private static WorkflowDefinition<int, int> Build(string name, TaskPlacement placement) => Flow.Create<int>(name)
        .Fork("split", f =>
        {
            for (var i = 0; i < Branches; i++)
                f.Branch($"b{i}", b => b.Then($"cpu-{i}", (int cpuMs) => Spin(cpuMs), o => o.Placement = placement));
        })
        .Join("count", (BranchResults r) => Enumerable.Range(0, Branches).Count(i => r.Get<int>($"b{i}") >= 0))
        .Build();

    /// <summary>
    /// Fixed CPU work worth about <paramref name="milliseconds"/> on one idle core: a number of iterations calibrated
    /// once per process, so the work stays the same however many branches share the cores (a loop that watched the
    /// clock would end on time even while waiting for a core, and hide oversubscription).
    /// </summary>
    public static int Spin(int milliseconds)
    {
        var iterations = (long)(IterationsPerMs.Value * milliseconds);
        var x = 0;
        for (long i = 0; i < iterations; i++) x = unchecked(x * 31 + 7);
        return x & 0x7fffffff;
    }

    // The best of a few 20 ms samples: the fastest is the least disturbed by other threads.
    private static readonly Lazy<double> IterationsPerMs = new(() =>
    {
        double best = 0;
        for (var sample = 0; sample < 5; sample++)
        {
            var started = Stopwatch.GetTimestamp();
            long n = 0;
            var x = 0;
            while (Stopwatch.GetElapsedTime(started).TotalMilliseconds < 20)
            {
                for (var i = 0; i < 10_000; i++) x = unchecked(x * 31 + 7);
                n += 10_000;
            }
            GC.KeepAlive(x);
            best = Math.Max(best, n / Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return best;
    });
}
