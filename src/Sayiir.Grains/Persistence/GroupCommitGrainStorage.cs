using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Sayiir.Runtime;

namespace Sayiir.Persistence;

/// <summary>
/// Group commit of run checkpoints on PostgreSQL: a write path in front of Orleans' ADO.NET grain storage. Run states
/// that are ready at the same moment go to the database in one round trip and one transaction (an
/// <see cref="NpgsqlBatch"/> of the provider's own conditional upsert, <c>sayiir_orleans_write_storage</c>, one per
/// run), into the provider's table, with its keys, hashes, serializer and version rule, so the provider reads them as
/// its own. Each run keeps its own ETag check and its own outcome: a stale ETag makes the function return the old
/// version for that run only (<see cref="InconsistentStateException"/> for it, success for the others). A batch that
/// fails as a whole (a trigger refusing one state, a deadlock with another silo's batch) is written again one run per
/// transaction, so an error stays with the run that caused it.
/// <para>
/// Adaptive: a write goes at once when fewer than <see cref="MaxBatchesInFlight"/> batches are in flight, so a lone
/// write pays no wait; writes that arrive while the batches are busy form the next batch. A write is acknowledged only
/// once its batch's transaction has committed (every result of the batch read, up to the server's ready-for-query):
/// no acknowledged checkpoint can be rolled back by a later failure of its batch. Reads of run states (an activation's)
/// join the same batches, with the provider's read query and deserializer: many runs activating at once cost one
/// round trip, not one transaction each. Clears, and every other state name, go to the provider unchanged.
/// </para>
/// </summary>
internal sealed partial class GroupCommitGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Batches sent concurrently (each on its own pooled connection); more writes wait for the next batch.</summary>
    internal const int MaxBatchesInFlight = 2;

    /// <summary>Most writes in one batch (bounds one transaction's size and lock footprint).</summary>
    internal const int MaxBatchSize = 256;

    private const string WriteSql = "SELECT sayiir_orleans_write_storage($1, $2, $3, $4, $5, $6, $7, $8, $9)";

    // The provider's ReadFromStorageKey query (02-storage.sql), with positional parameters.
    private const string ReadSql = """
        SELECT s.PayloadBinary, s.Version
          FROM OrleansStorage AS s
         WHERE s.GrainIdHash = $1
           AND s.GrainTypeHash = $4
           AND s.GrainIdN0 = $2
           AND s.GrainIdN1 = $3
           AND s.GrainTypeString = $5
           AND s.GrainIdExtensionString IS NOT DISTINCT FROM $6
           AND s.ServiceId = $7
        """;

    private readonly AdoNetGrainStorage _inner;
    private readonly string _name;
    private readonly string _connectionString;
    private readonly string _serviceId;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly Queue<PendingWrite> _queue = new();
    private int _inFlight;

    private readonly IActivatorProvider _activators;
    private readonly PostgresRunJournal? _history;

    /// <param name="inner">The ADO.NET provider whose table, keys, hashes and serializer the batches use.</param>
    /// <param name="name">The storage's name.</param>
    /// <param name="connectionString">The engine's connection string.</param>
    /// <param name="serviceId">The cluster's service id (a row key column).</param>
    /// <param name="activators">Creates a fresh state when a read finds no row.</param>
    /// <param name="logger">Logs batches refused as a whole.</param>
    /// <param name="history">
    /// The run history in the same database: a checkpoint then inserts the events of its state's outbox in its own
    /// statement (<see cref="PostgresRunJournal.HistoryWithStateSql"/>), so they commit with it and need no journal
    /// transaction of their own. Null: history goes through the journal after the write, as on other stores.
    /// </param>
    public GroupCommitGrainStorage(AdoNetGrainStorage inner, string name, string connectionString, string serviceId, IActivatorProvider activators, ILogger logger,
        PostgresRunJournal? history = null)
    {
        _activators = activators;
        _history = history;
        _inner = inner;
        _name = name;
        _connectionString = connectionString;
        _serviceId = serviceId;
        _logger = logger;
    }

    /// <summary>Batches committed so far and the writes they carried (for tests and the bench).</summary>
    internal long BatchesCommitted => Interlocked.Read(ref _batches);

    /// <summary>Writes carried by committed batches.</summary>
    internal long WritesCommitted => Interlocked.Read(ref _writes);

    private long _batches;
    private long _writes;

    public void Participate(ISiloLifecycle lifecycle) => _inner.Participate(lifecycle);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (stateName != RunStateStorage.StateName)
        {
            await _inner.ReadStateAsync(stateName, grainId, grainState);
            return;
        }
        var pending = Prepare(stateName, grainId, grainState, read: true);
        Enqueue(pending);
        await pending.Done.Task;
        var row = pending.Read;
        // As the provider reads: no row, or a row without a payload, is a fresh state; the version is the row's.
        grainState.State = row?.Payload is { } payload ? _inner.Serializer.Deserialize<T>(new BinaryData(payload)) : _activators.GetActivator<T>().Create();
        grainState.ETag = row?.Version?.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = row is not null;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => _inner.ClearStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (stateName != RunStateStorage.StateName)
        {
            await _inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }
        var pending = Prepare(stateName, grainId, grainState);
        Enqueue(pending);
        Apply(pending, await pending.Done.Task, grainState);
    }

    /// <summary>
    /// Writes <paramref name="writes"/> in one batch whatever the load (tests: per-run isolation within a batch); each
    /// entry's outcome is its own, null for success.
    /// </summary>
    internal async Task<Exception?[]> WriteInOneBatchAsync<T>(string stateName, IReadOnlyList<(GrainId Grain, IGrainState<T> State)> writes)
    {
        var pending = writes.Select(w => Prepare(stateName, w.Grain, w.State)).ToList();
        await WriteBatchAsync([.. pending]);
        var outcomes = new Exception?[writes.Count];
        for (var i = 0; i < writes.Count; i++)
        {
            try
            {
                Apply(pending[i], await pending[i].Done.Task, writes[i].State);
            }
            catch (Exception ex)
            {
                outcomes[i] = ex;
            }
        }
        return outcomes;
    }

    // The provider's version rule: no row changed (the same version back, or none) means another writer won.
    private void Apply<T>(PendingWrite pending, int? stored, IGrainState<T> grainState)
    {
        if (stored is null || pending.Version == stored)
        {
            throw new InconsistentStateException(
                $"Version conflict (WriteState): ServiceId={_serviceId} ProviderName={_name} GrainType={pending.GrainType} GrainId={pending.Key} ETag={grainState.ETag}.");
        }
        grainState.ETag = stored.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        if (pending.History is not null && grainState.State is WorkflowRunState run) run.HistorySaved = true;
    }

    /// <summary>The row's parameters as the ADO.NET provider computes them (its key split, hashes and serializer).</summary>
    private PendingWrite Prepare<T>(string stateName, GrainId grainId, IGrainState<T> grainState, bool read = false)
    {
        var key = StorageKey.Of(grainId);
        var history = !read && _history is not null && grainState.State is WorkflowRunState { PendingEvents.Count: > 0 } run ? run.EventsForHistory() : null;
        var hasher = _inner.HashPicker.PickHasher(_serviceId, _name, stateName, grainId, grainState)
            ?? throw new InvalidOperationException($"Grain storage '{_name}' has no hasher.");
        return new PendingWrite
        {
            Key = key,
            GrainIdHash = hasher.Hash(key.HashBytes()),
            GrainTypeHash = hasher.Hash(Encoding.UTF8.GetBytes(stateName)),
            GrainType = stateName,
            Version = read || string.IsNullOrWhiteSpace(grainState.ETag) ? null : int.Parse(grainState.ETag, CultureInfo.InvariantCulture),
            Payload = read ? null : _inner.Serializer.Serialize(grainState.State).ToArray(),
            History = history,
            InstanceId = history is null ? null : grainId.Key.ToString(),
        };
    }

    private void Enqueue(PendingWrite write)
    {
        lock (_gate)
        {
            _queue.Enqueue(write);
            if (_inFlight >= MaxBatchesInFlight) return;
            _inFlight++;
        }
        // Started inline (a lone write skips a thread-pool hop); every await of the pump leaves the caller's scheduler,
        // so the batch never runs on a grain's turn.
        _ = PumpAsync();
    }

    // Sends batches until the queue is empty, then gives its slot back.
    private async Task PumpAsync()
    {
        while (true)
        {
            List<PendingWrite> batch;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    _inFlight--;
                    return;
                }
                batch = new List<PendingWrite>(Math.Min(_queue.Count, MaxBatchSize));
                while (batch.Count < MaxBatchSize && _queue.TryDequeue(out var next)) batch.Add(next);
            }
            await WriteBatchAsync(batch).ConfigureAwait(false);
        }
    }

    private async Task WriteBatchAsync(List<PendingWrite> batch)
    {
        // One lock order for every batch (hash, then key): two silos' batches over the same runs cannot deadlock each other.
        batch.Sort(static (a, b) =>
        {
            var byHash = a.GrainIdHash.CompareTo(b.GrainIdHash);
            return byHash != 0 ? byHash : string.CompareOrdinal(a.Key.ToString(), b.Key.ToString());
        });
        try
        {
            var results = await ExecuteAsync(batch).ConfigureAwait(false);
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _writes, batch.Count);
            for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
        }
        catch (Exception ex) when (batch.Count > 1 && ex is PostgresException)
        {
            // The server refused the batch (one state a trigger refused, a deadlock): nothing of it committed. Each run is
            // written alone, so its own outcome (and error) is its own.
            LogBatchSplit(_logger, ex, batch.Count);
            await Task.WhenAll(batch.Select(write => WriteBatchAsync([write]))).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A connection failure may leave the commit's outcome unknown: every writer retries, and finds out by its token.
            foreach (var write in batch) write.Done.TrySetException(ex);
        }
    }

    private async Task<int?[]> ExecuteAsync(List<PendingWrite> batch)
    {
        var connection = new NpgsqlConnection(_connectionString);
        await using var _ = connection.ConfigureAwait(false);
        await connection.OpenAsync().ConfigureAwait(false);
        var command = new NpgsqlBatch(connection);
        await using var __ = command.ConfigureAwait(false);
        foreach (var write in batch)
        {
            var statement = new NpgsqlBatchCommand(write.IsRead ? ReadSql : write.History is null ? WriteSql : PostgresRunJournal.HistoryWithStateSql);
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = write.GrainIdHash });
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = write.Key.N0 });
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = write.Key.N1 });
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = write.GrainTypeHash });
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Varchar, Value = write.GrainType });
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Varchar, Value = (object?)write.Key.Extension ?? DBNull.Value });
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Varchar, Value = _serviceId });
            if (write.IsRead)
            {
                command.BatchCommands.Add(statement);
                continue;
            }
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = (object?)write.Version ?? DBNull.Value });
            statement.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = write.Payload });
            if (write.History is not null) _history!.AddHistoryParameters(statement.Parameters, write.InstanceId!, write.History);
            command.BatchCommands.Add(statement);
        }
        // Without an explicit transaction the batch is one implicit transaction, committed at its end: results are only
        // handed out once the reader is closed, i.e. once the commit is confirmed.
        var results = new int?[batch.Count];
        var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (i > 0 && !await reader.NextResultAsync().ConfigureAwait(false)) throw new InvalidOperationException("A group commit batch returned fewer results than statements.");
                if (!await reader.ReadAsync().ConfigureAwait(false)) continue;
                if (batch[i].IsRead)
                {
                    batch[i].Read = new StoredRow(reader.IsDBNull(0) ? null : (byte[])reader.GetValue(0), reader.IsDBNull(1) ? null : reader.GetInt32(1));
                    continue;
                }
                results[i] = reader.IsDBNull(0) ? null : reader.GetInt32(0);
            }
            while (await reader.NextResultAsync().ConfigureAwait(false))
            {
                // Nothing more is expected; consumed so that the close below reaches the commit.
            }
            await reader.CloseAsync().ConfigureAwait(false);
        }
        return results;
    }

    [LoggerMessage(3140, LogLevel.Warning, "A group commit batch of {Count} checkpoints was refused as a whole; writing each run alone")]
    private static partial void LogBatchSplit(ILogger logger, Exception exception, int count);

    private sealed class PendingWrite
    {
        public required StorageKey Key { get; init; }
        public required int GrainIdHash { get; init; }
        public required int GrainTypeHash { get; init; }
        public required string GrainType { get; init; }
        public required int? Version { get; init; }
        public required byte[]? Payload { get; init; }
        public List<PendingEvent>? History { get; init; }
        public string? InstanceId { get; init; }
        public bool IsRead => Payload is null;
        public StoredRow? Read { get; set; }
        public TaskCompletionSource<int?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A stored row as a read found it.</summary>
internal sealed record StoredRow(byte[]? Payload, int? Version);

/// <summary>
/// A grain id split into the ADO.NET storage table's key columns, as Orleans' provider splits it: a GUID key (with its
/// extension), an integer key (with its extension), or a string key. Its hash bytes are the provider's too.
/// </summary>
internal sealed record StorageKey(long N0, long N1, string? Extension, bool IsGuid, bool IsLong)
{
    public static StorageKey Of(GrainId grainId)
    {
        if (grainId.TryGetGuidKey(out var guid, out var guidExtension))
        {
            var bytes = guid.ToByteArray();
            return new StorageKey(BitConverter.ToInt64(bytes, 0), BitConverter.ToInt64(bytes, 8), guidExtension, IsGuid: true, IsLong: false);
        }
        if (grainId.TryGetIntegerKey(out var integer, out var integerExtension)) return new StorageKey(0, integer, integerExtension, IsGuid: false, IsLong: true);
        return new StorageKey(0, 0, grainId.Key.ToString(), IsGuid: false, IsLong: false);
    }

    /// <summary>The bytes the provider hashes into <c>GrainIdHash</c>: the key (then the extension's UTF-8), reversed on little-endian machines.</summary>
    public byte[] HashBytes()
    {
        byte[]? bytes = IsLong ? BitConverter.GetBytes(N1) : IsGuid ? ToGuid().ToByteArray() : null;
        if (bytes is not null && Extension is not null) bytes = [.. bytes, .. Encoding.UTF8.GetBytes(Extension)];
        bytes ??= Encoding.UTF8.GetBytes(Extension!);
        if (BitConverter.IsLittleEndian) Array.Reverse(bytes);
        return bytes;
    }

    private Guid ToGuid() => new((uint)(N0 & 0xffffffff), (ushort)(N0 >> 32), (ushort)(N0 >> 48), (byte)N1, (byte)(N1 >> 8), (byte)(N1 >> 16),
        (byte)(N1 >> 24), (byte)(N1 >> 32), (byte)(N1 >> 40), (byte)(N1 >> 48), (byte)(N1 >> 56));

    public override string ToString() => IsLong ? N1.ToString(CultureInfo.InvariantCulture) + (Extension is null ? "" : "#" + Extension)
        : IsGuid ? ToGuid() + (Extension is null ? "" : "#" + Extension)
        : Extension!;
}
