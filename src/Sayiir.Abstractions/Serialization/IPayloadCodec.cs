using System.Text.Json;

namespace Sayiir;

/// <summary>
/// Turns task inputs and outputs into opaque bytes and back. Every silo and client of a cluster must use the same
/// codec. The default is <see cref="JsonPayloadCodec"/> (System.Text.Json).
/// </summary>
public interface IPayloadCodec
{
    /// <summary>Serializes <paramref name="value"/> as <paramref name="type"/>.</summary>
    byte[] Serialize(object? value, Type type);

    /// <summary>Deserializes <paramref name="data"/> as <paramref name="type"/>.</summary>
    object? Deserialize(ReadOnlySpan<byte> data, Type type);
}

/// <summary>The default codec: System.Text.Json with the web defaults (camelCase, case-insensitive reads).</summary>
public sealed class JsonPayloadCodec : IPayloadCodec
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates the codec with the web defaults.</summary>
    public JsonPayloadCodec() : this(new JsonSerializerOptions(JsonSerializerDefaults.Web)) { }

    /// <summary>Creates the codec with the given options.</summary>
    public JsonPayloadCodec(JsonSerializerOptions options) => _options = options ?? throw new ArgumentNullException(nameof(options));

    /// <inheritdoc />
    public byte[] Serialize(object? value, Type type) => JsonSerializer.SerializeToUtf8Bytes(value, type, _options);

    /// <inheritdoc />
    public object? Deserialize(ReadOnlySpan<byte> data, Type type) => JsonSerializer.Deserialize(data, type, _options);
}

internal static class PayloadCodecExtensions
{
    /// <summary>Serializes, turning any codec failure into a <see cref="PayloadSerializationException"/> naming what was encoded.</summary>
    public static byte[] Encode(this IPayloadCodec codec, object? value, Type type, string context)
    {
        if (type == typeof(BranchResults) && value is BranchResults results) return BranchResults.Encode(results.Payloads);
        try
        {
            return codec.Serialize(value, type);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new PayloadSerializationException(context, type, "serialized", ex);
        }
    }

    /// <summary>Deserializes, turning any codec failure (including a null for a non-nullable value type) into a <see cref="PayloadSerializationException"/>.</summary>
    public static object? Decode(this IPayloadCodec codec, byte[] data, Type type, string context)
    {
        if (type == typeof(BranchResults)) return BranchResults.Decode(data, codec);
        object? value;
        try
        {
            value = codec.Deserialize(data, type);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new PayloadSerializationException(context, type, "deserialized", ex);
        }
        if (value is null && type.IsValueType && Nullable.GetUnderlyingType(type) is null)
            throw new PayloadSerializationException(context, type, "deserialized", null);
        return value;
    }
}
