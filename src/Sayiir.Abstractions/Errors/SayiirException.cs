namespace Sayiir;

/// <summary>
/// Base type of every error Sayiir raises on purpose; each derived type carries the ids it is about (instance id,
/// node or task id, workflow name). A caller's programming errors keep .NET's conventional types instead: a null
/// argument throws <see cref="ArgumentNullException"/> and an empty name or an out-of-range query setting an
/// <see cref="ArgumentException"/> (see <see cref="ISayiirClient"/>).
/// </summary>
[GenerateSerializer, Alias("sayiir.SayiirException")]
public class SayiirException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SayiirException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public SayiirException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>
    /// Adds the values that describe this error to a run's stored failure (<see cref="TaskFailure.Properties"/>), so
    /// the client can rebuild it. Only Sayiir's flow errors have any.
    /// </summary>
    internal virtual void DescribeTo(IDictionary<string, string> properties) { }
}
