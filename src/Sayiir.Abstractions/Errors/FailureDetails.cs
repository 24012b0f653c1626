using System.Collections.Concurrent;
using System.Globalization;

namespace Sayiir;

/// <summary>
/// One error of a failure's cause chain: the inner exceptions of the error that failed a task, outermost first (the
/// model is durabletask's <c>TaskFailureDetails</c>). A chain keeps at most 10 inner failures; deeper causes are
/// dropped. An <see cref="AggregateException"/> is recorded as itself (its message lists every inner message), and
/// its inner failure is its first inner exception, nested aggregates unwrapped (the exception <c>await</c> would throw).
/// </summary>
[GenerateSerializer, Alias("sayiir.FailureDetails"), Immutable]
public sealed record FailureDetails
{
    /// <summary>The error's .NET type name (<see cref="Type.FullName"/>).</summary>
    [Id(0)] public required string ErrorType { get; init; }

    /// <summary>The error message.</summary>
    [Id(1)] public required string Message { get; init; }

    /// <summary>The stack trace, when there is one.</summary>
    [Id(2)] public string? StackTrace { get; init; }

    /// <summary>The error's own inner cause, if any.</summary>
    [Id(3)] public FailureDetails? InnerFailure { get; init; }

    /// <summary>Whether this error or one of its inner failures is a <typeparamref name="T"/> (see <see cref="IsCausedBy(Type)"/>).</summary>
    public bool IsCausedBy<T>() where T : Exception => IsCausedBy(typeof(T));

    /// <summary>
    /// Whether this error or one of its inner failures is of type <paramref name="exceptionType"/> or a type derived
    /// from it. Types are matched by full name; a derived type is recognised when its assembly is loaded in this process.
    /// </summary>
    public bool IsCausedBy(Type exceptionType)
    {
        ArgumentNullException.ThrowIfNull(exceptionType);
        for (var failure = this; failure is not null; failure = failure.InnerFailure)
            if (FailureChain.Matches(failure.ErrorType, exceptionType)) return true;
        return false;
    }
}

/// <summary>Builds failure chains from exceptions and matches their type names.</summary>
internal static class FailureChain
{
    /// <summary>The most inner failures a chain keeps (a bound for pathological or very deep chains).</summary>
    internal const int MaxInnerFailures = 10;

    private static readonly ConcurrentDictionary<string, Type> Resolved = new(StringComparer.Ordinal);

    public static string TypeName(Exception error) => error.GetType().FullName ?? error.GetType().Name;

    /// <summary>
    /// The cause of <paramref name="error"/>: its inner exception; for an <see cref="AggregateException"/>, its first
    /// inner exception with nested aggregates unwrapped (what <c>await</c> would surface; the aggregate's own message
    /// already lists every inner message).
    /// </summary>
    public static Exception? CauseOf(Exception error)
    {
        var cause = error.InnerException;
        if (error is AggregateException)
            while (cause is AggregateException nested) cause = nested.InnerException;
        return cause;
    }

    /// <summary>The chain of causes below <paramref name="error"/>, at most <paramref name="maxDepth"/> deep; null when it has none.</summary>
    public static FailureDetails? InnerChainOf(Exception error, int maxDepth = MaxInnerFailures)
    {
        var causes = new List<Exception>();
        for (var cause = CauseOf(error); cause is not null && causes.Count < maxDepth; cause = CauseOf(cause)) causes.Add(cause);
        FailureDetails? chain = null;
        for (var i = causes.Count - 1; i >= 0; i--)
        {
            chain = new FailureDetails
            {
                ErrorType = TypeName(causes[i]),
                Message = causes[i].Message,
                StackTrace = causes[i].StackTrace,
                InnerFailure = chain,
            };
        }
        return chain;
    }

    public static bool Matches(string errorType, Type exceptionType)
    {
        if (string.Equals(errorType, exceptionType.FullName, StringComparison.Ordinal)) return true;
        return Resolve(errorType) is { } type && exceptionType.IsAssignableFrom(type);
    }

    // Only assemblies already loaded are searched: a stored type name never makes this process load one. Names that
    // are found are cached; unknown ones are looked up again (their assembly may load later).
    private static Type? Resolve(string typeName)
    {
        if (Resolved.TryGetValue(typeName, out var known)) return known;
        if (typeName.Contains(',', StringComparison.Ordinal)) return null;
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            Type? type;
            try { type = assembly.GetType(typeName, throwOnError: false); }
            catch (Exception ex) when (ex is ArgumentException or FileNotFoundException or FileLoadException or BadImageFormatException) { continue; }
            if (type is not null && typeof(Exception).IsAssignableFrom(type)) return Resolved.GetOrAdd(typeName, type);
        }
        return null;
    }
}

/// <summary>
/// Sayiir's flow errors as stored in a run's failure: their values go into <see cref="TaskFailure.Properties"/>, from
/// which the client rebuilds the typed exception for <see cref="WorkflowFailedException"/>.
/// </summary>
internal static class FlowErrors
{
    public const string InstanceIdKey = "InstanceId";
    public const string NodeIdKey = "NodeId";
    public const string TimeoutKey = "Timeout";
    public const string SignalNameKey = "SignalName";
    public const string MaxIterationsKey = "MaxIterations";
    public const string KeyKey = "Key";

    public static void AddIds(IDictionary<string, string> properties, string instanceId, string nodeId)
    {
        properties[InstanceIdKey] = instanceId;
        properties[NodeIdKey] = nodeId;
    }

    public static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    /// <summary>The values a Sayiir error adds to a stored failure; null for any other error.</summary>
    public static Dictionary<string, string>? PropertiesOf(Exception error)
    {
        if (error is not SayiirException sayiir) return null;
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        sayiir.DescribeTo(properties);
        return properties.Count == 0 ? null : properties;
    }

    /// <summary>
    /// The typed flow error a stored failure describes, or null when it describes another error (or lacks a value):
    /// ids missing from the properties default to the run's instance id and the failure's task id.
    /// </summary>
    public static SayiirException? Rebuild(string instanceId, TaskFailure? failure)
    {
        if (failure is null) return null;
        var values = failure.Properties ?? new Dictionary<string, string>();
        var instance = values.GetValueOrDefault(InstanceIdKey) ?? instanceId;
        var node = values.GetValueOrDefault(NodeIdKey) ?? failure.TaskId;
        if (Is<LoopLimitExceededException>(failure))
        {
            return int.TryParse(values.GetValueOrDefault(MaxIterationsKey), NumberStyles.Integer, CultureInfo.InvariantCulture, out var max)
                ? new LoopLimitExceededException(instance, node, max) : null;
        }
        if (Is<NoRouteBranchException>(failure))
            return values.GetValueOrDefault(KeyKey) is { } key ? new NoRouteBranchException(instance, node, key) : null;
        if (Is<SignalTimeoutException>(failure))
        {
            return values.GetValueOrDefault(SignalNameKey) is { } signal && TryParse(values.GetValueOrDefault(TimeoutKey), out var waited)
                ? new SignalTimeoutException(instance, node, signal, waited) : null;
        }
        if (Is<TaskTimeoutException>(failure))
            return TryParse(values.GetValueOrDefault(TimeoutKey), out var timeout) ? new TaskTimeoutException(instance, node, timeout) : null;
        return null;
    }

    private static bool Is<T>(TaskFailure failure) => string.Equals(failure.ErrorType, typeof(T).FullName, StringComparison.Ordinal);

    private static bool TryParse(string? text, out TimeSpan value) =>
        TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out value);
}
