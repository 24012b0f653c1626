// Tasks log the way applications do, with the ILogger extension methods (not source-generated messages).
#pragma warning disable CA1848, CA1873
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Sayiir.Hosting;
using Sayiir.Runtime;

namespace Sayiir.Tests.Hosting;

/// <summary>The task-log and observer options are checked by name; the task logger's capture rules.</summary>
public sealed class ObservabilityOptionsTests
{
    private static readonly WorkflowDefinition<int, int> Increment = Flow.Create<int>("hosting_observability_increment")
        .Then("increment", (int x) => x + 1)
        .Build();

    [Theory]
    [InlineData("TaskLogMaxLines", "0", "must be within [1, 10000]")]
    [InlineData("TaskLogMaxLines", "10001", "must be within [1, 10000]")]
    [InlineData("TaskLogMaxBytes", "1023", "must be within [1024, 1048576]")]
    [InlineData("RunObserverQueueCapacity", "0", "must be within [1, 1000000]")]
    [InlineData("MaxPayloadBytes", "1023", "must be within [1024, 67108864]")]
    [InlineData("MaxPayloadBytes", "67108865", "must be within [1024, 67108864]")]
    public async Task StartSilo_InvalidObservabilityOption_FailsNamingOptionAndValue(string option, string value, string rule)
    {
        var silo = TestHosts.Silo(s => s.AddSayiir(w => w.AddWorkflow(Increment)), new Dictionary<string, string?> { [$"Sayiir:{option}"] = value });
        using var host = silo.Builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHosts.StartAsync(host));

        var failure = Assert.Single(ex.Failures);
        Assert.Equal($"SayiirOptions.{option} {rule} (was {value}).", failure);
    }

    [Fact]
    public void AddWebhookNotifier_InvalidOptions_ThrowsListingEveryProblem()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => new SayiirSiloBuilder().AddWebhookNotifier(o =>
        {
            o.Url = new Uri("ftp://example.com/hook");
            o.States = [WorkflowState.NotFound];
            o.MaxAttempts = 0;
            o.InitialBackoff = TimeSpan.FromSeconds(2);
            o.MaxBackoff = TimeSpan.FromSeconds(1);
        }));

        Assert.Equal(typeof(WebhookNotifierOptions), ex.OptionsType);
        Assert.Equal(
            ["WebhookNotifierOptions.Url must be an absolute http or https URL (was ftp://example.com/hook).",
             "WebhookNotifierOptions.States may not contain NotFound (runs never change to it).",
             "WebhookNotifierOptions.MaxAttempts must be within [1, 100] (was 0).",
             "WebhookNotifierOptions.MaxBackoff (00:00:01) must be at least InitialBackoff (00:00:02)."],
            ex.Failures);
    }

    [Fact]
    public void AddWebhookNotifier_NoUrl_Throws()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => new SayiirSiloBuilder().AddWebhookNotifier(_ => { }));

        Assert.Equal("WebhookNotifierOptions.Url must be an absolute http or https URL (was null).", Assert.Single(ex.Failures));
    }

    [Fact]
    public void TaskAttemptLogger_LowLevelsAndLinesAfterDrain_AreForwardedButNotKept()
    {
        var forwarded = new List<string>();
        var logger = new TaskAttemptLogger(new ListLogger(forwarded), new FakeTimeProvider(), new TaskLogLimits(100, 16 * 1024, LogLevel.Information),
            new TaskLogScope("wf", "run-1", "task", 1));

        logger.LogDebug("debug line");
        logger.LogError(new InvalidOperationException("boom"), "error line {N}", 1);
        var kept = logger.Drain();
        logger.LogInformation("late line");

        Assert.Equal(["debug line", "error line 1", "late line"], forwarded);
        var line = Assert.Single(kept!);
        Assert.Equal("error line 1", line.Message);
        Assert.Equal("Error", line.LevelName);
        Assert.Equal("System.InvalidOperationException: boom", line.Exception);
        Assert.Null(logger.Drain());
    }

    [Fact]
    public void TaskAttemptLogger_MinimumLevelNone_KeepsNothing()
    {
        var logger = new TaskAttemptLogger(NullLogger.Instance, new FakeTimeProvider(), new TaskLogLimits(100, 16 * 1024, LogLevel.None),
            new TaskLogScope("wf", "run-1", "task", 1));

        logger.LogCritical("critical line");

        Assert.Null(logger.Drain());
    }

    private sealed class ListLogger(List<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Add(formatter(state, exception));
    }
}
