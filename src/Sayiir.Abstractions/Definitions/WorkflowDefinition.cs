using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace Sayiir;

/// <summary>
/// An immutable, validated workflow: a name, an optional version, a chain of nodes and a stable structural hash.
/// Built by <see cref="Flow.Create{TInput}(string, string?)"/>; register it on every silo with <c>AddSayiir</c>.
/// </summary>
public abstract class WorkflowDefinition
{
    private protected WorkflowDefinition(string name, string? version, ImmutableArray<FlowNode> steps, Type inputType, Type outputType)
    {
        Name = name;
        Version = version;
        Steps = steps;
        InputType = inputType;
        OutputType = outputType;
        NodesById = steps.SelectMany(s => s.SelfAndDescendants()).ToImmutableDictionary(n => n.Id, StringComparer.Ordinal);
        Hash = ComputeHash(name, version, steps);
    }

    /// <summary>The workflow's name, unique among the workflows registered on a silo.</summary>
    public string Name { get; }

    /// <summary>An optional version label, part of the hash.</summary>
    public string? Version { get; }

    /// <summary>The top-level chain of nodes.</summary>
    public ImmutableArray<FlowNode> Steps { get; }

    /// <summary>The run's input type.</summary>
    public Type InputType { get; }

    /// <summary>The run's output type.</summary>
    public Type OutputType { get; }

    /// <summary>
    /// A stable hash of the structure: node kinds, ids, retry and timeout options, version, signal names, delays.
    /// Stored with every run; resuming a run whose definition now hashes differently is refused.
    /// </summary>
    public string Hash { get; }

    /// <summary>Every node of the tree by id, nested ones included.</summary>
    internal ImmutableDictionary<string, FlowNode> NodesById { get; }

    internal static string Describe(string name, string? version, ImmutableArray<FlowNode> steps)
    {
        var sb = new StringBuilder();
        sb.Append("sayiir/1|").Append(name).Append('|').Append(version).Append('|');
        foreach (var step in steps) { step.Describe(sb); sb.Append(';'); }
        return sb.ToString();
    }

    private static string ComputeHash(string name, string? version, ImmutableArray<FlowNode> steps)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(Describe(name, version, steps)));
        return Convert.ToHexStringLower(bytes.AsSpan(0, 12));
    }
}

/// <summary>A workflow from <typeparamref name="TInput"/> to <typeparamref name="TOutput"/>.</summary>
public sealed class WorkflowDefinition<TInput, TOutput> : WorkflowDefinition
{
    internal WorkflowDefinition(string name, string? version, ImmutableArray<FlowNode> steps)
        : base(name, version, steps, typeof(TInput), typeof(TOutput)) { }
}
