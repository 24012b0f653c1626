// The task logs the way applications do, with the ILogger extension methods.
#pragma warning disable CA1848, CA1873
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sayiir.Hosting;
using Sayiir.Persistence;
using Sayiir.Tests.Infrastructure;
using static Sayiir.Tests.Infrastructure.TestDefaults;

namespace Sayiir.Tests.Postgres;

/// <summary>
/// Encryption at rest (UseEncryption): nothing of a run's data is readable in the database's raw bytes, yet everything
/// reads back through the client; keys rotate across a restart; a missing key is a typed error naming it; runs stored
/// in clear before encryption was enabled still load and complete; a bad key configuration fails the start-up.
/// </summary>
public sealed class EncryptionTests
{
    private static readonly byte[] KeyA = RandomNumberGenerator.GetBytes(PayloadKeyring.KeySize);
    private static readonly byte[] KeyB = RandomNumberGenerator.GetBytes(PayloadKeyring.KeySize);

    /// <summary>
    /// Input and each task's output carry the input; "before" logs it; the signal's payload is the next input;
    /// "boom" fails (once, no retry) when its input contains "fail".
    /// </summary>
    private static readonly WorkflowDefinition<string, string> Sealed = Flow.Create<string>("enc_sealed")
        .Then("before", (string s, TaskContext ctx) =>
        {
            ctx.Logger.LogInformation("log line about {Input}", s);
            return Task.FromResult(s + "|before");
        })
        .WaitForSignal<string>("wait", "go")
        .Then("boom", (string s) => s.Contains("fail", StringComparison.Ordinal) ? throw new InvalidOperationException("failed on " + s) : s + "|after",
            o => o.Retry = RetryPolicy.None)
        .Build();

    private static PayloadKeyring Keyring(string active, params (string Id, byte[] Key)[] keys) =>
        new(active, keys.ToDictionary(k => k.Id, k => k.Key));

    private static ClusterSettings Settings(string connectionString, PayloadKeyring? keyring) => new()
    {
        Silos = 1,
        ConnectionString = connectionString,
        ServiceId = "enc-" + connectionString.GetHashCode(StringComparison.Ordinal).ToString("x", System.Globalization.CultureInfo.InvariantCulture),
        Workflows = [Sealed],
        Sayiir = keyring is null ? null : s => s.UseEncryption(keyring),
    };

    [Fact]
    public async Task UseEncryption_MarkerInInputOutputsSignalAndFailure_AbsentFromEveryTableYetReadable()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_enc");
        await using var cluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings(database.ConnectionString, Keyring("key-a", ("key-a", KeyA))));
        var client = cluster.Client;
        var marker = "MRK" + Guid.NewGuid().ToString("n");
        var (completed, failed) = await RunBothAsync(client, marker);

        Assert.Equal($"{marker}-sig|after", await client.WaitForResultAsync<string>(completed));
        Assert.Equal($"{marker}-in|before", await client.GetTaskResultAsync<string>(completed, "before"));
        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => client.WaitForResultAsync<string>(failed));
        Assert.Contains(marker, failure.Failure.Message, StringComparison.Ordinal);
        Assert.Contains(marker, (await client.GetStatusAsync(failed)).Failure!.Message, StringComparison.Ordinal);
        var history = await client.GetHistoryAsync(failed);
        Assert.Contains(history, e => e.Kind == RunEventKind.TaskFailed && e.Message!.Contains(marker, StringComparison.Ordinal));
        Assert.Contains(history, e => e.Kind == RunEventKind.TaskLog && (e.Detail ?? "").Contains(marker, StringComparison.Ordinal));
        // The listing still reads its columns.
        var listed = await client.ListRunsAsync(new RunQuery { WorkflowName = Sealed.Name });
        Assert.Equal(2, listed.Runs.Count);

        // Reading a history first writes the silo's queued history rows: every row is in the database for the scan.
        await client.GetHistoryAsync(completed);
        Assert.Empty(await RawOccurrencesAsync(database.ConnectionString, marker));
        // The listing trigger reads an envelope by its bounded prefix (the sealed bytes follow "Input"), not whole.
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT (sayiir_run_listing(PayloadBinary)).whole FROM OrleansStorage WHERE GrainTypeString = '{RunStateStorage.StateName}' AND GrainIdExtensionString = @id",
            connection);
        command.Parameters.AddWithValue("id", completed);
        Assert.Equal(false, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task UseEncryption_RunsStoredInClearBefore_LoadAndComplete()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_enc_upgrade");
        var marker = "MRK" + Guid.NewGuid().ToString("n");
        string parked, done;
        await using (var clear = await SayiirCluster.StartAsync(Backend.Postgres, Settings(database.ConnectionString, keyring: null)))
        {
            done = NewId("enc-clear-done");
            await clear.Client.StartAsync(Sealed, marker + "-done", done);
            await WaitParkedAsync(clear.Client, done);
            await clear.Client.SignalAsync(done, "go", marker + "-sig");
            Assert.Equal($"{marker}-sig|after", await Wait.ForAsync(clear.Client.WaitForResultAsync<string>(done), Deadline, "the clear run to end"));
            parked = NewId("enc-clear-parked");
            await clear.Client.StartAsync(Sealed, marker + "-parked", parked);
            await WaitParkedAsync(clear.Client, parked);
        }
        // The control of the raw scan: in clear, the marker is found (in the state and in the history).
        var found = await RawOccurrencesAsync(database.ConnectionString, marker);
        Assert.Contains(found, f => f.StartsWith("orleansstorage.", StringComparison.Ordinal));
        Assert.Contains(found, f => f.StartsWith("sayiir_history.", StringComparison.Ordinal));

        await using var sealedCluster = await SayiirCluster.StartAsync(Backend.Postgres, Settings(database.ConnectionString, Keyring("key-a", ("key-a", KeyA))));
        var client = sealedCluster.Client;
        Assert.Equal($"{marker}-sig|after", await client.WaitForResultAsync<string>(done));
        Assert.Equal($"{marker}-done|before", await client.GetTaskResultAsync<string>(done, "before"));
        await WaitParkedAsync(client, parked);
        await client.SignalAsync(parked, "go", marker + "-late");
        Assert.Equal($"{marker}-late|after", await Wait.ForAsync(client.WaitForResultAsync<string>(parked), Deadline, "the clear run to end after encryption was enabled"));
        Assert.Contains(await client.GetHistoryAsync(parked), e => e.Kind == RunEventKind.TaskLog && (e.Detail ?? "").Contains(marker, StringComparison.Ordinal));
        // Rewritten by the encrypting silo: the parked run's state is sealed now.
        Assert.Equal("key-a", await StateKeyIdAsync(database.ConnectionString, parked));
    }

    [Fact]
    public async Task UseEncryption_RotatedKeyAcrossRestart_OldRunsReadableAndResumableNewWritesUseNewKey()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_enc_rotate");
        var old = NewId("enc-rotate-old");
        await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, Settings(database.ConnectionString, Keyring("key-a", ("key-a", KeyA)))))
        {
            await before.Client.StartAsync(Sealed, "old", old);
            await WaitParkedAsync(before.Client, old);
        }
        Assert.Equal("key-a", await StateKeyIdAsync(database.ConnectionString, old));

        await using var after = await SayiirCluster.StartAsync(Backend.Postgres,
            Settings(database.ConnectionString, Keyring("key-b", ("key-a", KeyA), ("key-b", KeyB))));
        var client = after.Client;
        Assert.Equal("old|before", await client.GetTaskResultAsync<string>(old, "before"));
        await client.SignalAsync(old, "go", "resumed");
        Assert.Equal("resumed|after", await Wait.ForAsync(client.WaitForResultAsync<string>(old), Deadline, "the old run to end after the rotation"));
        var fresh = NewId("enc-rotate-new");
        await client.StartAsync(Sealed, "new", fresh);
        await WaitParkedAsync(client, fresh);

        // Reading a history first writes the silo's queued history rows.
        var history = await client.GetHistoryAsync(old);
        Assert.Contains(history, e => e.Kind == RunEventKind.TaskLog && (e.Detail ?? "").Contains("old", StringComparison.Ordinal));
        Assert.Contains(history, e => e.Kind == RunEventKind.Completed);
        // A parked run shows its state before the write that parks it has landed (group commit may still hold it); its
        // history holds what is saved, so the new run's events are awaited, not assumed.
        await Wait.UntilAsync(async () => (await client.GetHistoryAsync(fresh)).Any(e => e.Kind == RunEventKind.TaskLog && (e.Detail ?? "").Contains("new", StringComparison.Ordinal)),
            Deadline, "the new run's task log line in its history");

        Assert.Equal("key-b", await StateKeyIdAsync(database.ConnectionString, old));
        Assert.Equal("key-b", await StateKeyIdAsync(database.ConnectionString, fresh));
        // The old run's history holds rows of both keys.
        await Wait.UntilAsync(async () => (await HistoryKeyIdsAsync(database.ConnectionString, old)).Contains("key-b"), Deadline, "the old run's rows written after the rotation");
        var oldKeys = await HistoryKeyIdsAsync(database.ConnectionString, old);
        Assert.Contains("key-a", oldKeys);
        Assert.Contains("key-b", oldKeys);
        await Wait.UntilAsync(async () => (await HistoryKeyIdsAsync(database.ConnectionString, fresh)).Count > 0, Deadline, "the new run's sealed history rows");
        Assert.Equal(["key-b"], await HistoryKeyIdsAsync(database.ConnectionString, fresh));
    }

    [Fact]
    public async Task UseEncryption_KeyMissingAfterRestart_ReadsFailWithPayloadKeyNotFoundNamingIt()
    {
        await using var database = await TestDatabase.CreateAsync("sayiir_enc_missing");
        var id = NewId("enc-missing");
        await using (var before = await SayiirCluster.StartAsync(Backend.Postgres, Settings(database.ConnectionString, Keyring("key-a", ("key-a", KeyA)))))
        {
            await before.Client.StartAsync(Sealed, "secret", id);
            await WaitParkedAsync(before.Client, id);
        }

        await using var after = await SayiirCluster.StartAsync(Backend.Postgres, Settings(database.ConnectionString, Keyring("key-b", ("key-b", KeyB))));
        var status = await Assert.ThrowsAsync<PayloadKeyNotFoundException>(() => after.Client.GetStatusAsync(id));
        Assert.Equal("key-a", status.KeyId);
        Assert.Contains("'key-a'", status.Message, StringComparison.Ordinal);
        var history = await Assert.ThrowsAsync<PayloadKeyNotFoundException>(() => after.Client.GetHistoryAsync(id));
        Assert.Equal("key-a", history.KeyId);
        var result = await Assert.ThrowsAsync<PayloadKeyNotFoundException>(() => after.Client.WaitForResultAsync<string>(id));
        Assert.Equal("key-a", result.KeyId);
        // The stored run is left as it was.
        Assert.Equal("key-a", await StateKeyIdAsync(database.ConnectionString, id));
    }

    [Fact]
    public async Task UseEncryption_InMemoryBackend_RunsAsUsual()
    {
        await using var cluster = await SayiirCluster.StartAsync(Backend.Memory, new ClusterSettings
        {
            Silos = 1, Workflows = [Sealed], Sayiir = s => s.UseEncryption(Keyring("key-a", ("key-a", KeyA))),
        });
        var id = NewId("enc-memory");
        await cluster.Client.StartAsync(Sealed, "m", id);
        await WaitParkedAsync(cluster.Client, id);
        await cluster.Client.SignalAsync(id, "go", "s");
        Assert.Equal("s|after", await Wait.ForAsync(cluster.Client.WaitForResultAsync<string>(id), Deadline, "the in-memory run to end"));
    }

    [Theory]
    [InlineData("k1", "c2hvcnQ=", "Sayiir:Encryption:Keys:k1 is not the base64 of 32 bytes")]
    [InlineData("k1", "not base64!", "Sayiir:Encryption:Keys:k1 is not the base64 of 32 bytes")]
    [InlineData("k2", null, "Sayiir:Encryption:ActiveKeyId is 'k2' but Sayiir:Encryption:Keys:k2 is not set")]
    [InlineData(null, null, "Sayiir:Encryption:ActiveKeyId is not set")]
    public void FromConfiguration_BadKeys_ThrowsNamingTheSetting(string? active, string? key, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sayiir:Encryption:ActiveKeyId"] = active,
            ["Sayiir:Encryption:Keys:k1"] = key ?? Convert.ToBase64String(KeyA),
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var error = Assert.Throws<InvalidOperationException>(() => PayloadKeyring.FromConfiguration(configuration));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_ValidKeys_ActiveKeyAndOldKeysKnown()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sayiir:Encryption:ActiveKeyId"] = "2026-12",
            ["Sayiir:Encryption:Keys:2026-12"] = Convert.ToBase64String(KeyB),
            ["Sayiir:Encryption:Keys:2026-06"] = Convert.ToBase64String(KeyA),
        }).Build();
        var keyring = PayloadKeyring.FromConfiguration(configuration);
        Assert.Equal("2026-12", keyring.ActiveKeyId);
        Assert.Equal(KeyA, keyring.FindKey("2026-06"));
        Assert.Null(keyring.FindKey("2025-01"));
    }

    [Fact]
    public async Task UseEncryption_ProviderWithoutItsActiveKey_FailsStartUpNamingIt()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => SayiirCluster.StartAsync(Backend.Memory, new ClusterSettings
        {
            Silos = 1, Workflows = [Sealed], Sayiir = s => s.UseEncryption<ProviderWithoutActiveKey>(),
        }));
        Assert.Contains("has no key 'vault-7', its active key id", Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public void AddSayiir_SecondCallWithAnotherKeyring_ThrowsAndSameKeyringChangesNothing()
    {
        var keyring = Keyring("key-a", ("key-a", KeyA));
        var silo = Hosting.TestHosts.Silo(s => s.AddSayiir(w => w.UseEncryption(keyring)));
        var registered = silo.Builder.Services.Count;
        silo.Silo.AddSayiir(w => w.UseEncryption(keyring));
        Assert.Equal(registered, silo.Builder.Services.Count);

        var ex = Assert.Throws<InvalidOperationException>(() => silo.Silo.AddSayiir(w => w.UseEncryption<ProviderWithoutActiveKey>()));
        Assert.Contains("ProviderWithoutActiveKey", ex.Message, StringComparison.Ordinal);
        Assert.Equal(registered, silo.Builder.Services.Count);
        var builder = new SayiirSiloBuilder().UseEncryption(keyring).UseEncryption(keyring);
        Assert.Throws<InvalidOperationException>(() => builder.UseEncryption(Keyring("key-b", ("key-b", KeyB))));
    }

    [Fact]
    public void Seal_AlteredKeyIdOrCiphertext_FailsToOpenAndClearBytesPassThrough()
    {
        var sealer = new PayloadSealer(Keyring("ka", ("ka", KeyA), ("kb", KeyB)));
        var clear = Encoding.UTF8.GetBytes("\"hello\"");
        var sealedValue = sealer.Seal(clear);
        Assert.Equal("ka", PayloadSealer.KeyIdOf(sealedValue));
        Assert.Equal(clear, sealer.Open(sealedValue));
        Assert.Same(clear, sealer.Open(clear));
        Assert.Equal("plain text", sealer.OpenText("plain text"));
        Assert.Equal("text", sealer.OpenText(sealer.SealText("text")));

        var renamed = (byte[])sealedValue.Clone();
        renamed[7] = (byte)'b'; // "ka" -> "kb": another known key, but the header is authenticated
        Assert.Contains("sealed with key 'kb' failed authentication", Assert.ThrowsAny<CryptographicException>(() => sealer.Open(renamed)).Message, StringComparison.Ordinal);
        var altered = (byte[])sealedValue.Clone();
        altered[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => sealer.Open(altered));
        Assert.Equal("ka", Assert.Throws<PayloadKeyNotFoundException>(() => PayloadSealer.WithoutKeys.Open(sealedValue)).KeyId);
    }

    [Fact]
    public void SealingSerializer_OtherGrainState_SealedWholeAndClearStateStillRead()
    {
        var sealer = new PayloadSealer(Keyring("ka", ("ka", KeyA)));
        var serializer = RunStateStorage.CreateSerializer(sealer);
        var state = new Dictionary<string, string> { ["secret"] = "MRK-other-state" };
        var stored = serializer.Serialize(state).ToArray();
        using var json = System.Text.Json.JsonDocument.Parse(stored);
        Assert.Equal([SealingGrainStorageSerializer.SealedProperty], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("MRK", Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        Assert.Equal(state, serializer.Deserialize<Dictionary<string, string>>(new BinaryData(stored)));
        var clear = RunStateStorage.CreateSerializer().Serialize(state);
        Assert.Equal(state, serializer.Deserialize<Dictionary<string, string>>(clear));
        // Without keys, an envelope is refused by its key id rather than read as an empty state.
        Assert.Equal("ka", Assert.Throws<PayloadKeyNotFoundException>(() => RunStateStorage.CreateSerializer().Deserialize<Dictionary<string, string>>(new BinaryData(stored))).KeyId);
    }

    // A completed run (input, outputs, a signal, a log line) and a failed one, both carrying the marker.
    private static async Task<(string Completed, string Failed)> RunBothAsync(ISayiirClient client, string marker)
    {
        var completed = NewId("enc-done");
        await client.StartAsync(Sealed, marker + "-in", completed);
        await WaitParkedAsync(client, completed);
        await client.SignalAsync(completed, "go", marker + "-sig");
        await Wait.ForAsync(client.WaitForResultAsync<string>(completed), Deadline, "the completed run to end");
        var failed = NewId("enc-failed");
        await client.StartAsync(Sealed, marker + "-in2", failed);
        await WaitParkedAsync(client, failed);
        await client.SignalAsync(failed, "go", marker + "-fail");
        await Wait.UntilAsync(async () => (await client.GetStatusAsync(failed)).State == WorkflowState.Failed, Deadline, "the failing run to fail");
        return (completed, failed);
    }

    private static Task WaitParkedAsync(ISayiirClient client, string id) =>
        Wait.UntilAsync(async () => (await client.GetStatusAsync(id)).State == WorkflowState.AwaitingSignal, Deadline, $"run {id} to wait for its signal");

    /// <summary>
    /// Every "table.column" of the public schema whose raw content holds <paramref name="marker"/>: text-like columns by
    /// LIKE, bytea by position, each also for the base64 forms of the marker (a clear state stores payloads as base64).
    /// </summary>
    private static async Task<List<string>> RawOccurrencesAsync(string connectionString, string marker)
    {
        var needles = new List<string> { marker };
        var bytes = Encoding.UTF8.GetBytes(marker);
        for (var shift = 0; shift < 3; shift++)
        {
            // The base64 characters that depend only on the marker's bytes, whatever their offset modulo 3.
            var encoded = Convert.ToBase64String([.. new byte[shift], .. bytes]);
            needles.Add(encoded[(shift == 0 ? 0 : 4)..^4]);
        }
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var columns = new List<(string Table, string Column, string Type)>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
              JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
             WHERE c.table_schema = 'public'
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }
        Assert.Contains(columns, c => c.Table == "orleansstorage" && c.Column == "payloadbinary");
        Assert.Contains(columns, c => c.Table == "sayiir_history" && c.Column == "output");
        var found = new List<string>();
        foreach (var (table, column, type) in columns)
        {
            var predicate = type == "bytea"
                ? $"position(convert_to(@needle, 'UTF8') in \"{column}\") > 0"
                : $"\"{column}\"::text LIKE '%' || @needle || '%'";
            foreach (var needle in needles)
            {
                await using var command = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\" WHERE {predicate}", connection);
                command.Parameters.AddWithValue("needle", needle);
                if ((long)(await command.ExecuteScalarAsync())! > 0)
                {
                    found.Add($"{table}.{column}");
                    break;
                }
            }
        }
        return found;
    }

    // The key id in the header of a run's stored state (null when stored in clear).
    private static async Task<string?> StateKeyIdAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT PayloadBinary FROM OrleansStorage WHERE GrainTypeString = '{RunStateStorage.StateName}' AND GrainIdExtensionString = @id", connection);
        command.Parameters.AddWithValue("id", instanceId);
        var payload = (byte[])(await command.ExecuteScalarAsync())!;
        return SealingGrainStorageSerializer.FindSealed(payload) is { } sealedState ? PayloadSealer.KeyIdOf(sealedState) : null;
    }

    // The distinct key ids of a run's stored history outputs and messages.
    private static async Task<List<string>> HistoryKeyIdsAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT output, message FROM sayiir_history WHERE instance_id = @id", connection);
        command.Parameters.AddWithValue("id", instanceId);
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            if (!reader.IsDBNull(0)) keys.Add(PayloadSealer.KeyIdOf(reader.GetFieldValue<byte[]>(0)) ?? "clear");
            if (!reader.IsDBNull(1))
            {
                var message = reader.GetString(1);
                Assert.StartsWith(PayloadSealer.TextPrefix, message, StringComparison.Ordinal);
                keys.Add(PayloadSealer.KeyIdOf(Convert.FromBase64String(message[PayloadSealer.TextPrefix.Length..]))!);
            }
        }
        return [.. keys];
    }

    private static string Flatten(Exception error)
    {
        var text = new StringBuilder();
        for (Exception? e = error; e is not null; e = e.InnerException) text.AppendLine(e.Message);
        if (error is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions) text.AppendLine(Flatten(inner));
        }
        return text.ToString();
    }

    private sealed class ProviderWithoutActiveKey : IPayloadKeyProvider
    {
        public string ActiveKeyId => "vault-7";

        public byte[]? FindKey(string keyId) => null;
    }
}
