using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Sayiir.Testing;
using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Schedules;

/// <summary>The workflows schedule tests run, and the executions their tasks record (by instance id, with the silo).</summary>
public static class ScheduleFlows
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> ExecutionsById = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> ScheduleById = new(StringComparer.Ordinal);

    /// <summary>One quick task.</summary>
    public static readonly WorkflowDefinition<string, string> Quick = Flow.Create<string>("sched_quick")
        .Then("work", (string s, TaskContext ctx) =>
        {
            Record(ctx);
            return Task.FromResult($"{s}|{ctx.Metadata.GetValueOrDefault("sayiir.tick", "manual")}");
        })
        .Build();

    /// <summary>A task, then 90 minutes of (virtual) delay: a run stays active across an hourly tick.</summary>
    public static readonly WorkflowDefinition<string, string> Slow = Flow.Create<string>("sched_slow")
        .Then("begin", (string s, TaskContext ctx) =>
        {
            Record(ctx);
            return Task.FromResult(s);
        })
        .Delay("ninety", TimeSpan.FromMinutes(90))
        .Build();

    public static IReadOnlyList<WorkflowDefinition> All => [Quick, Slow];

    /// <summary>The silos on which the run's task executed, one entry per execution.</summary>
    public static IReadOnlyList<string> Executions(string instanceId) =>
        ExecutionsById.TryGetValue(instanceId, out var silos) ? [.. silos] : [];

    /// <summary>The <c>sayiir.schedule</c> metadata the run's task saw, if any.</summary>
    public static string? ScheduleOf(string instanceId) => ScheduleById.GetValueOrDefault(instanceId);

    private static void Record(TaskContext ctx)
    {
        ExecutionsById.GetOrAdd(ctx.InstanceId, _ => new()).Enqueue(ctx.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString());
        if (ctx.Metadata.TryGetValue("sayiir.schedule", out var schedule)) ScheduleById[ctx.InstanceId] = schedule;
    }

    /// <summary>The ids of the schedule's runs, by listing (oldest first).</summary>
    public static async Task<List<string>> RunIdsAsync(ISayiirClient client, string scheduleId, string workflow)
    {
        var ids = new List<string>();
        string? token = null;
        do
        {
            var page = await client.ListRunsAsync(new RunQuery { WorkflowName = workflow, PageSize = 1000, ContinuationToken = token });
            ids.AddRange(page.Runs.Select(r => r.InstanceId).Where(id => id.StartsWith(scheduleId + "@", StringComparison.Ordinal)));
            token = page.ContinuationToken;
        }
        while (token is not null);
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }
}

/// <summary>A virtual-time environment of a test's own (schedules tick for as long as it lives), with its database.</summary>
public sealed class ScheduleEnvironment : IAsyncDisposable
{
    private readonly string? _connectionString;

    private ScheduleEnvironment(SayiirTestEnvironment env, string? connectionString)
    {
        Env = env;
        _connectionString = connectionString;
    }

    public SayiirTestEnvironment Env { get; }

    public ISayiirClient Client => Env.Client;

    public static async Task<ScheduleEnvironment> StartAsync(Backend backend, Action<SayiirTestEnvironmentOptions>? configure = null)
    {
        var connectionString = backend == Backend.Postgres ? await PostgresServer.CreateDatabaseAsync("sayiir_sched") : null;
        try
        {
            var env = await SayiirTestEnvironment.StartAsync(o =>
            {
                o.PostgresConnectionString = connectionString;
                foreach (var workflow in ScheduleFlows.All) o.AddWorkflow(workflow);
                configure?.Invoke(o);
            });
            return new ScheduleEnvironment(env, connectionString);
        }
        catch when (connectionString is not null)
        {
            await PostgresServer.DropDatabaseAsync(connectionString);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Env.DisposeAsync();
        }
        finally
        {
            if (_connectionString is not null) await PostgresServer.DropDatabaseAsync(_connectionString);
        }
    }
}
