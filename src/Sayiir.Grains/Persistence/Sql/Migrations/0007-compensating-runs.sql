-- Migration 7: compensation (sagas).
--
-- A run undoing its completed steps is stored with the new active state Compensating (WorkflowState 9); one that
-- undid them all ends Compensated (10, terminal). Compensating has not ended: the partial index of active runs per
-- definition names it beside the other active states. The predicate is RunStateStorage.ActiveStatusPredicate
-- (src/Sayiir.Grains/Persistence/RunStateStorage.cs), which the listing queries use verbatim so the planner matches
-- the index; RunListingTests fail if they disagree. No stored row changes: none can hold 9 or 10 before this version.

DROP INDEX IF EXISTS ix_sayiir_runs_active_definition;

CREATE INDEX ix_sayiir_runs_active_definition
    ON OrleansStorage (ServiceId, SayiirWorkflow, SayiirHash)
    WHERE GrainTypeString = 'sayiir-run' AND SayiirStatus IN (1, 2, 3, 4, 8, 9);
