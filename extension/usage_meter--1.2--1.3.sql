-- usage_meter 1.2 -> 1.3. Versions 1.0 to 1.2 are released: their scripts are never edited again; CREATE
-- EXTENSION usage_meter (default 1.3) runs 1.0, then 1.0--1.1, 1.1--1.2 and this script.
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.3'" to load this file. \quit

-- ============================================================================================================
-- limits: each backend caches the limits it reads
-- ============================================================================================================
-- check_limit, reserve and the alert check read the tenant's time zone and the limits covering the request
-- on every call (a quarter of reserve's time in a profile). From 1.3 the library keeps them in a per-backend
-- cache that PostgreSQL's relcache invalidation empties: these row triggers queue an invalidation of the table
-- written, which reaches every backend when the writing transaction commits (and the writing backend at its
-- next command boundary, and again if it aborts after one). TRUNCATE needs no trigger: a new relfilenode
-- invalidates the table anyway. The library uses the cache only while both triggers exist and fire always, and
-- only under READ COMMITTED; without them (an older version, a disabled trigger) every call reads the tables.
--   - Row triggers, not statement triggers: logical replication's apply worker fires only row triggers.
--   - ENABLE ALWAYS: they also fire under session_replication_role = replica (that apply worker, some restore
--     tools), which would otherwise write the tables without telling the caches.
--   - BEFORE: the invalidation is queued before the row is written, so a row another command of the same
--     statement reads (and caches) is covered by it even if the statement then fails.
CREATE FUNCTION usage_meter.limits_cache_invalidate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'limits_cache_invalidate';
REVOKE ALL ON FUNCTION usage_meter.limits_cache_invalidate() FROM PUBLIC;
COMMENT ON FUNCTION usage_meter.limits_cache_invalidate IS 'Empties every backend''s cache of limits and tenants when they change (trigger)';

CREATE TRIGGER limits_cache_invalidate BEFORE INSERT OR UPDATE OR DELETE ON usage_meter.limits
    FOR EACH ROW EXECUTE FUNCTION usage_meter.limits_cache_invalidate();
ALTER TABLE usage_meter.limits ENABLE ALWAYS TRIGGER limits_cache_invalidate;
CREATE TRIGGER tenants_cache_invalidate BEFORE INSERT OR UPDATE OR DELETE ON usage_meter.tenants
    FOR EACH ROW EXECUTE FUNCTION usage_meter.limits_cache_invalidate();
ALTER TABLE usage_meter.tenants ENABLE ALWAYS TRIGGER tenants_cache_invalidate;

-- ============================================================================================================
-- limits: a soft limit alerts unless told not to
-- ============================================================================================================
-- A soft limit never refuses: the alert is what it is for. Until 1.2 it sent none unless set with
-- alert => true, so a soft limit set the obvious way did nothing anyone would notice. From 1.3 alert defaults
-- to NULL: a soft limit alerts, a hard one does not unless alert => true (for hard limits the recording path
-- would pay the alert check on every event; docs/limits.md, "Cost"). alert => false still turns a soft
-- limit's alerts off. Existing limits keep what they have. CREATE OR REPLACE keeps the function's owner and
-- grants; its other properties are set again here as 1.1 left them.
CREATE OR REPLACE FUNCTION usage_meter.set_limit(tenant text, user_id text, metric text, period text,
                                                 max_value numeric, hard boolean DEFAULT true,
                                                 alert boolean DEFAULT NULL)
RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_limit';
COMMENT ON FUNCTION usage_meter.set_limit IS 'Sets a limit; a soft limit alerts at its max (alert => false: not), a hard one at 80 % and 100 % with alert => true';
