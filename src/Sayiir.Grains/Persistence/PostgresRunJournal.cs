using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Sayiir.Runtime;

namespace Sayiir.Persistence;

/// <summary>
/// PostgreSQL: history in the append-only <c>sayiir_history</c> table (batched multi-row inserts); the listing reads
/// the run columns that a trigger extracts from each run's state row in the same transaction as the state write, so
/// a listed run always shows its stored state. With encryption at rest (a <see cref="PayloadSealer"/>), each event's
/// output, detail and message are stored sealed and opened when read; rows written in clear before stay readable.
/// </summary>
internal sealed class PostgresRunJournal : BatchingRunJournal
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;
    private readonly PayloadSealer _sealer;

    public PostgresRunJournal(string connectionString, string serviceId, ILogger<PostgresRunJournal> logger, PayloadSealer? sealer = null) : base(logger)
    {
        _dataSource = NpgsqlDataSource.Create(PostgresConnectionTuning.ForJournal(connectionString));
        _serviceId = serviceId;
        // Without encryption a sealer still reads: it refuses a sealed row (written while encryption was on) by its key id.
        _sealer = sealer ?? PayloadSealer.WithoutKeys;
    }

    public override ValueTask RunChangedAsync(RunSummary summary) => ValueTask.CompletedTask;

    protected override async Task WriteAsync(IReadOnlyList<JournalEntry> batch)
    {
        await using var command = _dataSource.CreateCommand(
            """
            INSERT INTO sayiir_history (service_id, instance_id, at, kind, task_id, attempt, duration_ms, detail, error_type, message, output, seq)
            SELECT @service, * FROM unnest(@ids, @ats, @kinds, @tasks, @attempts, @durations, @details, @types, @messages, @outputs, @seqs)
            ON CONFLICT (service_id, instance_id, seq) WHERE seq IS NOT NULL DO NOTHING
            """);
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("ids", batch.Select(b => b.InstanceId).ToArray());
        foreach (var (name, parameter) in EventParameters(batch.Select(b => (b.Event, b.Output, b.Seq)).ToList()))
        {
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The history insert that a run's checkpoint carries in its own statement (group commit): the events saved in the
    /// state's outbox are inserted only when the state write itself succeeded (<c>w.v</c>: the version the write
    /// returned; <c>$8</c>: the version it expected), so a losing activation's events never reach the history, and a
    /// checkpoint and its events commit together. Parameters <c>$10</c> (instance id) to <c>$20</c> follow the write's.
    /// </summary>
    internal const string HistoryWithStateSql = """
        WITH w AS MATERIALIZED (SELECT sayiir_orleans_write_storage($1, $2, $3, $4, $5, $6, $7, $8, $9) AS v),
        h AS (
            INSERT INTO sayiir_history (service_id, instance_id, at, kind, task_id, attempt, duration_ms, detail, error_type, message, output, seq)
            SELECT $7, $10, u.* FROM unnest($11, $12, $13, $14, $15, $16, $17, $18, $19, $20) AS u CROSS JOIN w
             WHERE w.v IS NOT NULL AND w.v IS DISTINCT FROM $8
            ON CONFLICT (service_id, instance_id, seq) WHERE seq IS NOT NULL DO NOTHING)
        SELECT v FROM w
        """;

    /// <summary>Adds <see cref="HistoryWithStateSql"/>'s parameters $10 to $20 (sealed as the journal seals them).</summary>
    internal void AddHistoryParameters(NpgsqlParameterCollection parameters, string instanceId, IReadOnlyList<PendingEvent> events)
    {
        parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Varchar, Value = instanceId });
        foreach (var (_, parameter) in EventParameters(events.Select(e => (e.Event, e.Output, e.Seq)).ToList())) parameters.Add(parameter);
    }

    // The event columns as arrays, in the insert's column order (at … seq).
    private IEnumerable<(string Name, NpgsqlParameter Parameter)> EventParameters(List<(RunHistoryEvent Event, byte[]? Output, long Seq)> events)
    {
        yield return ("ats", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = events.Select(e => e.Event.At.UtcDateTime).ToArray() });
        yield return ("kinds", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint, Value = events.Select(e => (short)e.Event.Kind).ToArray() });
        yield return ("tasks", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => (object?)e.Event.TaskId ?? DBNull.Value).ToArray() });
        yield return ("attempts", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = events.Select(e => (object?)e.Event.Attempt ?? DBNull.Value).ToArray() });
        yield return ("durations", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double, Value = events.Select(e => (object?)e.Event.Duration?.TotalMilliseconds ?? DBNull.Value).ToArray() });
        yield return ("details", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => (object?)SealText(e.Event.Detail) ?? DBNull.Value).ToArray() });
        yield return ("types", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => (object?)e.Event.ErrorType ?? DBNull.Value).ToArray() });
        yield return ("messages", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => (object?)SealText(e.Event.Message) ?? DBNull.Value).ToArray() });
        yield return ("outputs", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = events.Select(e => (object?)Seal(e.Output) ?? DBNull.Value).ToArray() });
        yield return ("seqs", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Seq).ToArray() });
    }

    public override async Task<byte[]?> ReadTaskOutputAsync(string instanceId, string taskId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(
            """
            SELECT output FROM sayiir_history
             WHERE service_id = @service AND instance_id = @id AND task_id = @task AND output IS NOT NULL
             ORDER BY seq DESC NULLS LAST, id DESC LIMIT 1
            """);
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("id", instanceId);
        command.Parameters.AddWithValue("task", taskId);
        return await command.ExecuteScalarAsync(cancellationToken) is byte[] output ? Open(output) : null;
    }

    // Error types stay clear: exception type names, useful to query and not payload.
    private byte[]? Seal(byte[]? output) => output is null || !_sealer.Seals ? output : _sealer.Seal(output);

    private string? SealText(string? text) => _sealer.Seals ? _sealer.SealText(text) : text;

    private byte[] Open(byte[] stored) => _sealer.Open(stored);

    private string? OpenText(string? stored) => _sealer.OpenText(stored);

    public override async Task<IReadOnlyList<RunHistoryEvent>> ReadHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        await FlushAsync().WaitAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand(
            """
            SELECT at, kind, task_id, attempt, duration_ms, detail, error_type, message, seq
              FROM sayiir_history WHERE service_id = @service AND instance_id = @id ORDER BY seq NULLS FIRST, id
            """);
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("id", instanceId);
        var events = new List<RunHistoryEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new RunHistoryEvent
            {
                At = new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero),
                Kind = (RunEventKind)reader.GetInt16(1),
                TaskId = reader.IsDBNull(2) ? null : reader.GetString(2),
                Attempt = reader.IsDBNull(3) ? null : reader.GetInt32(3),
                Duration = reader.IsDBNull(4) ? null : TimeSpan.FromMilliseconds(reader.GetDouble(4)),
                Detail = reader.IsDBNull(5) ? null : OpenText(reader.GetString(5)),
                ErrorType = reader.IsDBNull(6) ? null : reader.GetString(6),
                Message = reader.IsDBNull(7) ? null : OpenText(reader.GetString(7)),
                Sequence = reader.IsDBNull(8) ? 0 : reader.GetInt64(8),
            });
        }
        return events;
    }

    public override async Task<IReadOnlyList<DefinitionUsage>> ActiveRunsByDefinitionAsync(string? workflowName, CancellationToken cancellationToken = default)
    {
        // Literal state name and status range: the partial index ix_sayiir_runs_active_definition matches them.
        await using var command = _dataSource.CreateCommand(
            $"""
            SELECT SayiirWorkflow, SayiirVersion, SayiirHash, count(*)
              FROM OrleansStorage
             WHERE GrainTypeString = '{RunStateStorage.StateName}' AND ServiceId = @service AND {RunStateStorage.ActiveStatusPredicate}
               AND (@workflow::text IS NULL OR SayiirWorkflow = @workflow)
             GROUP BY SayiirWorkflow, SayiirVersion, SayiirHash
            """);
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.Add(new NpgsqlParameter("workflow", NpgsqlDbType.Text) { Value = (object?)workflowName ?? DBNull.Value });
        var usage = new List<DefinitionUsage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            usage.Add(new DefinitionUsage(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3)));
        }
        return usage;
    }

    public override async Task DeleteRunAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        // Events of the run still queued here would otherwise be written after the delete.
        await FlushAsync().WaitAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("DELETE FROM sayiir_history WHERE service_id = @service AND instance_id = @id");
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("id", instanceId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task<IReadOnlyList<string>> ExpiredRunsAsync(string? workflowName, IReadOnlyCollection<string> exceptWorkflows,
        IReadOnlyList<WorkflowState> states, DateTimeOffset endedBefore, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(
            $"""
            SELECT GrainIdExtensionString FROM OrleansStorage
             WHERE GrainTypeString = '{RunStateStorage.StateName}' AND ServiceId = @service AND SayiirStatus = ANY(@states)
               AND SayiirUpdatedAt < @before
               AND (@workflow::text IS NULL OR SayiirWorkflow = @workflow)
               AND (@workflow::text IS NOT NULL OR SayiirWorkflow IS NULL OR NOT (SayiirWorkflow = ANY(@except)))
             LIMIT @limit
            """);
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("states", states.Select(s => (short)s).ToArray());
        command.Parameters.AddWithValue("before", endedBefore.UtcDateTime);
        command.Parameters.Add(new NpgsqlParameter("workflow", NpgsqlDbType.Text) { Value = (object?)workflowName ?? DBNull.Value });
        command.Parameters.AddWithValue("except", exceptWorkflows.ToArray());
        command.Parameters.AddWithValue("limit", limit);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
        return ids;
    }

    public override async Task SaveDefinitionsAsync(IReadOnlyList<DefinitionRecord> definitions, CancellationToken cancellationToken = default)
    {
        if (definitions.Count == 0) return;
        await using var command = _dataSource.CreateCommand(
            """
            INSERT INTO sayiir_definitions (service_id, hash, workflow, version, shape)
            SELECT @service, * FROM unnest(@hashes, @workflows, @versions, @shapes)
            ON CONFLICT (service_id, hash) DO NOTHING
            """);
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("hashes", definitions.Select(d => d.Hash).ToArray());
        command.Parameters.AddWithValue("workflows", definitions.Select(d => d.WorkflowName).ToArray());
        command.Parameters.Add(new NpgsqlParameter("versions", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = definitions.Select(d => (object?)d.Version ?? DBNull.Value).ToArray() });
        command.Parameters.AddWithValue("shapes", definitions.Select(d => d.Shape).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task<string?> ReadDefinitionShapeAsync(string hash, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT shape FROM sayiir_definitions WHERE service_id = @service AND hash = @hash");
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("hash", hash);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public override async Task<RunPage> ListAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand();
        var sql = new System.Text.StringBuilder(
            """
            SELECT GrainIdExtensionString, SayiirWorkflow, SayiirStatus, SayiirCreatedAt, SayiirUpdatedAt, SayiirVersion, SayiirHash
              FROM OrleansStorage
            """);
        AppendRunFilters(sql, command, query);
        if (RunPageToken.Decode(query.ContinuationToken) is { } after)
        {
            sql.Append(" AND (SayiirCreatedAt, GrainIdExtensionString) < (@afterTime, @afterId)");
            command.Parameters.AddWithValue("afterTime", after.CreatedAt.UtcDateTime);
            command.Parameters.AddWithValue("afterId", after.InstanceId);
        }
        sql.Append(" ORDER BY SayiirCreatedAt DESC, GrainIdExtensionString DESC LIMIT @limit");
        command.Parameters.AddWithValue("limit", query.PageSize + 1);
        command.CommandText = sql.ToString();

        var runs = new List<RunSummary>(query.PageSize + 1);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                runs.Add(new RunSummary
                {
                    InstanceId = reader.GetString(0),
                    WorkflowName = reader.GetString(1),
                    State = (WorkflowState)reader.GetInt16(2),
                    CreatedAt = new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero),
                    UpdatedAt = reader.IsDBNull(4) ? null : new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero),
                    WorkflowVersion = reader.IsDBNull(5) ? null : reader.GetString(5),
                    DefinitionHash = reader.IsDBNull(6) ? null : reader.GetString(6),
                });
            }
        }
        if (runs.Count <= query.PageSize) return new RunPage { Runs = runs };
        runs.RemoveAt(runs.Count - 1);
        var last = runs[^1];
        return new RunPage { Runs = runs, ContinuationToken = new RunPageToken(last.CreatedAt, last.InstanceId).Encode() };
    }

    public override async Task<RunCounts> CountAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand();
        var sql = new System.Text.StringBuilder("SELECT SayiirStatus, count(*) FROM OrleansStorage");
        AppendRunFilters(sql, command, query);
        sql.Append(" GROUP BY SayiirStatus");
        command.CommandText = sql.ToString();
        var counts = new Dictionary<WorkflowState, long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) counts[(WorkflowState)reader.GetInt16(0)] = reader.GetInt64(1);
        return new RunCounts { ByState = counts };
    }

    public override async Task<IReadOnlyList<RunActivityBucket>> ActivityAsync(RunActivityQuery query, CancellationToken cancellationToken = default)
    {
        // Started runs by creation time (indexed); ended runs by their last write, which is deliberately not indexed (a
        // checkpoint must stay a HOT update), so the ended half reads the ended states' index entries created before the window's end.
        var workflowFilter = query.WorkflowName is null ? "" : " AND SayiirWorkflow = @workflow";
        await using var command = _dataSource.CreateCommand(
            $"""
            SELECT floor(extract(epoch FROM SayiirCreatedAt - @from) / @bucket)::int, 0::smallint, count(*)
              FROM OrleansStorage
             WHERE GrainTypeString = '{RunStateStorage.StateName}' AND ServiceId = @service AND SayiirStatus > 0{workflowFilter}
               AND SayiirCreatedAt >= @from AND SayiirCreatedAt < @to
             GROUP BY 1
            UNION ALL
            SELECT floor(extract(epoch FROM SayiirUpdatedAt - @from) / @bucket)::int, SayiirStatus, count(*)
              FROM OrleansStorage
             WHERE GrainTypeString = '{RunStateStorage.StateName}' AND ServiceId = @service AND SayiirStatus IN (5, 6, 7, 10){workflowFilter}
               AND SayiirCreatedAt < @to AND SayiirUpdatedAt >= @from AND SayiirUpdatedAt < @to
             GROUP BY 1, 2
            """);
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("from", query.From.UtcDateTime);
        command.Parameters.AddWithValue("to", query.End.UtcDateTime);
        command.Parameters.AddWithValue("bucket", query.BucketSize.TotalSeconds);
        if (query.WorkflowName is { } workflow) command.Parameters.AddWithValue("workflow", workflow);
        var buckets = RunActivity.EmptyBuckets(query);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var index = reader.GetInt32(0);
            if (index < 0 || index >= buckets.Length) continue;
            var state = reader.GetInt16(1);
            if (state == 0) buckets[index].Started += reader.GetInt64(2);
            else buckets[index].Add((WorkflowState)state, reader.GetInt64(2));
        }
        return [.. buckets.Select(b => b.ToBucket())];
    }

    // The filters a listing and a count share. The state name is a literal, not a parameter: the planner uses the
    // partial indexes only when it can prove the query's predicate implies theirs (GrainTypeString = 'sayiir-run').
    private void AppendRunFilters(System.Text.StringBuilder sql, NpgsqlCommand command, RunQuery query)
    {
        sql.Append($" WHERE GrainTypeString = '{RunStateStorage.StateName}' AND ServiceId = @service AND SayiirStatus > 0");
        command.Parameters.AddWithValue("service", _serviceId);
        if (query.WorkflowName is { } workflow)
        {
            sql.Append(" AND SayiirWorkflow = @workflow");
            command.Parameters.AddWithValue("workflow", workflow);
        }
        if (query.States is { Count: > 0 } states)
        {
            sql.Append(" AND SayiirStatus = ANY(@states)");
            command.Parameters.AddWithValue("states", states.Select(s => (short)s).ToArray());
        }
        if (query.CreatedFrom is { } from)
        {
            sql.Append(" AND SayiirCreatedAt >= @from");
            command.Parameters.AddWithValue("from", from.UtcDateTime);
        }
        if (query.CreatedBefore is { } before)
        {
            sql.Append(" AND SayiirCreatedAt < @before");
            command.Parameters.AddWithValue("before", before.UtcDateTime);
        }
        if (!string.IsNullOrEmpty(query.InstanceIdPrefix))
        {
            // starts_with, not LIKE: the prefix's % and _ are ordinary characters. The byte-order range beside it lets the
            // prefix index (migration 5) find the matches, also in a generic plan of the prepared statement.
            sql.Append(" AND (GrainIdExtensionString COLLATE \"C\") >= @prefix AND (GrainIdExtensionString COLLATE \"C\") < @prefixEnd"
                + " AND starts_with(GrainIdExtensionString, @prefix)");
            command.Parameters.AddWithValue("prefix", query.InstanceIdPrefix);
            command.Parameters.AddWithValue("prefixEnd", query.InstanceIdPrefix + char.ConvertFromUtf32(0x10FFFF));
        }
    }
}
