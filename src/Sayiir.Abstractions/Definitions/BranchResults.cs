using System.Collections.Immutable;
using System.Text.Json;

namespace Sayiir;

/// <summary>The outputs of a fork's branches, keyed by branch name, given to the join task.</summary>
public sealed class BranchResults
{
    private readonly ImmutableDictionary<string, byte[]> _payloads;
    private readonly IPayloadCodec _codec;

    internal BranchResults(ImmutableDictionary<string, byte[]> payloads, IPayloadCodec codec)
    {
        _payloads = payloads;
        _codec = codec;
    }

    /// <summary>The branch names.</summary>
    public IEnumerable<string> Names => _payloads.Keys;

    /// <summary>The number of branches.</summary>
    public int Count => _payloads.Count;

    /// <summary>The output of branch <paramref name="branch"/>, as <typeparamref name="T"/>.</summary>
    /// <exception cref="BranchNotFoundException">No branch has that name.</exception>
    /// <exception cref="PayloadSerializationException">The output does not decode as <typeparamref name="T"/>.</exception>
    public T Get<T>(string branch)
    {
        if (!_payloads.TryGetValue(branch, out var bytes))
            throw new BranchNotFoundException(branch, [.. _payloads.Keys.Order(StringComparer.Ordinal)]);
        return (T)_codec.Decode(bytes, typeof(T), $"branch '{branch}'")!;
    }

    internal ImmutableDictionary<string, byte[]> Payloads => _payloads;

    // Branch outputs are already encoded by the codec; the collection itself is framed codec-independently.
    internal static byte[] Encode(IReadOnlyDictionary<string, byte[]> payloads) =>
        JsonSerializer.SerializeToUtf8Bytes(payloads.ToDictionary(p => p.Key, p => p.Value));

    internal static BranchResults Decode(byte[] bytes, IPayloadCodec codec) =>
        new((JsonSerializer.Deserialize<Dictionary<string, byte[]>>(bytes) ?? []).ToImmutableDictionary(), codec);
}
