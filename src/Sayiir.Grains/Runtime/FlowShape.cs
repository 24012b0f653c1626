using System.Globalization;
using System.Text.Json;

namespace Sayiir.Runtime;

/// <summary>
/// Where each node of a definition sits: its kind and its position (a path such as <c>2/approve/0</c>: top-level
/// step 2, a fork's or route's branch "approve", its first step). What <see cref="ISayiirClient.UpgradeAsync"/>
/// compares: a run can move to a definition in which every step it completed or started has the same id, kind and
/// position. Kept in the definition catalog by hash, so a removed version's shape is still known.
/// </summary>
internal sealed class FlowShape
{
    private readonly Dictionary<string, string> _nodes;

    private FlowShape(Dictionary<string, string> nodes) => _nodes = nodes;

    public static FlowShape Of(WorkflowDefinition definition)
    {
        var nodes = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(definition.Describe().Steps, "", nodes);
        return new FlowShape(nodes);
    }

    public static FlowShape Parse(string json) =>
        new(JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? new Dictionary<string, string>(StringComparer.Ordinal));

    public string Serialize() => JsonSerializer.Serialize(_nodes);

    /// <summary>"Task at 2/approve/0", or null when the definition has no node with that id.</summary>
    public string? Describe(string nodeId) => _nodes.GetValueOrDefault(nodeId);

    /// <summary>The differences for the given step ids, one sentence each; empty when all match.</summary>
    public IReadOnlyList<string> DifferencesTo(FlowShape target, IEnumerable<string> stepIds)
    {
        var differences = new List<string>();
        foreach (var id in stepIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var from = Describe(id);
            var to = target.Describe(id);
            if (from == to) continue;
            differences.Add(to is null
                ? $"step '{id}' ({from ?? "unknown"}) is missing from the target"
                : $"step '{id}' is {from ?? "unknown"} in the run's definition but {to} in the target");
        }
        return differences;
    }

    private static void Walk(IReadOnlyList<FlowNodeDescription> steps, string prefix, Dictionary<string, string> nodes)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var path = prefix + i.ToString(CultureInfo.InvariantCulture);
            nodes[step.Id] = $"{step.Kind} at {path}";
            foreach (var branch in step.Branches) Walk(branch.Steps, $"{path}/{(branch.IsDefault ? "*" : branch.Name)}/", nodes);
            if (step.Join is { } join) nodes[join.Id] = $"{join.Kind} at {path}/join";
            Walk(step.Steps, $"{path}/body/", nodes);
        }
    }
}
