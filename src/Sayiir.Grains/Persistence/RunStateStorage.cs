using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;
using Sayiir.Runtime;

namespace Sayiir.Persistence;

/// <summary>
/// How a run's state is stored, defined once: the state name its rows are keyed by, the serializer that writes it,
/// and the JSON properties the PostgreSQL run listing reads from it (<see cref="WorkflowRunState"/> names those
/// properties with these constants, so renaming a C# property does not rename the stored one). The SQL scripts
/// cannot refer to C# constants: tests check that every script names the same state and properties, and the
/// installer checks at start-up that the database lists a state serialized here correctly.
/// </summary>
internal static class RunStateStorage
{
    /// <summary>
    /// The state name of a run's row (Orleans' <c>GrainTypeString</c>: rows are keyed by state name, not grain class,
    /// and a name of our own keeps them apart from user grains' state). Changing it would orphan every stored run:
    /// the listing trigger, its partial indexes and the listing query all select rows by it.
    /// </summary>
    internal const string StateName = "sayiir-run";

    /// <summary>Stored property: the workflow's name (string).</summary>
    internal const string WorkflowNameProperty = "WorkflowName";

    /// <summary>Stored property: the version label of the run's definition (string; absent when unversioned).</summary>
    internal const string WorkflowVersionProperty = "WorkflowVersion";

    /// <summary>Stored property: the hash of the run's definition (string).</summary>
    internal const string DefinitionHashProperty = "DefinitionHash";

    /// <summary>Stored property: the run's <see cref="WorkflowState"/> (a number).</summary>
    internal const string StatusProperty = "Status";

    /// <summary>Stored property: when the run was started (ISO 8601 with offset).</summary>
    internal const string CreatedAtProperty = "CreatedAt";

    /// <summary>Stored property: when the state was last written (ISO 8601 with offset).</summary>
    internal const string UpdatedAtProperty = "UpdatedAt";

    /// <summary>
    /// Stored property: the run's input, the first property after the listed ones. The listing trigger reads only the
    /// JSON before it when it can (a state may hold large outputs); any other layout is parsed whole.
    /// </summary>
    internal const string InputProperty = "Input";

    /// <summary>
    /// The properties the listing reads. A null value is not written at all (<see cref="CreateSerializer"/> ignores
    /// nulls), so the trigger refuses a state without <see cref="StatusProperty"/>, or a started run's state (Status
    /// above <see cref="WorkflowState.NotFound"/>) without any of them; a state whose run has not started (signals sent
    /// early) has only a status.
    /// </summary>
    internal static readonly IReadOnlyList<string> ListedProperties = [WorkflowNameProperty, StatusProperty, CreatedAtProperty, UpdatedAtProperty];

    /// <summary>The states of a run that has not ended, in the order of their values.</summary>
    internal static readonly IReadOnlyList<WorkflowState> ActiveStates =
        [WorkflowState.Running, WorkflowState.Waiting, WorkflowState.AwaitingSignal, WorkflowState.Paused, WorkflowState.Queued, WorkflowState.Compensating];

    /// <summary>
    /// The listing's test for a run that has not ended, as the partial index <c>ix_sayiir_runs_active_definition</c>
    /// (migration 7) states it: a query must use this exact text for PostgreSQL to use the index. Queued (8) and
    /// Compensating (9) came after the terminal states, so the range 1–4 of migration 4 no longer covers every active run.
    /// </summary>
    internal const string ActiveStatusPredicate = "SayiirStatus IN (1, 2, 3, 4, 8, 9)";

    /// <summary>
    /// The serializer of the run's state (and of any grain state stored by the <c>sayiir</c> provider); with
    /// <paramref name="sealer"/>, states are stored encrypted (<see cref="SealingGrainStorageSerializer"/>); without it,
    /// in clear, and an encrypted one is refused by its key id rather than misread.
    /// </summary>
    internal static IGrainStorageSerializer CreateSerializer(PayloadSealer? sealer = null)
    {
        var clear = new SystemTextJsonGrainStorageSerializer(Options.Create(new SystemTextJsonGrainStorageSerializerOptions()));
        return new SealingGrainStorageSerializer(clear, sealer ?? PayloadSealer.WithoutKeys);
    }

    /// <summary>
    /// Run states to check the listing against, as the engine writes them: a started run's, every listed property set
    /// (instants with whole microseconds, the precision PostgreSQL keeps), with an input, outputs and a loop (which
    /// holds an "Input" of its own); and the state of a run not started yet, holding a signal sent early.
    /// </summary>
    internal static IReadOnlyList<WorkflowRunState> ListingProbes() => [StartedProbe(), new() { Signals = { ["early"] = [[1]] } }];

    private static WorkflowRunState StartedProbe() => new()
    {
        WorkflowName = "sayiir-listing-probe",
        WorkflowVersion = "2.1",
        DefinitionHash = "0123456789abcdef",
        Status = WorkflowState.Running,
        Input = [1, 2, 3],
        Outputs = { ["step"] = [4, 5, 6] },
        Loops = { ["loop"] = new LoopCheckpoint { Iteration = 2, Input = [7] } },
        CreatedAt = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero).AddTicks(1_234_560),
        UpdatedAt = new DateTimeOffset(2001, 2, 3, 4, 5, 7, TimeSpan.Zero).AddTicks(6_543_210),
        WriteToken = new Guid("5a7e0000-0000-4000-8000-000000000001"),
    };

    /// <summary>The stored bytes of <paramref name="state"/>, exactly as the grain storage writes them (encrypted with <paramref name="sealer"/>).</summary>
    internal static byte[] Serialize(WorkflowRunState state, PayloadSealer? sealer = null) => CreateSerializer(sealer).Serialize(state).ToArray();

    /// <summary>A sealer with a throw-away key, to check that the listing reads an encrypted state's envelope too.</summary>
    internal static PayloadSealer ProbeSealer() =>
        new(new Hosting.PayloadKeyring("listing-probe", new Dictionary<string, byte[]> { ["listing-probe"] = new byte[Hosting.PayloadKeyring.KeySize] }));
}
