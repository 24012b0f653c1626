using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Sayiir.Tests.Infrastructure;

/// <summary>Workflows of the placement tests. Every task records the silo it ran on (Probe events) from inside.</summary>
public static class PlacementFlows
{
    public const int Branches = 30;
    public static readonly TimeSpan CpuWork = TimeSpan.FromMilliseconds(200);

    public static string SiloOf(TaskContext ctx) => ctx.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString();

    /// <summary>Fixed CPU work (the sample's calibrated iteration count, not a clock-watching loop: the point is to occupy a core).</summary>
    public static int Spin(TimeSpan duration) => Sayiir.Samples.ClusterWorkflows.FanoutCpuWorkflow.Spin((int)duration.TotalMilliseconds);

    private static WorkflowDefinition<int, int> Fanout(string name, TaskPlacement placement) => Flow.Create<int>(name)
        .Fork("split", f =>
        {
            for (var i = 0; i < Branches; i++)
            {
                f.Branch($"b{i}", b => b.Then($"cpu{i}", (int x, TaskContext ctx) =>
                {
                    Probe.Hit(ctx);
                    Probe.Record(ctx, SiloOf(ctx));
                    Spin(CpuWork);
                    return Task.FromResult(1);
                }, o => o.Placement = placement));
            }
        })
        .Join("count", (BranchResults r) => Enumerable.Range(0, Branches).Sum(i => r.Get<int>($"b{i}")))
        .Build();

    public static readonly WorkflowDefinition<int, int> FanoutCluster = Fanout("placement_fanout_cluster", TaskPlacement.Cluster);

    public static readonly WorkflowDefinition<int, int> FanoutLocal = Fanout("placement_fanout_local", TaskPlacement.Local);

    /// <summary>a (local: records the run's silo) → gpu (requires tag "gpu") → done.</summary>
    public static readonly WorkflowDefinition<string, string> Gpu = Flow.Create<string>("placement_gpu")
        .Then("a", (string s, TaskContext ctx) => { Probe.Record(ctx, SiloOf(ctx)); return Task.FromResult(s + "A"); })
        .Then("gpu", (string s, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            Probe.Record(ctx, SiloOf(ctx));
            return Task.FromResult(s + "G");
        }, o => o.RequireTags("gpu"))
        .Build();

    /// <summary>
    /// a (local: records the run's silo) → b (cluster placement on a "worker" silo, held at its gate, records its silo)
    /// → c (local).
    /// </summary>
    public static readonly WorkflowDefinition<string, string> RemoteHeld = Flow.Create<string>("placement_remote_held")
        .Then("a", (string s, TaskContext ctx) => { Probe.Hit(ctx); Probe.Record(ctx, SiloOf(ctx)); return Task.FromResult(s + "A"); })
        .Then("b", async (string s, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            Probe.Record(ctx, SiloOf(ctx));
            try
            {
                await Probe.HoldAsync(ctx);
            }
            catch (OperationCanceledException)
            {
                Probe.Record(ctx, "token fired");
                throw;
            }
            return s + "B";
        }, o =>
        {
            o.Placement = TaskPlacement.Cluster;
            o.RequireTags("worker");
        })
        .Then("c", (string s, TaskContext ctx) => { Probe.Hit(ctx); return Task.FromResult(s + "C"); })
        .Build();

    /// <summary>Attempts running at once on each silo, and the most seen, measured from inside the tasks.</summary>
    public static readonly ConcurrentDictionary<string, (int Now, int Max)> Concurrency = new();

    /// <summary>Start order of prioritized tasks, by test key.</summary>
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<int>> StartOrder = new();

    private static WorkflowDefinition<string, string> Prioritized(int priority) => Flow.Create<string>($"placement_priority_{priority}")
        .Then("p", async (string key, TaskContext ctx) =>
        {
            var silo = SiloOf(ctx);
            var now = Concurrency.AddOrUpdate(silo, (1, 1), (_, v) => (v.Now + 1, Math.Max(v.Max, v.Now + 1)));
            try
            {
                StartOrder.GetOrAdd(key, _ => new()).Enqueue(priority);
                Probe.Hit(ctx);
                // A "holder" run (priority 3, key ending in ":hold") keeps its slot until the test opens its gate.
                if (key.EndsWith(":hold", StringComparison.Ordinal)) await Probe.HoldAsync(ctx);
                else Spin(TimeSpan.FromMilliseconds(20));
                return key;
            }
            finally
            {
                Concurrency.AddOrUpdate(silo, (0, 0), (_, v) => (v.Now - 1, v.Max));
            }
        }, o =>
        {
            o.Priority = priority;
            // Every attempt goes to the one capped silo, whichever silo drives its run.
            o.RequireTags("capped");
        })
        .Build();

    public static readonly WorkflowDefinition<string, string> Priority1 = Prioritized(1);
    public static readonly WorkflowDefinition<string, string> Priority3 = Prioritized(3);
    public static readonly WorkflowDefinition<string, string> Priority5 = Prioritized(5);

    public static IReadOnlyList<WorkflowDefinition> All => [FanoutCluster, FanoutLocal, Gpu, RemoteHeld, Priority1, Priority3, Priority5];
}
