// Sayiir.Chaos: the multi-process chaos test (run it with eng/chaos-test.sh, which provisions PostgreSQL and builds).
//
// Three Sayiir.Silo processes (this assembly is their module, see ChaosModule) on PostgreSQL storage, reminders and
// clustering with fast membership settings; an Orleans client starts N runs of the chaos workflow over the chaos
// window and signals each at a random time; meanwhile a random silo is killed with SIGKILL every 5–8 s and replaced
// by a new silo on new ports, and PostgreSQL is restarted once with an immediate (crash) shutdown. Then every run must
// complete with its exact expected output and the invariants in Invariants.cs must hold. The last line printed starts
// with "chaos-test: PASS" or "chaos-test: FAIL <reason>"; exit status 0 only on PASS.
using System.Diagnostics;
using System.Globalization;
using Sayiir.Chaos;

DriverSettings settings;
try
{
    settings = DriverSettings.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    await Console.Error.WriteLineAsync($"Sayiir.Chaos: invalid arguments: {ex.Message}");
    Console.WriteLine($"chaos-test: FAIL invalid arguments: {ex.Message}");
    return 2;
}

var clock = Stopwatch.StartNew();
await using var driver = new ChaosDriver(settings, clock);
string verdict;
try
{
    var failures = await driver.RunAsync();
    verdict = failures.Count == 0 ? "PASS" : "FAIL " + string.Join("; ", failures);
}
catch (ChaosFailure ex)
{
    verdict = "FAIL " + ex.Message;
}
catch (Exception ex)
{
    verdict = $"FAIL unexpected {ex.GetType().Name}: {ex.Message}";
    await Console.Error.WriteLineAsync(ex.ToString());
}
await driver.DisposeAsync();
var line = string.Create(CultureInfo.InvariantCulture, $"chaos-test: {verdict} (wall time {clock.Elapsed.TotalSeconds:F1} s, seed {settings.Seed})");
Console.WriteLine(line);
await File.WriteAllTextAsync(Path.Combine(settings.WorkDir, "verdict.txt"), line + "\n");
return verdict == "PASS" ? 0 : 1;
