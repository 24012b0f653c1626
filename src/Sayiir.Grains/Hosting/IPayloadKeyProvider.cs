namespace Sayiir.Hosting;

/// <summary>
/// The keys of encryption at rest (<see cref="SayiirSiloBuilder.UseEncryption(PayloadKeyring)"/>): data is written with
/// the active key and read with whichever key its header names. <see cref="PayloadKeyring"/> reads them from
/// configuration; implement this to take them from elsewhere (a vault, a KMS) and register it with
/// <see cref="SayiirSiloBuilder.UseEncryption{TProvider}"/>.
/// </summary>
/// <remarks>
/// Called on every stored write and read, from any thread: answer from memory. Keys are 32 bytes (AES-256). A key id is
/// written in clear in every encrypted value's header: 1 to 64 ASCII letters, digits, '-', '_' or '.', and it must never be
/// reused for other key material (data written with the first would no longer decrypt).
/// </remarks>
public interface IPayloadKeyProvider
{
    /// <summary>The id of the key new writes use.</summary>
    string ActiveKeyId { get; }

    /// <summary>The 32-byte key named <paramref name="keyId"/>, or null when this provider does not know it.</summary>
    byte[]? FindKey(string keyId);
}
