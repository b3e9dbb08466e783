-- Run once in a fresh database by run.sh.
\set ON_ERROR_STOP on
CREATE EXTENSION usage_meter;
SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08) AS price_id \gset
SELECT usage_meter.set_limit('hot', NULL, 'cost', 'day', 1000000);
SELECT usage_meter.set_limit('hot', '*', 'tokens', 'day', 1000000000);
SELECT usage_meter.set_limit('hot', NULL, 'requests', 'month', 1000000000);

-- The baseline table: same columns, defaults, indexes and constraints as the ledger, no triggers. Its own
-- sequence (same default expression otherwise), so bare inserts leave the ledger's event ids contiguous.
CREATE SCHEMA bench;
CREATE TABLE bench.bare_events (LIKE usage_meter.events INCLUDING ALL);
CREATE SEQUENCE bench.bare_event_id_seq;
ALTER TABLE bench.bare_events ALTER COLUMN event_id SET DEFAULT pg_catalog.nextval('bench.bare_event_id_seq');
