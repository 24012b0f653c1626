using Microsoft.Extensions.DependencyInjection;
using Sayiir.Hosting;

namespace Sayiir.Testing;

/// <summary>What a <see cref="SayiirTestEnvironment"/> starts: workflows, services, silos, clock and storage.</summary>
public sealed class SayiirTestEnvironmentOptions
{
    /// <summary>The instant the virtual clock starts at unless <see cref="StartTime"/> is set: 2000-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultStartTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    internal List<WorkflowDefinition> Workflows { get; } = [];

    internal Action<IServiceCollection>? Services { get; private set; }

    internal Action<SayiirOptions>? EngineOptions { get; private set; }

    internal Action<SayiirSiloBuilder>? Schedules { get; private set; }

    /// <summary>How many in-process silos the cluster has (at least 1). Default 1.</summary>
    public int Silos { get; set; } = 1;

    /// <summary>The virtual clock's first instant. Default <see cref="DefaultStartTime"/>.</summary>
    public DateTimeOffset StartTime { get; set; } = DefaultStartTime;

    /// <summary>
    /// A PostgreSQL database to store runs in (the silos install the schema); null (the default) keeps runs in
    /// memory. The database is the caller's: the environment neither creates nor drops it.
    /// </summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>
    /// How long (wall-clock time) <see cref="SayiirTestEnvironment.AdvanceTimeAsync"/> waits for the runs to settle
    /// after each step before it throws a <see cref="TimeoutException"/> naming the runs still busy. Default 30 seconds.
    /// </summary>
    public TimeSpan SettleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long (wall-clock time) a task that has a <see cref="TaskOptions.Timeout"/> may keep running before the
    /// environment takes it to be blocked until its timeout: its run then counts as settled, due at
    /// <see cref="WorkflowStatus.TaskTimeoutAt"/>, and <see cref="SayiirTestEnvironment.AdvanceTimeAsync"/> (or
    /// <see cref="AutoAdvance"/>) moves the clock there, which times the attempt out. Positive and shorter than
    /// <see cref="SettleTimeout"/>; default 200 ms. Raise it if a task that does real work for longer is timed out.
    /// </summary>
    public TimeSpan BlockedTaskGrace { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Skips idle virtual time by itself (as Temporal's time-skipping test server does): while the test awaits a run's
    /// result through <see cref="SayiirTestEnvironment.Client"/> (<c>RunAsync</c>, <c>WaitForResultAsync</c>, or
    /// <c>GetResultAsync</c> of a handle its <c>StartAsync</c> returned), whenever every active run is settled and the
    /// awaited one has not ended, the clock jumps to the earliest instant a run is due (a delay's or backoff's wake, a
    /// signal timeout, the timeout of a task blocked until it). When nothing is due it keeps waiting: a signal may come
    /// from elsewhere. <see cref="SayiirTestEnvironment.AdvanceTimeAsync"/> still works (the two take turns). Default false.
    /// </summary>
    public bool AutoAdvance { get; set; }

    /// <summary>Registers a workflow on every silo.</summary>
    public SayiirTestEnvironmentOptions AddWorkflow(WorkflowDefinition workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        Workflows.Add(workflow);
        return this;
    }

    /// <summary>Registers services on every silo (the dependencies of the workflows' tasks). Calls compose in order.</summary>
    public SayiirTestEnvironmentOptions ConfigureServices(Action<IServiceCollection> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services += configure;
        return this;
    }

    /// <summary>Adjusts the engine's options on every silo. Calls compose in order.</summary>
    public SayiirTestEnvironmentOptions ConfigureEngine(Action<SayiirOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        EngineOptions += configure;
        return this;
    }

    /// <summary>
    /// Declares a schedule on every silo, as <see cref="SayiirSiloBuilder.AddSchedule{TInput, TOutput}"/> does (the workflow
    /// is registered too). Its ticks are on the virtual clock: <see cref="SayiirTestEnvironment.AdvanceTimeAsync"/> stops
    /// at each and waits for the runs it starts.
    /// </summary>
    public SayiirTestEnvironmentOptions AddSchedule<TInput, TOutput>(string scheduleId, ScheduleSpec spec, WorkflowDefinition<TInput, TOutput> workflow, TInput input)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        Workflows.Add(workflow);
        Schedules += s => s.AddSchedule(scheduleId, spec, workflow, input);
        return this;
    }

    internal void Validate()
    {
        if (Silos < 1) throw new ArgumentOutOfRangeException(nameof(Silos), Silos, "A test environment needs at least one silo.");
        if (SettleTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(SettleTimeout), SettleTimeout, "SettleTimeout must be positive.");
        if (BlockedTaskGrace <= TimeSpan.Zero || BlockedTaskGrace >= SettleTimeout)
            throw new ArgumentOutOfRangeException(nameof(BlockedTaskGrace), BlockedTaskGrace, "BlockedTaskGrace must be positive and shorter than SettleTimeout.");
        if (PostgresConnectionString is { Length: 0 } || PostgresConnectionString?.Trim().Length == 0)
            throw new ArgumentException("PostgresConnectionString is empty: set a connection string, or null for in-memory storage.", nameof(PostgresConnectionString));
    }
}
