using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Configuration;
using Orleans.Storage;
using Sayiir.Client;
using Sayiir.Observability;
using Sayiir.Persistence;
using Sayiir.Runtime;
using Sayiir.Runtime.Schedules;

namespace Sayiir.Hosting;

/// <summary>Registers Sayiir with Orleans hosts.</summary>
public static class SayiirHostingExtensions
{
    private const string AdoNetInvariant = "Npgsql";

    /// <summary>
    /// Adds the Sayiir engine to a silo: the workflow and task-worker grains, a grain storage named
    /// <see cref="SayiirOptions.StorageName"/>, the reminder service, and <see cref="ISayiirClient"/> for
    /// co-hosted callers. In-memory storage and reminders by default; PostgreSQL with
    /// <see cref="SayiirSiloBuilder.UsePostgres"/>. <see cref="SayiirOptions"/> are validated when the host starts.
    /// </summary>
    /// <remarks>
    /// Calling it again (from several modules, say) registers nothing twice: the workflows of every call are
    /// registered and their option changes compose in order. The first call chooses the storage; a later call may
    /// repeat that choice or leave it out, but a different one (another PostgreSQL storage, or PostgreSQL after an
    /// in-memory first call) throws, as does a workflow name and version already registered with a different definition (several versions of one name are registered side by side).
    /// </remarks>
    /// <exception cref="InvalidOperationException">
    /// This call's storage differs from the one an earlier call chose, or one of its workflows has the name of a
    /// different registered definition. Nothing of the call is registered then.
    /// </exception>
    public static ISiloBuilder AddSayiir(this ISiloBuilder builder, Action<SayiirSiloBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var sayiir = new SayiirSiloBuilder();
        configure?.Invoke(sayiir);
        var services = builder.Services;

        // Every check comes before the first registration, so a refused call leaves the services as they were.
        var earlier = Instances<SayiirSiloRegistration>(services).FirstOrDefault();
        if (earlier is not null && sayiir.Storage is { } storage && storage != earlier.Storage)
        {
            throw new InvalidOperationException(
                $"AddSayiir was already called on this silo with {SayiirStorageChoice.Describe(earlier.Storage)}; this call's " +
                $"{SayiirStorageChoice.Describe(storage)} would be a second storage. Choose the storage in one AddSayiir call " +
                "(later calls may repeat it or leave it out).");
        }
        var earlierEncryption = Instances<EncryptionRegistration>(services).FirstOrDefault();
        if (earlierEncryption is not null && sayiir.Encryption is { } encryption && !ReferenceEquals(encryption, earlierEncryption.Choice))
        {
            throw new InvalidOperationException(
                $"AddSayiir was already called on this silo with UseEncryption({SayiirSiloBuilder.DescribeEncryption(earlierEncryption.Choice)}); this call's " +
                $"{SayiirSiloBuilder.DescribeEncryption(encryption)} would be a second one. Choose the keys in one AddSayiir call.");
        }
        var newWorkflows = NewWorkflows(services, sayiir.Workflows);
        var newSchedules = NewSchedules(services, sayiir.Schedules);

        foreach (var workflow in newWorkflows) services.AddSingleton(new WorkflowRegistration(workflow));
        foreach (var schedule in newSchedules) services.AddSingleton(schedule);
        if (sayiir.ConfigureOptions is { } configureOptions) services.Configure(configureOptions);
        foreach (var filter in sayiir.TaskFilters) services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(ITaskFilter), filter));
        foreach (var observer in sayiir.RunObservers) services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IRunObserver), observer));
        foreach (var webhook in sayiir.Webhooks)
            services.AddSingleton<IRunObserver>(sp => new WebhookNotifier(webhook, sp.GetRequiredService<ILogger<WebhookNotifier>>()));
        if (earlierEncryption is null && sayiir.Encryption is { } keys) AddEncryption(services, keys);
        if (earlier is not null) return builder;
        services.AddSingleton(new SayiirSiloRegistration(sayiir.Storage));

        services.AddOptions<SayiirOptions>().BindConfiguration("Sayiir").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SayiirOptions>, SayiirOptionsValidator>());
        services.TryAddSingleton(sp => new WorkflowRegistry(sp.GetServices<WorkflowRegistration>().Select(r => r.Definition)));
        // Engine time (delays, retry backoffs, timeouts, timestamps), keyed so that a test's fake clock leaves Orleans on
        // real time; a provider registered under the key before this call is kept, one registered after it wins.
        services.TryAddKeyedSingleton(SayiirOptions.TimeProviderKey, TimeProvider.System); // wall clock: the default engine clock
        services.TryAddSingleton<RunningAttempts>();
        services.TryAddSingleton<TaskFilterPipeline>();
        services.TryAddSingleton<RunLeases>();
        services.TryAddSingleton<IRunOwnership, SiloRunOwnership>();
        builder.AddPlacementDirector<SiloPinnedPlacementStrategy, SiloPinnedPlacementDirector>();
        // A graceful deactivation waits for the hand-off window: Orleans must not cut it short.
        services.AddOptions<GrainCollectionOptions>().PostConfigure<IOptions<SayiirOptions>>((collection, sayiirOptions) =>
        {
            var needed = sayiirOptions.Value.HandoffTimeout * 2 + TimeSpan.FromSeconds(5);
            if (collection.DeactivationTimeout < needed) collection.DeactivationTimeout = needed;
        });
        services.TryAddSingleton<LocalWorkers>();
        services.TryAddSingleton<AttemptExecutor>();
        services.TryAddSingleton<ClusterPlacement>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ClusterPlacement>());
        services.TryAddSingleton<RunObservers>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RunObservers>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, RecoveryWatcher>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, TaskServicesCheck>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DefinitionCatalog>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, RunRetentionService>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ScheduleService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunObserver, ScheduleRunObserver>());
        AddClientServices(services);

        // In memory nothing is at rest: states stay clear whatever UseEncryption says.
        var storageSerializer = RunStateStorage.CreateSerializer();
        if (sayiir.Storage is { } postgres)
        {
            var connectionString = PostgresConnectionTuning.ForEngine(postgres.ConnectionString);
            if (postgres.InstallSchema)
            {
                services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp =>
                    new PostgresSchemaStartup(connectionString, PostgresSchemaParts.Storage | PostgresSchemaParts.Reminders,
                        sp.GetService<ILogger<PostgresSchemaStartup>>() ?? NullLogger<PostgresSchemaStartup>.Instance));
            }
            builder.AddAdoNetGrainStorage(SayiirOptions.StorageName, o =>
            {
                o.Invariant = AdoNetInvariant;
                o.ConnectionString = connectionString;
                o.GrainStorageSerializer = storageSerializer;
                // A purged run's row goes (not a NULL payload left behind).
                o.DeleteStateOnClear = true;
            });
            // Encryption may be chosen by a later AddSayiir call: the sealer is looked up when the storage is built.
            services.AddOptions<Orleans.Configuration.AdoNetGrainStorageOptions>(SayiirOptions.StorageName).Configure<IServiceProvider>((o, sp) =>
            {
                if (sp.GetService<PayloadSealer>() is { } sealer) o.GrainStorageSerializer = RunStateStorage.CreateSerializer(sealer);
            });
            TypedErrorGrainStorage.Decorate(services, SayiirOptions.StorageName, postgres.ConnectionString, (sp, provider) =>
                provider is AdoNetGrainStorage adoNet
                    ? new GroupCommitGrainStorage(adoNet, SayiirOptions.StorageName, connectionString,
                        sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
                        sp.GetRequiredService<Orleans.Serialization.Serializers.IActivatorProvider>(), sp.GetRequiredService<ILogger<GroupCommitGrainStorage>>(),
                        sp.GetRequiredService<PostgresRunJournal>())
                    : provider);
            builder.UseAdoNetReminderService(o =>
            {
                o.Invariant = AdoNetInvariant;
                o.ConnectionString = connectionString;
            });
            services.AddSingleton(sp => new PostgresRunJournal(connectionString, sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
                sp.GetRequiredService<ILogger<PostgresRunJournal>>(), sp.GetService<PayloadSealer>()));
            services.AddSingleton<IRunJournal>(sp => sp.GetRequiredService<PostgresRunJournal>());
            services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<PostgresRunJournal>());
        }
        else
        {
            builder.AddMemoryGrainStorage(SayiirOptions.StorageName, o => o.GrainStorageSerializer = storageSerializer);
            UseProcessLocalStoreWhenAlone(services, storageSerializer);
            builder.UseInMemoryReminderService();
            services.AddSingleton<MemoryRunJournal>();
            services.AddSingleton<IRunJournal>(sp => sp.GetRequiredService<MemoryRunJournal>());
            services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<MemoryRunJournal>());
        }
        return builder;
    }

    // The memory storage stays registered for clusters of several silos; a silo alone gets the process-local store.
    private static void UseProcessLocalStoreWhenAlone(IServiceCollection services, IGrainStorageSerializer serializer)
    {
        var original = services.Last(d => d.IsKeyedService && d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, SayiirOptions.StorageName));
        var factory = original.KeyedImplementationFactory
            ?? throw new InvalidOperationException($"The grain storage '{SayiirOptions.StorageName}' is not registered through a factory.");
        services.Remove(original);
        services.AddKeyedSingleton<IGrainStorage>(SayiirOptions.StorageName, (sp, key) => ProcessLocalGrainStorage.AppliesTo(sp)
            ? new ProcessLocalGrainStorage(serializer, sp.GetRequiredService<Orleans.Serialization.Serializers.IActivatorProvider>())
            : (IGrainStorage)factory(sp, key));
    }

    private static void AddEncryption(IServiceCollection services, object choice)
    {
        services.AddSingleton(new EncryptionRegistration(choice));
        if (choice is Type providerType) services.TryAddSingleton(providerType);
        services.AddSingleton(sp => new PayloadSealer(choice as IPayloadKeyProvider ?? (IPayloadKeyProvider)sp.GetRequiredService((Type)choice)));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, EncryptionStartupCheck>();
    }

    /// <summary>
    /// Adds <see cref="ISayiirClient"/> to an application that talks to a Sayiir cluster through an Orleans client
    /// (configure the client with <c>UseOrleansClient</c>). <see cref="SayiirClientOptions"/> are validated when the
    /// host starts. Calling it again registers nothing twice; the option changes of every call compose in order.
    /// </summary>
    public static IServiceCollection AddSayiirClient(this IServiceCollection services, Action<SayiirClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (configure is not null) services.Configure(configure);
        AddClientServices(services);
        return services;
    }

    private static void AddClientServices(IServiceCollection services)
    {
        services.AddOptions<SayiirClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SayiirClientOptions>, SayiirClientOptionsValidator>());
        services.TryAddSingleton<IPayloadCodec, JsonPayloadCodec>();
        services.TryAddSingleton<ISayiirClient, SayiirClient>();
    }

    // The workflows of this call that are not registered yet. Versions of one name sit side by side; the same name and
    // version with another definition is refused.
    private static List<WorkflowDefinition> NewWorkflows(IServiceCollection services, IEnumerable<WorkflowDefinition> workflows)
    {
        var registered = Instances<WorkflowRegistration>(services).Select(r => r.Definition).ToList();
        var added = new List<WorkflowDefinition>();
        foreach (var workflow in workflows)
        {
            var same = registered.FirstOrDefault(d => d.Name == workflow.Name && d.Version == workflow.Version);
            if (same is not null)
            {
                if (ReferenceEquals(same, workflow) || same.Hash == workflow.Hash) continue;
                throw new InvalidOperationException(
                    $"Workflow '{workflow.Name}' {WorkflowVersions.Display(workflow.Version)} is already registered with a different definition (hash {same.Hash}; this one " +
                    $"{workflow.Hash}). A name and version identify one definition: give the new one another version (Flow.Create(name, version: n)) to run both side by side.");
            }
            registered.Add(workflow);
            added.Add(workflow);
        }
        return added;
    }

    // The schedules of this call not declared yet; the same id declared otherwise by an earlier call is refused.
    private static List<ScheduleDeclaration> NewSchedules(IServiceCollection services, IEnumerable<ScheduleDeclaration> schedules)
    {
        var declared = Instances<ScheduleDeclaration>(services).ToList();
        var added = new List<ScheduleDeclaration>();
        foreach (var schedule in schedules)
        {
            if (declared.FirstOrDefault(d => d.ScheduleId == schedule.ScheduleId) is { } earlier)
            {
                if (earlier == schedule) continue;
                throw new InvalidOperationException($"Schedule '{schedule.ScheduleId}' is already declared by another AddSayiir call ({earlier.Spec.Describe()}, workflow '{earlier.Workflow.Name}'); declare each schedule id once.");
            }
            declared.Add(schedule);
            added.Add(schedule);
        }
        return added;
    }

    // Singletons registered as instances (keyed descriptors, which Orleans adds, throw on ImplementationInstance).
    private static IEnumerable<T> Instances<T>(IServiceCollection services) =>
        services.Where(s => !s.IsKeyedService && s.ServiceType == typeof(T)).Select(s => s.ImplementationInstance).OfType<T>();

    // Recorded by the AddSayiir call that chose encryption: another choice in a later call is refused.
    private sealed class EncryptionRegistration(object choice)
    {
        public object Choice { get; } = choice;
    }

    // Recorded by the first AddSayiir call: later calls add workflows and options, and must not choose another storage.
    private sealed class SayiirSiloRegistration(SayiirStorageChoice? storage)
    {
        public SayiirStorageChoice? Storage { get; } = storage;
    }
}

/// <summary>
/// Builds the sealer at the silo's first start-up stage, so that a key provider without a valid active key fails the
/// start-up (with the message naming the key) before any run is read or written.
/// </summary>
internal sealed class EncryptionStartupCheck(IServiceProvider services, ILogger<EncryptionStartupCheck> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EncryptionStartupCheck), ServiceLifecycleStage.First, _ =>
        {
            var sealer = services.GetRequiredService<PayloadSealer>();
            Log.EncryptionEnabled(logger, sealer.ActiveKeyId);
            return Task.CompletedTask;
        });
}

/// <summary>Installs the PostgreSQL schema before the ADO.NET providers read their queries.</summary>
internal sealed class PostgresSchemaStartup(string connectionString, PostgresSchemaParts parts, ILogger<PostgresSchemaStartup> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaStartup), ServiceLifecycleStage.First, async ct =>
        {
            Log.InstallingSchema(logger, parts.ToString(), PostgresSchemaInstaller.DescribeTarget(connectionString));
            var recorded = await PostgresSchemaInstaller.InstallAsync(connectionString, parts, ct);
            if (recorded.Count > 0)
            {
                Log.SchemaMigrated(logger, PostgresSchemaInstaller.DescribeTarget(connectionString), string.Join(", ", recorded),
                    PostgresSchemaInstaller.LatestVersion);
            }
        });
}
