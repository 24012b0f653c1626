using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;
using Sayiir.Runtime;

namespace Sayiir.Persistence;

/// <summary>
/// The <c>sayiir</c> storage's serializer with encryption at rest: the state's JSON is sealed whole into the
/// <see cref="SealedProperty"/> of a small JSON envelope. A run's envelope also keeps the properties the PostgreSQL
/// listing trigger reads in clear (<see cref="RunStateStorage"/>), so listing and retention work unchanged. A state
/// stored before encryption was enabled (no envelope) is read as it is. Without encryption
/// (<see cref="PayloadSealer.WithoutKeys"/>) states are written in clear, and an envelope read fails with
/// <see cref="PayloadKeyNotFoundException"/> instead of being deserialized as a state without its data.
/// </summary>
internal sealed class SealingGrainStorageSerializer(IGrainStorageSerializer inner, PayloadSealer sealer) : IGrainStorageSerializer
{
    /// <summary>The envelope's property holding the sealed state (base64). No engine state has a property of that name.</summary>
    internal const string SealedProperty = "SayiirSealed";

    private static readonly byte[] SealedMarker = System.Text.Encoding.UTF8.GetBytes($"\"{SealedProperty}\"");

    public BinaryData Serialize<T>(T? input)
    {
        if (!sealer.Seals) return inner.Serialize(input);
        var sealedState = sealer.Seal(inner.Serialize(input).ToMemory().Span);
        return input is WorkflowRunState run
            ? inner.Serialize(new SealedRunState
            {
                WorkflowName = run.WorkflowName,
                DefinitionHash = run.DefinitionHash,
                WorkflowVersion = run.WorkflowVersion,
                Status = run.Status,
                CreatedAt = run.CreatedAt,
                UpdatedAt = run.UpdatedAt,
                Sealed = sealedState,
            })
            : inner.Serialize(new SealedState { Sealed = sealedState });
    }

    public T? Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return FindSealed(input.ToMemory().Span) is { } sealedState
            ? inner.Deserialize<T>(new BinaryData(sealer.Open(sealedState)))
            : inner.Deserialize<T>(input);
    }

    /// <summary>The sealed bytes of an envelope, or null when <paramref name="json"/> is a state stored in clear.</summary>
    internal static byte[]? FindSealed(ReadOnlySpan<byte> json)
    {
        // Every activation reads its state through here: a clear state (the common case, and every state without
        // encryption) is ruled out by one vectorized search instead of tokenizing the whole document.
        if (json.IndexOf(SealedMarker) < 0) return null;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isSealed = reader.ValueTextEquals(SealedProperty);
            reader.Read();
            if (isSealed && reader.TokenType == JsonTokenType.String) return reader.GetBytesFromBase64();
            reader.Skip();
        }
        return null;
    }

    // The property names and order of the clear state (the same serializer writes both), so the listing trigger reads
    // an envelope like a state. Input is written as null on purpose: the trigger parses only what precedes the first
    // top-level "Input" member when it can, so the sealed bytes after it are never parsed as JSON in the database.
    private sealed class SealedRunState
    {
        [JsonPropertyOrder(-5), JsonPropertyName(RunStateStorage.WorkflowNameProperty)] public string? WorkflowName { get; init; }

        [JsonPropertyOrder(-4), JsonPropertyName(RunStateStorage.DefinitionHashProperty)] public string? DefinitionHash { get; init; }

        [JsonPropertyOrder(-4), JsonPropertyName(RunStateStorage.WorkflowVersionProperty)] public string? WorkflowVersion { get; init; }

        [JsonPropertyOrder(-3), JsonPropertyName(RunStateStorage.StatusProperty)] public WorkflowState Status { get; init; }

        [JsonPropertyOrder(-2), JsonPropertyName(RunStateStorage.CreatedAtProperty)] public DateTimeOffset? CreatedAt { get; init; }

        [JsonPropertyOrder(-1), JsonPropertyName(RunStateStorage.UpdatedAtProperty)] public DateTimeOffset? UpdatedAt { get; init; }

        [JsonPropertyName(RunStateStorage.InputProperty), JsonIgnore(Condition = JsonIgnoreCondition.Never)]
        public byte[]? Input { get; init; }

        [JsonPropertyOrder(1), JsonPropertyName(SealedProperty)] public required byte[] Sealed { get; init; }
    }

    private sealed class SealedState
    {
        [JsonPropertyName(SealedProperty)] public required byte[] Sealed { get; init; }
    }
}
