using Npgsql;
using Sayiir.Persistence;

namespace Sayiir.Tests.Postgres;

public sealed class PostgresConnectionTuningTests
{
    [Fact]
    public void ForEngine_PlainString_TurnsOffTheResetOnPooledConnections()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresConnectionTuning.ForEngine("Host=db;Port=5433;Username=app;Database=runs"));

        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(32, tuned.MaxAutoPrepare);
        Assert.Equal("db", tuned.Host);
        Assert.Equal(5433, tuned.Port);
        Assert.Equal("runs", tuned.Database);
    }

    [Fact]
    public void ForEngine_ExplicitSettings_AreKept()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresConnectionTuning.ForEngine("Host=db;Username=app;No Reset On Close=false;Max Auto Prepare=0"));

        Assert.False(tuned.NoResetOnClose);
        Assert.Equal(0, tuned.MaxAutoPrepare);
    }

    [Fact]
    public void ForEngine_UnparsableString_IsReturnedUnchanged()
    {
        const string given = "this is not a connection string";

        Assert.Equal(given, PostgresConnectionTuning.ForEngine(given));
    }

    [Fact]
    public void ForJournal_UserOptions_AreKeptAndCommitsStaySynchronous()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresConnectionTuning.ForJournal("Host=db;Username=app;Options=-c search_path=runs"));

        // History must be durable before the run forgets its outbox copy: no synchronous_commit=off here.
        Assert.Equal("-c search_path=runs", tuned.Options);
        Assert.True(tuned.NoResetOnClose);
    }
}
