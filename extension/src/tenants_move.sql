-- Moving a tenant between databases that each run usage_meter (a partition behind usage_meter_proxy, or any
-- rebalancing), and removing a tenant: set_tenant_moving (its writes are refused from then on), export_tenant
-- (every row of the tenant as one jsonb document), import_tenant (the document into another database, whose
-- summaries are then rebuilt from the imported ledger), purge_tenant (every row of the tenant removed: the one
-- sanctioned exception to the append-only ledger, also what a data-deletion request needs); and
-- price_catalog_digest, to compare the price catalogs of several databases. All of them but the digest are the
-- admin's, and run as the extension's owner. docs/trust.md, "Moving a tenant", has the procedure.

------------------------------------------------------------------------------------------------------------
-- The moving flag (tenants.moving): recording, voids and corrections, reserve, set_tenant, set_limit and
-- remove_limit refuse a tenant being moved with SQLSTATE 55000 (object_not_in_prerequisite_state), so nothing
-- is recorded on the side it is leaving. Reads (check_limit, live_usage, the analytics) still answer.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.set_tenant_moving(tenant text, moving boolean)
RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF set_tenant_moving.tenant IS NULL OR set_tenant_moving.moving IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN set_tenant_moving.tenant IS NULL THEN 'tenant' ELSE 'moving' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE usage_meter.tenants AS t SET moving = set_tenant_moving.moving
     WHERE t.tenant OPERATOR(pg_catalog.=) set_tenant_moving.tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invalid tenant: this database has no tenant "%"', set_tenant_moving.tenant
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;
COMMENT ON FUNCTION usage_meter.set_tenant_moving IS
    'Marks a tenant as being moved to another database (its writes are refused with 55000), or ends that';

-- Internal to export_tenant and purge_tenant: the tenant must be marked moving, and every transaction of this
-- database that began before this call (and so may have read the tenant before it was marked, and may still
-- record for it) must have ended. Waits for them up to 30 seconds, then refuses (55006) naming them. The
-- caller's next statement, taken in READ COMMITTED after this, sees everything they committed.
CREATE FUNCTION usage_meter.tenant_quiesce(tenant text, action text)
RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_moving boolean;
    since timestamptz;
    pids integer[];
BEGIN
    IF tenant_quiesce.tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
        RAISE EXCEPTION '% must run in a READ COMMITTED transaction', tenant_quiesce.action
            USING ERRCODE = 'active_sql_transaction',
                  HINT = 'In REPEATABLE READ or SERIALIZABLE its snapshot could miss a write that was in flight.';
    END IF;
    SELECT t.moving INTO is_moving FROM usage_meter.tenants AS t
     WHERE t.tenant OPERATOR(pg_catalog.=) tenant_quiesce.tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invalid tenant: this database has no tenant "%"', tenant_quiesce.tenant
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT is_moving THEN
        RAISE EXCEPTION 'tenant "%" is not marked as being moved', tenant_quiesce.tenant
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = pg_catalog.format('Call usage_meter.set_tenant_moving(%L, true) and commit it before %s: '
                                           'its writes are refused from then on.', tenant_quiesce.tenant,
                                           tenant_quiesce.action);
    END IF;
    since := pg_catalog.clock_timestamp();
    FOR i IN 1 .. 300 LOOP
        PERFORM pg_catalog.pg_stat_clear_snapshot();  -- pg_stat_activity is otherwise read once per transaction
        SELECT pg_catalog.array_agg(a.pid ORDER BY a.pid) INTO pids FROM pg_catalog.pg_stat_activity AS a
         WHERE a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()
           AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
           AND a.backend_type OPERATOR(pg_catalog.=) 'client backend'
           AND (a.xact_start OPERATOR(pg_catalog.<) since OR a.state IS NULL);  -- NULL: not visible to us
        EXIT WHEN pids IS NULL;
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
    IF pids IS NOT NULL THEN
        RAISE EXCEPTION 'cannot % tenant "%" yet: transactions that began before it was marked as moving are still running',
              tenant_quiesce.action, tenant_quiesce.tenant
            USING ERRCODE = 'object_in_use',
                  DETAIL = pg_catalog.format('Backend pids: %s.', pg_catalog.array_to_string(pids, ', ')),
                  HINT = 'One of them may still record for the tenant; retry when they have ended.';
    END IF;
END
$$;

------------------------------------------------------------------------------------------------------------
-- export_tenant(tenant) -> jsonb: every row of the tenant, in one snapshot, as one document:
--   {"format": "usage_meter.tenant_export", "format_version": 1, "tenant", "exported_at", "extension_version",
--    "kept_from": this database's retention boundary (NULL: nothing dropped),
--    and one array of rows (to_jsonb of each row, every column) per table: "tenants", "tenant_markups",
--    "limits", "events", "idempotency_keys", "daily_rollup", "counters", "reservations", "alerts",
--    "reader_tenants"}
-- Prices, unit prices and aliases are shared by every tenant and are not in it (a catalog is set on every
-- database: price_catalog_digest compares them). The tenant must be marked moving (set_tenant_moving), so the
-- document stays complete; it stays marked until purge_tenant removes it. A document is one jsonb value: a
-- tenant of up to some hundred thousand raw events per document (a value is limited to 255 MB).
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.export_tenant(tenant text)
RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text := export_tenant.tenant;
    document jsonb;
BEGIN
    PERFORM usage_meter.tenant_quiesce(t, 'export');
    -- One statement: one snapshot of every table.
    SELECT pg_catalog.jsonb_build_object(
               'format', 'usage_meter.tenant_export', 'format_version', 1, 'tenant', t,
               'exported_at', pg_catalog.clock_timestamp(),
               'extension_version', (SELECT x.extversion FROM pg_catalog.pg_extension AS x
                                      WHERE x.extname OPERATOR(pg_catalog.=) 'usage_meter'),
               'kept_from', (SELECT r.kept_from FROM usage_meter.retention AS r),
               'tenants', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]')
                             FROM usage_meter.tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'tenant_markups', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.effective_from), '[]')
                                    FROM usage_meter.tenant_markups AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'limits', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)
                                              ORDER BY x.user_id NULLS FIRST, x.metric, x.period), '[]')
                            FROM usage_meter.limits AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'events', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.event_id), '[]')
                            FROM usage_meter.events AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'idempotency_keys', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)
                                                        ORDER BY x.idempotency_key), '[]')
                                      FROM usage_meter.idempotency_keys AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'daily_rollup', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)
                                                    ORDER BY x.day, x.user_id, x.operation, x.provider, x.model, x.slot), '[]')
                                  FROM usage_meter.daily_rollup AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'counters', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)
                                                ORDER BY x.period, x.period_start, x.user_id, x.slot), '[]')
                              FROM usage_meter.counters AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'reservations', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.reservation_id), '[]')
                                  FROM usage_meter.reservations AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'alerts', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.alert_id), '[]')
                            FROM usage_meter.alerts AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'reader_tenants', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.role_name), '[]')
                                    FROM usage_meter.reader_tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t))
      INTO document;
    RETURN document;
END
$$;
COMMENT ON FUNCTION usage_meter.export_tenant IS
    'Every row of a tenant being moved, in one snapshot, as a jsonb document for import_tenant on another database';

------------------------------------------------------------------------------------------------------------
-- import_tenant(tenant, document) -> (table_name, row_count): the rows of an export_tenant document of that
-- tenant (named first, as in every per-tenant call, so a proxy routes it like the others) written into this
-- database, which must not hold the tenant (42710). Every row keeps its values: event ids (so idempotency
-- keys, reversals, corrections and settled reservations still point at their events, and a client's ids stay
-- valid), reservation ids (an open hold can be settled or released here), the tenant's settings and markup
-- history. The ledger rows arrive prepared (recorded before this transaction), so the ledger trigger keeps them
-- as recorded (not priced or rolled up again, as in a restore); the summaries are copied (they hold the history
-- of days whose raw events were dropped), then rebuilt from the imported ledger over every day this database
-- verifies (row 'rebuilt': the fields rebuild changed, normally 0), so verify() has no row for the tenant.
-- The id sequences are moved past the imported ids, so no later id repeats one; an imported id may equal one of
-- another tenant here: the forms by id alone refuse such an id as ambiguous, the tenant-first forms do not.
-- Retention: when the source had dropped raw events before its boundary (kept_from) and this database's
-- boundary is earlier (or none), this database's boundary moves to the source's (row 'retention') if it holds
-- no raw event before it, else the import is refused: verify() would compare days whose events are gone.
-- The tenant arrives writable (not moving). Returns a row per table, in the order written.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.import_tenant(tenant text, document jsonb)
RETURNS TABLE (table_name text, row_count bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    doc jsonb := import_tenant.document;
    t text;
    part text;
    stray text;
    n bigint;
    source_kept timestamptz;
    here_kept timestamptz;
    latest timestamptz;
    parts constant text[] := ARRAY['tenants', 'tenant_markups', 'limits', 'events', 'idempotency_keys',
                                   'daily_rollup', 'counters', 'reservations', 'alerts', 'reader_tenants'];
BEGIN
    IF import_tenant.tenant IS NULL OR doc IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN import_tenant.tenant IS NULL THEN 'tenant' ELSE 'document' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.jsonb_typeof(doc) OPERATOR(pg_catalog.<>) 'object'
       OR (doc OPERATOR(pg_catalog.->>) 'format') IS DISTINCT FROM 'usage_meter.tenant_export' THEN
        RAISE EXCEPTION 'invalid document: it is not a tenant export of usage_meter'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass what usage_meter.export_tenant(tenant) returned.';
    END IF;
    IF (doc OPERATOR(pg_catalog.->>) 'format_version') IS DISTINCT FROM '1' THEN
        RAISE EXCEPTION 'invalid document: format_version % is not supported (1 is)',
              COALESCE(doc OPERATOR(pg_catalog.->>) 'format_version', 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    t := import_tenant.tenant;
    IF (doc OPERATOR(pg_catalog.->>) 'tenant') IS DISTINCT FROM t THEN
        RAISE EXCEPTION 'invalid document: it is the export of tenant "%", not "%"',
              doc OPERATOR(pg_catalog.->>) 'tenant', t
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH part IN ARRAY parts LOOP
        IF pg_catalog.jsonb_typeof(doc OPERATOR(pg_catalog.->) part) IS DISTINCT FROM 'array' THEN
            RAISE EXCEPTION 'invalid document: "%" must be an array of rows', part
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT r OPERATOR(pg_catalog.->>) 'tenant' INTO stray
          FROM pg_catalog.jsonb_array_elements(doc OPERATOR(pg_catalog.->) part) AS r
         WHERE (r OPERATOR(pg_catalog.->>) 'tenant') IS DISTINCT FROM t
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'invalid document: a row of "%" is of tenant "%", not "%"', part, stray, t
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF pg_catalog.jsonb_array_length(doc OPERATOR(pg_catalog.->) 'tenants') OPERATOR(pg_catalog.<>) 1 THEN
        RAISE EXCEPTION 'invalid document: "tenants" must hold the tenant''s one row'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
        RAISE EXCEPTION 'import_tenant must run in a READ COMMITTED transaction'
            USING ERRCODE = 'active_sql_transaction', HINT = 'It rebuilds the summaries, as rebuild() does.';
    END IF;
    -- The ledger trigger keeps a row as recorded only when it was recorded before this transaction.
    SELECT pg_catalog.max((r OPERATOR(pg_catalog.->>) 'recorded_at')::timestamptz) INTO latest
      FROM pg_catalog.jsonb_array_elements(doc OPERATOR(pg_catalog.->) 'events') AS r;
    IF latest OPERATOR(pg_catalog.>=) pg_catalog.now() THEN
        RAISE EXCEPTION 'cannot import tenant "%": an event was recorded at %, not before this transaction began (%)',
              t, latest, pg_catalog.now()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'The clocks of the two servers differ; retry once this server''s clock has passed it.';
    END IF;

    -- The tenant row first: a concurrent first use of the tenant here conflicts with it.
    INSERT INTO usage_meter.tenants AS x (tenant, time_zone, markup_pct, created_at, updated_at, markup_from,
                                          alert_limits, moving)
    SELECT r.tenant, r.time_zone, r.markup_pct, r.created_at, r.updated_at, r.markup_from, r.alert_limits, false
      FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.tenants, doc OPERATOR(pg_catalog.->) 'tenants') AS r
    ON CONFLICT (tenant) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.=) 0
       OR EXISTS (SELECT FROM usage_meter.events AS e WHERE e.tenant OPERATOR(pg_catalog.=) t)
       OR EXISTS (SELECT FROM usage_meter.daily_rollup AS d WHERE d.tenant OPERATOR(pg_catalog.=) t)
       OR EXISTS (SELECT FROM usage_meter.counters AS c WHERE c.tenant OPERATOR(pg_catalog.=) t) THEN
        RAISE EXCEPTION 'tenant "%" already exists in this database', t
            USING ERRCODE = 'duplicate_object',
                  HINT = 'import_tenant writes a tenant this database does not hold; purge_tenant removes one.';
    END IF;
    table_name := 'tenants'; row_count := n; RETURN NEXT;

    -- Retention (see above).
    source_kept := (doc OPERATOR(pg_catalog.->>) 'kept_from')::timestamptz;
    SELECT r.kept_from INTO here_kept FROM usage_meter.retention AS r;
    IF source_kept IS NOT NULL AND (here_kept IS NULL OR here_kept OPERATOR(pg_catalog.<) source_kept) THEN
        IF EXISTS (SELECT FROM usage_meter.events AS e WHERE e.occurred_at OPERATOR(pg_catalog.<) source_kept) THEN
            RAISE EXCEPTION 'cannot import tenant "%": its raw events before % were dropped, and this database keeps older ones',
                  t, source_kept
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Import it into a database whose retention boundary (usage_meter.retention) is at or after the source''s, or drop_events_before(' || pg_catalog.quote_literal(source_kept) || ') here first.';
        END IF;
        INSERT INTO usage_meter.retention AS r (kept_from) VALUES (source_kept)
        ON CONFLICT (singleton) DO UPDATE SET kept_from = excluded.kept_from, updated_at = pg_catalog.now();
        table_name := 'retention'; row_count := 1; RETURN NEXT;
    END IF;

    INSERT INTO usage_meter.tenant_markups
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.tenant_markups,
                                                      doc OPERATOR(pg_catalog.->) 'tenant_markups');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'tenant_markups'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.limits
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.limits, doc OPERATOR(pg_catalog.->) 'limits');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'limits'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.idempotency_keys
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.idempotency_keys,
                                                      doc OPERATOR(pg_catalog.->) 'idempotency_keys');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'idempotency_keys'; row_count := n; RETURN NEXT;

    -- Prepared rows, in id order (an event before its reversal): kept as recorded, not rolled up.
    INSERT INTO usage_meter.events
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.events, doc OPERATOR(pg_catalog.->) 'events') AS r
     ORDER BY r.event_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'events'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.daily_rollup
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.daily_rollup,
                                                      doc OPERATOR(pg_catalog.->) 'daily_rollup');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'daily_rollup'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.counters
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.counters, doc OPERATOR(pg_catalog.->) 'counters');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'counters'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.reservations
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.reservations,
                                                      doc OPERATOR(pg_catalog.->) 'reservations');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'reservations'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.alerts
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.alerts, doc OPERATOR(pg_catalog.->) 'alerts');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'alerts'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.reader_tenants
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.reader_tenants,
                                                      doc OPERATOR(pg_catalog.->) 'reader_tenants');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'reader_tenants'; row_count := n; RETURN NEXT;

    -- No later id repeats an imported one.
    PERFORM pg_catalog.setval('usage_meter.event_id_seq', m)
       FROM (SELECT pg_catalog.max(e.event_id) AS m FROM usage_meter.events AS e
              WHERE e.tenant OPERATOR(pg_catalog.=) t) AS x
      WHERE x.m OPERATOR(pg_catalog.>) (SELECT s.last_value FROM usage_meter.event_id_seq AS s);
    PERFORM pg_catalog.setval('usage_meter.reservation_id_seq', m)
       FROM (SELECT pg_catalog.max(v.reservation_id) AS m FROM usage_meter.reservations AS v
              WHERE v.tenant OPERATOR(pg_catalog.=) t) AS x
      WHERE x.m OPERATOR(pg_catalog.>) (SELECT s.last_value FROM usage_meter.reservation_id_seq AS s);
    PERFORM pg_catalog.setval('usage_meter.alert_id_seq', m)
       FROM (SELECT pg_catalog.max(a.alert_id) AS m FROM usage_meter.alerts AS a
              WHERE a.tenant OPERATOR(pg_catalog.=) t) AS x
      WHERE x.m OPERATOR(pg_catalog.>) (SELECT s.last_value FROM usage_meter.alert_id_seq AS s);

    -- The summaries from the imported ledger.
    SELECT pg_catalog.count(*) INTO n FROM usage_meter.rebuild_scope(t, NULL, NULL);
    table_name := 'rebuilt'; row_count := n; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION usage_meter.import_tenant IS
    'Writes a tenant exported by export_tenant into this database (ids kept) and rebuilds its summaries from its ledger';

------------------------------------------------------------------------------------------------------------
-- purge_tenant(tenant) -> (table_name, row_count): deletes every row of the tenant from this database, the
-- ledger's included (the one sanctioned exception to the append-only ledger: a tenant moved to another
-- database, or a request to delete a client's data). The tenant must be marked moving first
-- (set_tenant_moving), so nothing records for it meanwhile, and a purge cannot be one call's slip. Rows of
-- shared tables (prices, aliases, retention) stay. A later write for the tenant creates it afresh.
------------------------------------------------------------------------------------------------------------
-- Internal: the ledger's DELETE for purge_tenant, the one statement its append-only guard lets through.
CREATE FUNCTION usage_meter.purge_tenant_events(tenant text)
RETURNS bigint
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'purge_tenant_events';

CREATE FUNCTION usage_meter.purge_tenant(tenant text)
RETURNS TABLE (table_name text, row_count bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t text := purge_tenant.tenant;
    n bigint;
BEGIN
    PERFORM usage_meter.tenant_quiesce(t, 'purge');
    PERFORM 1 FROM usage_meter.tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t FOR UPDATE;
    table_name := 'events'; row_count := usage_meter.purge_tenant_events(t); RETURN NEXT;
    DELETE FROM usage_meter.idempotency_keys AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'idempotency_keys'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.daily_rollup AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'daily_rollup'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.counters AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'counters'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.reservations AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'reservations'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.alerts AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'alerts'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.reader_tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'reader_tenants'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.limits AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'limits'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.tenant_markups AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'tenant_markups'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'tenants'; row_count := n; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION usage_meter.purge_tenant IS
    'Deletes every row of a tenant marked as moving (ledger included) from this database; returns the rows deleted per table';

------------------------------------------------------------------------------------------------------------
-- price_catalog_digest() -> (kind, key, effective_from, digest): one row per entry of the price catalog, so the
-- catalogs of several databases compare row by row (usage_meter_proxy's catalog_check). kind: price (key: the
-- JSON array [model, provider]), unit_price ([operation]), model_alias ([alias]) or provider_alias
-- ([provider, alias], the ones added by set_provider_alias); effective_from: the price's (NULL for aliases);
-- digest: md5 of the definition as a JSON array (amounts without trailing zeros, so 1.50 and 1.5 are the same
-- price, as set_price compares them): prices [input, output, cache read, cache write, tiers, per request],
-- unit prices [per unit], model aliases [model, provider], provider aliases [position]. Ids and creation
-- times differ between databases and are left out.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.price_catalog_digest()
RETURNS TABLE (kind text, key text, effective_from timestamptz, digest text)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'price'::text, pg_catalog.jsonb_build_array(p.model, p.provider)::text, p.effective_from,
           pg_catalog.md5(pg_catalog.jsonb_build_array(pg_catalog.trim_scale(p.input_per_mtok),
               pg_catalog.trim_scale(p.output_per_mtok), pg_catalog.trim_scale(p.cache_read_per_mtok),
               pg_catalog.trim_scale(p.cache_write_per_mtok), p.tiers, pg_catalog.trim_scale(p.per_request))::text)
      FROM usage_meter.prices AS p
    UNION ALL
    SELECT 'unit_price', pg_catalog.jsonb_build_array(u.operation)::text, u.effective_from,
           pg_catalog.md5(pg_catalog.jsonb_build_array(pg_catalog.trim_scale(u.per_unit))::text)
      FROM usage_meter.unit_prices AS u
    UNION ALL
    SELECT 'model_alias', pg_catalog.jsonb_build_array(a.alias)::text, NULL,
           pg_catalog.md5(pg_catalog.jsonb_build_array(a.model, a.provider)::text)
      FROM usage_meter.model_aliases AS a
    UNION ALL
    SELECT 'provider_alias', pg_catalog.jsonb_build_array(a.provider, a.alias)::text, NULL,
           pg_catalog.md5(pg_catalog.jsonb_build_array(a.position)::text)
      FROM usage_meter.provider_aliases AS a
     WHERE NOT a.builtin
    ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION usage_meter.price_catalog_digest IS
    'One row per price, unit price and alias with an md5 of its definition, to compare catalogs across databases';
