using System.Text.Json.Nodes;
using Sayiir.Runtime;

namespace Sayiir.Tests.Engine;

/// <summary>
/// Run states stored by earlier versions still load with the storage serializer the engine uses, after members were
/// removed from the state (the upgrade fixture holds no value for them: its runs never retried or were cancelled).
/// </summary>
public sealed class StoredStateUpgradeTests
{
    [Fact]
    public void Deserialize_StateStoredWithRemovedMembers_LoadsEveryRemainingMember()
    {
        var serializer = Sayiir.Persistence.RunStateStorage.CreateSerializer();
        var runId = Guid.NewGuid();
        var nextAttemptAt = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var current = new WorkflowRunState
        {
            WorkflowName = "orders",
            DefinitionHash = "abc123",
            Status = WorkflowState.Running,
            RunId = runId,
            Retries = { ["charge"] = new RetryCheckpoint { NextAttempt = 2, NextAttemptAt = nextAttemptAt } },
            Done = { "reserve" },
        };
        var stored = JsonNode.Parse(serializer.Serialize(current).ToString())!.AsObject();
        // The members as an earlier version wrote them: WorkflowRunState.InterruptedTaskId and RetryCheckpoint.LastFailure.
        stored["InterruptedTaskId"] = "charge";
        stored["Retries"]!["charge"]!["LastFailure"] = new JsonObject
        {
            ["TaskId"] = "charge",
            ["Attempt"] = 1,
            ["ErrorType"] = "System.TimeoutException",
            ["Message"] = "gateway timed out",
            ["At"] = "2030-01-02T03:04:00+00:00",
        };

        var loaded = serializer.Deserialize<WorkflowRunState>(BinaryData.FromString(stored.ToJsonString()));

        Assert.NotNull(loaded);
        Assert.Equal("orders", loaded.WorkflowName);
        Assert.Equal(WorkflowState.Running, loaded.Status);
        Assert.Equal(runId, loaded.RunId);
        var retry = Assert.Single(loaded.Retries);
        Assert.Equal("charge", retry.Key);
        Assert.Equal(2, retry.Value.NextAttempt);
        Assert.Equal(nextAttemptAt, retry.Value.NextAttemptAt);
        Assert.Equal(["reserve"], loaded.Done);
    }

    [Fact]
    public void Deserialize_StateStoredBeforeTheDoneCursor_LoadsEveryFinishedIdWithTheCursorAtZero()
    {
        var serializer = Sayiir.Persistence.RunStateStorage.CreateSerializer();
        var stored = JsonNode.Parse(serializer.Serialize(new WorkflowRunState { WorkflowName = "orders", Status = WorkflowState.Running }).ToString())!.AsObject();
        // As the version before the cursor wrote it: every finished id, no DoneThrough member.
        Assert.False(stored.ContainsKey(nameof(WorkflowRunState.DoneThrough)));
        stored[nameof(WorkflowRunState.Done)] = new JsonArray("reserve", "charge", "ship");

        var loaded = serializer.Deserialize<WorkflowRunState>(BinaryData.FromString(stored.ToJsonString()));

        Assert.NotNull(loaded);
        Assert.Equal(0, loaded.DoneThrough);
        Assert.True(loaded.Done.SetEquals(["reserve", "charge", "ship"]), string.Join(",", loaded.Done));
    }

    [Fact]
    public void Serialize_StateWithACursor_RoundTripsItAndItsRemainingIds()
    {
        var serializer = Sayiir.Persistence.RunStateStorage.CreateSerializer();
        var state = new WorkflowRunState { WorkflowName = "orders", Status = WorkflowState.Running, DoneThrough = 1999, Done = { "s2000" } };

        var loaded = serializer.Deserialize<WorkflowRunState>(serializer.Serialize(state));

        Assert.Equal(1999, loaded!.DoneThrough);
        Assert.Equal(["s2000"], loaded.Done);
        Assert.Equal(1999, state.Snapshot().DoneThrough);
    }
}
