-- Limits: tenant settings (time zone and markup), limits and their periods, the limit check, live usage,
-- reservations (reserve, release, purge_reservations), the flag that tells the ledger trigger a tenant has
-- limits with alerts, and the per-backend cache of limits and the triggers that keep it right.

------------------------------------------------------------------------------------------------------------
-- Settings. Admin functions: they run as the extension's owner.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.set_tenant(tenant text, time_zone text DEFAULT 'UTC', markup_pct numeric DEFAULT 0)
RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_tenant';

-- A soft limit never refuses: the alert is what it is for. So alert defaults to NULL: a soft limit alerts, a
-- hard one does not unless alert => true (for hard limits the recording path would pay the alert check on
-- every event; docs/limits.md, "Cost"). alert => false turns a soft limit's alerts off. Writing a limit sets
-- all of it.
CREATE FUNCTION usage_meter.set_limit(tenant text, user_id text, metric text, period text,
                                      max_value numeric, hard boolean DEFAULT true,
                                      alert boolean DEFAULT NULL)
RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_limit';
COMMENT ON FUNCTION usage_meter.set_limit IS 'Sets a limit; a soft limit alerts at its max (alert => false: not), a hard one at 80 % and 100 % with alert => true';

CREATE FUNCTION usage_meter.remove_limit(tenant text, user_id text, metric text, period text)
RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'remove_limit';

------------------------------------------------------------------------------------------------------------
-- Periods, limits and live usage.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.period_bounds(tenant text, at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (period text, period_start date, starts_at timestamptz, resets_at timestamptz)
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'period_bounds';
COMMENT ON FUNCTION usage_meter.period_bounds IS 'The day and month containing "at" in the tenant''s time zone';

-- Counts held amounts and reports them. Runs as the extension's owner (a writer has no table rights).
CREATE FUNCTION usage_meter.check_limit(
    tenant text, user_id text DEFAULT NULL, estimated_cost numeric DEFAULT 0, estimated_tokens bigint DEFAULT 0,
    OUT allowed boolean, OUT metric text, OUT period text, OUT used numeric, OUT max_value numeric,
    OUT remaining numeric, OUT resets_at timestamptz, OUT held numeric)
RETURNS record
    LANGUAGE c STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'check_limit';
COMMENT ON FUNCTION usage_meter.check_limit IS 'May this request go ahead? Reads live counters and live reservations only';

CREATE FUNCTION usage_meter.live_usage(tenant text, user_id text DEFAULT NULL)
RETURNS TABLE (period text, period_start date, requests bigint, tokens bigint, cost numeric, billed_cost numeric)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT b.period, b.period_start,
           COALESCE(sum(c.requests), 0)::bigint, COALESCE(sum(c.tokens), 0)::bigint,
           COALESCE(sum(c.cost), 0), COALESCE(sum(c.billed_cost), 0)
    FROM usage_meter.period_bounds($1) AS b
    LEFT JOIN usage_meter.counters AS c
           ON c.tenant = $1 AND c.period = b.period AND c.period_start = b.period_start
          AND ((c.user_id = $2) OR ($2 IS NULL AND c.user_id IS NULL))
    GROUP BY b.period, b.period_start
    ORDER BY b.period_start DESC, b.period;
$$;

------------------------------------------------------------------------------------------------------------
-- Reservations (the table: tables.sql). reserve() and release() run as the extension's owner (like
-- usage_record), so a caller needs no rights on the table; they are the writer's, purge_reservations() is the
-- admin's. Sequential scans are off inside reserve() and release() for the reason given at usage_record
-- (recording.sql).
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.reserve(tenant text, user_id text DEFAULT NULL, estimated_cost numeric DEFAULT 0,
                                    estimated_tokens bigint DEFAULT 0, ttl interval DEFAULT '10 minutes')
RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_seqscan = off
    AS 'MODULE_PATHNAME', 'reserve';
COMMENT ON FUNCTION usage_meter.reserve IS 'Admits a request and holds its estimate against every hard limit that covers it, or raises SQLSTATE UM001';

CREATE FUNCTION usage_meter.release(reservation_id bigint)
RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_seqscan = off
    AS 'MODULE_PATHNAME', 'release';
COMMENT ON FUNCTION usage_meter.release IS 'Gives a reservation''s hold back without usage; true when it was still holding';

-- The tenant-first form: ids are unique per database only, so where several databases hold tenants a call names
-- its tenant; another tenant's reservation is unknown to it (22023).
CREATE FUNCTION usage_meter.release(tenant text, reservation_id bigint)
RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_seqscan = off
    AS 'MODULE_PATHNAME', 'release_for_tenant';
COMMENT ON FUNCTION usage_meter.release(text, bigint) IS 'release(reservation_id) for one tenant: another tenant''s reservation is unknown';

-- Closed reservations are kept (so settling one twice is refused as such, not as unknown) until purged.
-- Not needed for correctness: closed and expired rows never count. Run it from time to time, per tenant.
CREATE FUNCTION usage_meter.purge_reservations(tenant text, older_than interval DEFAULT '7 days')
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    purged bigint;
BEGIN
    IF tenant IS NULL OR older_than IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN tenant IS NULL THEN 'tenant' ELSE 'older_than' END
            USING ERRCODE = '22004';
    END IF;
    IF older_than < interval '0' THEN
        RAISE EXCEPTION 'invalid older_than: "%"', older_than
            USING ERRCODE = '22023', HINT = 'Give how old a closed reservation must be, such as ''7 days''.';
    END IF;
    cutoff := pg_catalog.clock_timestamp() - older_than;
    DELETE FROM usage_meter.reservations AS r
     WHERE r.tenant = purge_reservations.tenant
       AND ((r.state IN ('settled', 'released') AND r.closed_at < cutoff)
            OR (r.state IN ('held', 'expired') AND r.expires_at < cutoff));
    GET DIAGNOSTICS purged = ROW_COUNT;
    RETURN purged;
END
$$;
COMMENT ON FUNCTION usage_meter.purge_reservations IS 'Deletes a tenant''s reservations closed (or expired) longer ago than older_than';

------------------------------------------------------------------------------------------------------------
-- Whether a tenant has a limit with alerts (tenants.alert_limits). Kept by a trigger on limits (so set_limit,
-- remove_limit and a restore all keep it): set when such a limit is written (idempotent, so restoring limits
-- after tenants is right), cleared when the last one goes, under the tenant row's lock (so a concurrent
-- set_limit cannot be missed).
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.limits_flag_tenant()
RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.alert THEN
        UPDATE usage_meter.tenants AS t SET alert_limits = true
         WHERE t.tenant OPERATOR(pg_catalog.=) NEW.tenant AND NOT t.alert_limits;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.alert THEN
        PERFORM 1 FROM usage_meter.tenants AS t WHERE t.tenant OPERATOR(pg_catalog.=) OLD.tenant FOR UPDATE;
        UPDATE usage_meter.tenants AS t SET alert_limits = false
         WHERE t.tenant OPERATOR(pg_catalog.=) OLD.tenant AND t.alert_limits
           AND NOT EXISTS (SELECT 1 FROM usage_meter.limits AS l
                            WHERE l.tenant OPERATOR(pg_catalog.=) OLD.tenant AND l.alert);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER limits_flag_tenant AFTER INSERT OR UPDATE OR DELETE ON usage_meter.limits
    FOR EACH ROW EXECUTE FUNCTION usage_meter.limits_flag_tenant();

------------------------------------------------------------------------------------------------------------
-- Each backend caches the limits it reads. check_limit, reserve and the alert check read the tenant's time
-- zone and the limits covering the request on every call; the library keeps them in a per-backend cache that
-- PostgreSQL's relcache invalidation empties: these row triggers queue an invalidation of the table written,
-- which reaches every backend when the writing transaction commits (and the writing backend at its next
-- command boundary, and again if it aborts after one). TRUNCATE needs no trigger: a new relfilenode
-- invalidates the table anyway. The library uses the cache only while both triggers exist and fire always, and
-- only under READ COMMITTED; without them (an older version, a disabled trigger) every call reads the tables.
--   - Row triggers, not statement triggers: logical replication's apply worker fires only row triggers.
--   - ENABLE ALWAYS: they also fire under session_replication_role = replica (that apply worker, some restore
--     tools), which would otherwise write the tables without telling the caches.
--   - BEFORE: the invalidation is queued before the row is written, so a row another command of the same
--     statement reads (and caches) is covered by it even if the statement then fails.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.limits_cache_invalidate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'limits_cache_invalidate';
COMMENT ON FUNCTION usage_meter.limits_cache_invalidate IS 'Empties every backend''s cache of limits and tenants when they change (trigger)';

CREATE TRIGGER limits_cache_invalidate BEFORE INSERT OR UPDATE OR DELETE ON usage_meter.limits
    FOR EACH ROW EXECUTE FUNCTION usage_meter.limits_cache_invalidate();
ALTER TABLE usage_meter.limits ENABLE ALWAYS TRIGGER limits_cache_invalidate;
CREATE TRIGGER tenants_cache_invalidate BEFORE INSERT OR UPDATE OR DELETE ON usage_meter.tenants
    FOR EACH ROW EXECUTE FUNCTION usage_meter.limits_cache_invalidate();
ALTER TABLE usage_meter.tenants ENABLE ALWAYS TRIGGER tenants_cache_invalidate;
