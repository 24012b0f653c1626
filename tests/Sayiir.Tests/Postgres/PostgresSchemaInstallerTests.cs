using System.Collections.Concurrent;
using System.Data;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Sayiir.Persistence;
using Sayiir.Tests.Infrastructure;

namespace Sayiir.Tests.Postgres;

/// <summary>
/// The PostgreSQL schema installer and the SQL it installs: idempotence, concurrency, error reporting, the query
/// contract of the three Orleans ADO.NET providers (called directly, as the providers call them), and a real silo
/// using all three providers.
/// </summary>
public sealed class PostgresSchemaInstallerTests
{
    private static readonly string[] StorageKeys =
        ["WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey"];

    private static readonly string[] ReminderKeys =
    [
        "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    private static readonly string[] ClusteringKeys =
    [
        "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
        "MembershipReadRowKey", "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey",
        "CleanupDefunctSiloEntriesKey",
    ];

    private static CancellationToken Ct => CancellationToken.None;

    // ---------------------------------------------------------------- installer

    [Fact]
    public async Task InstallAsync_FreshDatabase_CreatesExactlyTheProviderQueryKeys()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("schema_fresh", Ct);

        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);

        var keys = await QueryKeysAsync(cs);
        Assert.Equal(StorageKeys.Concat(ReminderKeys).Concat(ClusteringKeys).Order(StringComparer.Ordinal), keys);
        Assert.Equal(4 + 7 + 9, keys.Count);
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_RunTwice_SucceedsWithSameKeysAndKeepsData()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("schema_twice", Ct);
        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);
        var first = await QueryKeysAsync(cs);
        await ExecuteAsync(cs, "INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES ('kept')");
        await ExecuteAsync(cs, "UPDATE OrleansQuery SET QueryText = 'stale' WHERE QueryKey = 'ReadFromStorageKey'");

        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);

        Assert.Equal(first, await QueryKeysAsync(cs));
        Assert.Equal(1L, await ScalarAsync(cs, "SELECT count(*) FROM OrleansMembershipVersionTable WHERE DeploymentId = 'kept'"));
        Assert.NotEqual("stale", await ScalarAsync(cs, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'ReadFromStorageKey'"));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_FourConcurrentInstalls_AllSucceed()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("schema_concurrent", Ct);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Task.Run(() => PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct), Ct)));

        Assert.Equal(20, (await QueryKeysAsync(cs)).Count);
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_StorageOnly_InstallsOnlyStorageThenAddsTheRest()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("schema_parts", Ct);

        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.Storage, Ct);
        Assert.Equal(StorageKeys.Order(StringComparer.Ordinal), await QueryKeysAsync(cs));
        Assert.False((bool)(await ScalarAsync(cs, "SELECT to_regclass('orleansreminderstable') IS NOT NULL"))!);

        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.Reminders | PostgresSchemaParts.Clustering, Ct);
        Assert.Equal(20, (await QueryKeysAsync(cs)).Count);
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task InstallAsync_UnreachableServer_ThrowsStorageUnavailableNamingTheTarget()
    {
        const string cs = "Host=127.0.0.1;Port=1;Username=postgres;Password=s3cret-pw;Database=nowhere;Timeout=2";

        var ex = await Assert.ThrowsAsync<SayiirStorageUnavailableException>(
            () => PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct));

        Assert.Contains("127.0.0.1:1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nowhere", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", ex.Message, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1:1/nowhere", ex.Target);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public async Task InstallAsync_MissingDatabase_ThrowsStorageUnavailable()
    {
        var cs = new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString) { Database = "sayiir_no_such_db" }.ConnectionString;

        var ex = await Assert.ThrowsAsync<SayiirStorageUnavailableException>(
            () => PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct));

        Assert.Contains("sayiir_no_such_db", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SayiirStorageUnavailableException_OrleansSerializerRoundTrip_KeepsTargetMessageAndCause()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var original = new SayiirStorageUnavailableException(
            "db:5432/flows", "PostgreSQL at db:5432 (database 'flows') is unreachable: refused", new TimeoutException("t"));

        var copy = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(original));

        var typed = Assert.IsType<SayiirStorageUnavailableException>(copy);
        Assert.Equal("db:5432/flows", typed.Target);
        Assert.Equal(original.Message, typed.Message);
        Assert.IsType<TimeoutException>(typed.InnerException);
    }

    [Theory]
    [InlineData("Host=db.example;Port=6543;Database=flows;Username=u;Password=p", "db.example:6543/flows")]
    [InlineData("Host=10.0.0.5;Username=app", "10.0.0.5:5432/app")]
    [InlineData("Host=::1;Database=d", "[::1]:5432/d")]
    [InlineData("Host=a,b;Port=5433;Database=d", "a:5433,b:5433/d")]
    public void DescribeTarget_ConnectionString_ReturnsHostPortDatabaseWithoutSecrets(string connectionString, string expected)
    {
        Assert.Equal(expected, PostgresSchemaInstaller.DescribeTarget(connectionString));
    }

    // ---------------------------------------------------------------- storage contract

    [Fact]
    public async Task StorageQueries_ProviderStyleCalls_FollowTheVersionContract()
    {
        var cs = await InstalledDatabaseAsync("contract_storage");
        var q = await LoadQueriesAsync(cs);
        await using var c = await OpenAsync(cs);

        Task<List<Row>> Call(string key, string? ext, int? version, byte[]? payload = null)
        {
            var ps = new List<NpgsqlParameter>
            {
                P("GrainIdHash", 11, DbType.Int32), P("GrainIdN0", 1L, DbType.Int64), P("GrainIdN1", 2L, DbType.Int64),
                P("GrainTypeHash", 22, DbType.Int32), P("GrainTypeString", "test.grain", DbType.String),
                P("GrainIdExtensionString", ext, DbType.String), P("ServiceId", "svc", DbType.String),
            };
            if (key != "ReadFromStorageKey")
            {
                ps.Add(P("GrainStateVersion", version, DbType.Int32));
            }
            if (key == "WriteToStorageKey")
            {
                ps.Add(P("PayloadBinary", payload, DbType.Binary));
            }
            return QueryAsync(c, q[key], [.. ps]);
        }

        async Task<int?> Write(string? ext, int? version, byte[] payload) =>
            (await Call("WriteToStorageKey", ext, version, payload)).Single().Int("NewGrainStateVersion");

        Assert.Equal(1, await Write(null, null, [1]));
        Assert.Null(await Write(null, null, [9]));            // a second first-write conflicts
        Assert.Equal(2, await Write(null, 1, [2]));
        Assert.Equal(1, await Write(null, 1, [3]));           // stale version: unchanged = conflict
        Assert.Equal(1, await Write("ext", null, [7]));        // another key (extension) is another row

        var read = Assert.Single(await Call("ReadFromStorageKey", null, null));
        Assert.Equal(new byte[] { 2 }, (byte[]?)read["PayloadBinary"]);
        Assert.Equal(2, read.Int("Version"));

        Assert.Equal(3, Assert.Single(await Call("ClearStorageKey", null, 2)).Int(0));
        Assert.Empty(await Call("ClearStorageKey", null, 2));
        read = Assert.Single(await Call("ReadFromStorageKey", null, null));
        Assert.Null(read["PayloadBinary"]);
        Assert.Equal(3, read.Int("Version"));

        Assert.Empty(await Call("DeleteStorageKey", null, 2));
        Assert.Equal(4, Assert.Single(await Call("DeleteStorageKey", null, 3)).Int(0));
        Assert.Empty(await Call("ReadFromStorageKey", null, null));
        Assert.Single(await Call("ReadFromStorageKey", "ext", null));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    [Fact]
    public async Task StorageQueries_ConcurrentFirstWrites_ExactlyOneSucceeds()
    {
        var cs = await InstalledDatabaseAsync("contract_storage_race");
        var q = await LoadQueriesAsync(cs);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            await using var c = await OpenAsync(cs);
            var rows = await QueryAsync(c, q["WriteToStorageKey"],
                P("GrainIdHash", 5, DbType.Int32), P("GrainIdN0", 0L, DbType.Int64), P("GrainIdN1", 9L, DbType.Int64),
                P("GrainTypeHash", 6, DbType.Int32), P("GrainTypeString", "race", DbType.String),
                P("GrainIdExtensionString", "k", DbType.String), P("ServiceId", "svc", DbType.String),
                P("GrainStateVersion", (int?)null, DbType.Int32), P("PayloadBinary", new[] { (byte)i }, DbType.Binary));
            return rows.Single().Int("NewGrainStateVersion");
        }, Ct)));

        Assert.Equal(1, results.Count(r => r == 1));
        Assert.Equal(7, results.Count(r => r is null));
        Assert.Equal(1L, await ScalarAsync(cs, "SELECT count(*) FROM OrleansStorage"));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    // ---------------------------------------------------------------- reminders contract

    [Fact]
    public async Task ReminderQueries_ProviderStyleCalls_FollowTheContract()
    {
        var cs = await InstalledDatabaseAsync("contract_reminders");
        var q = await LoadQueriesAsync(cs);
        await using var c = await OpenAsync(cs);
        var start = new DateTime(2030, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);
        var longGrainId = "sayiir.workflow/" + new string('x', 600);

        async Task<int> Upsert(string grainId, int hash, object period) =>
            Assert.Single(await QueryAsync(c, q["UpsertReminderRowKey"],
                P("ServiceId", "svc", DbType.String), P("GrainHash", hash, DbType.Int32),
                P("GrainId", grainId, DbType.AnsiString), P("ReminderName", "r", DbType.String),
                P("StartTime", start, DbType.DateTime),
                P("Period", period, period is int ? DbType.Int32 : DbType.Int64))).Int("Version")!.Value;

        Assert.Equal(0, await Upsert("g1", 10, 1000));
        Assert.Equal(1, await Upsert("g1", 10, 2000));
        Assert.Equal(2, await Upsert("g1", 10, int.MaxValue + 1L));
        Assert.Equal(0, await Upsert(longGrainId, 100, 1000));

        var row = Assert.Single(await QueryAsync(c, q["ReadReminderRowKey"],
            P("ServiceId", "svc", DbType.String), P("GrainId", "g1", DbType.AnsiString), P("ReminderName", "r", DbType.String)));
        Assert.Equal("g1", row["GrainId"]);
        Assert.Equal("r", row["ReminderName"]);
        Assert.Equal(start, (DateTime)row["StartTime"]!);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)row["StartTime"]!).Kind);
        Assert.Equal(int.MaxValue + 1L, (long)row["Period"]!);
        Assert.Equal(2, row.Int("Version"));

        Assert.Single(await QueryAsync(c, q["ReadReminderRowsKey"],
            P("ServiceId", "svc", DbType.String), P("GrainId", longGrainId, DbType.AnsiString)));

        async Task<List<string>> Range(string key, int begin, int end) =>
            [.. (await QueryAsync(c, q[key], P("ServiceId", "svc", DbType.String),
                P("BeginHash", begin, DbType.Int32), P("EndHash", end, DbType.Int32))).Select(r => (string)r["GrainId"]!)];

        Assert.Equal("g1", Assert.Single(await Range("ReadRangeRows1Key", 0, 50)));
        Assert.Equal(new[] { longGrainId }, await Range("ReadRangeRows2Key", 50, 0));
        Assert.Equal(2, (await Range("ReadRangeRows2Key", 50, 10)).Count);

        async Task<int> Delete(int version) =>
            Assert.Single(await QueryAsync(c, q["DeleteReminderRowKey"],
                P("ServiceId", "svc", DbType.String), P("GrainId", "g1", DbType.AnsiString),
                P("ReminderName", "r", DbType.String), P("Version", version, DbType.Int32))).Int(0)!.Value;

        Assert.Equal(0, await Delete(1));
        Assert.Equal(1, await Delete(2));

        await QueryAsync(c, q["DeleteReminderRowsKey"], P("ServiceId", "svc", DbType.String));
        Assert.Equal(0L, await ScalarAsync(cs, "SELECT count(*) FROM OrleansRemindersTable"));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    // ---------------------------------------------------------------- clustering contract

    [Fact]
    public async Task ClusteringQueries_ProviderStyleCalls_FollowTheContract()
    {
        var cs = await InstalledDatabaseAsync("contract_clustering");
        var q = await LoadQueriesAsync(cs);
        await using var c = await OpenAsync(cs);
        var now = DateTime.UtcNow;
        var dep = P("DeploymentId", "cluster", DbType.String);

        async Task<int> Scalar(string key, params NpgsqlParameter[] ps) =>
            Convert.ToInt32(Assert.Single(await QueryAsync(c, q[key], ps))[0], CultureInfo.InvariantCulture);

        NpgsqlParameter[] Silo(int port, int generation) =>
        [
            P("Address", "127.0.0.1", DbType.AnsiString), P("Port", port, DbType.Int32), P("Generation", generation, DbType.Int32),
        ];

        NpgsqlParameter[] Insert(int port, int version) =>
        [
            dep.Clone(), .. Silo(port, 1), P("SiloName", $"silo{port}", DbType.String), P("HostName", "host", DbType.String),
            P("Status", 3, DbType.Int32), P("ProxyPort", port + 1, DbType.Int32), P("StartTime", now, DbType.DateTime),
            P("IAmAliveTime", now, DbType.DateTime), P("Version", version, DbType.Int32),
        ];

        NpgsqlParameter[] Update(int port, int status, int version) =>
        [
            dep.Clone(), .. Silo(port, 1), P("Status", status, DbType.Int32), P("SuspectTimes", "s", DbType.String),
            P("IAmAliveTime", now, DbType.DateTime), P("Version", version, DbType.Int32),
        ];

        Assert.Equal(1, await Scalar("InsertMembershipVersionKey", dep.Clone()));
        Assert.Equal(0, await Scalar("InsertMembershipVersionKey", dep.Clone()));

        var all = Assert.Single(await QueryAsync(c, q["MembershipReadAllKey"], dep.Clone()));
        Assert.Null(all["StartTime"]);
        Assert.Equal(0, all.Int("Version"));

        Assert.Equal(1, await Scalar("InsertMembershipKey", Insert(11111, 0)));
        Assert.Equal(0, await Scalar("InsertMembershipKey", Insert(11111, 1)));   // row exists
        Assert.Equal(0, await Scalar("InsertMembershipKey", Insert(22222, 0)));   // stale table version
        Assert.Equal(1, await Scalar("InsertMembershipKey", Insert(22222, 1)));

        var row = Assert.Single(await QueryAsync(c, q["MembershipReadRowKey"], [dep.Clone(), .. Silo(11111, 1)]));
        Assert.Equal("127.0.0.1", row["Address"]);
        Assert.Equal(11111, row.Int("Port"));
        Assert.Equal("silo11111", row["SiloName"]);
        Assert.Equal(3, row.Int("Status"));
        Assert.Equal(11112, row.Int("ProxyPort"));
        Assert.Equal(2, row.Int("Version"));
        Assert.Equal(now, (DateTime)row["IAmAliveTime"]!, TimeSpan.FromMilliseconds(1));
        var missing = Assert.Single(await QueryAsync(c, q["MembershipReadRowKey"], [dep.Clone(), .. Silo(33333, 1)]));
        Assert.Null(missing["Address"]);
        Assert.Equal(2, missing.Int("Version"));

        Assert.Equal(0, await Scalar("UpdateMembershipKey", Update(11111, 6, 1)));  // stale table version
        Assert.Equal(0, await Scalar("UpdateMembershipKey", Update(33333, 6, 2)));  // no such row
        Assert.Equal(1, await Scalar("UpdateMembershipKey", Update(11111, 6, 2)));
        Assert.Equal(2, (await QueryAsync(c, q["MembershipReadAllKey"], dep.Clone())).Count);

        await QueryAsync(c, q["UpdateIAmAlivetimeKey"],
            [dep.Clone(), .. Silo(22222, 1), P("IAmAliveTime", now.AddSeconds(5), DbType.DateTime)]);

        var gateway = Assert.Single(await QueryAsync(c, q["GatewaysQueryKey"], dep.Clone(), P("Status", 3, DbType.Int32)));
        Assert.Equal(22223, gateway.Int("ProxyPort"));

        await QueryAsync(c, q["CleanupDefunctSiloEntriesKey"], dep.Clone(), P("IAmAliveTime", now.AddSeconds(1), DbType.DateTime));
        Assert.Equal(22222, Assert.Single((await QueryAsync(c, q["MembershipReadAllKey"], dep.Clone())).Select(r => r.Int("Port")!.Value)));

        await QueryAsync(c, q["DeleteMembershipTableEntriesKey"], dep.Clone());
        Assert.Empty(await QueryAsync(c, q["MembershipReadAllKey"], dep.Clone()));
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    // ---------------------------------------------------------------- real Orleans silo

    [Fact]
    public async Task OrleansSilo_AdoNetProvidersOnInstalledSchema_PersistStateAndFireReminders()
    {
        var cs = await InstalledDatabaseAsync("orleans_smoke");
        var key = Guid.NewGuid().ToString("N");

        using (var silo = await StartSiloAsync(cs))
        {
            var grain = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IPgSmokeGrain>(key);
            await grain.SetValue("hello");
            await grain.SetValue("world");
            await grain.SetDeletable("gone soon");
            await grain.StartReminder();
            await WaitUntilAsync(() => PgSmokeGrain.Ticks.GetValueOrDefault(key) >= 1, "first reminder tick");
            await silo.StopAsync(Ct);
        }

        var ticksBeforeRestart = PgSmokeGrain.Ticks.GetValueOrDefault(key);
        using (var silo = await StartSiloAsync(cs))
        {
            var grain = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IPgSmokeGrain>(key);
            Assert.Equal(("world", 2), await grain.GetValue());
            Assert.Equal("gone soon", await grain.GetDeletable());

            // The reminder survived the restart: the new silo loads it from the table and fires it.
            await WaitUntilAsync(() => PgSmokeGrain.Ticks.GetValueOrDefault(key) > ticksBeforeRestart, "reminder tick after restart");
            Assert.Equal(1, await grain.StopReminder());

            await grain.Clear();
            Assert.Equal(("", 0), await grain.GetValue());
            await silo.StopAsync(Ct);
        }

        Assert.Equal(0L, await ScalarAsync(cs, "SELECT count(*) FROM OrleansRemindersTable"));
        Assert.Equal(1L, await ScalarAsync(cs, "SELECT count(*) FROM OrleansStorage WHERE PayloadBinary IS NULL")); // cleared
        Assert.Equal(1L, await ScalarAsync(cs, "SELECT count(*) FROM OrleansStorage"));                            // deleted one gone
        Assert.Equal(2L, await ScalarAsync(cs, "SELECT count(*) FROM OrleansMembershipTable WHERE Status = 6"));  // both silos Dead
        await PostgresServer.DropDatabaseAsync(cs, Ct);
    }

    private static async Task<IHost> StartSiloAsync(string cs)
    {
        var host = new HostBuilder()
            .UseOrleans(silo => silo
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = "pg-smoke";
                    o.ServiceId = "pg-smoke";
                })
                .ConfigureEndpoints(IPAddress.Loopback, FreePort(), FreePort())
                .UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = cs;
                })
                .AddAdoNetGrainStorage("pg", o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = cs;
                })
                .AddAdoNetGrainStorage("pgdelete", o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = cs;
                    o.DeleteStateOnClear = true;
                })
                .UseAdoNetReminderService(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = cs;
                })
                .Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1))
                .UseSystemTextJsonGrainStorageSerializer())
            .Build();
        await host.StartAsync(Ct);
        return host;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100, Ct);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static async Task<string> InstalledDatabaseAsync(string prefix)
    {
        var cs = await PostgresServer.CreateDatabaseAsync(prefix, Ct);
        await PostgresSchemaInstaller.InstallAsync(cs, PostgresSchemaParts.All, Ct);
        return cs;
    }

    private static async Task<NpgsqlConnection> OpenAsync(string cs)
    {
        var c = new NpgsqlConnection(cs);
        await c.OpenAsync(Ct);
        return c;
    }

    private static async Task<List<string>> QueryKeysAsync(string cs)
    {
        var queries = await LoadQueriesAsync(cs);
        return [.. queries.Keys.Order(StringComparer.Ordinal)];
    }

    private static async Task<Dictionary<string, string>> LoadQueriesAsync(string cs)
    {
        await using var c = await OpenAsync(cs);
        var rows = await QueryAsync(c, "SELECT QueryKey, QueryText FROM OrleansQuery");
        return rows.ToDictionary(r => (string)r["QueryKey"]!, r => (string)r["QueryText"]!, StringComparer.Ordinal);
    }

    private static async Task ExecuteAsync(string cs, string sql)
    {
        await using var c = await OpenAsync(cs);
        await using var command = new NpgsqlCommand(sql, c);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<object?> ScalarAsync(string cs, string sql)
    {
        await using var c = await OpenAsync(cs);
        await using var command = new NpgsqlCommand(sql, c);
        return await command.ExecuteScalarAsync(Ct);
    }

    /// <summary>A parameter typed the way the Orleans ADO.NET providers type theirs (by <see cref="DbType"/>).</summary>
    private static NpgsqlParameter P(string name, object? value, DbType type) =>
        new() { ParameterName = name, Value = value ?? DBNull.Value, DbType = type };

    private static async Task<List<Row>> QueryAsync(NpgsqlConnection c, string sql, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, c);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<Row>();
        do
        {
            while (await reader.ReadAsync(Ct))
            {
                var values = new object?[reader.FieldCount];
                var names = new string[reader.FieldCount];
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    names[i] = reader.GetName(i);
                    values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }
                rows.Add(new Row(names, values));
            }
        }
        while (await reader.NextResultAsync(Ct));
        return rows;
    }

    /// <summary>One result row; columns are looked up by name case-insensitively, as the providers do.</summary>
    private sealed class Row(string[] names, object?[] values)
    {
        public object? this[int ordinal] => values[ordinal];

        public object? this[string name] =>
            values[Array.FindIndex(names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) is var i and >= 0
                ? i
                : throw new KeyNotFoundException($"column {name} not in [{string.Join(", ", names)}]")];

        public int? Int(string name) => this[name] is { } v ? Convert.ToInt32(v, CultureInfo.InvariantCulture) : null;

        public int? Int(int ordinal) => this[ordinal] is { } v ? Convert.ToInt32(v, CultureInfo.InvariantCulture) : null;
    }
}

/// <summary>Test grain of the PostgreSQL smoke test: persistent state in two providers and one reminder.</summary>
public interface IPgSmokeGrain : IGrainWithStringKey
{
    Task SetValue(string value);

    Task<(string Value, int Writes)> GetValue();

    Task SetDeletable(string value);

    Task<string> GetDeletable();

    Task Clear();

    Task StartReminder();

    Task<int> StopReminder();
}

/// <summary>State of <see cref="PgSmokeGrain"/>.</summary>
[GenerateSerializer]
public sealed class PgSmokeState
{
    [Id(0)] public string Value { get; set; } = "";

    [Id(1)] public int Writes { get; set; }
}

/// <summary>Implementation of <see cref="IPgSmokeGrain"/>.</summary>
public sealed class PgSmokeGrain(
    [PersistentState("pgsmoke", "pg")] IPersistentState<PgSmokeState> state,
    [PersistentState("pgsmoke-deletable", "pgdelete")] IPersistentState<PgSmokeState> deletable) : Grain, IPgSmokeGrain, IRemindable
{
    private const string ReminderName = "pgsmoke";

    /// <summary>Reminder ticks received, by grain key (static: survives activations and silos of the test process).</summary>
    public static ConcurrentDictionary<string, int> Ticks { get; } = new(StringComparer.Ordinal);

    public async Task SetValue(string value)
    {
        state.State.Value = value;
        state.State.Writes++;
        await state.WriteStateAsync();
    }

    public Task<(string Value, int Writes)> GetValue() => Task.FromResult((state.State.Value, state.State.Writes));

    public async Task SetDeletable(string value)
    {
        deletable.State.Value = value;
        await deletable.WriteStateAsync();
    }

    public Task<string> GetDeletable() => Task.FromResult(deletable.State.Value);

    public async Task Clear()
    {
        await state.ClearStateAsync();
        await deletable.ClearStateAsync();
    }

    public Task StartReminder() => this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

    public async Task<int> StopReminder()
    {
        var found = await this.GetReminders();
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
        return found.Count;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.AddOrUpdate(this.GetPrimaryKeyString(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}
