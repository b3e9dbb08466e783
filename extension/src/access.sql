-- Access: the three group roles, row-level security and its policies, and every privilege on the schema, its
-- tables and its functions. Nothing is callable by PUBLIC. Writer and admin paths run as the extension's owner
-- (SECURITY DEFINER, pinned search_path), so callers need no table privileges: they can write only what these
-- functions write. Nobody but the owner writes the ledger, the summaries or the counters directly.

------------------------------------------------------------------------------------------------------------
-- Roles. Three group roles (NOLOGIN); grant them to login roles. Roles are cluster-wide: they are created once
-- per cluster (an existing role of the same name is reused, not altered) and stay when the extension is
-- dropped. The writer may only call the recording and checking functions; the reader may read summaries and
-- the ledger, limited by row-level security to the tenants an admin bound it to; the admin manages tenants,
-- prices, limits, reader bindings, corrections and repair.
------------------------------------------------------------------------------------------------------------
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['usage_meter_writer', 'usage_meter_reader', 'usage_meter_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object THEN
                NULL;  -- created concurrently by CREATE EXTENSION in another database
            END;
        END IF;
    END LOOP;
END
$roles$;

------------------------------------------------------------------------------------------------------------
-- Row-level security on every table of the schema that carries a tenant (of every area). The owner (the
-- recording path) is not subject to it; admins see every row; a reader sees the rows of the tenants bound to
-- it in reader_tenants, and its own rows of reader_tenants. The policy has no subquery (Citus refuses one in a
-- policy of a distributed table): reader_scope() reads the bindings once per statement.
------------------------------------------------------------------------------------------------------------
-- reader_scope() -> the tenants the current user is bound to (reader_tenants), read once per execution of the
-- statement that calls it and kept for its other rows. Runs as the caller, under reader_tenants' own policy.
CREATE FUNCTION usage_meter.reader_scope() RETURNS text[]
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'reader_scope';
COMMENT ON FUNCTION usage_meter.reader_scope() IS
    'The tenants the current user may read (reader_tenants): the reader_bound row-level security policy';

DO $rls$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_catalog.pg_class AS c
              JOIN pg_catalog.pg_attribute AS a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
             WHERE c.relnamespace OPERATOR(pg_catalog.=) 'usage_meter'::regnamespace
               AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::"char"[]) AND NOT c.relispartition
               AND a.attname OPERATOR(pg_catalog.=) 'tenant' AND NOT a.attisdropped
               AND c.relname OPERATOR(pg_catalog.<>) 'reader_tenants'
             ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY admin_all ON usage_meter.%I TO usage_meter_admin USING (true)', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY reader_bound ON usage_meter.%I FOR SELECT TO usage_meter_reader'
            ' USING (tenant OPERATOR(pg_catalog.=) ANY (usage_meter.reader_scope()))', t);
    END LOOP;
END
$rls$;
ALTER TABLE usage_meter.reader_tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY admin_all ON usage_meter.reader_tenants TO usage_meter_admin USING (true);
CREATE POLICY reader_own ON usage_meter.reader_tenants FOR SELECT TO usage_meter_reader
    USING (role_name OPERATOR(pg_catalog.=) CURRENT_USER::text);
-- Partitions are read through the parent, under its row-level security; on the partitions themselves it is on
-- with no policy, so a role granted one directly still sees nothing (create_partition does the same).
ALTER TABLE usage_meter.events_default ENABLE ROW LEVEL SECURITY;

------------------------------------------------------------------------------------------------------------
-- Privileges. A function a writer calls must be SECURITY DEFINER (the writer has no table rights).
------------------------------------------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA usage_meter FROM PUBLIC;
GRANT USAGE ON SCHEMA usage_meter TO usage_meter_writer, usage_meter_reader, usage_meter_admin;

-- The admin may call everything but the internals.
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA usage_meter TO usage_meter_admin;
REVOKE EXECUTE ON FUNCTION usage_meter.events_prepare(), usage_meter.events_rollup(),
    usage_meter.events_append_only(), usage_meter.roll_up(usage_meter.events[]),
    usage_meter.rebuild_scope(text, date, date), usage_meter.create_partition(timestamptz),
    usage_meter.event_owner(bigint), usage_meter.limits_cache_invalidate(),
    usage_meter.check_alias_name(text, text), usage_meter.record_batch(text, jsonb, boolean),
    usage_meter.tenant_quiesce(text, text), usage_meter.purge_tenant_events(text)
    FROM usage_meter_admin;

-- The writer records (directly, from a provider payload, against a reservation) and checks limits.
GRANT EXECUTE ON FUNCTION
    usage_meter.usage_record(text, text, text, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text,
                             timestamptz, text, text, integer, boolean, jsonb, bigint),
    usage_meter.usage_record_batch(jsonb),
    usage_meter.usage_record_batch(text, jsonb),
    usage_meter.record_response(text, text, text, text, jsonb, text, integer, boolean, timestamptz, jsonb, text,
                                bigint),
    usage_meter.normalize_usage(text, jsonb),
    usage_meter.check_limit(text, text, numeric, bigint),
    usage_meter.reserve(text, text, numeric, bigint, interval),
    usage_meter.release(bigint),
    usage_meter.release(text, bigint)
    TO usage_meter_writer;

-- The reader reads periods, live usage, the ledger's state and its comparison with the summaries, and the
-- analytics (with the caller's rights: its own tenants; the argument checks they call are its too).
GRANT EXECUTE ON FUNCTION
    usage_meter.period_bounds(text, timestamptz),
    usage_meter.live_usage(text, text),
    usage_meter.verify(),
    usage_meter.verify_ledger(),
    usage_meter.verifiable_since(),
    usage_meter.health(),
    usage_meter.usage_series(text, date, date, text, text[], text),
    usage_meter.top_usage(text, date, date, text, text, integer),
    usage_meter.session_usage(text, text),
    usage_meter.latency_percentiles(text, date, date, text[]),
    usage_meter.spend_forecast(text, text, timestamptz),
    usage_meter.check_report_range(text, date, date),
    usage_meter.check_report_names(text, text[], text[]),
    usage_meter.bucket_start(text, date),
    usage_meter.reader_scope()
    TO usage_meter_reader;

-- Readers and admins read tables (readers through row-level security); only the admin writes reader bindings.
-- The ledger is read through its parent: partitions are granted to nobody (the owner writes them through the
-- parent).
GRANT SELECT ON usage_meter.tenants, usage_meter.tenant_markups, usage_meter.prices, usage_meter.unit_prices,
    usage_meter.provider_aliases, usage_meter.model_aliases,
    usage_meter.limits, usage_meter.events, usage_meter.idempotency_keys, usage_meter.retention,
    usage_meter.retention_policy, usage_meter.daily_rollup, usage_meter.counters, usage_meter.daily_usage,
    usage_meter.reservations, usage_meter.alerts, usage_meter.reader_tenants
    TO usage_meter_reader, usage_meter_admin;
GRANT INSERT, DELETE ON usage_meter.reader_tenants TO usage_meter_admin;
