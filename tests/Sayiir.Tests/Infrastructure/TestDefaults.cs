namespace Sayiir.Tests.Infrastructure;

/// <summary>
/// The deadlines and the instance-id helper of every test class, in one place (<c>using static</c> it). A deadline
/// bounds a wait that should succeed long before it; they are generous because the suite runs on loaded machines.
/// </summary>
public static class TestDefaults
{
    /// <summary>A run or state on a running cluster: 30 s.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Waits that span silo kills, cluster restarts, a thousand runs, or a cluster of the test's own: 60 s.</summary>
    public static readonly TimeSpan LongDeadline = TimeSpan.FromSeconds(60);

    /// <summary>Waits across a PostgreSQL server stop and restart: 120 s.</summary>
    public static readonly TimeSpan OutageDeadline = TimeSpan.FromSeconds(120);

    /// <summary>Waits on in-process fakes, no cluster involved: 10 s.</summary>
    public static readonly TimeSpan LocalDeadline = TimeSpan.FromSeconds(10);

    /// <summary>A fresh instance id that names its test: <paramref name="name"/>, a dash and a new GUID (32 hex digits).</summary>
    public static string NewId(string name) => $"{name}-{Guid.NewGuid():n}";
}
