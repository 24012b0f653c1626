-- Migration 2: a per-run sequence number on history rows, so a row can be written idempotently (an outbox
-- re-delivers rows after a crash; the unique index turns a re-delivered row into a conflict). Rows written before
-- this migration keep seq NULL and are ordered by id as before.
ALTER TABLE sayiir_history ADD COLUMN IF NOT EXISTS seq bigint NULL;

CREATE UNIQUE INDEX IF NOT EXISTS ux_sayiir_history_run_seq ON sayiir_history (service_id, instance_id, seq) WHERE seq IS NOT NULL;
