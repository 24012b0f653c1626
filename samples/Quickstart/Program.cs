// Sayiir quickstart: a two-step onboarding workflow in a co-hosted silo with the embedded (in-memory) default.
// Run it with:  dotnet run --project samples/Quickstart
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sayiir;
using Quickstart;
using Sayiir.Hosting;

var onboarding = Flow.Create<int>("user_onboarding")
    .Then("fetch_user", async (int id, TaskContext ctx) => await UserDirectory.GetAsync(id, ctx),
        o => o.Retry = RetryPolicy.Exponential(maxAttempts: 3, initialDelay: TimeSpan.FromMilliseconds(200)))
    .Then<SendWelcomeEmail, string>()
    .Build();

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
builder.Services.AddSingleton<IMailer, ConsoleMailer>();
builder.UseOrleans(silo => silo
    .UseLocalhostClustering()
    .AddSayiir(s => s.AddWorkflow(onboarding)));

using var host = builder.Build();
await host.StartAsync();

var sayiir = host.Services.GetRequiredService<ISayiirClient>();
var result = await sayiir.RunAsync(onboarding, input: 42, instanceId: $"onboard-42-{Guid.NewGuid():n}");
Console.WriteLine($"Workflow result: {result}");

await host.StopAsync();

namespace Quickstart
{
    /// <summary>A user record.</summary>
    public sealed record User(int Id, string Name, string Email);

    /// <summary>A flaky user directory: the first call fails, so the retry policy is exercised.</summary>
    internal static class UserDirectory
    {
        public static async Task<User> GetAsync(int id, TaskContext context)
        {
            await Task.Delay(10, context.CancellationToken);
            if (context.Attempt == 1)
            {
                Console.WriteLine($"fetch_user attempt {context.Attempt}: directory timed out, will retry");
                throw new TimeoutException("user directory did not answer");
            }
            Console.WriteLine($"fetch_user attempt {context.Attempt}: found user {id}");
            return new User(id, $"User {id}", $"user{id}@example.com");
        }
    }

    /// <summary>Sends mail; registered in DI so tasks can take it in their constructors.</summary>
    public interface IMailer
    {
        /// <summary>Sends one message.</summary>
        Task SendAsync(string recipient, string subject, CancellationToken cancellationToken);
    }

    internal sealed class ConsoleMailer : IMailer
    {
        public Task SendAsync(string recipient, string subject, CancellationToken cancellationToken)
        {
            Console.WriteLine($"send_welcome_email: mail to {recipient}: {subject}");
            return Task.CompletedTask;
        }
    }

    /// <summary>A class task resolved from dependency injection.</summary>
    internal sealed class SendWelcomeEmail(IMailer mailer) : IWorkflowTask<User, string>
    {
        public async Task<string> ExecuteAsync(User input, TaskContext context)
        {
            await mailer.SendAsync(input.Email, $"Welcome, {input.Name}!", context.CancellationToken);
            return $"welcome email sent to {input.Email}";
        }
    }
}
