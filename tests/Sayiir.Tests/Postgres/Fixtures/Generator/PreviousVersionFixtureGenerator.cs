using System.Diagnostics;
using Npgsql;
using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Postgres.Fixtures.Generator;

/// <summary>
/// Writes Postgres/Fixtures/previous-version.sql: a database holding runs in several states, written by THIS build,
/// for the next version's upgrade test. Not part of the suite: compiled only with
/// <c>-p:SayiirUpgradeFixtureGenerator=true</c> (see Postgres/Fixtures/README.md).
/// </summary>
public sealed class PreviousVersionFixtureGenerator
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Generate_PreviousVersionFixture_WritesTheDump()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("upgrade_fixture");
        await using (var cluster = await SayiirCluster.StartAsync(Backend.Postgres, new ClusterSettings
        {
            Silos = 1,
            ConnectionString = cs,
            ServiceId = UpgradeFlows.FixtureServiceId,
            Workflows = [.. UpgradeFlows.All],
        }))
        {
            var client = cluster.Client;

            // Completed: every signal sent, output "confirmed by bob".
            await client.StartAsync(UpgradeFlows.Approval, "c", "upgrade-completed");
            await WaitStateAsync(client, "upgrade-completed", WorkflowState.AwaitingSignal);
            await client.SignalAsync("upgrade-completed", "approve", "alice");
            await client.SignalAsync("upgrade-completed", "confirm", "bob");
            Assert.Equal("confirmed by bob", await Wait.ForAsync(
                client.WaitForResultAsync<string>("upgrade-completed"), Timeout, "upgrade-completed"));

            // Failed: "check" throws while the flag is set (only in this process).
            Probe.Set("upgrade-failed", UpgradeFlows.FailCheckFlag);
            await client.StartAsync(UpgradeFlows.Approval, "f", "upgrade-failed");
            await WaitStateAsync(client, "upgrade-failed", WorkflowState.Failed);

            // Awaiting "approve" after prepare and check completed.
            await client.StartAsync(UpgradeFlows.Approval, "w", "upgrade-awaiting");
            await WaitStateAsync(client, "upgrade-awaiting", WorkflowState.AwaitingSignal);

            // Awaiting "approve" with a "confirm" signal buffered (not consumed yet).
            await client.StartAsync(UpgradeFlows.Approval, "b", "upgrade-buffered");
            await WaitStateAsync(client, "upgrade-buffered", WorkflowState.AwaitingSignal);
            await client.SignalAsync("upgrade-buffered", "confirm", "early carol");

            // Parked in a 100-year delay.
            await client.StartAsync(UpgradeFlows.LongNap, "n", "upgrade-napping");
            await WaitStateAsync(client, "upgrade-napping", WorkflowState.Waiting);

            // Fork: branch "fast" finished, branch "gated" waits for "release".
            await client.StartAsync(UpgradeFlows.Fork, 4, "upgrade-fork");
            await Wait.UntilAsync(async () =>
                    (await client.GetStatusAsync("upgrade-fork")).State == WorkflowState.AwaitingSignal
                    && (await StoredRuns.DoneStepsAsync(cs, "upgrade-fork")).Contains("fast_task"),
                Timeout, "upgrade-fork: fast branch done, gated branch awaiting 'release'");

            // Let the buffered signal and the last checkpoints settle into storage.
            await Wait.UntilAsync(async () => (await client.GetStatusAsync("upgrade-buffered")).State == WorkflowState.AwaitingSignal
                    && await BufferedSignalStoredAsync(cs, "upgrade-buffered"),
                Timeout, "upgrade-buffered: the early 'confirm' signal stored");

            // Last: parked in a 30 s delay that elapses while the silo is down (the cluster stops right away).
            await client.StartAsync(UpgradeFlows.ShortNap, "s", "upgrade-short-nap");
            await WaitStateAsync(client, "upgrade-short-nap", WorkflowState.Waiting);
        }

        // The cluster is stopped cleanly (history flushed). Dump the database.
        var builder = new NpgsqlConnectionStringBuilder(cs);
        var output = Path.Combine(RepositoryRoot(), "tests", "Sayiir.Tests", "Postgres", "Fixtures", "previous-version.sql");
        var start = new ProcessStartInfo(PgDump(),
            [
                "--no-owner", "--no-privileges", "--inserts", "--rows-per-insert=50", "--file", output,
                "--host", builder.Host!, "--port", builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--username", builder.Username!, "--dbname", builder.Database!,
            ])
        { RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"pg_dump failed ({process.ExitCode}): {stderr}");
        await PostgresServer.DropDatabaseAsync(cs);
    }

    private static async Task WaitStateAsync(ISayiirClient client, string instanceId, WorkflowState state) =>
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(instanceId)).State == state, Timeout, $"{instanceId} to be {state}");

    private static async Task<bool> BufferedSignalStoredAsync(string cs, string instanceId)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT convert_from(payloadbinary, 'UTF8')::jsonb -> 'Signals' ? 'confirm' FROM orleansstorage WHERE grainidextensionstring = @id AND graintypestring = 'sayiir-run'",
            connection);
        command.Parameters.AddWithValue("id", instanceId);
        return await command.ExecuteScalarAsync() is true;
    }

    private static string PgDump()
    {
        var bin = Environment.GetEnvironmentVariable("PG_BIN");
        if (!string.IsNullOrEmpty(bin)) return Path.Combine(bin, "pg_dump");
        return Directory.GetDirectories("/usr/lib/postgresql").Order(StringComparer.Ordinal).Select(d => Path.Combine(d, "bin", "pg_dump")).Last(File.Exists);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sayiir.sln"))) return dir.FullName;
        throw new InvalidOperationException("Sayiir.sln not found above " + AppContext.BaseDirectory);
    }
}
