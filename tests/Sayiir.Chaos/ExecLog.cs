using System.Net.Sockets;
using Npgsql;

namespace Sayiir.Chaos;

/// <summary>
/// Records every execution of a chaos task in <c>chaos_exec</c>, from inside the task: a row when it starts, its end
/// instant and outcome when it ends. Each execution has its own key, so a write retried after an ambiguous failure
/// (the server restarted during the commit) lands once. Timestamps come from this process's clock at the moment of
/// the event, not from the server at the moment of the (possibly retried) write.
/// </summary>
public sealed class ExecLog : IDisposable
{
    /// <summary>The table (created by the driver before any silo starts).</summary>
    public const string CreateTableSql = """
        CREATE TABLE IF NOT EXISTS chaos_exec (
            id          bigserial PRIMARY KEY,
            exec_key    uuid NOT NULL UNIQUE,
            instance_id text NOT NULL,
            task_id     text NOT NULL,
            attempt     int NOT NULL,
            pid         int NOT NULL,
            started_at  timestamptz NOT NULL,
            ended_at    timestamptz NULL,
            outcome     text NULL,
            log_retries int NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS chaos_exec_task ON chaos_exec (instance_id, task_id, started_at);
        """;

    private readonly NpgsqlDataSource _source;
    private readonly TimeSpan _retryLimit;

    internal ExecLog(ChaosModuleOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.LogPostgres)
        {
            Timeout = 3,
            CommandTimeout = 5,
            NoResetOnClose = true,
            MaxPoolSize = 20,
        };
        _source = NpgsqlDataSource.Create(builder.ConnectionString);
        _retryLimit = options.LogRetryLimit;
    }

    /// <summary>Records the start of an execution; returns how many write tries failed first.</summary>
    public Task<int> StartedAsync(Guid key, TaskContext context, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(context);
        return WithRetryAsync(async (retries, ct) =>
        {
            await using var cmd = _source.CreateCommand("""
                INSERT INTO chaos_exec (exec_key, instance_id, task_id, attempt, pid, started_at, log_retries)
                VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (exec_key) DO NOTHING
                """);
            cmd.Parameters.AddWithValue(key);
            cmd.Parameters.AddWithValue(context.InstanceId);
            cmd.Parameters.AddWithValue(context.TaskId);
            cmd.Parameters.AddWithValue(context.Attempt);
            cmd.Parameters.AddWithValue(Environment.ProcessId);
            cmd.Parameters.AddWithValue(at);
            cmd.Parameters.AddWithValue(retries);
            await cmd.ExecuteNonQueryAsync(ct);
        }, context.CancellationToken);
    }

    /// <summary>Records the end of an execution (idempotent). Not cancellable: a cancelled task still records that it ended.</summary>
    public Task<int> EndedAsync(Guid key, DateTimeOffset at, string outcome) =>
        WithRetryAsync(async (_, ct) =>
        {
            await using var cmd = _source.CreateCommand("UPDATE chaos_exec SET ended_at = $2, outcome = $3 WHERE exec_key = $1");
            cmd.Parameters.AddWithValue(key);
            cmd.Parameters.AddWithValue(at);
            cmd.Parameters.AddWithValue(outcome);
            await cmd.ExecuteNonQueryAsync(ct);
        }, CancellationToken.None);

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();

    private async Task<int> WithRetryAsync(Func<int, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + _retryLimit;
        var delay = TimeSpan.FromMilliseconds(50);
        for (var retries = 0; ; retries++)
        {
            try
            {
                await write(retries, cancellationToken);
                return retries;
            }
            catch (Exception ex) when (IsTransient(ex) && DateTimeOffset.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
            }
        }
    }

    private static bool IsTransient(Exception ex) =>
        ex is NpgsqlException or SocketException or IOException or TimeoutException
        || (ex is InvalidOperationException && ex.InnerException is not null && IsTransient(ex.InnerException));
}
