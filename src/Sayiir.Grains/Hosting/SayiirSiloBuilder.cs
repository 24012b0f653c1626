namespace Sayiir.Hosting;

/// <summary>Configures Sayiir on a silo: the workflows it runs and where runs are stored.</summary>
public sealed class SayiirSiloBuilder
{
    // Created by AddSayiir and handed to its callback (and to ISayiirModule.Configure); users never create one.
    internal SayiirSiloBuilder() { }

    internal List<WorkflowDefinition> Workflows { get; } = [];

    internal string? PostgresConnectionString { get; private set; }

    internal bool InstallSchema { get; private set; } = true;

    internal Action<SayiirOptions>? ConfigureOptions { get; private set; }

    /// <summary>Registers a workflow. Every silo of a cluster must register the same workflows.</summary>
    public SayiirSiloBuilder AddWorkflow(WorkflowDefinition workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        Workflows.Add(workflow);
        return this;
    }

    /// <summary>
    /// Stores runs and recovery reminders in PostgreSQL through Orleans' ADO.NET providers (instead of the
    /// in-memory default). The schema is installed idempotently at silo start-up unless
    /// <paramref name="installSchema"/> is false.
    /// </summary>
    public SayiirSiloBuilder UsePostgres(string connectionString, bool installSchema = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        PostgresConnectionString = connectionString;
        InstallSchema = installSchema;
        return this;
    }

    /// <summary>Adjusts engine options (recovery reminder period, inline window, ...).</summary>
    public SayiirSiloBuilder Configure(Action<SayiirOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ConfigureOptions += configure;
        return this;
    }
}
