-- usage_meter 1.3 -> 1.4. Versions 1.0 to 1.3 are released: their scripts are never edited again; CREATE
-- EXTENSION usage_meter (default 1.4) runs 1.0, then every upgrade script up to this one.
-- 1.4 closes the ways two features could meet and bill wrong, drift, refuse or deadlock (see CHANGELOG.md).
-- Most of it is in the library (reprice, corrections, recording, bounds, time zones); this script changes the
-- SQL functions that take locks on the ledger and the reports that count unpriced events.
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.4'" to load this file. \quit

-- ------------------------------------------------------------------------------------------------------------
-- One lock order on the ledger: the parent usage_meter.events first, then its partitions. Every statement
-- locks the parent before its partitions; create_partition and drop_events_before now take ACCESS EXCLUSIVE on
-- the parent before they touch any partition. So they never hold a partition lock that a recording, a void
-- or a reprice waits for while it holds the parent (40P01); a transaction already holding a lock on the
-- parent is let through ahead of them when it needs a stronger one (a void's INSERT after its SELECT, a
-- reprice's UPDATE after its FOR UPDATE); and a recording that waited for a new partition routes its row
-- after the partition exists (it used to reach the default partition with the old routing and fail its
-- constraint: 23514). Reads and writes of the ledger wait for the moment a partition is created or dropped.
-- ------------------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION usage_meter.create_partition(month_start timestamptz)
RETURNS text
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    upper timestamptz := ((month_start AT TIME ZONE 'UTC') OPERATOR(pg_catalog.+) interval '1 month') AT TIME ZONE 'UTC';
    name text := 'events_' OPERATOR(pg_catalog.||) pg_catalog.to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM')
                 OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.date_part('year', month_start AT TIME ZONE 'UTC')
                                                   OPERATOR(pg_catalog.<=) 0 THEN '_bc' ELSE '' END;
    role text := pg_catalog.current_setting('session_replication_role');
BEGIN
    IF month_start OPERATOR(pg_catalog.<>) pg_catalog.date_trunc('month', month_start, 'UTC') THEN
        RAISE EXCEPTION 'invalid month_start: % is not the start of a UTC month', month_start
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.to_regclass('usage_meter.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(name)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    -- The ledger waits here for a moment (only when a partition is created): no row is routed while the
    -- partitions change, and the transactions in flight finish before the default partition's rows move.
    LOCK TABLE ONLY usage_meter.events IN ACCESS EXCLUSIVE MODE;
    EXECUTE pg_catalog.format('CREATE TABLE usage_meter.%I (LIKE usage_meter.events INCLUDING DEFAULTS'
                              ' INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)', name);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ADD CONSTRAINT %I PRIMARY KEY (tenant, event_id, occurred_at)',
                              name, name OPERATOR(pg_catalog.||) '_pkey');
    EXECUTE pg_catalog.format('CREATE UNIQUE INDEX %I ON usage_meter.%I (tenant, reverses_event_id)'
                              ' WHERE reverses_event_id IS NOT NULL', name OPERATOR(pg_catalog.||) '_reversed_once', name);
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    EXECUTE pg_catalog.format('WITH moved AS (DELETE FROM usage_meter.events_default AS d'
                              ' WHERE d.occurred_at OPERATOR(pg_catalog.>=) $1 AND d.occurred_at OPERATOR(pg_catalog.<) $2'
                              ' RETURNING d.*) INSERT INTO usage_meter.%I SELECT * FROM moved', name)
        USING month_start, upper;
    PERFORM pg_catalog.set_config('session_replication_role', role, true);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.events ATTACH PARTITION usage_meter.%I FOR VALUES FROM (%L) TO (%L)',
                              name, month_start, upper);
    EXECUTE pg_catalog.format('CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON usage_meter.%I'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION usage_meter.events_append_only()', name);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ENABLE ROW LEVEL SECURITY', name);
    RETURN name;
END
$$;

-- drop_events_before(cutoff) -> the number of raw events dropped. As in 1.1, with the parent's lock taken
-- first, and idempotency keys kept as tombstones: the key of a dropped event is kept until it is 35 days old
-- (recorded_at), so a late retry of it is refused (22023) even when it does not carry its original occurred_at;
-- each call also deletes the tombstones that have aged past that. A key whose event is kept is never deleted.
CREATE OR REPLACE FUNCTION usage_meter.drop_events_before(cutoff timestamptz)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    boundary timestamptz;
    kept timestamptz;
    m timestamptz;
    p record;
    n bigint;
    dropped bigint := 0;
BEGIN
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'cutoff must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(cutoff) OR cutoff OPERATOR(pg_catalog.>) pg_catalog.now() THEN
        RAISE EXCEPTION 'invalid cutoff: % (it must be a finite time, not in the future)', cutoff
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    boundary := pg_catalog.date_trunc('month', cutoff, 'UTC');
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.partitions'));
    SELECT r.kept_from INTO kept FROM usage_meter.retention AS r;
    IF kept IS NULL OR boundary OPERATOR(pg_catalog.>) kept THEN
        -- The parent first, as recording takes it: recording waits from here to the commit.
        LOCK TABLE ONLY usage_meter.events IN ACCESS EXCLUSIVE MODE;
        FOR m IN SELECT DISTINCT pg_catalog.date_trunc('month', d.occurred_at, 'UTC') FROM usage_meter.events_default AS d
                  WHERE d.occurred_at OPERATOR(pg_catalog.<) boundary LOOP
            PERFORM usage_meter.create_partition(m);
        END LOOP;
        FOR p IN SELECT c.oid::regclass AS part,
                        pg_catalog.substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'TO \(''(.*)''\)')::timestamptz AS upper
                   FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                  WHERE i.inhparent OPERATOR(pg_catalog.=) 'usage_meter.events'::regclass
                    AND c.oid OPERATOR(pg_catalog.<>) 'usage_meter.events_default'::regclass LOOP
            IF p.upper OPERATOR(pg_catalog.<=) boundary THEN
                EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p.part);
                EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', p.part) INTO n;
                dropped := dropped OPERATOR(pg_catalog.+) n;
                EXECUTE pg_catalog.format('DROP TABLE %s', p.part);
            END IF;
        END LOOP;
        INSERT INTO usage_meter.retention AS r (singleton, kept_from) VALUES (true, boundary)
            ON CONFLICT (singleton) DO UPDATE SET kept_from = excluded.kept_from, updated_at = pg_catalog.now();
        kept := boundary;
    END IF;
    IF kept IS NOT NULL THEN
        DELETE FROM usage_meter.idempotency_keys AS k
         WHERE k.occurred_at OPERATOR(pg_catalog.<) kept
           AND k.recorded_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) interval '35 days');
    END IF;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION usage_meter.drop_events_before IS 'Drops the raw events of every UTC month before cutoff''s; summaries keep the history, keys stay 35 days as tombstones';

-- ------------------------------------------------------------------------------------------------------------
-- Unpriced events are counted as the summaries count them: a voided event no longer counts (its reversal
-- cancels it), so unpriced_models() and health() agree with daily_usage.unpriced.
-- ------------------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION usage_meter.unpriced_models()
RETURNS TABLE (model text, provider text, operation text, events bigint, tenants bigint, input_tokens bigint,
               output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint, quantity numeric,
               first_occurred_at timestamptz, last_occurred_at timestamptz)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.model, e.provider, e.operation, pg_catalog.count(*), pg_catalog.count(DISTINCT e.tenant),
           pg_catalog.sum(e.input_tokens)::bigint, pg_catalog.sum(e.output_tokens)::bigint,
           pg_catalog.sum(e.cache_read_tokens)::bigint, pg_catalog.sum(e.cache_write_tokens)::bigint,
           COALESCE(pg_catalog.sum(e.quantity), 0), pg_catalog.min(e.occurred_at), pg_catalog.max(e.occurred_at)
    FROM usage_meter.events AS e
    WHERE NOT e.priced AND e.reverses_event_id IS NULL
      AND NOT EXISTS (SELECT FROM usage_meter.events AS r
                       WHERE r.tenant OPERATOR(pg_catalog.=) e.tenant
                         AND r.reverses_event_id OPERATOR(pg_catalog.=) e.event_id
                         AND r.occurred_at OPERATOR(pg_catalog.=) e.occurred_at)
    GROUP BY e.model, e.provider, e.operation
    ORDER BY pg_catalog.count(*) DESC, e.model NULLS FIRST, e.provider NULLS FIRST, e.operation;
$$;
COMMENT ON FUNCTION usage_meter.unpriced_models IS 'Models and operations with unpriced usage that counts (voided events excluded): events, tokens, since when';

-- events and unpriced_events count as the summaries' requests and unpriced do: a reversal is -1.
CREATE OR REPLACE FUNCTION usage_meter.health()
RETURNS TABLE (tenant text, events bigint, unpriced_events bigint, last_occurred_at timestamptz,
               last_recorded_at timestamptz, status text)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    WITH per_tenant AS (
        SELECT e.tenant, pg_catalog.sum(s.sign)::bigint AS events,
               COALESCE(pg_catalog.sum(s.sign) FILTER (WHERE NOT e.priced), 0)::bigint AS unpriced_events,
               pg_catalog.max(e.occurred_at) AS last_occurred_at, pg_catalog.max(e.recorded_at) AS last_recorded_at
        FROM usage_meter.events AS e
        CROSS JOIN LATERAL (SELECT CASE WHEN e.reverses_event_id IS NULL THEN 1 ELSE -1 END AS sign) AS s
        GROUP BY e.tenant
    ),
    triggers AS (
        SELECT pg_catalog.count(*) FILTER (WHERE t.tgenabled OPERATOR(pg_catalog.<>) 'D') AS enabled
        FROM pg_catalog.pg_trigger AS t
        WHERE t.tgrelid OPERATOR(pg_catalog.=) 'usage_meter.events'::regclass
          AND t.tgname OPERATOR(pg_catalog.=) ANY (ARRAY['events_prepare', 'events_rollup', 'events_append_only']::name[])
    )
    SELECT NULL::text, COALESCE(pg_catalog.sum(p.events), 0)::bigint, COALESCE(pg_catalog.sum(p.unpriced_events), 0)::bigint,
           pg_catalog.max(p.last_occurred_at), pg_catalog.max(p.last_recorded_at),
           CASE WHEN (SELECT enabled FROM triggers) OPERATOR(pg_catalog.<) 3
                    THEN 'error: a ledger trigger is disabled; summaries are not being kept'
                WHEN COALESCE(pg_catalog.sum(p.unpriced_events), 0) OPERATOR(pg_catalog.>) 0
                    THEN 'warning: unpriced events; add prices for the models in use'
                ELSE 'ok' END
    FROM per_tenant AS p
    UNION ALL
    SELECT p.tenant, p.events, p.unpriced_events, p.last_occurred_at, p.last_recorded_at,
           CASE WHEN p.unpriced_events OPERATOR(pg_catalog.>) 0 THEN 'warning: unpriced events' ELSE 'ok' END
    FROM (SELECT * FROM per_tenant ORDER BY tenant) AS p;
$$;
COMMENT ON FUNCTION usage_meter.health IS 'State of the ledger: a total row (tenant NULL), then one row per tenant; events count as the summaries count them';

-- ------------------------------------------------------------------------------------------------------------
-- verify() and rebuild() against drop_events_before and create_partitions. A statement takes its snapshot
-- before it waits for a lock, so a verify() that waited for a drop used to read the retention boundary from
-- before the drop and the ledger after it: the dropped days looked empty, and a rebuild() "repaired" them by
-- zeroing their history. verify() now first waits for any partition change in progress (the shared side of
-- the lock create_partitions and drop_events_before hold), then compares in a snapshot taken after it;
-- rebuild() goes through verify(). Readers never wait for each other; a partition change waits for the
-- verify() or rebuild() in progress. The comparison itself is unchanged (verify_ledger).
-- ------------------------------------------------------------------------------------------------------------
ALTER FUNCTION usage_meter.verify() RENAME TO verify_ledger;
COMMENT ON FUNCTION usage_meter.verify_ledger IS 'verify()''s comparison, in the caller''s snapshot (internal: call verify())';
CREATE FUNCTION usage_meter.verify()
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, ledger numeric, recorded numeric, difference numeric)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext('usage_meter.partitions'));
    RETURN QUERY SELECT * FROM usage_meter.verify_ledger();  -- READ COMMITTED: a snapshot from after the wait
END
$$;
COMMENT ON FUNCTION usage_meter.verify IS 'No rows exactly when every daily summary and live counter from verifiable_since() on equals the ledger';
-- verify() runs with the caller's rights (a reader compares its own tenants), and so does verify_ledger, which
-- keeps the grants it had as verify().
REVOKE ALL ON FUNCTION usage_meter.verify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.verify() TO usage_meter_reader, usage_meter_admin;

-- ------------------------------------------------------------------------------------------------------------
-- void_event: the reversal is routed by its event's occurred_at. A lookup that waited for create_partitions
-- moving the event out of the default partition ran in a snapshot from before the move against the partitions
-- after it, found nothing, and routed the reversal by now(): the trigger then copied the event's own time
-- into it and PostgreSQL refused to move the row (0A000). Under READ COMMITTED a second lookup, in a new
-- snapshot, sees the move. Unknown events are still refused by the ledger trigger, with its message.
-- ------------------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION usage_meter.void_event(tenant text, event_id bigint, reason text)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reversal_id bigint;
    at timestamptz;
BEGIN
    IF void_event.event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOR attempt IN 1..2 LOOP
        SELECT e.occurred_at INTO at FROM usage_meter.events AS e
         WHERE e.tenant OPERATOR(pg_catalog.=) void_event.tenant
           AND e.event_id OPERATOR(pg_catalog.=) void_event.event_id;
        EXIT WHEN FOUND;
    END LOOP;
    -- The ledger trigger fills the row from the event (operation included) and checks everything.
    INSERT INTO usage_meter.events AS e (tenant, operation, reverses_event_id, reason, occurred_at)
    VALUES (void_event.tenant, '-', void_event.event_id, void_event.reason, COALESCE(at, pg_catalog.now()))
    RETURNING e.event_id INTO reversal_id;
    RETURN reversal_id;
END
$$;
