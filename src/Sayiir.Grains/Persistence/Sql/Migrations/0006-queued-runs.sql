-- Migration 6: concurrency limits.
--
-- A run waiting for a concurrency slot is stored with the new state Queued (WorkflowState 8, after the terminal states
-- Completed 5, Failed 6 and Cancelled 7, so every stored status keeps its meaning). It has not ended: the partial index
-- of active runs per definition (migration 4), which named the active states as the range 1-4, now names them one by
-- one. The predicate is RunStateStorage.ActiveStatusPredicate (src/Sayiir.Grains/Persistence/RunStateStorage.cs),
-- which the listing queries use verbatim so the planner matches the index; RunListingTests fail if they disagree. No
-- stored row changes: none can hold 8 before this version.
--
-- The concurrency gates store their holders and queues as grain state (GrainTypeString 'sayiir-gate') in the same
-- table; the listing trigger ignores those rows.

DROP INDEX IF EXISTS ix_sayiir_runs_active_definition;

CREATE INDEX ix_sayiir_runs_active_definition
    ON OrleansStorage (ServiceId, SayiirWorkflow, SayiirHash)
    WHERE GrainTypeString = 'sayiir-run' AND SayiirStatus IN (1, 2, 3, 4, 8);
