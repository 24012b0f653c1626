using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;
using Sayiir.Persistence;
using Sayiir.Runtime;
using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Postgres;

/// <summary>One installed database shared by the listing tests (each test writes rows of its own instance ids).</summary>
public sealed class ListingDatabase : IAsyncLifetime
{
    /// <summary>Connection string of the database.</summary>
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        ConnectionString = await PostgresServer.CreateDatabaseAsync("listing");
        await PostgresSchemaInstaller.InstallAsync(ConnectionString, PostgresSchemaParts.Storage);
    }

    public async Task DisposeAsync() => await PostgresServer.DropDatabaseAsync(ConnectionString);
}

/// <summary>
/// The PostgreSQL run listing against the stored shape of a run's state: what the engine stores (through the grain
/// storage's own serializer) is listed field for field; any property order lists the same; a state the listing cannot
/// read is refused with the property named, at the write and at start-up; and every script names the state and
/// properties <see cref="RunStateStorage"/> defines.
/// </summary>
public sealed partial class RunListingTests(ListingDatabase database) : IClassFixture<ListingDatabase>
{
    private string Cs => database.ConnectionString;

    [Fact]
    public async Task Trigger_StateStoredByTheEngine_ListsEveryFieldFromTheLeadingProperties()
    {
        var id = NewId("engine");
        var state = EngineState(WorkflowState.AwaitingSignal);
        var payload = RunStateStorage.Serialize(state);

        await InsertRunAsync(id, payload);

        Assert.Equal(Expected(state), await ListedAsync(id));
        // The engine's layout takes the bounded path: a large state is not parsed whole on every checkpoint.
        Assert.False(await ParsedWholeAsync(payload));

        // A later write (the row's UPDATE) lists the new state.
        var later = EngineState(WorkflowState.Completed);
        later.UpdatedAt = state.UpdatedAt!.Value.AddSeconds(3);
        await UpdatePayloadAsync(id, RunStateStorage.Serialize(later));
        Assert.Equal(Expected(later), await ListedAsync(id));

        // A cleared state is not listed.
        await UpdatePayloadAsync(id, null);
        Assert.Equal(default((string?, short?, DateTime?, DateTime?)), await ListedAsync(id));
    }

    [Theory]
    [InlineData("reversed")]
    [InlineData("input first")]
    [InlineData("nested inputs first")]
    [InlineData("listed last")]
    public async Task Trigger_PropertiesPermuted_ListsTheSameFields(string layout)
    {
        var id = NewId("permuted");
        var state = EngineState(WorkflowState.Running);
        var stored = (JsonObject)JsonNode.Parse(RunStateStorage.Serialize(state))!;
        var members = stored.Select(m => m.Key).ToList();
        List<string> order = layout switch
        {
            "reversed" => [.. Enumerable.Reverse(members)],
            "input first" => [RunStateStorage.InputProperty, .. members.Where(m => m != RunStateStorage.InputProperty)],
            // Loops hold an "Input" of their own: it now comes before the run's, inside a nested object.
            "nested inputs first" => ["Loops", "Outputs", .. members.Where(m => m is not "Loops" and not "Outputs")],
            "listed last" => [.. members.Where(m => !RunStateStorage.ListedProperties.Contains(m)), .. RunStateStorage.ListedProperties],
            _ => throw new ArgumentOutOfRangeException(nameof(layout)),
        };
        Assert.Equal(members.Order(StringComparer.Ordinal), order.Order(StringComparer.Ordinal));
        var permuted = new JsonObject();
        foreach (var name in order) permuted[name] = stored[name]!.DeepClone();
        var payload = Encoding.UTF8.GetBytes(permuted.ToJsonString());

        await InsertRunAsync(id, payload);

        Assert.Equal(Expected(state), await ListedAsync(id));
        Assert.True(await ParsedWholeAsync(payload));
        // The engine still reads what it would list.
        var read = RunStateStorage.CreateSerializer().Deserialize<WorkflowRunState>(new BinaryData(payload))!;
        Assert.Equal(Expected(state), Expected(read));
    }

    [Fact]
    public async Task Trigger_QuotesAndBracketsInsideLeadingStrings_ListsTheSameFields()
    {
        // A listed string holding an escaped Input marker and opening brackets (quotes escaped as the relaxed JSON
        // encoder writes them): the bounded path must not cut there, nor parse a prefix that is not the object's.
        var id = NewId("strings");
        const string Json = """
            {"WorkflowName":"odd\",\"Input\":{[","DefinitionHash":"x","Status":4,"CreatedAt":"2024-05-06T07:08:09.123456+02:00",
             "UpdatedAt":"2024-05-06T07:08:10+02:00","Input":"AQI=","Loops":{"l":{"Iteration":1,"Input":"Aw=="}}}
            """;

        await InsertRunAsync(id, Encoding.UTF8.GetBytes(Json));

        Assert.Equal(
            ("odd\",\"Input\":{[", (short?)4, new DateTime(2024, 5, 6, 5, 8, 9, DateTimeKind.Utc).AddTicks(1_234_560), new DateTime(2024, 5, 6, 5, 8, 10, DateTimeKind.Utc)),
            await ListedAsync(id));
        Assert.True(await ParsedWholeAsync(Encoding.UTF8.GetBytes(Json)));
    }

    [Fact]
    public async Task Trigger_InputBeyondTheFirstFourKilobytes_ListsTheSameFieldsParsedWhole()
    {
        var id = NewId("long-head");
        var state = EngineState(WorkflowState.Running);
        state.DefinitionHash = new string('h', 5000);
        var payload = RunStateStorage.Serialize(state);

        await InsertRunAsync(id, payload);

        Assert.Equal(Expected(state), await ListedAsync(id));
        Assert.True(await ParsedWholeAsync(payload));
    }

    public static TheoryData<string> ListedProperties => [.. RunStateStorage.ListedProperties];

    [Theory]
    [MemberData(nameof(ListedProperties))]
    public async Task Trigger_StateWithoutAListedProperty_IsRefusedNamingTheProperty(string property)
    {
        var id = NewId("missing");
        var stored = (JsonObject)JsonNode.Parse(RunStateStorage.Serialize(EngineState(WorkflowState.Running)))!;
        Assert.True(stored.Remove(property));

        var ex = await Assert.ThrowsAsync<PostgresException>(() => InsertRunAsync(id, Encoding.UTF8.GetBytes(stored.ToJsonString())));

        Assert.Equal(PostgresErrorCodes.DataException, ex.SqlState);
        Assert.Equal($"Sayiir run listing: the stored run state has no property \"{property}\"", ex.MessageText);
        Assert.Contains("needs a schema migration", ex.Hint, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync(Cs, $"SELECT count(*) FROM OrleansStorage WHERE GrainIdExtensionString = '{id}'"));
    }

    [Fact]
    public async Task Trigger_StateOfARunNotStartedYet_IsStoredWithOnlyItsStatus()
    {
        // A signal sent before its run starts is kept in a state with no workflow and no creation instant: the
        // serializer leaves their null values out, and such a state must still be stored (it is not listed).
        var id = NewId("early");
        var state = new WorkflowRunState { Signals = { ["approve"] = [[1]] }, UpdatedAt = DateTimeOffset.UnixEpoch.AddTicks(10) };
        var payload = RunStateStorage.Serialize(state);
        var stored = (JsonObject)JsonNode.Parse(payload)!;
        Assert.False(stored.ContainsKey(RunStateStorage.WorkflowNameProperty));
        Assert.False(stored.ContainsKey(RunStateStorage.CreatedAtProperty));

        await InsertRunAsync(id, payload);

        Assert.Equal(((string?)null, (short?)0, (DateTime?)null, (DateTime?)DateTime.UnixEpoch.AddTicks(10)), await ListedAsync(id));
        // It has no input yet (a started run always has one), so it is parsed whole: it holds only early signals.
        Assert.True(await ParsedWholeAsync(payload));
    }

    [Fact]
    public async Task Trigger_StatusWrittenAsText_IsRefused()
    {
        var id = NewId("text-status");
        var stored = (JsonObject)JsonNode.Parse(RunStateStorage.Serialize(EngineState(WorkflowState.Running)))!;
        stored[RunStateStorage.StatusProperty] = "Running";

        var ex = await Assert.ThrowsAsync<PostgresException>(() => InsertRunAsync(id, Encoding.UTF8.GetBytes(stored.ToJsonString())));

        Assert.Equal(PostgresErrorCodes.DataException, ex.SqlState);
        Assert.Contains("Status is \"Running\", not a number", ex.MessageText, StringComparison.Ordinal);
    }

    [Theory]
    // A listing function reading a property the engine does not store (as after a rename without a migration).
    [InlineData("'WorkflowName'", "'Workflow'", "the stored run state has no property \"Workflow\"")]
    // One reading the wrong property into a column.
    [InlineData("created_at := (doc ->> 'CreatedAt')", "created_at := (doc ->> 'UpdatedAt')", "does not read the run state this Sayiir build stores")]
    public async Task InstallAsync_ListingFunctionDisagreesWithTheStoredShape_FailsStartUp(string read, string instead, string message)
    {
        var cs = await PostgresServer.CreateDatabaseAsync("listing_verify");
        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.Storage);
        var script = MigrationScript(ListingMigration);
        Assert.Contains(read, script, StringComparison.Ordinal);
        await ExecuteAsync(cs, script.Replace(read, instead, StringComparison.Ordinal));

        var ex = await Assert.ThrowsAsync<SayiirException>(() => PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.Storage));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Contains(PostgresSchemaInstaller.DescribeTarget(cs), ex.Message, StringComparison.Ordinal);
        await PostgresServer.DropDatabaseAsync(cs);
    }

    [Fact]
    public void Scripts_RunRowPredicates_NameTheStateOfRunStateStorage()
    {
        var scripts = PostgresSchemaInstaller.BaselineScripts(PostgresSchemaParts.All)
            .Concat(PostgresSchemaInstaller.Migrations.Select(m => MigrationScript(m.Script)));

        var named = scripts.SelectMany(s => StatePredicate().Matches(s)).Select(m => m.Groups[1].Value).ToList();

        // At least the baseline's trigger and its three partial indexes, and the migrated trigger.
        Assert.True(named.Count >= 5, $"only {named.Count} run-row predicates found");
        Assert.All(named, name => Assert.Equal(RunStateStorage.StateName, name));
    }

    [Fact]
    public void ListingScript_ListedProperties_AreThoseOfRunStateStorage()
    {
        var script = MigrationScript(ListingMigration);

        var listed = ListedArray().Match(script);

        Assert.True(listed.Success, "the listing function declares the properties it needs");
        Assert.Equal(RunStateStorage.ListedProperties, listed.Groups[1].Value.Split(',').Select(p => p.Trim().Trim('\'')));
        foreach (var property in RunStateStorage.ListedProperties) Assert.Contains($"doc ->> '{property}'", script, StringComparison.Ordinal);
        // Listed when present (an unversioned run has no version).
        Assert.Contains($"doc ->> '{RunStateStorage.WorkflowVersionProperty}'", script, StringComparison.Ordinal);
        Assert.Contains($"doc ->> '{RunStateStorage.DefinitionHashProperty}'", script, StringComparison.Ordinal);
        Assert.Contains($"'\"{RunStateStorage.InputProperty}\":'::bytea", script, StringComparison.Ordinal);
    }

    [Fact]
    public void ActiveStatusPredicate_NamesExactlyTheStatesOfRunsThatHaveNotEnded_AndTheLatestIndexUsesIt()
    {
        // Every state but NotFound and the terminal ones: what WorkflowRunState.IsActive calls active.
        var active = Enum.GetValues<WorkflowState>().Where(s => new WorkflowRunState { Status = s }.IsActive).ToList();
        Assert.Equal(active, RunStateStorage.ActiveStates);
        var expected = $"SayiirStatus IN ({string.Join(", ", active.Select(s => (int)s))})";
        Assert.Equal(RunStateStorage.ActiveStatusPredicate, expected);

        // The index of active runs, as the latest migration that (re)creates it states it: the queries' exact text.
        var script = PostgresSchemaInstaller.Migrations.Select(m => MigrationScript(m.Script)).Last(s => s.Contains("CREATE INDEX ix_sayiir_runs_active_definition", StringComparison.Ordinal));
        Assert.Contains($"AND {RunStateStorage.ActiveStatusPredicate};", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ActiveRunsIndex_ActiveRunsByDefinitionQuery_IsAnsweredFromThePartialIndex()
    {
        await using var connection = new NpgsqlConnection(Cs);
        await connection.OpenAsync();
        // On an empty table any index does: the listing's other indexes are dropped inside a transaction that is rolled
        // back, and sequential scans are priced out, so the plan shows whether the partial index's predicate is implied.
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            "DROP INDEX ix_sayiir_runs_created, ix_sayiir_runs_workflow, ix_sayiir_runs_status; SET LOCAL enable_seqscan = off; " +
            $"EXPLAIN SELECT count(*) FROM OrleansStorage WHERE GrainTypeString = '{RunStateStorage.StateName}' " +
            $"AND ServiceId = 'x' AND {RunStateStorage.ActiveStatusPredicate} GROUP BY SayiirWorkflow, SayiirVersion, SayiirHash", connection, transaction);
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.Add(reader.GetString(0));
        await transaction.RollbackAsync();

        Assert.Contains(plan, line => line.Contains("ix_sayiir_runs_active_definition", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- helpers

    // The migration that last replaced sayiir_run_listing (the function the trigger calls).
    private const string ListingMigration = "0004-workflow-versions.sql";

    [GeneratedRegex(@"GrainTypeString\s*=\s*'([^']*)'", RegexOptions.IgnoreCase)]
    private static partial Regex StatePredicate();

    [GeneratedRegex(@"listed\s+CONSTANT\s+text\[\]\s*:=\s*ARRAY\[([^\]]*)\]")]
    private static partial Regex ListedArray();

    private static string NewId(string name) => $"{name}-{Guid.NewGuid():n}";

    /// <summary>A state as the engine keeps it mid-run: large outputs, a loop with its own input, signals, metadata.</summary>
    private static WorkflowRunState EngineState(WorkflowState status) => new()
    {
        WorkflowName = "listing_flow",
        DefinitionHash = "fb369338a53b07f080e197b9",
        Status = status,
        Input = Encoding.UTF8.GetBytes("\"start\""),
        Outputs = { ["big"] = new byte[100_000], ["small"] = [1] },
        Loops = { ["poll"] = new LoopCheckpoint { Iteration = 3, Input = [9] } },
        Signals = { ["approve"] = [[1, 2]] },
        Metadata = { ["tenant"] = "t1" },
        Done = ["prepare"],
        CreatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)).AddTicks(1_234_560),
        UpdatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 6, TimeSpan.FromHours(2)).AddTicks(7_654_320),
        WriteToken = Guid.NewGuid(),
        RunId = Guid.NewGuid(),
    };

    private static (string?, short?, DateTime?, DateTime?) Expected(WorkflowRunState state) =>
        (state.WorkflowName, (short)state.Status, state.CreatedAt?.UtcDateTime, state.UpdatedAt?.UtcDateTime);

    private static string MigrationScript(string name)
    {
        var assembly = typeof(PostgresSchemaInstaller).Assembly;
        var resource = assembly.GetManifestResourceNames().Single(r => r.EndsWith("." + name, StringComparison.Ordinal));
        using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
        return reader.ReadToEnd();
    }

    private async Task InsertRunAsync(string id, byte[] payload)
    {
        await using var c = new NpgsqlConnection(Cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand($"""
            INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
                                        ServiceId, PayloadBinary, ModifiedOn, Version)
            VALUES (1, 0, 0, 2, '{RunStateStorage.StateName}', @id, 'svc', @payload, now(), 1)
            """, c);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("payload", payload);
        await command.ExecuteNonQueryAsync();
    }

    private async Task UpdatePayloadAsync(string id, byte[]? payload)
    {
        await using var c = new NpgsqlConnection(Cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand("UPDATE OrleansStorage SET PayloadBinary = @payload WHERE GrainIdExtensionString = @id", c);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.Add(new NpgsqlParameter("payload", NpgsqlTypes.NpgsqlDbType.Bytea) { Value = (object?)payload ?? DBNull.Value });
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private async Task<(string?, short?, DateTime?, DateTime?)> ListedAsync(string id)
    {
        await using var c = new NpgsqlConnection(Cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT SayiirWorkflow, SayiirStatus, SayiirCreatedAt, SayiirUpdatedAt FROM OrleansStorage WHERE GrainIdExtensionString = @id", c);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no row for {id}");
        return (
            reader.IsDBNull(0) ? null : reader.GetString(0),
            reader.IsDBNull(1) ? null : reader.GetInt16(1),
            reader.IsDBNull(2) ? null : reader.GetDateTime(2),
            reader.IsDBNull(3) ? null : reader.GetDateTime(3));
    }

    private async Task<bool> ParsedWholeAsync(byte[] payload)
    {
        await using var c = new NpgsqlConnection(Cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT whole FROM sayiir_run_listing(@payload)", c);
        command.Parameters.AddWithValue("payload", payload);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        return await command.ExecuteScalarAsync();
    }
}
