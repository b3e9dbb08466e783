-- Run once in a fresh database by run.sh.
\set ON_ERROR_STOP on
CREATE EXTENSION usage_meter;
SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08) AS price_id \gset
SELECT usage_meter.set_limit('hot', NULL, 'cost', 'day', 1000000);
SELECT usage_meter.set_limit('hot', '*', 'tokens', 'day', 1000000000);
SELECT usage_meter.set_limit('hot', NULL, 'requests', 'month', 1000000000);

-- The ledger is partitioned by month of occurred_at: the current month gets its partition, as in production
-- (create_partitions run daily), so recording does not go to the default partition.
SELECT count(*) FROM usage_meter.create_partitions(0);

-- The baseline table: same columns, defaults and constraints as the ledger, partitioned the same way (same
-- partition bounds, each partition with the ledger partition's indexes: its primary key and reversal index),
-- no triggers. Its own sequence (same default expression otherwise), so bare inserts leave the ledger's event
-- ids contiguous. bench.mirror_partitions() adds the partitions the ledger gained (run.sh calls it).
CREATE SCHEMA bench;
CREATE TABLE bench.bare_events (LIKE usage_meter.events INCLUDING ALL) PARTITION BY RANGE (occurred_at);
CREATE FUNCTION bench.mirror_partitions() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p record;
    i record;
BEGIN
    FOR p IN SELECT c.oid, c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
               FROM pg_inherits AS h JOIN pg_class AS c ON c.oid = h.inhrelid
              WHERE h.inhparent = 'usage_meter.events'::regclass
              ORDER BY c.relname = 'events_default' DESC, c.relname LOOP
        CONTINUE WHEN to_regclass('bench.' || quote_ident(p.relname)) IS NOT NULL;
        EXECUTE format('CREATE TABLE bench.%I PARTITION OF bench.bare_events %s', p.relname, p.bound);
        FOR i IN SELECT pg_get_indexdef(x.indexrelid) AS def FROM pg_index AS x WHERE x.indrelid = p.oid LOOP
            EXECUTE replace(i.def, ' ON usage_meter.', ' ON bench.');
        END LOOP;
    END LOOP;
END
$$;
SELECT bench.mirror_partitions();
CREATE SEQUENCE bench.bare_event_id_seq;
ALTER TABLE bench.bare_events ALTER COLUMN event_id SET DEFAULT pg_catalog.nextval('bench.bare_event_id_seq');

-- The floor for any reserve/settle design that commits its hold in a transaction of its own: the same two
-- transactions with the first reduced to the cheapest durable write of a hold's columns (bench.floor_holds:
-- a bigserial key and nothing else, no limit checked), the second a plain usage_record. floor_pair / usage_record
-- is the highest ratio reserve_settle could reach on this machine; reserve_settle / floor_pair, how close it gets.
CREATE TABLE bench.floor_holds (
    hold_id bigserial PRIMARY KEY,
    tenant text NOT NULL,
    user_id text,
    estimated_cost numeric NOT NULL,
    estimated_tokens bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL DEFAULT now() + interval '10 minutes'
);
