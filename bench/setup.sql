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

-- The large transactions (run.sh, "large transactions"): every row carries an idempotency key, so the baseline
-- writes the ledger row into bench.bare_events and its key row into bench.bare_keys (the key table's shape).
CREATE TABLE bench.bare_keys (LIKE usage_meter.idempotency_keys INCLUDING ALL);
-- usage_record x n in one transaction, as a sync job's loop records: the same event for 100 users of tenant
-- 'bulk', each with its own key (prefix-i).
CREATE FUNCTION bench.record_loop(n integer, prefix text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        PERFORM usage_meter.usage_record('bulk', 'user' || (1 + i % 100), 'chat', 'claude-3-5-haiku', 1234, 567, 89,
                                         idempotency_key => prefix || '-' || i);
    END LOOP;
END
$$;
-- Its baseline: the same loop writing the same ledger row (derived columns as constants, as bare_insert.sql) and
-- its key row into the plain tables.
CREATE FUNCTION bench.bare_loop(n integer, prefix text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    price bigint := (SELECT price_id FROM usage_meter.prices WHERE model = 'claude-3-5-haiku');
    today date := (now() AT TIME ZONE 'UTC')::date;
    id bigint;
BEGIN
    FOR i IN 1..n LOOP
        INSERT INTO bench.bare_events (tenant, user_id, operation, model, provider, input_tokens, output_tokens,
                                       cache_read_tokens, cache_write_tokens, reasoning_tokens, quantity, cost,
                                       billed_cost, priced, cost_source, price_id, unit_price_id, markup_pct, day,
                                       idempotency_key)
        VALUES ('bulk', 'user' || (1 + i % 100), 'chat', 'claude-3-5-haiku', NULL, 1234, 567, 89, 0, 0, NULL,
                0.00326232, 0.00326232, true, 'price_table', price, NULL, 0, today, prefix || '-' || i)
        RETURNING event_id INTO id;
        INSERT INTO bench.bare_keys (tenant, idempotency_key, event_id, occurred_at)
        VALUES ('bulk', prefix || '-' || i, id, now());
    END LOOP;
END
$$;
