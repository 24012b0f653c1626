using Sayiir.Observability;

namespace Sayiir.Runtime;

/// <summary>
/// Task placement: attempts of tasks with <see cref="TaskPlacement.Cluster"/> or required tags may run on another silo.
/// The rules of the run do not change. An attempt sent elsewhere is saved in the run's state (the dispatch fence's
/// write) before it is sent, and leaves the state with the write that saves its result; the silo running it keeps the
/// finished result until the run says that write landed. So a run recovered after its own silo died asks that silo
/// for the result instead of running the attempt again; and an attempt whose silo the cluster declares dead is sent
/// again elsewhere (at-least-once only for that attempt). The answer comes back by polling, as for local attempts: no
/// call outlives the inline window.
/// </summary>
internal sealed partial class WorkflowGrain
{
    private static readonly TimeSpan UnreachableRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SiloWaitRecheck = TimeSpan.FromSeconds(5);

    private readonly ClusterPlacement _placement;

    // Tasks waiting for a silo with their tags, by task id: the tags (status).
    private readonly Dictionary<string, string> _awaitingSilo = new(StringComparer.Ordinal);

    // Attempts in flight on other silos, by task id (abandoned when the run stops them).
    private readonly Dictionary<string, (SiloAddress Silo, Guid AttemptId)> _remoteInFlight = new(StringComparer.Ordinal);

    // Finished remote attempts whose result is not known to be saved yet: the silo is told to drop each once it is.
    private readonly List<(SiloAddress Silo, string TaskId, Guid AttemptId)> _unsavedRemoteResults = [];

    /// <summary>Where an attempt goes: <see cref="Remote"/> is null for this silo.</summary>
    private sealed record Placement(SiloAddress? Remote, RemoteAttempt? Reattach)
    {
        public bool IsReattach => Reattach is not null;
    }

    /// <summary>
    /// Chooses the attempt's silo, waiting (status <see cref="WorkflowStatus.AwaitingSiloTags"/>) while no live silo has
    /// the task's tags. An attempt a previous owner already sent elsewhere is collected there instead. A remote choice
    /// is recorded in the state, for the dispatch fence's write to save.
    /// </summary>
    private async Task<Placement> PlaceAttemptAsync(TaskNode task, int attempt, Guid attemptId, string key, int epoch)
    {
        if (_run.RemoteAttempts is { } remote && remote.TryGetValue(task.Id, out var sent) && sent.Attempt == attempt && sent.IdempotencyKey == key)
        {
            var silo = SiloAddress.FromParsableString(sent.Silo);
            Log.RemoteAttemptReattached(_logger, InstanceId, task.Id, attempt, sent.Silo);
            return new Placement(silo, sent);
        }
        var target = await ChooseSiloAsync(task, epoch);
        return Send(task, attempt, attemptId, key, target);
    }

    private Placement Send(TaskNode task, int attempt, Guid attemptId, string key, SiloAddress target)
    {
        if (target.Equals(_placement.LocalSilo))
        {
            _run.RemoteAttempts?.Remove(task.Id);
            return new Placement(null, null);
        }
        (_run.RemoteAttempts ??= [])[task.Id] = new RemoteAttempt { AttemptId = attemptId, Silo = target.ToParsableString(), Attempt = attempt, IdempotencyKey = key };
        _writer.Changed();
        return new Placement(target, null);
    }

    private async Task<SiloAddress> ChooseSiloAsync(TaskNode task, int epoch)
    {
        var tags = task.Settings.Tags.IsDefault ? [] : task.Settings.Tags;
        var preferLocal = task.Settings.Placement == TaskPlacement.Local;
        var stopped = _runCts.Token;
        try
        {
            while (true)
            {
                var changed = _placement.Changed;
                var silo = await _placement.ChooseAsync(tags, preferLocal);
                Ensure(epoch);
                if (silo is not null) return silo;
                if (!_awaitingSilo.ContainsKey(task.Id))
                {
                    _awaitingSilo[task.Id] = string.Join(",", tags);
                    Log.AwaitingSilo(_logger, InstanceId, task.Id, _awaitingSilo[task.Id]);
                    SayiirTelemetry.TaskSiloWaits.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
                }
                // A membership change (a silo joined) wakes the wait; the re-check covers a silo that could not describe
                // itself yet when it joined. Stopping the run cancels the delay.
                await Task.WhenAny(changed, Task.Delay(SiloWaitRecheck, TimeProvider.System, stopped)); // wall clock: follows the cluster's membership
                Ensure(epoch);
            }
        }
        finally
        {
            _awaitingSilo.Remove(task.Id);
        }
    }

    /// <summary>
    /// Runs a placed attempt (here, or on another silo) to its answer. An attempt lost with its silo is sent again —
    /// with the same attempt number, recorded as <see cref="RunEventKind.TaskSiloLost"/> — once the cluster has given up
    /// on that silo; an unreachable silo that is not declared dead is asked again, never replaced.
    /// </summary>
    private async Task<TaskAttemptResult> RunPlacedAsync(TaskNode task, TaskAttemptRequest request, Placement placed, int epoch)
    {
        var silo = placed.Remote;
        var known = placed.IsReattach;
        var attemptId = placed.Reattach?.AttemptId ?? request.AttemptId;
        while (true)
        {
            if (silo is null)
            {
                var local = await RunLocallyAsync(request, epoch);
                _placement.Answered(_placement.LocalSilo, local.SiloLoad);
                return local;
            }
            var reply = await RunRemoteAsync(silo, request with { AttemptId = attemptId }, known, epoch);
            if (reply.Outcome != AttemptOutcome.Abandoned) return reply;
            // Lost with its silo (or stopped there): the attempt never reports; send it again.
            Log.RemoteAttemptLost(_logger, InstanceId, task.Id, request.Attempt, silo.ToString());
            Record(RunEventKind.TaskSiloLost, task.Id, request.Attempt, detail: silo.ToString());
            SayiirTelemetry.TaskSiloLosses.Add(1, SayiirTelemetry.WorkflowTag(_run.WorkflowName));
            _run.RemoteAttempts?.Remove(task.Id);
            _writer.Changed();
            var target = await ChooseSiloAsync(task, epoch);
            attemptId = request.AttemptId;
            known = false;
            silo = Send(task, request.Attempt, attemptId, request.IdempotencyKey, target).Remote;
            // The new record is durable before the attempt is sent again.
            await _writer.EnsureDurableAsync();
            Ensure(epoch);
            if (_handingOff) throw new RunAbandonedException(null);
            Record(RunEventKind.TaskStarted, task.Id, request.Attempt, detail: silo?.ToString());
        }
    }

    private async Task<TaskAttemptResult> RunRemoteAsync(SiloAddress silo, TaskAttemptRequest request, bool known, int epoch)
    {
        var host = _placement.Host(silo);
        _remoteInFlight[request.TaskId] = (silo, request.AttemptId);
        var stopped = _runCts.Token;
        try
        {
            while (true)
            {
                TaskAttemptResult reply;
                try
                {
                    // Until the silo has answered once, the request is sent again (it is idempotent by attempt id).
                    reply = known ? await host.AwaitAsync(request.AttemptId) : await host.ExecuteAsync(request);
                }
                catch (Exception ex) when (epoch == _epoch)
                {
                    if (await _placement.IsGoneAsync(silo))
                    {
                        _placement.Answered(silo, null);
                        return TaskAttemptResult.Abandoned;
                    }
                    Log.RemoteSiloUnreachable(_logger, ex, InstanceId, request.TaskId, silo.ToString());
                    await Task.WhenAny(_placement.Changed, Task.Delay(UnreachableRetry, TimeProvider.System, stopped)); // wall clock: follows the cluster's failure detection
                    Ensure(epoch);
                    continue;
                }
                EnsureUnlessSpared(epoch, request.TaskId);
                if (reply.Outcome == AttemptOutcome.Pending)
                {
                    known = true;
                    Log.TaskPending(_logger, InstanceId, request.TaskId, request.Attempt);
                    continue;
                }
                _placement.Answered(silo, reply.SiloLoad);
                if (reply.Outcome != AttemptOutcome.Abandoned) _unsavedRemoteResults.Add((silo, request.TaskId, request.AttemptId));
                return reply;
            }
        }
        finally
        {
            if (_remoteInFlight.TryGetValue(request.TaskId, out var current) && current.AttemptId == request.AttemptId) _remoteInFlight.Remove(request.TaskId);
        }
    }

    /// <summary>After a landed write: the silos of remote results it saved may drop them.</summary>
    private void ForgetSavedRemoteAttempts(WorkflowRunState saved)
    {
        if (_unsavedRemoteResults.Count == 0) return;
        for (var i = _unsavedRemoteResults.Count - 1; i >= 0; i--)
        {
            var (silo, taskId, attemptId) = _unsavedRemoteResults[i];
            // The record leaves the state in the same change as the result is saved.
            if (saved.RemoteAttempts is { } remote && remote.TryGetValue(taskId, out var still) && still.AttemptId == attemptId) continue;
            _unsavedRemoteResults.RemoveAt(i);
            _ = ForgetAsync(silo, attemptId);
        }
    }

    private async Task ForgetAsync(SiloAddress silo, Guid attemptId)
    {
        try
        {
            await _placement.Host(silo).ForgetAsync(attemptId);
        }
        catch (Exception ex)
        {
            // The silo drops it after its retention window anyway.
            Log.RemoteForgetFailed(_logger, ex, InstanceId, silo.ToString());
        }
    }

    /// <summary>
    /// The run stops its remote attempts (cancel, failure, a sibling's failure) — but not when it is handed over or lost
    /// to another activation: that one collects them.
    /// </summary>
    private void AbandonRemoteAttempts()
    {
        if (_remoteInFlight.Count == 0) return;
        if (!_handingOff && !_writer.Lost)
        {
            // An attempt of a compensable task the run awaits while it starts compensating is not stopped.
            foreach (var (taskId, (silo, attemptId)) in _remoteInFlight)
                if (!_sparedTasks.Contains(taskId)) _ = AbandonAsync(silo, attemptId);
        }
        _remoteInFlight.Clear();
    }

    private async Task AbandonAsync(SiloAddress silo, Guid attemptId)
    {
        try
        {
            await _placement.Host(silo).AbandonAsync(attemptId);
        }
        catch (Exception ex)
        {
            Log.RemoteForgetFailed(_logger, ex, InstanceId, silo.ToString());
        }
    }
}
