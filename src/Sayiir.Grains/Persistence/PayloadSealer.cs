using System.Security.Cryptography;
using System.Text;
using Sayiir.Hosting;

namespace Sayiir.Persistence;

/// <summary>
/// Encrypts what is stored (AES-256-GCM) and decrypts it again with the key its header names. A sealed value is
/// <c>magic (4) | format version (1) | key id length (1) | key id (ASCII) | nonce (12) | tag (16) | ciphertext</c>; the
/// header up to the key id is authenticated with the ciphertext, so a changed key id fails to open instead of
/// decrypting with another key. Values written before encryption was enabled have no header and are returned as they are.
/// </summary>
/// <remarks>
/// The magic's first byte (0xA7) cannot start UTF-8 text, so no JSON or text payload is mistaken for a sealed value; a
/// binary codec's payload that began with the same 5 bytes would be (the odds are 2^-40 per value, and it would fail to
/// open loudly rather than be misread). Nonces are random: NIST's bound of 2^32 values per key is far above what a key
/// sees between rotations.
/// </remarks>
internal sealed class PayloadSealer
{
    /// <summary>The prefix of a sealed value stored in a text column (base64 of the sealed bytes follows).</summary>
    internal const string TextPrefix = "sayiir-sealed:";

    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static ReadOnlySpan<byte> Magic => [0xA7, (byte)'S', (byte)'Y', (byte)'E'];

    private readonly IPayloadKeyProvider? _keys;

    /// <summary>Checks the provider's active key now, so that a bad configuration fails the silo's start-up.</summary>
    /// <exception cref="InvalidOperationException">The active key id is invalid or names no 32-byte key.</exception>
    public PayloadSealer(IPayloadKeyProvider keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        _ = ActiveKey(out _);
    }

    private PayloadSealer() { }

    /// <summary>
    /// The sealer of a silo without encryption: it does not seal, returns clear values as they are, and refuses a sealed
    /// one (stored while encryption was on) with <see cref="PayloadKeyNotFoundException"/> rather than returning ciphertext.
    /// </summary>
    public static PayloadSealer WithoutKeys { get; } = new();

    /// <summary>The id of the key new writes use (null for <see cref="WithoutKeys"/>).</summary>
    public string? ActiveKeyId => _keys?.ActiveKeyId;

    /// <summary>Whether writes are sealed (false for <see cref="WithoutKeys"/>).</summary>
    public bool Seals => _keys is not null;

    /// <summary>Whether <paramref name="stored"/> starts with a sealed value's header.</summary>
    public static bool IsSealed(ReadOnlySpan<byte> stored) =>
        stored.Length > Magic.Length + 2 && stored.StartsWith(Magic) && stored[Magic.Length] == FormatVersion;

    /// <summary>The key id in a sealed value's header (null when <paramref name="stored"/> is not sealed).</summary>
    public static string? KeyIdOf(ReadOnlySpan<byte> stored)
    {
        if (!IsSealed(stored)) return null;
        var length = stored[Magic.Length + 1];
        return stored.Length < Magic.Length + 2 + length ? null : Encoding.ASCII.GetString(stored.Slice(Magic.Length + 2, length));
    }

    /// <summary>Encrypts <paramref name="clear"/> with the active key.</summary>
    /// <exception cref="InvalidOperationException">This is <see cref="WithoutKeys"/>, or the active key became invalid.</exception>
    public byte[] Seal(ReadOnlySpan<byte> clear)
    {
        var key = ActiveKey(out var keyId);
        var headerSize = Magic.Length + 2 + keyId.Length;
        var sealedValue = new byte[headerSize + NonceSize + TagSize + clear.Length];
        var span = sealedValue.AsSpan();
        Magic.CopyTo(span);
        span[Magic.Length] = FormatVersion;
        span[Magic.Length + 1] = (byte)keyId.Length;
        Encoding.ASCII.GetBytes(keyId, span[(Magic.Length + 2)..]);
        var nonce = span.Slice(headerSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var aes = Cipher(keyId, key);
        aes.Encrypt(nonce, clear, span[(headerSize + NonceSize + TagSize)..], span.Slice(headerSize + NonceSize, TagSize), span[..headerSize]);
        return sealedValue;
    }

    /// <summary>The clear bytes of <paramref name="stored"/>: decrypted when sealed, as they are otherwise (written before encryption).</summary>
    /// <exception cref="PayloadKeyNotFoundException">The key that sealed it is unknown to the provider.</exception>
    /// <exception cref="CryptographicException">The value was altered (or sealed with other key material under the same id).</exception>
    public byte[] Open(byte[] stored) => IsSealed(stored) ? OpenSealed(stored) : stored;

    /// <summary>Seals <paramref name="clear"/> for a text column (null stays null).</summary>
    public string? SealText(string? clear) =>
        clear is null ? null : TextPrefix + Convert.ToBase64String(Seal(Encoding.UTF8.GetBytes(clear)));

    /// <summary>The clear text of <paramref name="stored"/>: decrypted when sealed, as it is otherwise.</summary>
    /// <exception cref="PayloadKeyNotFoundException">The key that sealed it is unknown to the provider.</exception>
    public string? OpenText(string? stored)
    {
        if (stored is null || !stored.StartsWith(TextPrefix, StringComparison.Ordinal)) return stored;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(stored[TextPrefix.Length..]);
        }
        catch (FormatException)
        {
            return stored; // clear text that happens to start with the prefix
        }
        return IsSealed(bytes) ? Encoding.UTF8.GetString(OpenSealed(bytes)) : stored;
    }

    private byte[] OpenSealed(ReadOnlySpan<byte> stored)
    {
        var keyIdLength = stored[Magic.Length + 1];
        var headerSize = Magic.Length + 2 + keyIdLength;
        if (stored.Length < headerSize + NonceSize + TagSize)
        {
            throw new CryptographicException($"A sealed value is {stored.Length} bytes, shorter than its header, nonce and tag ({headerSize + NonceSize + TagSize}).");
        }
        var keyId = Encoding.ASCII.GetString(stored.Slice(Magic.Length + 2, keyIdLength));
        var key = _keys?.FindKey(keyId) ?? throw new PayloadKeyNotFoundException(keyId);
        var clear = new byte[stored.Length - headerSize - NonceSize - TagSize];
        var aes = Cipher(keyId, key);
        try
        {
            aes.Decrypt(stored.Slice(headerSize, NonceSize), stored[(headerSize + NonceSize + TagSize)..], stored.Slice(headerSize + NonceSize, TagSize),
                clear, stored[..headerSize]);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new CryptographicException(
                $"A stored value sealed with key '{keyId}' failed authentication: it was altered, or the key configured as '{keyId}' is not the one it was sealed with.", ex);
        }
        return clear;
    }

    // An AesGcm instance is not thread-safe and costly to set up (a native cipher context per key): each thread keeps
    // one per key id, checked against the key's bytes so that two keyrings using one id (tests, a provider that
    // replaced a key) never share a cipher. A thread sees a handful of key ids at most.
    [ThreadStatic] private static Dictionary<string, (byte[] Key, AesGcm Cipher)>? t_ciphers;

    private static AesGcm Cipher(string keyId, byte[] key)
    {
        var ciphers = t_ciphers ??= new Dictionary<string, (byte[], AesGcm)>(StringComparer.Ordinal);
        if (ciphers.TryGetValue(keyId, out var cached) && cached.Key.AsSpan().SequenceEqual(key)) return cached.Cipher;
        cached.Cipher?.Dispose();
        var cipher = new AesGcm(key, TagSize);
        ciphers[keyId] = ((byte[])key.Clone(), cipher);
        return cipher;
    }

    private byte[] ActiveKey(out string keyId)
    {
        if (_keys is null) throw new InvalidOperationException("Encryption at rest is not configured on this silo (UseEncryption): nothing can be sealed.");
        keyId = _keys.ActiveKeyId;
        if (PayloadKeyring.ValidateKeyId(keyId) is { } problem) throw new InvalidOperationException($"Encryption at rest: the active key: {problem}");
        var key = _keys.FindKey(keyId);
        if (key is not { Length: PayloadKeyring.KeySize })
        {
            throw new InvalidOperationException(key is null
                ? $"Encryption at rest: the key provider ({_keys.GetType().Name}) has no key '{keyId}', its active key id."
                : $"Encryption at rest: the active key '{keyId}' is {key.Length} bytes; an AES-256 key is {PayloadKeyring.KeySize} bytes.");
        }
        return key;
    }
}
