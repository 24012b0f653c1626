namespace Sayiir.Hosting;

/// <summary>
/// Engine settings of a silo, set with <see cref="SayiirSiloBuilder.Configure"/> and bound from the <c>Sayiir</c>
/// configuration section when present. They are validated when the host starts: an invalid value fails the start
/// with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming the option and the value.
/// </summary>
public sealed class SayiirOptions
{
    /// <summary>The name of the grain storage provider (and so of the state rows) Sayiir uses: <c>"sayiir"</c>.</summary>
    public const string StorageName = "sayiir";

    /// <summary>
    /// The service key of the engine's clock: every delay, retry backoff, signal and task timeout, wake instant and
    /// run or history timestamp comes from the <see cref="TimeProvider"/> registered under this key
    /// (<see cref="TimeProvider.System"/> unless one is registered, before or after <c>AddSayiir</c>). Keyed, not the
    /// plain <see cref="TimeProvider"/> service, because Orleans resolves that one itself (its membership probes, for
    /// one): a test can run the engine on a <c>FakeTimeProvider</c> while the cluster keeps real time.
    /// </summary>
    public const string TimeProviderKey = "sayiir";

    /// <summary>
    /// Period of the per-run recovery reminder, which re-activates an interrupted run on a surviving silo.
    /// Shorter periods recover faster and cost one reminder-table read per tick per run. Must be at least Orleans'
    /// <c>ReminderOptions.MinimumReminderPeriod</c> (1 minute unless lowered), which refuses shorter reminders.
    /// <para>Default: 1 minute.</para>
    /// </summary>
    public TimeSpan RecoveryReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a run drives before it registers its recovery reminder. A run that ends sooner never writes or removes a
    /// reminder row: until then a silo death finds it in storage (the recovery watcher wakes every active run it lists),
    /// a whole-cluster restart finds it in the same listing when the first silo starts, and a run handed over by a live
    /// silo (shutdown, rebalancing) registers its reminder before it lets go. <see cref="TimeSpan.Zero"/> registers it
    /// when the run starts. Between zero and one hour.
    /// <para>Default: 5 seconds.</para>
    /// </summary>
    public TimeSpan RecoveryReminderDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// In-memory storage only (no <c>UsePostgres</c>): keep run states in a dictionary of this process instead of
    /// Orleans' memory storage grains, which saves a grain call and a serialized copy per checkpoint. A process-local
    /// store is not shared: only a silo that is alone in its cluster may use it. <see langword="null"/> decides: on for a
    /// silo with localhost development clustering that is its own primary (<c>UseLocalhostClustering()</c> without a
    /// primary endpoint), off otherwise (test clusters, silos joining a primary). Set it to <see langword="false"/> for a
    /// localhost primary that other silos join.
    /// <para>Default: <see langword="null"/> (decided as above).</para>
    /// </summary>
    public bool? ProcessLocalStore { get; set; }

    /// <summary>
    /// How long a task worker waits for an attempt before answering "pending" and reporting the result later by
    /// message. Always capped at half the grain call response timeout. Must be positive.
    /// <para>Default: 10 seconds.</para>
    /// </summary>
    public TimeSpan InlineResultWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When a silo is declared dead, wake every active run at once (one reminder-table scan on one silo) instead of
    /// waiting for each run's reminder tick.
    /// <para>Default: <see langword="true"/>.</para>
    /// </summary>
    public bool WakeRunsOnSiloDeath { get; set; } = true;

    /// <summary>
    /// Upper bound of the wait between retries of a failed state write (storage outage). Must be positive.
    /// <para>Default: 5 seconds.</para>
    /// </summary>
    public TimeSpan MaxStorageRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When a run's activation goes away without a crash (silo shutdown, a lost grain-directory partition, idle
    /// collection, rebalancing), how long its task attempts in flight may still run: their outputs are saved before
    /// the run is released to its next owner, so they are not run again. An attempt still running at the end of the
    /// window is cancelled and runs again where the run continues. The next owner waits for the release (at most this
    /// long plus a write). Orleans' deactivation timeout is raised to cover it. Must be within [0, 10 minutes].
    /// <para>Default: 10 seconds.</para>
    /// </summary>
    public TimeSpan HandoffTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many lines a task attempt's <see cref="TaskContext.Logger"/> keeps with the run (as
    /// <see cref="RunEventKind.TaskLog"/> events); later lines still reach the silo's logging, and a last kept line
    /// says how many were dropped. Must be within [1, 10,000].
    /// <para>Default: 100.</para>
    /// </summary>
    public int TaskLogMaxLines { get; set; } = 100;

    /// <summary>
    /// How many bytes (UTF-8, messages and exception summaries) of a task attempt's log lines are kept with the run:
    /// the line that crosses the bound is cut, later ones are dropped (and counted). Must be within [1 KB, 1 MB].
    /// <para>Default: 16 KB (16,384).</para>
    /// </summary>
    public int TaskLogMaxBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// The lowest level of the task log lines kept with the run (lower ones only reach the silo's logging);
    /// <see cref="Microsoft.Extensions.Logging.LogLevel.None"/> keeps none.
    /// <para>Default: <see cref="Microsoft.Extensions.Logging.LogLevel.Information"/>.</para>
    /// </summary>
    public Microsoft.Extensions.Logging.LogLevel TaskLogMinimumLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>
    /// How many run changes wait for each <see cref="IRunObserver"/> on a silo; a change that finds its queue full is
    /// dropped for that observer (and logged), so a slow observer never holds runs back. Must be within [1, 1,000,000].
    /// <para>Default: 10,000.</para>
    /// </summary>
    public int RunObserverQueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// The largest payload, once encoded by the codec, that a run accepts: a run's input, a task's output, a signal's
    /// payload. A start or signal over it is refused with <see cref="PayloadTooLargeException"/> before anything is
    /// stored; a task whose output is over it fails that attempt with it (not retried) and nothing is checkpointed.
    /// Must be within [1 KB, 64 MB].
    /// <para>Default: 4 MB (4,194,304).</para>
    /// </summary>
    public int MaxPayloadBytes { get; set; } = 4 * 1024 * 1024;

    internal const int MinPayloadBytes = 1024;
    internal const int MaxPayloadBytesLimit = 64 * 1024 * 1024;

    internal const int MaxTaskLogLines = 10_000;
    internal const int MinTaskLogBytes = 1024;
    internal const int MaxTaskLogBytes = 1024 * 1024;
    internal const int MaxRunObserverQueueCapacity = 1_000_000;

    /// <summary>The largest accepted <see cref="HandoffTimeout"/>.</summary>
    internal static readonly TimeSpan MaxHandoffTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a completed run is kept after it ended (its last state change) before the background purge removes it
    /// — its state row, history, archived outputs and listing entry. Null keeps completed runs forever. Runs of a
    /// workflow listed in <see cref="RetentionByWorkflow"/> follow that entry instead. Must be positive when set.
    /// <para>Default: null (kept forever).</para>
    /// </summary>
    public TimeSpan? RetainCompletedRuns { get; set; }

    /// <summary>
    /// How long a failed or cancelled run is kept after it ended; null keeps them forever (see
    /// <see cref="RetainCompletedRuns"/>). Must be positive when set.
    /// <para>Default: null (kept forever).</para>
    /// </summary>
    public TimeSpan? RetainFailedRuns { get; set; }

    /// <summary>Retention per workflow name, replacing <see cref="RetainCompletedRuns"/> and <see cref="RetainFailedRuns"/> for that workflow.</summary>
    public IDictionary<string, RunRetention> RetentionByWorkflow { get; } = new Dictionary<string, RunRetention>(StringComparer.Ordinal);

    /// <summary>
    /// How often the background purge looks for runs past their retention (one silo of the cluster does it at a time).
    /// Must be positive.
    /// <para>Default: 1 minute.</para>
    /// </summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How many runs one purge step removes before it yields (the purge goes on in steps until nothing is due), so a
    /// large backlog never holds up live runs. Within [1, 1000].
    /// <para>Default: 200.</para>
    /// </summary>
    public int PurgeBatchSize { get; set; } = 200;

    /// <summary>
    /// The most active runs (any state but Completed, Failed and Cancelled) of a workflow at once across the cluster, by
    /// workflow name; a start beyond it is accepted and waits as <see cref="WorkflowState.Queued"/> until a run of that
    /// workflow ends, FIFO. Every silo must configure the same limits. Each limit within [1, 100,000].
    /// <para>Default: empty (no limit). <see cref="SayiirSiloBuilder.LimitConcurrency"/> adds an entry.</para>
    /// </summary>
    public IDictionary<string, int> WorkflowConcurrencyLimits { get; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>
    /// The most attempts of tasks with a <see cref="TaskOptions.ConcurrencyKey"/> that run at once across the cluster,
    /// by key; an attempt beyond it waits (its run shows <see cref="WorkflowState.Queued"/> and the key) until one
    /// ends, FIFO. A key without an entry is not limited. Every silo must configure the same limits. Each limit within
    /// [1, 100,000].
    /// <para>Default: empty. <see cref="SayiirSiloBuilder.LimitConcurrencyKey"/> adds an entry.</para>
    /// </summary>
    public IDictionary<string, int> ConcurrencyKeyLimits { get; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>
    /// What this silo offers to tasks that <see cref="TaskOptions.RequireTags"/> (<c>gpu</c>, a licence name): such a
    /// task runs only on silos that declare all its tags. Bound from <c>Sayiir:Tags</c> (an array:
    /// <c>--Sayiir:Tags:0 gpu</c>). Each tag non-empty, at most 64 characters.
    /// <para>Default: none.</para>
    /// </summary>
    public IList<string> Tags { get; } = new List<string>();

    /// <summary>
    /// The most task attempts this silo runs at once (its own runs' and other silos'); further attempts wait here, by
    /// task priority (1 first), FIFO within a priority, aged by <see cref="PriorityAgingInterval"/>. Cluster placement
    /// prefers silos with free capacity. Null: unbounded. Within [1, 100,000] when set.
    /// <para>Default: null.</para>
    /// </summary>
    public int? MaxConcurrentAttempts { get; set; }

    /// <summary>
    /// How long an attempt waits on a saturated silo before it gains one priority level (so priority 5 overtakes
    /// newly arrived priority 1 attempts after four intervals). Must be positive.
    /// <para>Default: 30 seconds.</para>
    /// </summary>
    public TimeSpan PriorityAgingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest concurrency limit accepted.</summary>
    internal const int MaxConcurrencyLimit = 100_000;

    /// <summary>Whether any retention is configured (otherwise no purge runs).</summary>
    internal bool HasRetention => RetainCompletedRuns is not null || RetainFailedRuns is not null
        || RetentionByWorkflow.Values.Any(r => r.Completed is not null || r.FailedOrCancelled is not null);
}

/// <summary>How long the ended runs of one workflow are kept (null: forever).</summary>
/// <param name="Completed">How long a completed run is kept after it ended.</param>
/// <param name="FailedOrCancelled">How long a failed or cancelled run is kept after it ended.</param>
public sealed record RunRetention(TimeSpan? Completed, TimeSpan? FailedOrCancelled);

/// <summary>
/// Settings of the client side (co-hosted or client-only), set with
/// <see cref="SayiirHostingExtensions.AddSayiirClient"/>. They are validated when the host starts: an invalid value
/// fails the start with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming the option.
/// </summary>
public sealed class SayiirClientOptions
{
    /// <summary>
    /// The longest single wait of a result long-poll; the client re-polls until the run ends. Capped at half the
    /// grain call response timeout. It also bounds how late a waiting client learns a result after the silo holding
    /// its poll dies: an unanswered poll is abandoned 2 s after its window and re-sent, so the worst case is about the
    /// window plus 2 s. Shorter windows cost one small grain call per window per waiting caller. Must be positive.
    /// <para>Default: 5 seconds.</para>
    /// </summary>
    public TimeSpan ResultPollWindow { get; set; } = TimeSpan.FromSeconds(5);
}
