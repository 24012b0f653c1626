using System.Collections.Frozen;
using Microsoft.Extensions.Configuration;

namespace Sayiir.Hosting;

/// <summary>
/// A fixed set of 32-byte AES keys by id, one of them active (see <see cref="IPayloadKeyProvider"/>). Build it from
/// configuration with <see cref="FromConfiguration"/> (<c>Sayiir:Encryption:ActiveKeyId</c> and
/// <c>Sayiir:Encryption:Keys:&lt;id&gt;</c>, each the base64 of 32 bytes) or from keys at hand. Rotation: add a new key,
/// make it active, keep the old ones as long as data written with them is stored.
/// </summary>
public sealed class PayloadKeyring : IPayloadKeyProvider
{
    /// <summary>The configuration section read by <see cref="FromConfiguration"/>.</summary>
    public const string ConfigurationSection = "Sayiir:Encryption";

    /// <summary>The length of a key in bytes (AES-256).</summary>
    public const int KeySize = 32;

    private const int MaxKeyIdLength = 64;

    private readonly FrozenDictionary<string, byte[]> _keys;

    /// <summary>Creates a keyring of <paramref name="keys"/> whose active key is <paramref name="activeKeyId"/>.</summary>
    /// <exception cref="ArgumentException">
    /// A key is not 32 bytes, a key id is not 1 to 64 ASCII letters, digits, '-', '_' or '.', or
    /// <paramref name="activeKeyId"/> is not one of <paramref name="keys"/> (the message names which).
    /// </exception>
    public PayloadKeyring(string activeKeyId, IReadOnlyDictionary<string, byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(activeKeyId);
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (id, key) in keys)
        {
            if (ValidateKeyId(id) is { } problem) throw new ArgumentException(problem, nameof(keys));
            if (key is not { Length: KeySize })
            {
                throw new ArgumentException($"Encryption key '{id}' is {key?.Length ?? 0} bytes; an AES-256 key is {KeySize} bytes.", nameof(keys));
            }
        }
        if (!keys.ContainsKey(activeKeyId))
        {
            throw new ArgumentException(
                $"The active encryption key '{activeKeyId}' is not one of the keys given ({Describe(keys.Keys)}).", nameof(activeKeyId));
        }
        ActiveKeyId = activeKeyId;
        // Copies: a caller clearing or reusing its arrays must not change the keyring.
        _keys = keys.ToFrozenDictionary(k => k.Key, k => (byte[])k.Value.Clone(), StringComparer.Ordinal);
    }

    /// <inheritdoc/>
    public string ActiveKeyId { get; }

    /// <summary>The ids of every key of the keyring, active or not.</summary>
    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    /// <inheritdoc/>
    public byte[]? FindKey(string keyId) => _keys.GetValueOrDefault(keyId);

    /// <summary>
    /// Reads the keyring from <paramref name="configuration"/>'s <c>Sayiir:Encryption</c> section:
    /// <c>ActiveKeyId</c>, and <c>Keys:&lt;id&gt;</c> = base64 of 32 bytes for every key (the active one and the old ones
    /// still needed to read stored data).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The section has no <c>ActiveKeyId</c>, no key of that id, a key that is not the base64 of 32 bytes, or a bad key id:
    /// the message names the configuration key at fault.
    /// </exception>
    public static PayloadKeyring FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ConfigurationSection);
        var active = section["ActiveKeyId"];
        if (string.IsNullOrWhiteSpace(active))
        {
            throw new InvalidOperationException($"Encryption at rest: {ConfigurationSection}:ActiveKeyId is not set (the id of the key new writes use).");
        }
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in section.GetSection("Keys").GetChildren())
        {
            var name = $"{ConfigurationSection}:Keys:{entry.Key}";
            if (ValidateKeyId(entry.Key) is { } problem) throw new InvalidOperationException($"Encryption at rest: {name}: {problem}");
            var key = new byte[KeySize + 1];
            if (entry.Value is not { } text || !Convert.TryFromBase64String(text.Trim(), key, out var length) || length != KeySize)
            {
                throw new InvalidOperationException(
                    $"Encryption at rest: {name} is not the base64 of {KeySize} bytes (an AES-256 key; generate one with " +
                    "Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) or `openssl rand -base64 32`).");
            }
            keys[entry.Key] = key[..KeySize];
        }
        if (!keys.ContainsKey(active))
        {
            throw new InvalidOperationException(
                $"Encryption at rest: {ConfigurationSection}:ActiveKeyId is '{active}' but {ConfigurationSection}:Keys:{active} is not set " +
                $"(keys configured: {Describe(keys.Keys)}).");
        }
        return new PayloadKeyring(active, keys);
    }

    /// <summary>Why <paramref name="keyId"/> cannot be a key id, or null when it can.</summary>
    internal static string? ValidateKeyId(string? keyId)
    {
        if (string.IsNullOrEmpty(keyId) || keyId.Length > MaxKeyIdLength || !keyId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            return $"the key id '{keyId}' is not 1 to {MaxKeyIdLength} ASCII letters, digits, '-', '_' or '.' (it is written in clear in every encrypted value).";
        }
        return null;
    }

    private static string Describe(IEnumerable<string> ids)
    {
        var list = string.Join(", ", ids.Select(id => $"'{id}'"));
        return list.Length == 0 ? "none" : list;
    }
}
