using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// Compensable test flows. Every step and undo step writes what it did to <see cref="SagaLedger"/> from inside the task,
/// so a test counts executions instead of assuming them. The run's input is a mode that picks the fault.
/// </summary>
public static class SagaFlows
{
    /// <summary>Undo step s2 fails while this flag (per run) is unset; a test sets it, then resumes the run.</summary>
    public const string FixUndo2 = "fix-undo-2";

    /// <summary>Step s4 of an "ok" run fails once this flag (per run) is set.</summary>
    public const string FailS4 = "fail-s4";

    /// <summary>The silo tag the steps of <see cref="Placed"/> require.</summary>
    public const string SagaWorkerTag = "saga-worker";

    // s1..s3 are compensable, s4 fails ("fail", "undo-flaky", "undo-broken", "undo-fixable", "hold-undo2") or holds
    // until cancelled ("hold"); with "ok" the run completes.
    public static readonly WorkflowDefinition<string, string> Four = Flow.Create<string>("saga_four")
        .Then("s1", (string mode, TaskContext ctx) => Do(ctx, mode, "1"), Undo, o => o.CompensationRetry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(5)))
        .Then("s2", (string value, TaskContext ctx) => Do(ctx, value, "2"), Undo, o => o.CompensationRetry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(5)))
        .Then("s3", (string value, TaskContext ctx) => Do(ctx, value, "3"), Undo)
        .Then<string>("s4", async (string value, TaskContext ctx) =>
        {
            SagaLedger.Add(ctx, "do");
            var mode = value.Split('|')[0];
            if (mode == "ok" && !Probe.IsSet(ctx.InstanceId, FailS4)) return value + "|4";
            if (mode == "hold") await Probe.HoldAsync(ctx);
            throw new InvalidOperationException("shipping refused the parcel");
        })
        .Build();

    // Three branches: completions are a1, b1, a2 (each waits for the one before in the ledger), then b2 fails once a2
    // is done; c1 is in flight when b2 fails and completes only once the run compensates, so it is undone with the others.
    public static readonly WorkflowDefinition<string, BranchResults> Fork = Flow.Create<string>("saga_fork")
        .Fork("fork", f => f
            .Branch("a", b => b
                .Then("a1", (string v, TaskContext ctx) => Do(ctx, v, "a1"), Undo)
                .Then<string>("a2", async (string v, TaskContext ctx) => { await SagaLedger.UntilAsync(ctx.InstanceId, "do:b1"); return await Do(ctx, v, "a2"); }, Undo))
            .Branch("b", b => b
                .Then<string>("b1", async (string v, TaskContext ctx) => { await SagaLedger.UntilAsync(ctx.InstanceId, "do:a1"); return await Do(ctx, v, "b1"); }, Undo)
                .Then<string>("b2", async (string v, TaskContext ctx) =>
                {
                    await SagaLedger.UntilAsync(ctx.InstanceId, "do:a2");
                    SagaLedger.Add(ctx, "fail");
                    throw new InvalidOperationException("branch b failed");
                }))
            .Branch("c", b => b
                .Then<string>("c1", async (string v, TaskContext ctx) =>
                {
                    var client = ctx.Services.GetRequiredService<ISayiirClient>();
                    await Wait.UntilAsync(async () => (await client.GetStatusAsync(ctx.InstanceId)).State == WorkflowState.Compensating, TestDefaults.Deadline,
                        $"run '{ctx.InstanceId}' to compensate while c1 runs");
                    return await Do(ctx, v, "c1");
                }, Undo)))
        .Collect()
        .Build();

    // A compensable step in a loop: each iteration's execution is undone, the last iteration's first.
    public static readonly WorkflowDefinition<int, int> Loop = Flow.Create<int>("saga_loop")
        .Loop("loop", body => body
            .Then<int>("reserve", (int n, TaskContext ctx) => { SagaLedger.Add(ctx, $"do#{ctx.LoopIteration}"); return Task.FromResult(n + 1); },
                (int n, int reserved, TaskContext ctx) => { SagaLedger.Add(ctx, $"undo#{ctx.LoopIteration}:{n}->{reserved}"); return Task.CompletedTask; })
            .Then("next", (int n) => n < 3 ? LoopOutcome.Again(n) : LoopOutcome.Done(n)))
        .Then<int>("fail", (int n, TaskContext ctx) => throw new InvalidOperationException("after the loop"))
        .Build();

    // A DI task class that undoes itself (ICompensableTask), then a failing step.
    public static readonly WorkflowDefinition<string, string> Class = Flow.Create<string>("saga_class")
        .Then<ReserveSeat, string>("seat")
        .Then<string>("pay", (string seat, TaskContext ctx) => throw new InvalidOperationException("card declined"))
        .Build();

    // Compensable steps that run only on silos tagged "saga-worker": their undo steps are placed like them (under keys of
    // their own), so a run hosted on another silo sends both there.
    public static readonly WorkflowDefinition<string, string> Placed = Flow.Create<string>("saga_placed")
        .Then("p1", (string v, TaskContext ctx) => Do(ctx, v, "p1"), Undo, o => o.RequireTags(SagaWorkerTag))
        .Then("p2", (string v, TaskContext ctx) => Do(ctx, v, "p2"), Undo, o => o.RequireTags(SagaWorkerTag))
        .Then("p3", (string v, TaskContext ctx) => Do(ctx, v, "p3"), Undo, o => o.RequireTags(SagaWorkerTag))
        .Then<string>("fail", (string v, TaskContext ctx) => throw new InvalidOperationException("after the placed steps"))
        .Build();

    public static IEnumerable<WorkflowDefinition> All => [Four, Fork, Loop, Class, Placed];

    private static Task<string> Do(TaskContext ctx, string value, string step)
    {
        SagaLedger.Add(ctx, "do");
        return Task.FromResult($"{value}|{step}");
    }

    private static async Task Undo(string input, string output, TaskContext ctx)
    {
        SagaLedger.Add(ctx, $"undo:{input}->{output}");
        var mode = input.Split('|')[0];
        if (ctx.TaskId != "s2") return;
        switch (mode)
        {
            case "undo-flaky" when ctx.Attempt == 1:
                throw new InvalidOperationException("refund service busy");
            case "undo-broken":
                throw new InvalidOperationException("refund refused");
            case "undo-fixable" when !Probe.IsSet(ctx.InstanceId, FixUndo2):
                throw new InvalidOperationException("refund service down");
            case "hold-undo2":
                SagaLedger.Add(ctx, $"silo:{ctx.Services.GetRequiredService<Orleans.Runtime.ILocalSiloDetails>().SiloAddress}");
                await Probe.HoldAsync(ctx);
                break;
        }
    }

    public sealed class ReserveSeatInt : ICompensableTask<int, int>
    {
        public Task<int> ExecuteAsync(int input, TaskContext context) => Task.FromResult(input);

        public Task CompensateAsync(int input, int output, TaskContext context) => Task.CompletedTask;
    }

    public sealed class ReserveSeat : ICompensableTask<string, string>
    {
        public Task<string> ExecuteAsync(string input, TaskContext context)
        {
            SagaLedger.Add(context, "do");
            return Task.FromResult($"seat-for-{input}");
        }

        public Task CompensateAsync(string input, string output, TaskContext context)
        {
            SagaLedger.Add(context, $"undo:{input}->{output}:{context.IsCompensation}:{context.IdempotencyKey}");
            return Task.CompletedTask;
        }
    }
}

/// <summary>What saga steps did, per run, in order: entries <c>do:{task}</c>, <c>undo:{task}:…</c>, <c>fail:{task}</c>…</summary>
public static class SagaLedger
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Entries = new();
    private static readonly ChangeSignal Changed = new();

    public static void Add(TaskContext ctx, string what)
    {
        var colon = what.IndexOf(':', StringComparison.Ordinal);
        var entry = colon < 0 ? $"{what}:{ctx.TaskId}" : $"{what[..colon]}:{ctx.TaskId}{what[colon..]}";
        Entries.GetOrAdd(ctx.InstanceId, _ => new()).Enqueue(entry);
        Changed.Notify();
    }

    public static IReadOnlyList<string> Of(string instanceId) => Entries.TryGetValue(instanceId, out var q) ? [.. q] : [];

    /// <summary>The undo entries of a run, as task ids in the order they ran.</summary>
    public static IReadOnlyList<string> Undone(string instanceId) =>
        [.. Of(instanceId).Where(e => e.StartsWith("undo:", StringComparison.Ordinal) || e.StartsWith("undo#", StringComparison.Ordinal)).Select(e => e.Split(':')[1])];

    public static Task UntilAsync(string instanceId, string entryPrefix) =>
        Changed.UntilAsync(() => Of(instanceId).Any(e => e.StartsWith(entryPrefix, StringComparison.Ordinal)), TestDefaults.Deadline,
            $"run '{instanceId}' to log '{entryPrefix}'");

    public static Task UntilAsync(Func<bool> condition, string what) => Changed.UntilAsync(condition, TestDefaults.Deadline, what);
}
