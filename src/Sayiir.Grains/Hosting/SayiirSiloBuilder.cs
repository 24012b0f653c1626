using Sayiir.Persistence;
using Sayiir.Runtime.Schedules;

namespace Sayiir.Hosting;

/// <summary>Configures Sayiir on a silo: the workflows it runs and where runs are stored.</summary>
public sealed class SayiirSiloBuilder
{
    // Created by AddSayiir and handed to its callback (and to ISayiirModule.Configure); users never create one.
    internal SayiirSiloBuilder() { }

    internal List<WorkflowDefinition> Workflows { get; } = [];

    internal SayiirStorageChoice? Storage { get; private set; }

    internal Action<SayiirOptions>? ConfigureOptions { get; private set; }

    internal List<Type> TaskFilters { get; } = [];

    internal List<Type> RunObservers { get; } = [];

    internal List<WebhookNotifierOptions> Webhooks { get; } = [];

    internal List<ScheduleDeclaration> Schedules { get; } = [];

    /// <summary>The keyring or key provider type chosen by <c>UseEncryption</c> (null: no encryption).</summary>
    internal object? Encryption { get; private set; }

    /// <summary>Registers a workflow. Every silo of a cluster must register the same workflows.</summary>
    public SayiirSiloBuilder AddWorkflow(WorkflowDefinition workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        Workflows.Add(workflow);
        return this;
    }

    /// <summary>
    /// Declares a durable schedule that starts a run of <paramref name="workflow"/> (registered by this call too) with
    /// <paramref name="input"/> at each tick of <paramref name="spec"/>. At each silo start the stored schedule of that id
    /// is created when missing, or updated when its spec, workflow or input differ from this declaration (never
    /// duplicated); its pause state and the ticks it handled are kept. Removing the declaration does not delete the
    /// stored schedule: delete it with <see cref="ISayiirClient.DeleteScheduleAsync"/>.
    /// </summary>
    /// <exception cref="InvalidScheduleException">The id or the spec is invalid (a bad cron expression, say; the message names it).</exception>
    /// <exception cref="InvalidOperationException">A schedule of that id was already declared differently.</exception>
    public SayiirSiloBuilder AddSchedule<TInput, TOutput>(string scheduleId, ScheduleSpec spec, WorkflowDefinition<TInput, TOutput> workflow, TInput input)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(workflow);
        ScheduleTimes.Parse(scheduleId, spec);
        var declaration = new ScheduleDeclaration(scheduleId, spec, workflow, input);
        if (Schedules.FirstOrDefault(d => d.ScheduleId == scheduleId) is { } earlier)
        {
            if (earlier == declaration) return this;
            throw new InvalidOperationException($"Schedule '{scheduleId}' is already declared ({earlier.Spec.Describe()}, workflow '{earlier.Workflow.Name}'); declare each schedule id once.");
        }
        Schedules.Add(declaration);
        return AddWorkflow(workflow);
    }

    /// <summary>
    /// Stores runs and recovery reminders in PostgreSQL through Orleans' ADO.NET providers (instead of the
    /// in-memory default). The schema is installed idempotently at silo start-up unless
    /// <paramref name="installSchema"/> is false. Calling it again with the same arguments changes nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">It was already called with other arguments.</exception>
    public SayiirSiloBuilder UsePostgres(string connectionString, bool installSchema = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var choice = new SayiirStorageChoice(connectionString, installSchema);
        if (Storage is { } earlier && earlier != choice)
        {
            throw new InvalidOperationException(
                $"UsePostgres was already called with {SayiirStorageChoice.Describe(earlier)}; a second call with {SayiirStorageChoice.Describe(choice)} " +
                "(a different connection string or installSchema) would replace it. Choose one storage per silo.");
        }
        Storage = choice;
        return this;
    }

    /// <summary>
    /// Encrypts what this silo stores in PostgreSQL with AES-256-GCM and the keys of <paramref name="keyring"/>: run
    /// states (inputs, task outputs, signal payloads, failures), and history rows' outputs, details and messages (task
    /// log lines included). New writes use the active key; data written with any key of the keyring, or in clear before
    /// encryption was enabled, stays readable. Data sealed with a key the keyring lacks fails to read with
    /// <see cref="PayloadKeyNotFoundException"/>. The in-memory storage is not encrypted (nothing is at rest).
    /// Every silo of a cluster must know every key in use. Calling it again with the same keyring changes nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">It was already called with another keyring or provider.</exception>
    public SayiirSiloBuilder UseEncryption(PayloadKeyring keyring)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        return ChooseEncryption(keyring);
    }

    /// <summary>
    /// Like <see cref="UseEncryption(PayloadKeyring)"/>, with keys from <typeparamref name="TProvider"/>, a singleton
    /// resolved from the silo's services (its constructor may take singletons). Its active key is checked when the
    /// silo starts: a missing or malformed key fails the start-up.
    /// </summary>
    /// <exception cref="InvalidOperationException">It was already called with another keyring or provider.</exception>
    public SayiirSiloBuilder UseEncryption<TProvider>() where TProvider : class, IPayloadKeyProvider => ChooseEncryption(typeof(TProvider));

    private SayiirSiloBuilder ChooseEncryption(object choice)
    {
        if (Encryption is { } earlier && !ReferenceEquals(earlier, choice))
        {
            throw new InvalidOperationException($"UseEncryption was already called with {DescribeEncryption(earlier)}; choose one key provider per silo.");
        }
        Encryption = choice;
        return this;
    }

    internal static string DescribeEncryption(object? choice) => choice switch
    {
        null => "no encryption",
        Type type => $"the key provider {type.Name}",
        _ => "a keyring",
    };

    /// <summary>
    /// Runs <typeparamref name="TFilter"/> around every attempt of every task on this silo (see <see cref="ITaskFilter"/>).
    /// The filter is a singleton resolved from the silo's services once (its constructor may take singletons); the
    /// first filter registered is the outermost. Registering the same type again (from this or another
    /// <c>AddSayiir</c> call) changes nothing.
    /// </summary>
    public SayiirSiloBuilder AddTaskFilter<TFilter>() where TFilter : class, ITaskFilter
    {
        if (!TaskFilters.Contains(typeof(TFilter))) TaskFilters.Add(typeof(TFilter));
        return this;
    }

    /// <summary>
    /// Tells <typeparamref name="TObserver"/> about every durable state change of the runs this silo drives (see
    /// <see cref="IRunObserver"/> for when and how often). The observer is a singleton resolved from the silo's services
    /// once; registering the same type again (from this or another <c>AddSayiir</c> call) changes nothing.
    /// </summary>
    public SayiirSiloBuilder AddRunObserver<TObserver>() where TObserver : class, IRunObserver
    {
        if (!RunObservers.Contains(typeof(TObserver))) RunObservers.Add(typeof(TObserver));
        return this;
    }

    /// <summary>
    /// POSTs a JSON body to a URL when a run of this silo changes to one of <see cref="WebhookNotifierOptions.States"/>
    /// (by default: it failed or was cancelled), optionally only for some workflows. A failed POST (network error,
    /// timeout, non-2xx answer) is retried with exponential backoff; runs never wait for it. It is an
    /// <see cref="IRunObserver"/>, with the same at-most-once guarantee. Each call adds one notifier.
    /// </summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid (the message names it).</exception>
    public SayiirSiloBuilder AddWebhookNotifier(Action<WebhookNotifierOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new WebhookNotifierOptions();
        configure(options);
        Webhooks.Add(options.Validated());
        return this;
    }

    /// <summary>
    /// Lets at most <paramref name="maxActiveRuns"/> runs of <paramref name="workflowName"/> be active at once across the
    /// cluster; further starts are accepted and wait as <see cref="WorkflowState.Queued"/>, FIFO (see
    /// <see cref="SayiirOptions.WorkflowConcurrencyLimits"/>). Every silo must configure the same limits.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="workflowName"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxActiveRuns"/> is outside [1, 100,000].</exception>
    public SayiirSiloBuilder LimitConcurrency(string workflowName, int maxActiveRuns)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowName);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxActiveRuns, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxActiveRuns, SayiirOptions.MaxConcurrencyLimit);
        return Configure(o => o.WorkflowConcurrencyLimits[workflowName] = maxActiveRuns);
    }

    /// <summary>
    /// Lets at most <paramref name="maxRunningAttempts"/> attempts of tasks whose <see cref="TaskOptions.ConcurrencyKey"/>
    /// is <paramref name="concurrencyKey"/> run at once across the cluster, whatever their workflow; the others wait,
    /// FIFO (see <see cref="SayiirOptions.ConcurrencyKeyLimits"/>). Every silo must configure the same limits.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="concurrencyKey"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRunningAttempts"/> is outside [1, 100,000].</exception>
    public SayiirSiloBuilder LimitConcurrencyKey(string concurrencyKey, int maxRunningAttempts)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(concurrencyKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRunningAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRunningAttempts, SayiirOptions.MaxConcurrencyLimit);
        return Configure(o => o.ConcurrencyKeyLimits[concurrencyKey] = maxRunningAttempts);
    }

    /// <summary>
    /// Adjusts engine options (recovery reminder period, inline window, ...). Several calls (and several
    /// <c>AddSayiir</c> calls) compose in order, like <c>services.Configure</c>.
    /// </summary>
    public SayiirSiloBuilder Configure(Action<SayiirOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ConfigureOptions += configure;
        return this;
    }
}

/// <summary>The PostgreSQL storage a <see cref="SayiirSiloBuilder"/> chose (none means in-memory).</summary>
internal sealed record SayiirStorageChoice(string ConnectionString, bool InstallSchema)
{
    /// <summary>A choice for an error message, without credentials.</summary>
    public static string Describe(SayiirStorageChoice? choice) => choice is null
        ? "in-memory storage (no UsePostgres)"
        : $"UsePostgres({PostgresSchemaInstaller.DescribeTarget(choice.ConnectionString)}, installSchema: {(choice.InstallSchema ? "true" : "false")})";
}
