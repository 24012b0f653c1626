namespace Sayiir;

/// <summary>One silo of the cluster, as <see cref="ISayiirClient.GetClusterAsync"/> saw it.</summary>
[GenerateSerializer, Alias("sayiir.SiloInfo"), Immutable]
public sealed record SiloInfo
{
    /// <summary>The silo's address (<c>host:port@generation</c>).</summary>
    [Id(0)] public required string Address { get; init; }

    /// <summary>The silo's name, as configured (Orleans' <c>SiloOptions.SiloName</c>).</summary>
    [Id(1)] public string? Name { get; init; }

    /// <summary>The name of the machine it runs on.</summary>
    [Id(2)] public string? HostName { get; init; }

    /// <summary>Its membership status: <c>Joining</c>, <c>Active</c>, <c>ShuttingDown</c> or <c>Stopping</c>.</summary>
    [Id(3)] public required string Status { get; init; }

    /// <summary>When it started, as recorded in the membership table.</summary>
    [Id(4)] public DateTimeOffset? StartedAt { get; init; }

    /// <summary>
    /// The runs this silo drives: owned by one of its activations (running a task, or parked on a delay, a signal or a
    /// pause while its activation lives). Null when the silo did not answer in time, or is not active.
    /// </summary>
    [Id(5)] public int? ActiveRuns { get; init; }

    /// <summary>
    /// Task attempts running on this silo (including finished ones whose run has not collected the result yet). Null
    /// when the silo did not answer in time, or is not active.
    /// </summary>
    [Id(6)] public int? AttemptsInFlight { get; init; }
}
