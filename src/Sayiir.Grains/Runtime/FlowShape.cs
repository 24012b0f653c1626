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

    /// <summary>The position in the top-level chain of the step that is or holds <paramref name="nodeId"/>, or null when there is no such node.</summary>
    public int? TopPosition(string nodeId) => Place(nodeId) is { } place ? Top(place.Path) : null;

    /// <summary>
    /// The ids a run's Done held for its first <paramref name="cursor"/> top-level steps, finished as a whole: their leaves
    /// (not forks, routes or child flows, which record nothing of their own), of a route only those of the branch its
    /// key (<paramref name="routeKey"/>, by route id) chose.
    /// </summary>
    public IEnumerable<string> FinishedIdsBefore(int cursor, Func<string, string?> routeKey)
    {
        var places = _nodes.Keys.Select(id => (Id: id, Place: Place(id)!.Value)).Where(n => Top(n.Place.Path) < cursor).ToList();
        // The path prefix of each branch not taken: "2/no/" of route at 2 which chose "yes".
        var notTaken = new List<string>();
        foreach (var (id, (kind, path)) in places)
        {
            if (kind != nameof(FlowNodeKind.Route)) continue;
            var key = routeKey(id);
            var chosen = key is not null && places.Exists(n => n.Place.Path.StartsWith($"{path}/{key}/", StringComparison.Ordinal)) ? key : "*";
            foreach (var (_, (_, other)) in places)
            {
                if (!other.StartsWith(path + "/", StringComparison.Ordinal)) continue;
                var branch = other[(path.Length + 1)..].Split('/')[0];
                if (key is null || branch != chosen) notTaken.Add($"{path}/{branch}/");
            }
        }
        return places
            .Where(n => n.Place.Kind is not (nameof(FlowNodeKind.Fork) or nameof(FlowNodeKind.Route) or nameof(FlowNodeKind.ChildFlow)))
            .Where(n => !notTaken.Exists(prefix => n.Place.Path.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(n => n.Id);
    }

    // "Task at 2/approve/0" → (Task, 2/approve/0).
    private (string Kind, string Path)? Place(string nodeId)
    {
        if (Describe(nodeId) is not { } description) return null;
        var at = description.IndexOf(" at ", StringComparison.Ordinal);
        return at < 0 ? null : (description[..at], description[(at + 4)..]);
    }

    private static int Top(string path) => int.Parse(path.Split('/')[0], NumberStyles.None, CultureInfo.InvariantCulture);

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
