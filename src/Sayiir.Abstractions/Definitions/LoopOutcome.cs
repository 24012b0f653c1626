namespace Sayiir;

/// <summary>What a loop does when it reaches its iteration limit.</summary>
public enum LoopExhaustion
{
    /// <summary>The run fails with an error naming the loop and the limit.</summary>
    Fail = 0,

    /// <summary>The loop ends with the last value its body returned.</summary>
    ExitWithLast = 1,
}

/// <summary>Creates loop body results.</summary>
public static class LoopOutcome
{
    /// <summary>Run the loop body again with <paramref name="value"/> as its input.</summary>
    public static LoopOutcome<T> Again<T>(T value) => new(false, value);

    /// <summary>Leave the loop with <paramref name="value"/> as its output.</summary>
    public static LoopOutcome<T> Done<T>(T value) => new(true, value);
}

internal interface ILoopOutcome
{
    bool IsDone { get; }

    object? BoxedValue { get; }
}

/// <summary>What a loop body returns: go round again, or leave the loop.</summary>
/// <param name="IsDone"><see langword="true"/> to leave the loop.</param>
/// <param name="Value">The next iteration's input, or the loop's output.</param>
public sealed record LoopOutcome<T>(bool IsDone, T Value) : ILoopOutcome
{
    object? ILoopOutcome.BoxedValue => Value;
}
