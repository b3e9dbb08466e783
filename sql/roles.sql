-- Roles and row-level security: the writer can only record and check, the reader sees only the tenants an
-- admin bound it to (also through the daily_usage view and verify()), the admin manages the settings.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
-- The extension's roles are cluster-wide: creating the extension again (or in a second database) reuses them.
CREATE EXTENSION usage_meter;
DROP EXTENSION usage_meter;
CREATE EXTENSION usage_meter;
DROP ROLE IF EXISTS um_test_writer;
DROP ROLE IF EXISTS um_test_reader;
DROP ROLE IF EXISTS um_test_unbound;
DROP ROLE IF EXISTS um_test_admin;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname LIKE 'usage\_meter\_%' ORDER BY rolname;

CREATE ROLE um_test_writer IN ROLE usage_meter_writer;
CREATE ROLE um_test_reader IN ROLE usage_meter_reader;
CREATE ROLE um_test_unbound IN ROLE usage_meter_reader;
CREATE ROLE um_test_admin IN ROLE usage_meter_admin;

-- The admin sets prices, tenants and limits, and binds the reader to acme.
SET SESSION AUTHORIZATION um_test_admin;
SELECT usage_meter.set_price('m', 1, 2) AS price_id;
SELECT usage_meter.set_tenant('acme', 'UTC', 10);
SELECT usage_meter.set_tenant('globex');
SELECT usage_meter.set_limit('acme', NULL, 'requests', 'day', 100);
SELECT usage_meter.set_limit('globex', NULL, 'requests', 'day', 100);
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('acme', 'um_test_reader');
RESET SESSION AUTHORIZATION;

-- The writer records and checks, for any tenant.
SET SESSION AUTHORIZATION um_test_writer;
SELECT event_id, cost, billed_cost, duplicate FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 1000, 1000,
       occurred_at => '2026-11-02 10:00Z', idempotency_key => 'k1');
SELECT event_id, cost, duplicate FROM usage_meter.usage_record('globex', 'bob', 'chat', 'm', 500, 0,
       occurred_at => '2026-11-02 11:00Z');
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 1000, 1000,
       occurred_at => '2026-11-02 10:00Z', idempotency_key => 'k1');
SELECT allowed, metric, used, max_value FROM usage_meter.check_limit('globex');
-- ... and nothing else: no table access, no settings, no reads of summaries.
INSERT INTO usage_meter.events (tenant, operation) VALUES ('acme', 'chat');
COPY usage_meter.events (tenant, operation) FROM stdin;
\.
UPDATE usage_meter.counters SET requests = 0;
SELECT count(*) FROM usage_meter.events;
SELECT count(*) FROM usage_meter.daily_usage;
SELECT * FROM usage_meter.live_usage('acme');
SELECT usage_meter.set_price('m', 0, 0);
SELECT usage_meter.set_limit('acme', NULL, 'requests', 'day', 1000000);
SELECT usage_meter.roll_up(ARRAY[]::usage_meter.events[]);
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('globex', 'um_test_writer');
SELECT usage_meter.void_event('acme', 1, 'writer tries');
SELECT * FROM usage_meter.rebuild();
RESET SESSION AUTHORIZATION;

-- The reader bound to acme sees acme's rows only, in every table and through the view and verify().
SET SESSION AUTHORIZATION um_test_reader;
SELECT tenant, user_id, input_tokens FROM usage_meter.events ORDER BY event_id;
SELECT tenant, user_id, day, requests, cost FROM usage_meter.daily_usage ORDER BY tenant;
SELECT DISTINCT tenant FROM usage_meter.daily_rollup;
SELECT DISTINCT tenant FROM usage_meter.counters;
SELECT tenant, markup_pct FROM usage_meter.tenants ORDER BY tenant;
SELECT tenant, metric FROM usage_meter.limits ORDER BY tenant;
SELECT tenant, role_name FROM usage_meter.reader_tenants;
SELECT tenant, events FROM usage_meter.health();
SELECT * FROM usage_meter.verify();
SELECT count(*) AS prices FROM usage_meter.prices;
-- The policies read the reader's bindings through reader_scope() (no subquery in a policy: docs/scale-out.md).
SELECT usage_meter.reader_scope();
-- Other tenants' rows stay invisible even when asked for by name.
SELECT count(*) FROM usage_meter.events WHERE tenant = 'globex';
-- A reader cannot bind itself to another tenant, record, check limits or change anything.
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('globex', 'um_test_reader');
SET row_security = off;
SELECT count(*) FROM usage_meter.events WHERE tenant = 'globex';
RESET row_security;
SET ROLE usage_meter_admin;
SELECT * FROM usage_meter.usage_record('acme', 'alice', 'chat');
SELECT * FROM usage_meter.check_limit('globex');
UPDATE usage_meter.tenants SET markup_pct = 0;
DELETE FROM usage_meter.events;
SELECT usage_meter.void_event('acme', 1, 'reader tries');
SELECT * FROM usage_meter.rebuild('acme');
RESET SESSION AUTHORIZATION;

-- A reader bound to no tenant sees nothing.
SET SESSION AUTHORIZATION um_test_unbound;
SELECT count(*) AS events FROM usage_meter.events;
SELECT count(*) AS daily FROM usage_meter.daily_usage;
SELECT count(*) AS tenants FROM usage_meter.tenants;
RESET SESSION AUTHORIZATION;
-- A binding counts from the next statement on, in the same transaction too; a rolled-back one is gone.
BEGIN;
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('globex', 'um_test_unbound');
SET LOCAL SESSION AUTHORIZATION um_test_unbound;
SELECT usage_meter.reader_scope(), (SELECT count(*) FROM usage_meter.events) AS events;
ROLLBACK;
SET SESSION AUTHORIZATION um_test_unbound;
SELECT usage_meter.reader_scope(), (SELECT count(*) FROM usage_meter.events) AS events;
RESET SESSION AUTHORIZATION;
-- One expression evaluated by two roles (a PL/pgSQL simple expression keeps its state for the transaction):
-- each role gets its own bindings.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['um_test_reader', 'um_test_unbound', 'um_test_reader'] LOOP
        EXECUTE format('SET LOCAL ROLE %I', r);
        RAISE NOTICE '% sees %', r, usage_meter.reader_scope();
        RESET ROLE;
    END LOOP;
END
$$;

-- The admin sees everything, and unbinding the reader takes acme away from it.
SET SESSION AUTHORIZATION um_test_admin;
SELECT tenant, count(*) FROM usage_meter.events GROUP BY tenant ORDER BY tenant;
-- ... corrects and repairs, but cannot write the ledger or the summaries itself.
SELECT usage_meter.void_event('globex', 2, 'admin voids') AS reversal_id;
SELECT replacement_id IS NOT NULL AS corrected FROM usage_meter.correct_event('acme', 1, 'admin corrects', input_tokens => 10);
SELECT * FROM usage_meter.rebuild();
INSERT INTO usage_meter.events (tenant, operation) VALUES ('acme', 'chat');
UPDATE usage_meter.daily_rollup SET requests = 0;
SELECT usage_meter.roll_up(ARRAY[]::usage_meter.events[]);
DELETE FROM usage_meter.reader_tenants WHERE role_name = 'um_test_reader';
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION um_test_reader;
SELECT count(*) AS events FROM usage_meter.events;
RESET SESSION AUTHORIZATION;

-- Every SECURITY DEFINER function of the extension pins search_path, and nothing is executable by PUBLIC.
SELECT p.proname
  FROM pg_proc AS p JOIN pg_depend AS d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'usage_meter') AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c = 'search_path=pg_catalog, pg_temp')
 ORDER BY 1;
SELECT p.proname
  FROM pg_proc AS p JOIN pg_depend AS d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'usage_meter')
   AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) AS a WHERE a.grantee = 0))
 ORDER BY 1;
-- Every reader_bound policy reads reader_scope(), none has a subquery.
SELECT count(*) AS reader_bound, count(*) FILTER (WHERE qual ~* 'select') AS with_subquery,
       count(*) FILTER (WHERE qual <> '(tenant = ANY (usage_meter.reader_scope()))') AS other
  FROM pg_policies WHERE schemaname = 'usage_meter' AND policyname = 'reader_bound';
-- Every table that carries a tenant has row-level security.
SELECT c.relname FROM pg_class AS c
 WHERE c.relnamespace = 'usage_meter'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
   AND EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = c.oid AND a.attname = 'tenant')
 ORDER BY 1;

SELECT * FROM usage_meter.verify();
SET client_min_messages = warning;
DROP EXTENSION usage_meter;
DROP ROLE um_test_writer, um_test_reader, um_test_unbound, um_test_admin;
