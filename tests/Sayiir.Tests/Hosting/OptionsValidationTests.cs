using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Sayiir.Hosting;

namespace Sayiir.Tests.Hosting;

/// <summary>Invalid <see cref="SayiirOptions"/> and <see cref="SayiirClientOptions"/> fail the host's start, by name.</summary>
public sealed class OptionsValidationTests
{
    private static readonly WorkflowDefinition<int, int> Increment = Flow.Create<int>("hosting_options_increment")
        .Then("increment", (int x) => x + 1)
        .Build();

    [Theory]
    [InlineData("RecoveryReminderPeriod", "00:00:00", "must be positive")]
    [InlineData("RecoveryReminderPeriod", "-00:01:00", "must be positive")]
    [InlineData("InlineResultWindow", "00:00:00", "must be positive")]
    [InlineData("InlineResultWindow", "-00:00:01", "must be positive")]
    [InlineData("MaxStorageRetryDelay", "00:00:00", "must be positive")]
    [InlineData("HandoffTimeout", "-00:00:01", "must be within [00:00:00, 00:10:00]")]
    [InlineData("HandoffTimeout", "00:10:01", "must be within [00:00:00, 00:10:00]")]
    public async Task StartSilo_InvalidEngineOptionInConfiguration_FailsNamingOptionAndValue(string option, string value, string rule)
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Increment)), new Dictionary<string, string?> { [$"Sayiir:{option}"] = value });
        using var host = silo.Builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHosts.StartAsync(host));

        Assert.Equal(typeof(SayiirOptions), ex.OptionsType);
        var failure = Assert.Single(ex.Failures);
        Assert.Contains($"SayiirOptions.{option}", failure, StringComparison.Ordinal);
        Assert.Contains(rule, failure, StringComparison.Ordinal);
        Assert.Contains($"(was {TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)})", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartSilo_InvalidOptionsFromConfigure_FailsListingEveryProblem()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Increment).Configure(o =>
        {
            o.InlineResultWindow = TimeSpan.Zero;
            o.MaxStorageRetryDelay = TimeSpan.FromSeconds(-2);
        })));
        using var host = silo.Builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHosts.StartAsync(host));

        Assert.Equal(2, ex.Failures.Count());
        Assert.Contains("SayiirOptions.InlineResultWindow must be positive (was 00:00:00)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SayiirOptions.MaxStorageRetryDelay must be positive (was -00:00:02)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartSilo_InvalidConcurrencyLimits_FailsNamingEachLimit()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Increment).Configure(o =>
        {
            o.WorkflowConcurrencyLimits[Increment.Name] = 0;
            o.ConcurrencyKeyLimits[" "] = 3;
            o.ConcurrencyKeyLimits["partner-api"] = 100_001;
        })));
        using var host = silo.Builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHosts.StartAsync(host));

        Assert.Equal(3, ex.Failures.Count());
        Assert.Contains($"SayiirOptions.WorkflowConcurrencyLimits['{Increment.Name}'] must be within [1, 100000] (was 0)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SayiirOptions.ConcurrencyKeyLimits has an empty or over-long", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SayiirOptions.ConcurrencyKeyLimits['partner-api'] must be within [1, 100000] (was 100001)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartSilo_ConcurrencyLimitsFromConfiguration_AreBoundAndValidated()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Increment)), new Dictionary<string, string?>
        {
            ["Sayiir:WorkflowConcurrencyLimits:hosting_options_increment"] = "0",
            ["Sayiir:ConcurrencyKeyLimits:partner-api"] = "100001",
        });
        using var host = silo.Builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHosts.StartAsync(host));

        Assert.Equal(2, ex.Failures.Count());
        Assert.Contains("SayiirOptions.WorkflowConcurrencyLimits['hosting_options_increment'] must be within [1, 100000] (was 0)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SayiirOptions.ConcurrencyKeyLimits['partner-api'] must be within [1, 100000] (was 100001)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartSilo_PlacementOptionsFromConfiguration_AreBoundAndValidated()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Increment)), new Dictionary<string, string?>
        {
            ["Sayiir:Tags:0"] = "gpu",
            ["Sayiir:Tags:1"] = " ",
            ["Sayiir:MaxConcurrentAttempts"] = "0",
            ["Sayiir:PriorityAgingInterval"] = "00:00:00",
        });
        using var host = silo.Builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHosts.StartAsync(host));

        Assert.Equal(3, ex.Failures.Count());
        // Bound from Sayiir:Tags:N ("gpu" is valid, so only the blank one is reported).
        Assert.Contains("SayiirOptions.Tags has an empty or over-long (> 64 characters) tag (' ')", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SayiirOptions.MaxConcurrentAttempts must be within [1, 100000] (was 0)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SayiirOptions.PriorityAgingInterval must be positive (was 00:00:00)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LimitConcurrency_InvalidArguments_ThrowBeforeAnythingIsConfigured()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => w.LimitConcurrency(Increment.Name, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => w.LimitConcurrencyKey("partner-api", 100_001));
            Assert.Throws<ArgumentException>(() => w.LimitConcurrency(" ", 2));
            Assert.ThrowsAny<ArgumentException>(() => w.LimitConcurrencyKey(null!, 2));
            w.AddWorkflow(Increment).LimitConcurrency(Increment.Name, 2).LimitConcurrencyKey("partner-api", 5);
        }));
        using var host = silo.Builder.Build();

        var options = host.Services.GetRequiredService<IOptions<SayiirOptions>>().Value;

        Assert.Equal(2, options.WorkflowConcurrencyLimits[Increment.Name]);
        Assert.Equal(5, Assert.Single(options.ConcurrencyKeyLimits).Value);
    }

    [Fact]
    public async Task StartSilo_RecoveryReminderPeriodBelowOrleansMinimum_FailsNamingBothOptions()
    {
        // Orleans' minimum stays at its 1-minute default: it would refuse every run's recovery reminder.
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Increment).Configure(o => o.RecoveryReminderPeriod = TimeSpan.FromSeconds(30))));
        using var host = silo.Builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHosts.StartAsync(host));

        var failure = Assert.Single(ex.Failures);
        Assert.Contains("SayiirOptions.RecoveryReminderPeriod (00:00:30)", failure, StringComparison.Ordinal);
        Assert.Contains("ReminderOptions.MinimumReminderPeriod (00:01:00)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartClient_NonPositiveResultPollWindow_FailsNamingOptionBeforeConnecting()
    {
        // No silo listens on this cluster's gateway: only validation at start can fail the start this quickly and
        // with this exception (a connection attempt would fail with a connection error instead).
        var silo = TestHosts.Silo(_ => { });
        var client = TestHosts.Client(silo);
        client.Services.AddSayiirClient(o => o.ResultPollWindow = TimeSpan.FromSeconds(-1));
        using var host = client.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHosts.StartAsync(host));

        Assert.Equal(typeof(SayiirClientOptions), ex.OptionsType);
        Assert.Equal("SayiirClientOptions.ResultPollWindow must be positive (was -00:00:01).", Assert.Single(ex.Failures));
    }

    [Fact]
    public async Task StartSiloAndClient_DefaultOptions_StartAndRunAWorkflow()
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Increment)));
        var siloHost = silo.Builder.Build();
        try
        {
            await TestHosts.StartAsync(siloHost);
            var defaults = new SayiirOptions();
            var options = siloHost.Services.GetRequiredService<IOptions<SayiirOptions>>().Value;
            Assert.Equal(defaults.RecoveryReminderPeriod, options.RecoveryReminderPeriod);
            Assert.Equal(defaults.HandoffTimeout, options.HandoffTimeout);
            // The hand-off window is covered by Orleans' deactivation timeout (2 × 10 s + 5 s).
            Assert.True(siloHost.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value.DeactivationTimeout >= TimeSpan.FromSeconds(25));

            var client = TestHosts.Client(silo);
            client.Services.AddSayiirClient();
            var clientHost = client.Build();
            try
            {
                await TestHosts.StartAsync(clientHost);
                var sayiir = clientHost.Services.GetRequiredService<ISayiirClient>();
                Assert.Equal(42, await sayiir.RunAsync(Increment, 41, $"defaults-{Guid.NewGuid():n}"));
            }
            finally
            {
                await TestHosts.StopAsync(clientHost);
            }
        }
        finally
        {
            await TestHosts.StopAsync(siloHost);
        }
    }
}
