using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sayiir.Hosting;

namespace Sayiir.Chaos;

/// <summary>Settings of the chaos tasks on a silo, bound from the <c>Chaos</c> configuration section.</summary>
public sealed class ChaosModuleOptions
{
    /// <summary><c>Chaos:LogPostgres</c>: connection string of the database holding <c>chaos_exec</c>. Required.</summary>
    public string? LogPostgres { get; set; }

    /// <summary><c>Chaos:MinWork</c> / <c>Chaos:MaxWork</c>: each task works a random time in this range.</summary>
    public TimeSpan MinWork { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <inheritdoc cref="MinWork"/>
    public TimeSpan MaxWork { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary><c>Chaos:LogRetryLimit</c>: how long a log write is retried (e.g. through a PostgreSQL restart) before the task fails.</summary>
    public TimeSpan LogRetryLimit { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(LogPostgres)) throw new ValidationException("Chaos:LogPostgres is required.");
        if (MinWork < TimeSpan.Zero || MaxWork < MinWork) throw new ValidationException($"Chaos:MinWork/MaxWork must satisfy 0 <= MinWork <= MaxWork (were {MinWork}, {MaxWork}).");
    }
}

/// <summary>
/// Registers the chaos workflow and the execution log on a silo. Loaded by <c>Sayiir.Silo</c> with
/// <c>--Sayiir:Modules path/to/Sayiir.Chaos.dll</c> (the driver passes its own assembly).
/// </summary>
public sealed class ChaosModule : ISayiirModule
{
    /// <inheritdoc />
    public void Configure(SayiirSiloBuilder sayiir, IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(sayiir);
        ArgumentNullException.ThrowIfNull(services);
        sayiir.AddWorkflow(ChaosWorkflow.Definition);
        services.AddOptions<ChaosModuleOptions>().BindConfiguration("Chaos")
            .Validate(o => { o.Validate(); return true; }).ValidateOnStart();
        services.AddSingleton(sp => new ExecLog(sp.GetRequiredService<IOptions<ChaosModuleOptions>>().Value));
    }
}
