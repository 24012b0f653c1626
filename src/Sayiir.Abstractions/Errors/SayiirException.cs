namespace Sayiir;

/// <summary>Base type of every error Sayiir raises on purpose.</summary>
[GenerateSerializer, Alias("sayiir.SayiirException")]
public class SayiirException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SayiirException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public SayiirException(string message, Exception? innerException) : base(message, innerException) { }
}
