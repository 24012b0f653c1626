namespace Sayiir;

/// <summary>
/// Raised when Sayiir's storage (PostgreSQL) cannot be reached or refuses the connection. The message names the
/// server and database (never credentials); <see cref="Target"/> holds them as <c>host:port/database</c>.
/// </summary>
[GenerateSerializer, Alias("sayiir.SayiirStorageUnavailableException")]
public sealed class SayiirStorageUnavailableException : SayiirException
{
    /// <summary>Creates the exception.</summary>
    public SayiirStorageUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public SayiirStorageUnavailableException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for the storage at <paramref name="target"/>, with an inner cause.</summary>
    public SayiirStorageUnavailableException(string target, string message, Exception? innerException)
        : base(message, innerException)
    {
        Target = target;
    }

    /// <summary>The storage that could not be used, as <c>host:port/database</c> (empty when unknown).</summary>
    [Id(0)]
    public string Target { get; private set; } = "";
}
