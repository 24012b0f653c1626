using System.Globalization;

namespace Sayiir;

/// <summary>The order of version labels (see <see cref="WorkflowDefinition.Version"/>): the latest is the greatest.</summary>
internal static class WorkflowVersions
{
    public static readonly IComparer<string?> Order = Comparer<string?>.Create(Compare);

    public static int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y) || x == y) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var xParts = NumericParts(x);
        var yParts = NumericParts(y);
        if (xParts is not null && yParts is not null)
        {
            for (var i = 0; i < Math.Max(xParts.Length, yParts.Length); i++)
            {
                var a = i < xParts.Length ? xParts[i] : 0;
                var b = i < yParts.Length ? yParts[i] : 0;
                if (a != b) return a.CompareTo(b);
            }
            // "1.0" and "1": equal numerically, still distinct labels.
            return string.CompareOrdinal(x, y);
        }
        if (xParts is not null) return -1;
        if (yParts is not null) return 1;
        return string.CompareOrdinal(x, y);
    }

    /// <summary>Formats a label for messages: "v2", or "(unversioned)".</summary>
    public static string Display(string? version) => version is null ? "(unversioned)" : $"v{version}";

    private static long[]? NumericParts(string label)
    {
        var parts = label.Split('.');
        var numbers = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0 || !parts[i].All(char.IsAsciiDigit)
                || !long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i])) return null;
        }
        return numbers;
    }
}
