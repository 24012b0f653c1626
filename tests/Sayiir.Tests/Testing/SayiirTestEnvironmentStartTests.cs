using Sayiir.Testing;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Testing;

/// <summary>Environments of their own: PostgreSQL storage, and a run that never settles.</summary>
public sealed class SayiirTestEnvironmentStartTests
{
    private static readonly WorkflowDefinition<int, int> TwoDayDelay = Flow.Create<int>("env_pg_two_day_delay")
        .Delay("nap", TimeSpan.FromDays(2))
        .Then("after", (int x) => x + 1)
        .Build();

    private static readonly WorkflowDefinition<int, int> BlockedTask = Flow.Create<int>("env_blocked_task")
        .Then("stuck", async (int x, TaskContext ctx) =>
        {
            Probe.Hit(ctx);
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            return x;
        }, o => o.Retry = RetryPolicy.None)
        .Build();

    [Fact]
    public async Task AdvanceTime_PostgresStorage_RunsDelayOnVirtualTime()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("sayiir_testing_env");
        try
        {
            await using var env = await SayiirTestEnvironment.StartAsync(o =>
            {
                o.PostgresConnectionString = connectionString;
                o.AddWorkflow(TwoDayDelay);
            });
            var id = NewId("env-pg");
            var start = env.Now;
            await env.Client.StartAsync(TwoDayDelay, 1, id);

            await env.AdvanceTimeAsync(TimeSpan.FromDays(2));

            Assert.Equal(2, await Wait.ForAsync(env.Client.WaitForResultAsync<int>(id), Deadline, "the PostgreSQL run's result"));
            var history = await env.HistoryAsync(id);
            Assert.Equal(1, history.TaskExecutions("after"));
            Assert.Equal(start + TimeSpan.FromDays(2), history.OfKind(RunEventKind.Completed).Single().At);
            // Stored in the given database, not in memory.
            Assert.Contains((await env.Client.ListRunsAsync(new RunQuery { WorkflowName = "env_pg_two_day_delay" })).Runs, r => r.InstanceId == id);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task AdvanceTime_TaskThatNeverEnds_ThrowsTimeoutNamingTheRun()
    {
        await using var env = await SayiirTestEnvironment.StartAsync(o =>
        {
            o.SettleTimeout = TimeSpan.FromSeconds(1);
            o.AddWorkflow(BlockedTask);
        });
        var id = NewId("env-stuck");
        await env.Client.StartAsync(BlockedTask, 1, id);
        await Probe.ExecutedAsync(id, "stuck", 1, Deadline);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => env.AdvanceTimeAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains($"run '{id}' (env_blocked_task) is Running task 'stuck'", error.Message, StringComparison.Ordinal);

        await env.Client.CancelAsync(id);
        await Assert.ThrowsAsync<WorkflowCancelledException>(() => Wait.ForAsync(env.Client.WaitForResultAsync<int>(id), Deadline, "the blocked run to be cancelled"));
    }
}
