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
        Assert.Equal("db", tuned.Host);
        Assert.Equal(5433, tuned.Port);
        Assert.Equal("runs", tuned.Database);
    }

    [Fact]
    public void ForEngine_ExplicitSetting_IsKept()
    {
        const string given = "Host=db;Username=app;No Reset On Close=false";

        Assert.Equal(given, PostgresConnectionTuning.ForEngine(given));
    }

    [Fact]
    public void ForEngine_UnparsableString_IsReturnedUnchanged()
    {
        const string given = "this is not a connection string";

        Assert.Equal(given, PostgresConnectionTuning.ForEngine(given));
    }
}
