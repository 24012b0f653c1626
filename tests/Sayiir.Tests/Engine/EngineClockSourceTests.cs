using System.Text.RegularExpressions;

namespace Sayiir.Tests.Engine;

/// <summary>
/// Every instant and timer of <c>src/</c> is decided: engine time goes through the injected <see cref="TimeProvider"/>,
/// and each deliberate wall-clock site says why with a <c>// wall clock:</c> comment on its line or the line above.
/// </summary>
public sealed partial class EngineClockSourceTests
{
    private const string Marker = "// wall clock:";

    [Fact]
    public void Sources_ReadTimeOnlyThroughTimeProviderOrMarkedWallClock_NoUndecidedSite()
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"))
            .ToList();
        Assert.NotEmpty(files);

        var offenders = new List<string>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                if (line.TrimStart().StartsWith("//", StringComparison.Ordinal)) continue;
                var marked = line.Contains(Marker, StringComparison.Ordinal) || (i > 0 && lines[i - 1].Contains(Marker, StringComparison.Ordinal));
                if (IsUndecided(line, marked)) offenders.Add($"{Path.GetRelativePath(src, file)}:{i + 1}: {line.Trim()}");
            }
        }
        Assert.True(offenders.Count == 0, "Time read or waited on outside the engine's TimeProvider, without a '" + Marker + "' reason:\n" + string.Join("\n", offenders));
    }

    [Theory]
    [InlineData("var now = DateTimeOffset.UtcNow;", false, true)]
    [InlineData("var now = DateTime.UtcNow;", false, true)]
    [InlineData("var now = DateTime.Now;", false, true)]
    [InlineData("await Task.Delay(delay, token);", false, true)]
    [InlineData("await Task.Delay(delay);", false, true)]
    [InlineData("await Task.Delay(delay, TimeProvider.System, token);", false, true)]
    [InlineData("await Task.Delay(delay, TimeProvider.System, token);", true, false)]
    [InlineData("await Task.Delay(Clamp(at - now), _time, timer.Token);", false, false)]
    [InlineData("var now = _time.GetUtcNow();", false, false)]
    public void IsUndecided_Samples_FlagsWallClockReadsAndUnprovidedDelays(string line, bool marked, bool expected) =>
        Assert.Equal(expected, IsUndecided(line, marked));

    /// <summary>A wall-clock read, a delay without the engine's provider, or <c>TimeProvider.System</c>, unmarked.</summary>
    private static bool IsUndecided(string line, bool marked)
    {
        if (marked) return false;
        if (WallClockRead().IsMatch(line) || line.Contains("TimeProvider.System", StringComparison.Ordinal)) return true;
        return line.Contains("Task.Delay(", StringComparison.Ordinal) && !line.Contains("_time", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\bDateTime(Offset)?\.(UtcNow|Now)\b")]
    private static partial Regex WallClockRead();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sayiir.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No Sayiir.sln above {AppContext.BaseDirectory}.");
    }
}
