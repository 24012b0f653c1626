using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using Npgsql;
using Sayiir.Testing;

namespace Sayiir.Dashboard.Tests;

[CollectionDefinition(Name)]
public sealed class DashboardGroup : ICollectionFixture<DashboardFixture>
{
    public const string Name = "Dashboard";
}

[CollectionDefinition(Name)]
public sealed class PostgresDashboardGroup : ICollectionFixture<PostgresDashboardFixture>
{
    public const string Name = "Dashboard on PostgreSQL";
}

/// <summary>The same, with the cluster on PostgreSQL: a fresh database, dropped at the end.</summary>
public sealed class PostgresDashboardFixture : DashboardFixture
{
    private string? _database;

    protected override async Task<string?> PostgresAsync()
    {
        var admin = Environment.GetEnvironmentVariable("SAYIIR_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
            throw new InvalidOperationException("SAYIIR_TEST_POSTGRES is not set: run the tests with `bash eng/test.sh`, which provisions PostgreSQL.");
        var name = $"sayiir_dashboard_{Guid.NewGuid():n}"[..40];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        _database = name;
        return new NpgsqlConnectionStringBuilder(admin) { Database = name, ConnectionIdleLifetime = 5, ConnectionPruningInterval = 1 }.ConnectionString;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is null) return;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable("SAYIIR_TEST_POSTGRES"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// One in-process cluster (Sayiir.Testing) with the test workflows, a dashboard app with the default options on a real
/// Kestrel socket, and (on first use) Debian's Chromium driven by Playwright.
/// </summary>
public class DashboardFixture : IAsyncLifetime
{
    private readonly Lazy<Task<IBrowser>> _browser;
    private IPlaywright? _playwright;

    public DashboardFixture() => _browser = new Lazy<Task<IBrowser>>(LaunchBrowserAsync);

    public SayiirTestEnvironment Env { get; private set; } = null!;

    public DashboardApp App { get; private set; } = null!;

    public ISayiirClient Client => Env.Client;

    /// <summary>The PostgreSQL connection string of the cluster's database; null for the in-memory backend.</summary>
    protected virtual Task<string?> PostgresAsync() => Task.FromResult<string?>(null);

    public async Task InitializeAsync()
    {
        var postgres = await PostgresAsync();
        Env = await SayiirTestEnvironment.StartAsync(o =>
        {
            foreach (var workflow in Workflows.All) o.AddWorkflow(workflow);
            o.PostgresConnectionString = postgres;
        });
        Workflows.Clock = Env.Time;
        App = await DashboardApp.StartAsync(Env.Client, clock: Env.Time);
    }

    /// <summary>The shared browser; a missing Chromium fails the test with the command that installs it.</summary>
    public Task<IBrowser> BrowserAsync() => _browser.Value;

    private async Task<IBrowser> LaunchBrowserAsync()
    {
        {
            var path = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } p ? p : "/usr/bin/chromium";
            if (!File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"Chromium is not installed at {path}: the browser tests need it. Install it with " +
                    "'apt-get install -y --no-install-recommends chromium' (as root; eng/test.sh does this itself), " +
                    "or set CHROMIUM_PATH to a Chromium executable.");
            }
            // eng/test.sh runs this project beside the engine's tests on a small machine: be patient with a busy CPU.
            Assertions.SetDefaultExpectTimeout(15_000);
            _playwright = await Playwright.CreateAsync();
            return await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = path, Headless = true });
        }
    }

    public async Task<WorkflowStatus> WaitForStateAsync(string instanceId, params WorkflowState[] states)
    {
        WorkflowStatus status = null!;
        await Wait.UntilAsync(async () =>
        {
            status = await Client.GetStatusAsync(instanceId);
            return states.Contains(status.State);
        }, $"run {instanceId} to be {string.Join(" or ", states)}");
        return status;
    }

    public virtual async Task DisposeAsync()
    {
        if (_browser.IsValueCreated && _browser.Value.IsCompletedSuccessfully) await (await _browser.Value).DisposeAsync();
        _playwright?.Dispose();
        await App.DisposeAsync();
        await Env.DisposeAsync();
    }
}

/// <summary>A web app that mounts the dashboard at /sayiir, on Kestrel at 127.0.0.1 with a free port.</summary>
public sealed class DashboardApp : IAsyncDisposable
{
    /// <summary>A request with this header is treated as coming from that address (as forwarded headers would).</summary>
    public const string RemoteIpHeader = "X-Test-Remote-Ip";

    private readonly WebApplication _app;

    private DashboardApp(WebApplication app, Uri root)
    {
        _app = app;
        Root = root;
        Http = new HttpClient { BaseAddress = root };
    }

    /// <summary>The dashboard's address, ending in "/sayiir/".</summary>
    public Uri Root { get; }

    /// <summary>A client whose base address is <see cref="Root"/>.</summary>
    public HttpClient Http { get; }

    public static async Task<DashboardApp> StartAsync(ISayiirClient client, Action<SayiirDashboardOptions>? options = null,
        bool authentication = false, Action<IEndpointConventionBuilder>? map = null, TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(client);
        // The dashboard's "last hour" is the app's clock: the cluster's virtual one here.
        if (clock is not null) builder.Services.AddSingleton(clock);
        builder.Services.AddSayiirDashboard(options);
        if (authentication)
        {
            builder.Services.AddAuthentication(TestAuthentication.SchemeName)
                .AddScheme<AuthenticationSchemeOptions, TestAuthentication>(TestAuthentication.SchemeName, null);
            builder.Services.AddAuthorizationBuilder()
                .AddPolicy("readers", p => p.RequireRole("reader"))
                .AddPolicy("operators", p => p.RequireRole("operator"))
                .AddPolicy("staff", p => p.RequireRole("staff"));
        }
        var app = builder.Build();
        app.Use((http, next) =>
        {
            if (http.Request.Headers.TryGetValue(RemoteIpHeader, out var ip)) http.Connection.RemoteIpAddress = IPAddress.Parse(ip.ToString());
            return next(http);
        });
        if (authentication)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        var endpoints = app.MapSayiirDashboard("/sayiir");
        map?.Invoke(endpoints);
        await app.StartAsync();
        return new DashboardApp(app, new Uri(app.Urls.Single().TrimEnd('/') + "/sayiir/"));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
    }
}

/// <summary>Authenticates "X-Test-User: name:role1,role2".</summary>
public sealed class TestAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Test";
    public const string Header = "X-Test-User";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var value)) return Task.FromResult(AuthenticateResult.NoResult());
        var parts = value.ToString().Split(':');
        var claims = new List<Claim> { new(ClaimTypes.Name, parts[0]) };
        if (parts.Length > 1) claims.AddRange(parts[1].Split(',').Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
