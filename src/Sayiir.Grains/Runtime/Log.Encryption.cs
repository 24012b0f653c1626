using Microsoft.Extensions.Logging;

namespace Sayiir.Runtime;

// Encryption at rest: 3100–3109.
internal static partial class Log
{
    [LoggerMessage(3100, LogLevel.Information, "Encryption at rest is on: new writes are sealed with key '{KeyId}' (AES-256-GCM)")]
    public static partial void EncryptionEnabled(ILogger logger, string? keyId);
}
