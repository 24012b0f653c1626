using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;
using Sayiir.Hosting;

namespace Sayiir.Testing;

/// <summary>
/// An in-process Orleans cluster running Sayiir, for tests: one or more silos with the test's workflows and services,
/// in-memory storage (or PostgreSQL), a client, and a virtual clock shared by every silo. Engine time (delays, retry
/// backoffs, signal and task timeouts, history timestamps) passes only when the test advances it, so a flow that
/// waits for days is tested in milliseconds.
/// </summary>
/// <remarks>
/// Only the engine's clock is virtual: Orleans itself (grain call timeouts, membership, reminders) keeps real time.
/// Create one environment per test class (an xunit class fixture, an NUnit one-time set-up) rather than per test:
/// starting a cluster takes about a second.
/// </remarks>
public sealed partial class SayiirTestEnvironment : IAsyncDisposable
{
    private static readonly WorkflowState[] ActiveStates = [WorkflowState.Running, WorkflowState.Waiting, WorkflowState.AwaitingSignal, WorkflowState.Paused, WorkflowState.Queued];

    private readonly InProcessTestCluster _cluster;
    private readonly TrackingClient _client;
    private readonly TimeSpan _settleTimeout;
    private readonly SemaphoreSlim _advancing = new(1, 1);

    private SayiirTestEnvironment(InProcessTestCluster cluster, FakeTimeProvider time, SayiirTestEnvironmentOptions options, TaskOverrides overrides)
    {
        _cluster = cluster;
        Time = time;
        _settleTimeout = options.SettleTimeout;
        _client = new TrackingClient(cluster.Client.ServiceProvider.GetRequiredService<ISayiirClient>());
        _workflows = [.. options.Workflows];
        _overrides = overrides;
        _blockedTaskGrace = options.BlockedTaskGrace;
        if (options.AutoAdvance) _client.AutoAdvance = this;
    }

    /// <summary>
    /// A client of the cluster. Runs it starts are the ones <see cref="AdvanceTimeAsync"/> watches first (runs started
    /// otherwise, from a task for instance, are found through the run listing).
    /// </summary>
    public ISayiirClient Client => _client;

    /// <summary>
    /// The engine's clock, shared by every silo (frozen unless advanced). Prefer <see cref="AdvanceTimeAsync"/>, which
    /// steps through each wake instant and waits for the runs; <see cref="FakeTimeProvider.Advance"/> moves the clock
    /// in one jump and returns before the runs react.
    /// </summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The virtual now.</summary>
    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Starts a cluster configured by <paramref name="configure"/> and returns once every silo and the client are up.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one silo, or a settle timeout that is not positive.</exception>
    public static async Task<SayiirTestEnvironment> StartAsync(Action<SayiirTestEnvironmentOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new SayiirTestEnvironmentOptions();
        configure?.Invoke(options);
        options.Validate();
        var time = new FakeTimeProvider(options.StartTime);
        var overrides = new TaskOverrides();

        var builder = new InProcessTestClusterBuilder((short)options.Silos);
        builder.Options.ServiceId = $"sayiir-test-{Guid.NewGuid():n}";
        // No log files in the caller's working directory (the TestingHost default writes logs/testcluster-*.log).
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddSayiir(s =>
            {
                foreach (var workflow in options.Workflows) s.AddWorkflow(workflow);
                if (options.PostgresConnectionString is { } connectionString) s.UsePostgres(connectionString);
                if (options.EngineOptions is { } engine) s.Configure(engine);
                options.Schedules?.Invoke(s);
                s.AddTaskFilter<TaskOverrideFilter>();
            });
            options.Services?.Invoke(silo.Services);
            // One table of task overrides for every silo (they are in this process).
            silo.Services.AddSingleton(overrides);
            // The engine's clock only; registered last so it wins over AddSayiir's default (the system clock).
            silo.Services.AddKeyedSingleton<TimeProvider>(SayiirOptions.TimeProviderKey, time);
        });
        builder.ConfigureClient(client => client.Services.AddSayiirClient());
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new SayiirTestEnvironment(cluster, time, options, overrides);
    }

    /// <summary>
    /// Moves virtual time forward by <paramref name="by"/>, stopping at every instant within the span at which a run is
    /// due to wake (a delay's or a retry backoff's <see cref="WorkflowStatus.WakeAt"/>, a signal wait's
    /// <see cref="WorkflowStatus.SignalTimeoutAt"/>, the <see cref="WorkflowStatus.TaskTimeoutAt"/> of a task blocked
    /// until its timeout), earliest first, and waiting at each for the runs to settle; then moves the rest of the way
    /// and waits once more. A delay started by a run woken at one instant is therefore measured from that instant, as
    /// in production. Schedules take part the same way: it stops at each active schedule's
    /// <see cref="ScheduleInfo.NextStartAt"/> within the span and waits until the schedule has handled the tick (and for
    /// the runs it started to settle).
    /// </summary>
    /// <remarks>
    /// <para>
    /// A run is <em>settled</em> when it is not due and either not <see cref="WorkflowState.Running"/> or blocked: it
    /// has ended (completed, failed, cancelled), is paused, awaits a signal whose timeout (if any) is later than now,
    /// waits on a delay or backoff whose wake instant is later than now, or runs a task that has a
    /// <see cref="TaskOptions.Timeout"/> later than now and has stayed running for
    /// <see cref="SayiirTestEnvironmentOptions.BlockedTaskGrace"/> (wall clock): a task still running after the grace
    /// is taken to be blocked until its timeout, which fires when the clock reaches it. The runs considered are those
    /// <see cref="Client"/> started, resumed or unpaused, and every active run the run listing shows. A running task
    /// without a timeout is waited for until it ends.
    /// </para>
    /// <para>
    /// It also waits for the runs to settle before moving the clock at all, so it can be called right after a start.
    /// Calls are serialised, with each other and with the jumps of <see cref="SayiirTestEnvironmentOptions.AutoAdvance"/>.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is negative.</exception>
    /// <exception cref="TimeoutException">A run did not settle within the settle timeout (the message names the runs and their states).</exception>
    public async Task AdvanceTimeAsync(TimeSpan by, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        await _advancing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var target = Now + by;
            var look = await SettleAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var now = Now;
                var next = look.Statuses.Select(DueAt).Concat(look.Schedules.Select(ScheduleDueAt)).Where(at => at > now && at <= target).Min();
                if (next is not { } instant) break;
                Time.Advance(instant - now);
                look = await SettleAsync(cancellationToken).ConfigureAwait(false);
            }
            if (Now < target)
            {
                Time.Advance(target - Now);
                await SettleAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _advancing.Release();
        }
    }

    /// <summary>The run's durable history, oldest first (see <see cref="RunHistoryExtensions"/> for assertions over it).</summary>
    /// <exception cref="WorkflowRunNotFoundException">No such run.</exception>
    public Task<IReadOnlyList<RunHistoryEvent>> HistoryAsync(string instanceId, CancellationToken cancellationToken = default) =>
        _client.GetHistoryAsync(instanceId, cancellationToken);

    /// <summary>Stops every silo and the client.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _cluster.StopAllSilosAsync().ConfigureAwait(false);
        }
        finally
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
            _advancing.Dispose();
        }
    }

    // The instant a waiting run is due to wake (or a running one's task to time out), if any.
    private static DateTimeOffset? DueAt(WorkflowStatus status) => status.State switch
    {
        WorkflowState.Waiting => status.WakeAt,
        WorkflowState.AwaitingSignal => status.SignalTimeoutAt,
        WorkflowState.Running => status.TaskTimeoutAt,
        _ => null,
    };

    private bool IsSettled(WorkflowStatus status, DateTimeOffset now) =>
        status.State == WorkflowState.Running ? IsBlocked(status, now) : !(DueAt(status) <= now);

    // Polls every known active run and every schedule until all are settled; returns the last look.
    private async Task<Look> SettleAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var look = await PollAsync(cancellationToken).ConfigureAwait(false);
            var (now, busy) = (look.Now, look.Busy);
            if (look.Settled) return look;
            if (clock.Elapsed > _settleTimeout)
            {
                var runs = string.Join("; ", busy.Take(10).Select(Describe).Concat(look.BusySchedules.Take(10).Select(Describe)))
                    + (busy.Count > 10 ? string.Create(CultureInfo.InvariantCulture, $"; and {busy.Count - 10} more") : "");
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"Timed out after {_settleTimeout.TotalSeconds:0.#} s (wall clock) waiting for runs to settle at virtual instant {now:o}: {runs}"));
            }
            // wall clock: polling while the runs react to the virtual clock asynchronously, on the silos' schedulers.
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
    }

    // One look at every known active run and every schedule: the virtual now, the runs' statuses, those not settled,
    // the schedules, and those not settled.
    private async Task<Look> PollAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        var statuses = new List<WorkflowStatus>();
        var schedules = await _client.ListSchedulesAsync(cancellationToken).ConfigureAwait(false);
        var ids = await ActiveRunIdsAsync(cancellationToken).ConfigureAwait(false);
        // A schedule's last run is watched even before the run listing shows it.
        foreach (var schedule in schedules) if (schedule.LastRunId is { } last) ids.Add(last);
        var ended = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            var status = await _client.GetStatusAsync(id, cancellationToken).ConfigureAwait(false);
            if (status.IsTerminal || status.State == WorkflowState.NotFound) ended.Add(id);
            if (status.IsTerminal) _client.Forget(id); // ended runs never become active again unless resumed (tracked anew)
            else if (status.State != WorkflowState.NotFound) statuses.Add(status);
        }
        ForgetRunningSince(statuses);
        // A schedule is settled when its next start is later than now, and no tick it buffered waits on a run that ended.
        var busySchedules = schedules.Where(s => ScheduleDueAt(s) <= now || (s.BufferedTickAt is not null && s.LastRunId is { } last && ended.Contains(last))).ToList();
        return new Look(now, statuses, statuses.Where(s => !IsSettled(s, now)).ToList(), [.. schedules], busySchedules);
    }

    // The instant an active schedule's next tick is due to start a run, if any.
    private static DateTimeOffset? ScheduleDueAt(ScheduleInfo schedule) => schedule.State == ScheduleState.Active ? schedule.NextStartAt : null;

    private static string Describe(ScheduleInfo schedule) => schedule.BufferedTickAt is { } buffered
        ? string.Create(CultureInfo.InvariantCulture, $"schedule '{schedule.ScheduleId}' has not started the run of its tick {buffered:o} buffered behind run '{schedule.LastRunId}' (next start due at {schedule.NextStartAt:o})")
        : string.Create(CultureInfo.InvariantCulture, $"schedule '{schedule.ScheduleId}' has not started the run of its tick {schedule.NextTickAt:o} due at {schedule.NextStartAt:o}");

    private sealed record Look(DateTimeOffset Now, List<WorkflowStatus> Statuses, List<WorkflowStatus> Busy, List<ScheduleInfo> Schedules, List<ScheduleInfo> BusySchedules)
    {
        public bool Settled => Busy.Count == 0 && BusySchedules.Count == 0;
    }

    private async Task<HashSet<string>> ActiveRunIdsAsync(CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(_client.Started, StringComparer.Ordinal);
        string? continuation = null;
        do
        {
            var page = await _client.ListRunsAsync(new RunQuery { States = ActiveStates, PageSize = 1000, ContinuationToken = continuation }, cancellationToken).ConfigureAwait(false);
            foreach (var run in page.Runs) ids.Add(run.InstanceId);
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return ids;
    }

    private static string Describe(WorkflowStatus status) => status.State switch
    {
        WorkflowState.Running when status.TaskTimeoutAt is { } timeoutAt => string.Create(CultureInfo.InvariantCulture,
            $"run '{status.InstanceId}' ({status.WorkflowName}) is Running task '{status.CurrentTaskId}' (timeout due at {timeoutAt:o})"),
        WorkflowState.Running => $"run '{status.InstanceId}' ({status.WorkflowName}) is Running task '{status.CurrentTaskId}'",
        WorkflowState.Waiting => string.Create(CultureInfo.InvariantCulture, $"run '{status.InstanceId}' ({status.WorkflowName}) has not woken from its wait due at {status.WakeAt:o}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"run '{status.InstanceId}' ({status.WorkflowName}) has not timed out of its signal wait for '{status.SignalName}' due at {status.SignalTimeoutAt:o}"),
    };
}
