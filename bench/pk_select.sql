-- Baseline for check_limit.sql: one ledger row by primary key. run.sh passes the hot tenant's event_id
-- range with -D min_id=... -D max_id=... (the ids are contiguous: every ledger row there belongs to 'hot').
\set id random(:min_id, :max_id)
SELECT * FROM usage_meter.events WHERE tenant = 'hot' AND event_id = :id;
