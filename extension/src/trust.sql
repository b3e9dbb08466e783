-- Ledger trust: checking (verify, health), corrections (void_event, correct_event) and repair (rebuild).
-- The ledger stays append-only: a void or a correction adds rows, never changes one (tables.sql). verify()
-- and health() run with the caller's rights, so a reader checks its own tenants; corrections and repair run
-- as the extension's owner and are the admin's.

------------------------------------------------------------------------------------------------------------
-- Checking: verify() compares every summary with the ledger; health() reports the state.
------------------------------------------------------------------------------------------------------------
-- verify()'s comparison, in the caller's snapshot. A reversal counts as -1 request (error, unpriced event)
-- like in the roll-up. Only the days whose raw events are all kept are compared (verifiable_since() on): a day
-- or month counter some of whose events were dropped cannot be compared with the ledger, and is not reported.
CREATE FUNCTION usage_meter.verify_ledger()
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, ledger numeric, recorded numeric, difference numeric)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    WITH since AS MATERIALIZED (SELECT usage_meter.verifiable_since() AS day),
    ledger_daily AS (
        SELECT e.tenant, e.user_id, e.day, e.operation, e.provider, e.model,
               sum(s.sign)::numeric AS requests,
               COALESCE(sum(s.sign) FILTER (WHERE NOT e.success), 0)::numeric AS errors,
               COALESCE(sum(s.sign) FILTER (WHERE NOT e.priced), 0)::numeric AS unpriced,
               sum(e.input_tokens)::numeric AS input_tokens, sum(e.output_tokens)::numeric AS output_tokens,
               sum(e.cache_read_tokens)::numeric AS cache_read_tokens,
               sum(e.cache_write_tokens)::numeric AS cache_write_tokens,
               sum(e.reasoning_tokens)::numeric AS reasoning_tokens,
               COALESCE(sum(e.quantity), 0) AS quantity, COALESCE(sum(e.cost), 0) AS cost,
               COALESCE(sum(e.billed_cost), 0) AS billed_cost,
               COALESCE(sum(e.latency_ms), 0)::numeric AS latency_ms_total
        FROM usage_meter.events AS e
        CROSS JOIN LATERAL (SELECT CASE WHEN e.reverses_event_id IS NULL THEN 1 ELSE -1 END AS sign) AS s
        WHERE e.day >= (SELECT since.day FROM since)
        GROUP BY e.tenant, e.user_id, e.day, e.operation, e.provider, e.model
    ),
    daily_diff AS (
        SELECT 'daily_usage'::text AS summary, COALESCE(l.tenant, d.tenant) AS tenant,
               COALESCE(l.user_id, d.user_id) AS user_id, 'day'::text AS period,
               COALESCE(l.day, d.day) AS period_start, COALESCE(l.operation, d.operation) AS operation,
               COALESCE(l.provider, d.provider) AS provider, COALESCE(l.model, d.model) AS model,
               v.field, v.ledger, v.recorded
        FROM ledger_daily AS l
        FULL JOIN (SELECT * FROM usage_meter.daily_usage AS u WHERE u.day >= (SELECT since.day FROM since)) AS d
               ON d.tenant = l.tenant AND d.day = l.day AND d.operation = l.operation
              AND d.user_id IS NOT DISTINCT FROM l.user_id AND d.provider IS NOT DISTINCT FROM l.provider
              AND d.model IS NOT DISTINCT FROM l.model
        CROSS JOIN LATERAL (VALUES
            ('requests', l.requests, d.requests::numeric), ('errors', l.errors, d.errors::numeric),
            ('unpriced', l.unpriced, d.unpriced::numeric),
            ('input_tokens', l.input_tokens, d.input_tokens::numeric),
            ('output_tokens', l.output_tokens, d.output_tokens::numeric),
            ('cache_read_tokens', l.cache_read_tokens, d.cache_read_tokens::numeric),
            ('cache_write_tokens', l.cache_write_tokens, d.cache_write_tokens::numeric),
            ('reasoning_tokens', l.reasoning_tokens, d.reasoning_tokens::numeric),
            ('quantity', l.quantity, d.quantity), ('cost', l.cost, d.cost),
            ('billed_cost', l.billed_cost, d.billed_cost),
            ('latency_ms_total', l.latency_ms_total, d.latency_ms_total::numeric)) AS v(field, ledger, recorded)
        WHERE COALESCE(v.ledger, 0) <> COALESCE(v.recorded, 0)
    ),
    ledger_counters AS (
        SELECT l.tenant, s.user_id, s.period, s.period_start,
               sum(l.requests) AS requests,
               sum(l.input_tokens + l.output_tokens + l.cache_read_tokens + l.cache_write_tokens) AS tokens,
               sum(l.cost) AS cost, sum(l.billed_cost) AS billed_cost
        FROM ledger_daily AS l
        CROSS JOIN LATERAL (VALUES
            (l.user_id, 'day', l.day, false),
            (NULL, 'day', l.day, true),
            (l.user_id, 'month', (l.day - (EXTRACT(day FROM l.day)::int - 1)), false),
            (NULL, 'month', (l.day - (EXTRACT(day FROM l.day)::int - 1)), true)) AS s(user_id, period, period_start, total)
        WHERE (s.total OR l.user_id IS NOT NULL) AND s.period_start >= (SELECT since.day FROM since)
        GROUP BY l.tenant, s.user_id, s.period, s.period_start
    ),
    recorded_counters AS (
        SELECT c.tenant, c.user_id, c.period, c.period_start,
               sum(c.requests)::numeric AS requests, sum(c.tokens)::numeric AS tokens,
               sum(c.cost) AS cost, sum(c.billed_cost) AS billed_cost
        FROM usage_meter.counters AS c
        WHERE c.period_start >= (SELECT since.day FROM since)
        GROUP BY c.tenant, c.user_id, c.period, c.period_start
    ),
    counter_diff AS (
        SELECT 'counters'::text, COALESCE(l.tenant, r.tenant), COALESCE(l.user_id, r.user_id),
               COALESCE(l.period, r.period), COALESCE(l.period_start, r.period_start),
               NULL::text, NULL::text, NULL::text, v.field, v.ledger, v.recorded
        FROM ledger_counters AS l
        FULL JOIN recorded_counters AS r
               ON r.tenant = l.tenant AND r.period = l.period AND r.period_start = l.period_start
              AND r.user_id IS NOT DISTINCT FROM l.user_id
        CROSS JOIN LATERAL (VALUES
            ('requests', l.requests, r.requests), ('tokens', l.tokens, r.tokens),
            ('cost', l.cost, r.cost), ('billed_cost', l.billed_cost, r.billed_cost)) AS v(field, ledger, recorded)
        WHERE COALESCE(v.ledger, 0) <> COALESCE(v.recorded, 0)
    )
    SELECT d.*, COALESCE(d.recorded, 0) - COALESCE(d.ledger, 0) FROM daily_diff AS d
    UNION ALL
    SELECT c.*, COALESCE(c.recorded, 0) - COALESCE(c.ledger, 0) FROM counter_diff AS c
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
$$;
COMMENT ON FUNCTION usage_meter.verify_ledger IS 'verify()''s comparison, in the caller''s snapshot (internal: call verify())';

-- A statement takes its snapshot before it waits for a lock, so a comparison that waited for a drop would read
-- the retention boundary from before the drop and the ledger after it: the dropped days would look empty, and
-- a rebuild() would "repair" them by zeroing their history. verify() first waits for any partition change in
-- progress (the shared side of the lock create_partitions and drop_events_before hold), then compares in a
-- snapshot taken after it; rebuild() goes through verify(). Readers never wait for each other; a partition
-- change waits for the verify() or rebuild() in progress.
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

-- events and unpriced_events count as the summaries' requests and unpriced do: a reversal is -1.
CREATE FUNCTION usage_meter.health()
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

------------------------------------------------------------------------------------------------------------
-- Corrections.
------------------------------------------------------------------------------------------------------------
-- void_event(tenant, event_id, reason) -> the reversal's event_id. Every summary and counter goes back by
-- exactly that event. The reversal is inserted with its event's occurred_at, so it is routed to the event's
-- partition (a BEFORE ROW trigger cannot move a row to another partition). A lookup that waited for
-- create_partitions moving the event out of the default partition runs in a snapshot from before the move
-- against the partitions after it and finds nothing; under READ COMMITTED a second lookup, in a new snapshot,
-- sees the move. Unknown events are refused by the ledger trigger, with its message.
CREATE FUNCTION usage_meter.void_event(tenant text, event_id bigint, reason text)
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
COMMENT ON FUNCTION usage_meter.void_event(text, bigint, text) IS 'Cancels one event with a reversing ledger entry that keeps the reason';

-- correct_event(...) -> the reversal and the replacement. The replacement takes every figure given and the
-- event's own for the rest (user, operation, time, session, latency, success, metadata, model, provider,
-- token counts, quantity); it is priced like a new record (the price and the tenant's markup in force
-- now for its occurred_at) unless a cost is given.
CREATE FUNCTION usage_meter.correct_event(
    tenant              text,
    event_id            bigint,
    reason              text,
    input_tokens        bigint DEFAULT NULL,
    output_tokens       bigint DEFAULT NULL,
    cache_read_tokens   bigint DEFAULT NULL,
    cache_write_tokens  bigint DEFAULT NULL,
    reasoning_tokens    bigint DEFAULT NULL,
    quantity            numeric DEFAULT NULL,
    cost                numeric DEFAULT NULL,
    model               text DEFAULT NULL,
    provider            text DEFAULT NULL,
    idempotency_key     text DEFAULT NULL,
    metadata            jsonb DEFAULT NULL,
    OUT reversal_id bigint, OUT replacement_id bigint, OUT new_cost numeric, OUT new_billed_cost numeric,
    OUT priced boolean)
RETURNS record
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o usage_meter.events;
BEGIN
    IF correct_event.event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    reversal_id := usage_meter.void_event(correct_event.tenant, correct_event.event_id, correct_event.reason);
    SELECT * INTO STRICT o FROM usage_meter.events AS e
     WHERE e.tenant OPERATOR(pg_catalog.=) correct_event.tenant
       AND e.event_id OPERATOR(pg_catalog.=) correct_event.event_id;
    INSERT INTO usage_meter.events AS e (tenant, user_id, operation, model, provider, input_tokens, output_tokens,
           cache_read_tokens, cache_write_tokens, reasoning_tokens, quantity, cost, occurred_at, idempotency_key,
           session_id, latency_ms, success, metadata, corrects_event_id, reason)
    VALUES (o.tenant, o.user_id, o.operation, COALESCE(correct_event.model, o.model),
            COALESCE(correct_event.provider, o.provider),
            COALESCE(correct_event.input_tokens, o.input_tokens),
            COALESCE(correct_event.output_tokens, o.output_tokens),
            COALESCE(correct_event.cache_read_tokens, o.cache_read_tokens),
            COALESCE(correct_event.cache_write_tokens, o.cache_write_tokens),
            COALESCE(correct_event.reasoning_tokens, o.reasoning_tokens),
            COALESCE(correct_event.quantity, o.quantity), correct_event.cost, o.occurred_at,
            correct_event.idempotency_key, o.session_id, o.latency_ms, o.success,
            COALESCE(correct_event.metadata, o.metadata), o.event_id, correct_event.reason)
    RETURNING e.event_id, e.cost, e.billed_cost, e.priced INTO replacement_id, new_cost, new_billed_cost, priced;
END
$$;
COMMENT ON FUNCTION usage_meter.correct_event(text, bigint, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text,
                                              text, text, jsonb) IS 'Replaces an event by a reversal plus a new entry, both with the reason';

-- The forms by event_id alone: event ids come from one sequence, so an id names one event of one tenant (unless
-- import_tenant moved a tenant in with its own ids: such an id is refused as ambiguous).
-- Finding its tenant reads the ledger's primary-key index without its leading column (a full index scan, fine
-- for an occasional correction); callers who know the tenant should use the forms above, one key lookup.
-- The tenant whose ledger holds event_id; refuses a NULL or unknown id, and an id that names events of several
-- tenants (a tenant moved in by import_tenant keeps its ids). Internal to the two forms below.
CREATE FUNCTION usage_meter.event_owner(event_id bigint)
RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner text;
    owners bigint;
BEGIN
    IF event_owner.event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT pg_catalog.min(e.tenant), pg_catalog.count(DISTINCT e.tenant) INTO owner, owners
      FROM usage_meter.events AS e
     WHERE e.event_id OPERATOR(pg_catalog.=) event_owner.event_id;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'invalid event_id: the ledger has no event %', event_owner.event_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF owners OPERATOR(pg_catalog.>) 1 THEN
        RAISE EXCEPTION 'invalid event_id: % names events of several tenants', event_owner.event_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A tenant moved in by import_tenant keeps its event ids; name the tenant (the tenant-first form).';
    END IF;
    RETURN owner;
END
$$;

CREATE FUNCTION usage_meter.void_event(event_id bigint, reason text)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN usage_meter.void_event(usage_meter.event_owner(void_event.event_id), void_event.event_id,
                                  void_event.reason);
END
$$;
COMMENT ON FUNCTION usage_meter.void_event(bigint, text) IS
    'Cancels one event, found by its id alone, with a reversing ledger entry that keeps the reason';

CREATE FUNCTION usage_meter.correct_event(
    event_id            bigint,
    reason              text,
    input_tokens        bigint DEFAULT NULL,
    output_tokens       bigint DEFAULT NULL,
    cache_read_tokens   bigint DEFAULT NULL,
    cache_write_tokens  bigint DEFAULT NULL,
    reasoning_tokens    bigint DEFAULT NULL,
    quantity            numeric DEFAULT NULL,
    cost                numeric DEFAULT NULL,
    model               text DEFAULT NULL,
    provider            text DEFAULT NULL,
    idempotency_key     text DEFAULT NULL,
    metadata            jsonb DEFAULT NULL,
    OUT reversal_id bigint, OUT replacement_id bigint, OUT new_cost numeric, OUT new_billed_cost numeric,
    OUT priced boolean)
RETURNS record
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT * INTO reversal_id, replacement_id, new_cost, new_billed_cost, priced
      FROM usage_meter.correct_event(usage_meter.event_owner(correct_event.event_id), correct_event.event_id,
               correct_event.reason,
               correct_event.input_tokens, correct_event.output_tokens, correct_event.cache_read_tokens,
               correct_event.cache_write_tokens, correct_event.reasoning_tokens, correct_event.quantity,
               correct_event.cost, correct_event.model, correct_event.provider, correct_event.idempotency_key,
               correct_event.metadata);
END
$$;
COMMENT ON FUNCTION usage_meter.correct_event(bigint, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric,
                                              text, text, text, jsonb) IS
    'Replaces an event, found by its id alone, by a reversal plus a new entry, both with the reason';

------------------------------------------------------------------------------------------------------------
-- Repair. rebuild() makes the summaries and counters of a scope equal the ledger again and reports every
-- field it changed (before = what the summary said, after = the ledger's figure).
--
-- Locking: it reads the ledger and the summaries in one snapshot; every recording transaction changes both
-- together, so their difference in that snapshot is exactly the damage, whatever is in flight. It adds that
-- difference to rows of slot -1, a slot no recording backend writes (they use 0 .. counter_slots - 1): it
-- never waits for a recording transaction and none waits for it. Additions commute, so a recording that
-- commits meanwhile is kept as well. Two rebuilds are serialized by a transaction advisory lock, and the
-- second computes its difference after the first committed; so rebuild runs in READ COMMITTED only.
------------------------------------------------------------------------------------------------------------
-- The body of rebuild(), whose report columns could not share names with its parameters in PL/pgSQL.
CREATE FUNCTION usage_meter.rebuild_scope(scope_tenant text, scope_since date, scope_until date)
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, before numeric, after numeric)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
        RAISE EXCEPTION 'rebuild must run in a READ COMMITTED transaction'
            USING ERRCODE = 'active_sql_transaction',
                  HINT = 'In REPEATABLE READ or SERIALIZABLE its snapshot could predate another rebuild''s commit.';
    END IF;
    IF scope_since IS NOT NULL AND scope_until IS NOT NULL AND scope_since OPERATOR(pg_catalog.>) scope_until THEN
        RAISE EXCEPTION 'invalid since: % is after until %', scope_since, scope_until
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.rebuild'));
    -- One statement, one snapshot: the differences, then the additions that remove them.
    RETURN QUERY
    WITH diff AS MATERIALIZED (
        SELECT v.summary, v.tenant, v.user_id, v.period, v.period_start, v.operation, v.provider, v.model, v.field,
               COALESCE(v.ledger, 0) OPERATOR(pg_catalog.-) COALESCE(v.recorded, 0) AS delta,
               v.recorded, v.ledger
          FROM usage_meter.verify() AS v
         WHERE (scope_tenant IS NULL OR v.tenant OPERATOR(pg_catalog.=) scope_tenant)
           AND (scope_until IS NULL OR v.period_start OPERATOR(pg_catalog.<=) scope_until)
           AND (scope_since IS NULL OR v.period_start OPERATOR(pg_catalog.>=)
                CASE WHEN v.period OPERATOR(pg_catalog.=) 'month'
                     THEN pg_catalog.date_trunc('month', scope_since::timestamp)::date ELSE scope_since END)
    ),
    daily AS (
        INSERT INTO usage_meter.daily_rollup AS r (tenant, user_id, day, operation, provider, model, slot, requests,
               errors, unpriced, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
               reasoning_tokens, quantity, cost, billed_cost, latency_ms_total)
        SELECT d.tenant, d.user_id, d.period_start, d.operation, d.provider, d.model, -1,
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'requests'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'errors'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'unpriced'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'input_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'output_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'cache_read_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'cache_write_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'reasoning_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'quantity'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'cost'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'billed_cost'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'latency_ms_total'), 0)
          FROM diff AS d
         WHERE d.summary OPERATOR(pg_catalog.=) 'daily_usage'
         GROUP BY d.tenant, d.user_id, d.period_start, d.operation, d.provider, d.model
        ON CONFLICT ON CONSTRAINT daily_rollup_key DO UPDATE SET
               requests = r.requests OPERATOR(pg_catalog.+) excluded.requests,
               errors = r.errors OPERATOR(pg_catalog.+) excluded.errors,
               unpriced = r.unpriced OPERATOR(pg_catalog.+) excluded.unpriced,
               input_tokens = r.input_tokens OPERATOR(pg_catalog.+) excluded.input_tokens,
               output_tokens = r.output_tokens OPERATOR(pg_catalog.+) excluded.output_tokens,
               cache_read_tokens = r.cache_read_tokens OPERATOR(pg_catalog.+) excluded.cache_read_tokens,
               cache_write_tokens = r.cache_write_tokens OPERATOR(pg_catalog.+) excluded.cache_write_tokens,
               reasoning_tokens = r.reasoning_tokens OPERATOR(pg_catalog.+) excluded.reasoning_tokens,
               quantity = r.quantity OPERATOR(pg_catalog.+) excluded.quantity,
               cost = r.cost OPERATOR(pg_catalog.+) excluded.cost,
               billed_cost = r.billed_cost OPERATOR(pg_catalog.+) excluded.billed_cost,
               latency_ms_total = r.latency_ms_total OPERATOR(pg_catalog.+) excluded.latency_ms_total
        RETURNING 1
    ),
    counters AS (
        INSERT INTO usage_meter.counters AS c (tenant, user_id, period, period_start, slot, requests, tokens, cost,
               billed_cost)
        SELECT d.tenant, d.user_id, d.period, d.period_start, -1,
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'requests'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'cost'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'billed_cost'), 0)
          FROM diff AS d
         WHERE d.summary OPERATOR(pg_catalog.=) 'counters'
         GROUP BY d.tenant, d.user_id, d.period, d.period_start
        ON CONFLICT ON CONSTRAINT counters_key DO UPDATE SET
               requests = c.requests OPERATOR(pg_catalog.+) excluded.requests,
               tokens = c.tokens OPERATOR(pg_catalog.+) excluded.tokens,
               cost = c.cost OPERATOR(pg_catalog.+) excluded.cost,
               billed_cost = c.billed_cost OPERATOR(pg_catalog.+) excluded.billed_cost
        RETURNING 1
    )
    SELECT d.summary, d.tenant, d.user_id, d.period, d.period_start, d.operation, d.provider, d.model, d.field,
           d.recorded, d.ledger
      FROM diff AS d  -- daily and counters run to completion whether read or not
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
END
$$;
CREATE FUNCTION usage_meter.rebuild(tenant text DEFAULT NULL, since date DEFAULT NULL, until date DEFAULT NULL)
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, before numeric, after numeric)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM usage_meter.rebuild_scope($1, $2, $3) $$;
COMMENT ON FUNCTION usage_meter.rebuild IS 'Makes summaries and counters equal the ledger (for a tenant and day range) and reports the changes';
