-- Moving a tenant between databases (tenants_move.sql): the moving flag refuses writes, export_tenant writes
-- every row of the tenant into one document, purge_tenant removes them (the ledger's included), import_tenant
-- writes them back (here: into the same database, after the purge) with every id kept and the summaries
-- rebuilt; repeated catalog calls change nothing, and price_catalog_digest shows it. tests/stages/77-tenant-move.sh
-- moves a tenant between two databases.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
DROP ROLE IF EXISTS um_move_writer;
DROP ROLE IF EXISTS um_move_reader;
DROP ROLE IF EXISTS um_move_admin;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE ROLE um_move_writer IN ROLE usage_meter_writer;
CREATE ROLE um_move_reader IN ROLE usage_meter_reader;
CREATE ROLE um_move_admin IN ROLE usage_meter_admin;
-- SQLSTATE and message of a statement that fails (NULL when it succeeds).
CREATE FUNCTION pg_temp.refusal(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- acme: a markup change (history), limits (one alerting), keyed events, a void, a correction, a settled and an
-- open reservation, an alert, a reader binding. globex stays where it is.
SELECT usage_meter.set_price('m', 1, 2) AS price_id;
SELECT usage_meter.set_tenant('acme', 'Europe/Berlin', 10);
SELECT usage_meter.set_tenant('acme', 'Europe/Berlin', 20);
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 100);
SELECT usage_meter.set_limit('acme', '*', 'tokens', 'day', 1000, hard => false);
SELECT event_id FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1000, 500, idempotency_key => 'k1',
                                              occurred_at => '2025-01-15 10:00Z');
SELECT event_id FROM usage_meter.usage_record('acme', 'u2', 'chat', 'm', 2000, 100, idempotency_key => 'k2',
                                              occurred_at => '2025-02-01 10:00Z');
SELECT event_id FROM usage_meter.usage_record('globex', 'g', 'chat', 'm', 10, 10);
SELECT usage_meter.void_event('acme', 1, 'duplicate') AS reversal_id;
SELECT reversal_id, replacement_id FROM usage_meter.correct_event('acme', 2, 'recount', input_tokens => 100);
SELECT usage_meter.reserve('acme', 'u1', 1, 10) AS settled_reservation;
SELECT event_id FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1000, 500, idempotency_key => 'k3',
                                              reservation_id => 1);
SELECT usage_meter.reserve('acme', 'u1', 2, 20) AS open_reservation;
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('acme', 'um_move_reader');
SELECT count(*) AS acme_alerts FROM usage_meter.alerts WHERE tenant = 'acme';
-- What must survive the move.
CREATE TEMP TABLE before AS
SELECT (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.event_id) FROM usage_meter.events AS e
         WHERE e.tenant = 'acme') AS events,
       (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.day, d.user_id, d.operation) FROM usage_meter.daily_usage AS d
         WHERE d.tenant = 'acme') AS daily,
       (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.period) FROM usage_meter.live_usage('acme') AS l) AS live,
       (SELECT jsonb_agg(to_jsonb(l) - 'created_at' - 'updated_at' ORDER BY l.metric) FROM usage_meter.limits AS l
         WHERE l.tenant = 'acme') AS limits,
       (SELECT to_jsonb(t) - 'moving' FROM usage_meter.tenants AS t WHERE t.tenant = 'acme') AS tenant,
       (SELECT jsonb_agg(to_jsonb(m)) FROM usage_meter.tenant_markups AS m WHERE m.tenant = 'acme') AS markups,
       (SELECT jsonb_agg(to_jsonb(r) ORDER BY r.reservation_id) FROM usage_meter.reservations AS r
         WHERE r.tenant = 'acme') AS reservations,
       (SELECT jsonb_agg(to_jsonb(k) ORDER BY k.idempotency_key) FROM usage_meter.idempotency_keys AS k
         WHERE k.tenant = 'acme') AS keys,
       (SELECT jsonb_agg(to_jsonb(a) ORDER BY a.alert_id) FROM usage_meter.alerts AS a
         WHERE a.tenant = 'acme') AS alerts;

-- Export and purge need the tenant marked as moving first.
SELECT pg_temp.refusal($$SELECT usage_meter.export_tenant('acme')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.purge_tenant('acme')$$);
SELECT pg_temp.refusal($$SELECT usage_meter.export_tenant('nobody')$$);
SELECT pg_temp.refusal($$SELECT usage_meter.export_tenant(NULL)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.set_tenant_moving('nobody', true)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.set_tenant_moving('acme', NULL)$$);
SELECT usage_meter.set_tenant_moving('acme', true);

-- A tenant being moved: every write refused with 55000, nothing written; reads still answer; other tenants
-- record as before.
SELECT pg_temp.refusal($$SELECT usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1, 1)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.record_response('acme', 'u1', 'chat', 'openai',
                                 '{"model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}')$$);
SELECT pg_temp.refusal($$INSERT INTO usage_meter.events (tenant, operation) VALUES ('acme', 'chat')$$);
SELECT pg_temp.refusal($$SELECT usage_meter.reserve('acme', 'u1', 1, 1)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.void_event('acme', 2, 'late')$$);
SELECT pg_temp.refusal($$SELECT usage_meter.correct_event('acme', 6, 'late', input_tokens => 1)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', 5)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.remove_limit('acme', NULL, 'cost', 'month')$$);
SELECT pg_temp.refusal($$SELECT usage_meter.set_tenant('acme', 'UTC', 0)$$);
-- A retry of an event recorded before is still answered with its event (nothing is written).
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1000, 500, idempotency_key => 'k1',
                                                         occurred_at => '2025-01-15 10:00Z');
SELECT allowed, metric, period, used FROM usage_meter.check_limit('acme', 'u1', 1, 0);
SELECT event_id FROM usage_meter.usage_record('globex', 'g', 'chat', 'm', 10, 10);
SELECT count(*) AS acme_events FROM usage_meter.events WHERE tenant = 'acme';

-- The document: one array of rows per table, the tenant's rows only.
CREATE TEMP TABLE exported AS SELECT usage_meter.export_tenant('acme') AS doc;
SELECT doc ->> 'format' AS format, doc ->> 'format_version' AS format_version, doc ->> 'tenant' AS tenant,
       doc ->> 'extension_version' AS extension_version, doc -> 'kept_from' AS kept_from FROM exported;
SELECT key, jsonb_array_length(value) AS rows
  FROM exported, jsonb_each(doc) WHERE jsonb_typeof(value) = 'array' ORDER BY key;

-- purge_tenant: refuses a tenant not being moved, an unknown one, NULL; then deletes every row of acme.
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.purge_tenant('globex')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.purge_tenant('nobody')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.purge_tenant(NULL)$$);
-- Nobody else deletes from the ledger, not even its owner, and not the internal purge's caller.
SELECT pg_temp.refusal($$DELETE FROM usage_meter.events WHERE tenant = 'acme'$$);
SELECT * FROM usage_meter.purge_tenant('acme');
SELECT pg_temp.refusal($$DELETE FROM usage_meter.events WHERE tenant = 'globex'$$);
SELECT c.relname, count(*) FILTER (WHERE x.t = 'acme') AS acme_rows
  FROM (SELECT 'events' AS relname, tenant AS t FROM usage_meter.events
        UNION ALL SELECT 'idempotency_keys', tenant FROM usage_meter.idempotency_keys
        UNION ALL SELECT 'daily_rollup', tenant FROM usage_meter.daily_rollup
        UNION ALL SELECT 'counters', tenant FROM usage_meter.counters
        UNION ALL SELECT 'reservations', tenant FROM usage_meter.reservations
        UNION ALL SELECT 'alerts', tenant FROM usage_meter.alerts
        UNION ALL SELECT 'reader_tenants', tenant FROM usage_meter.reader_tenants
        UNION ALL SELECT 'limits', tenant FROM usage_meter.limits
        UNION ALL SELECT 'tenant_markups', tenant FROM usage_meter.tenant_markups
        UNION ALL SELECT 'tenants', tenant FROM usage_meter.tenants) AS x
  RIGHT JOIN (VALUES ('events'), ('idempotency_keys'), ('daily_rollup'), ('counters'), ('reservations'),
                     ('alerts'), ('reader_tenants'), ('limits'), ('tenant_markups'), ('tenants')) AS c(relname)
       ON c.relname = x.relname
 GROUP BY c.relname ORDER BY c.relname;
SELECT * FROM usage_meter.verify();

-- As in a database whose sequences are behind the source's: another tenant gets events and holds with ids acme
-- used (1 and 2).
SELECT setval('usage_meter.event_id_seq', 1, false) IS NOT NULL AS reset,
       setval('usage_meter.reservation_id_seq', 1, false) IS NOT NULL AS reset;
SELECT event_id FROM usage_meter.usage_record('initech', 'i', 'chat', 'm', 1, 1) ORDER BY 1;
SELECT event_id FROM usage_meter.usage_record('initech', 'i', 'chat', 'm', 1, 1) ORDER BY 1;
SELECT usage_meter.reserve('initech', 'i', 0, 0) AS initech_reservation;
SELECT usage_meter.reserve('initech', 'i', 0, 0) AS initech_reservation;

-- Bad documents are refused before anything is written.
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.import_tenant('acme', NULL)$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.import_tenant(NULL, (SELECT doc FROM exported))$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.import_tenant('acme', '[]')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.import_tenant('globex', (SELECT doc FROM exported))$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.import_tenant('acme', '{"format": "usage_meter.tenant_export", "format_version": 2}')$$);
SELECT pg_temp.refusal(format('SELECT * FROM usage_meter.import_tenant(''acme'', %L)', (SELECT doc - 'limits' FROM exported)));
SELECT pg_temp.refusal(format('SELECT * FROM usage_meter.import_tenant(''acme'', %L)',
       (SELECT jsonb_set(doc, '{events,0,tenant}', '"globex"') FROM exported)));
SELECT pg_temp.refusal(format('SELECT * FROM usage_meter.import_tenant(''acme'', %L)',
       (SELECT jsonb_set(doc, '{tenants}', '[]') FROM exported)));
SELECT count(*) AS acme_rows FROM usage_meter.tenants WHERE tenant = 'acme';

-- The import: every row back, the summaries rebuilt from the ledger (nothing to change), verify() empty.
SELECT * FROM usage_meter.import_tenant('acme', (SELECT doc FROM exported));
SELECT * FROM usage_meter.verify();
-- Equal to what was exported, ids included (the tenant arrives writable).
SELECT (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.event_id) FROM usage_meter.events AS e
         WHERE e.tenant = 'acme') = b.events AS events,
       (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.day, d.user_id, d.operation) FROM usage_meter.daily_usage AS d
         WHERE d.tenant = 'acme') = b.daily AS daily,
       (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.period) FROM usage_meter.live_usage('acme') AS l) = b.live
           AS live,
       (SELECT jsonb_agg(to_jsonb(l) - 'created_at' - 'updated_at' ORDER BY l.metric) FROM usage_meter.limits AS l
         WHERE l.tenant = 'acme') = b.limits AS limits,
       (SELECT to_jsonb(t) - 'moving' FROM usage_meter.tenants AS t WHERE t.tenant = 'acme') = b.tenant AS tenant,
       (SELECT jsonb_agg(to_jsonb(m)) FROM usage_meter.tenant_markups AS m WHERE m.tenant = 'acme') = b.markups
           AS markups,
       (SELECT jsonb_agg(to_jsonb(r) ORDER BY r.reservation_id) FROM usage_meter.reservations AS r
         WHERE r.tenant = 'acme') = b.reservations AS reservations,
       (SELECT jsonb_agg(to_jsonb(k) ORDER BY k.idempotency_key) FROM usage_meter.idempotency_keys AS k
         WHERE k.tenant = 'acme') = b.keys AS keys,
       (SELECT jsonb_agg(to_jsonb(a) ORDER BY a.alert_id) FROM usage_meter.alerts AS a
         WHERE a.tenant = 'acme') IS NOT DISTINCT FROM b.alerts AS alerts,
       (SELECT moving FROM usage_meter.tenants WHERE tenant = 'acme') AS moving,
       (SELECT count(*) FROM usage_meter.reader_tenants WHERE tenant = 'acme') AS reader_bindings
  FROM before AS b;
-- The sequences moved past the imported ids (events: to 7; holds: already at 2).
SELECT (SELECT last_value FROM usage_meter.event_id_seq) AS event_id_seq,
       (SELECT last_value FROM usage_meter.reservation_id_seq) AS reservation_id_seq;
-- Keys, reversal links and reservations still resolve: a retry returns its event, a voided event cannot be
-- voided again, the corrected event's replacement is voidable, the open hold is released by its tenant.
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1000, 500, idempotency_key => 'k1',
                                                         occurred_at => '2025-01-15 10:00Z');
SELECT pg_temp.refusal($$SELECT usage_meter.void_event('acme', 1, 'again')$$);
SELECT usage_meter.void_event('acme', 6, 'moved, then voided') > 7 AS voided;
SELECT usage_meter.release('acme', 2) AS released_live;
-- An id alone may now name events (or holds) of two tenants: the forms by id alone refuse it.
SELECT pg_temp.refusal($$SELECT usage_meter.void_event(2, 'which one?')$$);
SELECT pg_temp.refusal($$SELECT usage_meter.correct_event(1, 'which one?', input_tokens => 1)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.release(2)$$);
SELECT usage_meter.void_event(3, 'globex''s alone') > 7 AS voided_by_id;
SELECT * FROM usage_meter.verify();
-- Importing a tenant this database holds is refused.
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.import_tenant('acme', (SELECT doc FROM exported))$$);

-- The retention boundary travels: a source that dropped raw events before a boundary moves this database's
-- boundary to it when nothing here is older, and the import is refused when something is.
SELECT usage_meter.set_tenant_moving('acme', true);
CREATE TEMP TABLE dropped AS
SELECT jsonb_set(jsonb_set(doc, '{kept_from}', '"2025-02-01 00:00:00+00"'), '{events}',
                 (SELECT jsonb_agg(e) FROM jsonb_array_elements(doc -> 'events') AS e
                   WHERE (e ->> 'occurred_at')::timestamptz >= '2025-02-01')) AS doc
  FROM (SELECT usage_meter.export_tenant('acme') AS doc) AS x;
SELECT table_name, row_count FROM usage_meter.purge_tenant('acme') WHERE table_name = 'events';
SELECT event_id > 7 AS recorded FROM usage_meter.usage_record('hooli', 'h', 'chat', 'm', 1, 1, occurred_at => '2025-01-20');
SELECT pg_temp.refusal(format('SELECT * FROM usage_meter.import_tenant(''acme'', %L)', (SELECT doc FROM dropped)));
SELECT count(*) AS acme_rows FROM usage_meter.tenants WHERE tenant = 'acme';
SELECT usage_meter.set_tenant_moving('hooli', true);
SELECT table_name, row_count FROM usage_meter.purge_tenant('hooli') WHERE table_name = 'events';
SELECT * FROM usage_meter.import_tenant('acme', (SELECT doc FROM dropped));
SELECT kept_from FROM usage_meter.retention;
SELECT usage_meter.verifiable_since();
SELECT * FROM usage_meter.verify();
SELECT count(*) AS acme_events FROM usage_meter.events WHERE tenant = 'acme';

-- Writers and readers can neither move, export, import nor purge; the admin can.
SET SESSION AUTHORIZATION um_move_writer;
SELECT pg_temp.refusal($$SELECT usage_meter.set_tenant_moving('initech', true)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.export_tenant('initech')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.import_tenant('initech', '{}')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.purge_tenant('initech')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.price_catalog_digest()$$);
SET SESSION AUTHORIZATION um_move_reader;
SELECT pg_temp.refusal($$SELECT usage_meter.set_tenant_moving('initech', true)$$);
SELECT pg_temp.refusal($$SELECT usage_meter.export_tenant('initech')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.import_tenant('initech', '{}')$$);
SELECT pg_temp.refusal($$SELECT * FROM usage_meter.purge_tenant('initech')$$);
SET SESSION AUTHORIZATION um_move_admin;
SELECT pg_temp.refusal($$SELECT usage_meter.purge_tenant_events('initech')$$);
SELECT usage_meter.set_tenant_moving('initech', true);
SELECT usage_meter.export_tenant('initech') ->> 'tenant' AS exported;
SELECT usage_meter.set_tenant_moving('initech', false);
RESET SESSION AUTHORIZATION;

-- Catalog calls repeated change nothing: the same price (tiers, fee) or unit price at the same effective_from
-- returns its id, the same import adds nothing, the same alias keeps its position and creation time.
CREATE TEMP TABLE catalog_before AS SELECT * FROM usage_meter.price_catalog_digest();
CREATE TEMP TABLE litellm AS SELECT '{"sample_spec": {}, "gpt-x": {"litellm_provider": "openai",
    "input_cost_per_token": 0.0000025, "output_cost_per_token": 0.00001}}'::jsonb AS doc;
SELECT * FROM usage_meter.import_litellm_prices((SELECT doc FROM litellm), '2026-01-01');
SELECT usage_meter.set_tiered_price('t', 1, 2, '[{"above_input_tokens": 1000, "input_per_mtok": 2, "output_per_mtok": 4}]',
                                    per_request => 0.01, effective_from => '2026-01-01') AS tiered_id;
SELECT usage_meter.set_unit_price('web_search', 0.01, '2026-01-01') AS unit_price_id;
SELECT usage_meter.set_model_alias('my-deployment', 'm');
SELECT usage_meter.set_provider_alias('openai', 'my-openai');
SELECT usage_meter.set_provider_alias('openai', 'my-openai-2');
CREATE TEMP TABLE catalog_once AS SELECT * FROM usage_meter.price_catalog_digest();
CREATE TEMP TABLE alias_times AS SELECT alias, created_at FROM usage_meter.model_aliases;
SELECT usage_meter.set_price('m', 1.00, 2.0) AS price_id;
SELECT * FROM usage_meter.import_litellm_prices((SELECT doc FROM litellm), '2026-01-01');
SELECT usage_meter.set_tiered_price('t', 1, 2, '[{"above_input_tokens": 1000, "input_per_mtok": 2.0, "output_per_mtok": 4}]',
                                    per_request => 0.010, effective_from => '2026-01-01') AS tiered_id;
SELECT usage_meter.set_unit_price('web_search', 0.010, '2026-01-01') AS unit_price_id;
SELECT usage_meter.set_model_alias('my-deployment', 'm');
SELECT usage_meter.set_provider_alias('openai', 'my-openai');
SELECT provider, alias, position FROM usage_meter.provider_aliases WHERE NOT builtin ORDER BY alias;
SELECT count(*) AS moved_aliases FROM usage_meter.model_aliases AS a JOIN alias_times AS b USING (alias)
 WHERE a.created_at <> b.created_at;
SELECT count(*) AS prices, (SELECT count(*) FROM usage_meter.unit_prices) AS unit_prices FROM usage_meter.prices;
-- The digest: one row per entry; identical after the repeated calls; a changed alias changes its row only.
SELECT kind, key, effective_from, length(digest) AS digest_length FROM catalog_once ORDER BY 1, 2, 3;
(SELECT * FROM catalog_once EXCEPT SELECT * FROM usage_meter.price_catalog_digest())
UNION ALL (SELECT * FROM usage_meter.price_catalog_digest() EXCEPT SELECT * FROM catalog_once);
SELECT count(*) AS new_entries FROM (SELECT * FROM catalog_once EXCEPT SELECT * FROM catalog_before) AS n;
SELECT usage_meter.set_model_alias('my-deployment', 't');
SELECT kind, key FROM (SELECT * FROM usage_meter.price_catalog_digest() EXCEPT SELECT * FROM catalog_once) AS d;
-- The same definition written differently has the same digest (amounts compared as numbers).
SELECT (SELECT digest FROM catalog_once WHERE kind = 'price' AND key = '["m", null]')
     = md5(jsonb_build_array(1, 2, NULL, NULL, NULL, 0)::text) AS same_digest;

DROP ROLE um_move_writer;
DROP ROLE um_move_reader;
DROP ROLE um_move_admin;
