-- Where two features meet: each section is one way 1.3 could bill wrong, drift or fail, with the invariant
-- that catches the whole class checked after it (not only the case): a reversal is always the exact negation
-- of its event, so a voided event costs 0; unpriced counts agree everywhere; settings and payloads out of
-- bounds are refused where they enter; a limit path never fails; zones stay within what retention assumes.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Every reversal that is not the exact negation of its event (cost, billed cost, priced flag, price row).
CREATE VIEW reversals_off AS
SELECT e.tenant, e.event_id, e.cost, r.cost AS reversal_cost, e.billed_cost, r.billed_cost AS reversal_billed
  FROM usage_meter.events AS e
  JOIN usage_meter.events AS r ON r.tenant = e.tenant AND r.reverses_event_id = e.event_id
 WHERE r.cost IS DISTINCT FROM -e.cost OR r.billed_cost IS DISTINCT FROM -e.billed_cost
    OR r.priced <> e.priced OR r.price_id IS DISTINCT FROM e.price_id
    OR r.cost_source IS DISTINCT FROM e.cost_source;

-- 1. reprice never prices a reversal on its own: it reprices the voided event and its reversal together, so
-- the voided event still costs 0 (here: a tier, whose negative context would never cross, and a fee, which
-- a reversal would have been charged positively).
SELECT event_id AS fee_event FROM usage_meter.usage_record('t2', 'u', 'chat', 'feemodel', input_tokens => 300000,
       output_tokens => 1000, occurred_at => '2026-11-02 10:00Z') \gset
SELECT usage_meter.void_event('t2', :fee_event, 'x') IS NOT NULL AS voided;
SELECT usage_meter.set_tiered_price('feemodel', 1, 2,
       '[{"above_input_tokens": 200000, "input_per_mtok": 10, "output_per_mtok": 20}]', per_request => 0.5,
       effective_from => '2026-01-01Z') IS NOT NULL AS set;
SELECT * FROM usage_meter.reprice('t2');
SELECT event_id = :fee_event AS original, cost, billed_cost, priced FROM usage_meter.events WHERE tenant = 't2' ORDER BY event_id;
SELECT sum(cost) AS voided_event_costs FROM usage_meter.events WHERE tenant = 't2';
SELECT requests, unpriced, cost FROM usage_meter.daily_usage WHERE tenant = 't2';
SELECT * FROM reversals_off;
SELECT * FROM usage_meter.verify();

-- 3. reprice(only_unpriced => false) over a range holding priced reversals: the reversals follow their events
-- (it used to read a reversal's negative cost as an amount and fail).
SELECT usage_meter.set_price('m', 1, 2, effective_from => '2026-01-01Z') IS NOT NULL AS set;
SELECT event_id AS m_event FROM usage_meter.usage_record('t3', 'u', 'chat', 'm', 1000, 0, occurred_at => '2026-11-03 10:00Z') \gset
SELECT usage_meter.void_event('t3', :m_event, 'x') IS NOT NULL AS voided;
SELECT usage_meter.set_price('m', 3, 4, effective_from => '2026-11-01Z') IS NOT NULL AS set;
SELECT * FROM usage_meter.reprice('t3', only_unpriced => false);
SELECT cost, billed_cost, priced FROM usage_meter.events WHERE tenant = 't3' ORDER BY event_id;
-- A replacement is an ordinary event: repriced like any other, its corrected original stays cancelled.
SELECT usage_meter.set_price('m', 5, 6, effective_from => '2026-11-02Z') IS NOT NULL AS set;
SELECT event_id AS c_event FROM usage_meter.usage_record('t3', 'u', 'chat', 'm', 1000, 0, occurred_at => '2026-11-03 11:00Z') \gset
SELECT replacement_id AS c_replacement FROM usage_meter.correct_event('t3', :c_event, 'fix', input_tokens => 2000) \gset
SELECT usage_meter.set_price('m', 7, 8, effective_from => '2026-11-03Z') IS NOT NULL AS set;
SELECT * FROM usage_meter.reprice('t3', only_unpriced => false);
SELECT event_id = :c_replacement AS replacement, cost FROM usage_meter.events
 WHERE tenant = 't3' AND (event_id IN (:c_event, :c_replacement) OR reverses_event_id = :c_event) ORDER BY event_id;
SELECT * FROM reversals_off;
SELECT * FROM usage_meter.verify();
-- reprice needs a new snapshot per statement to see a reversal committed while it waited: READ COMMITTED only.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM usage_meter.reprice('t3');
ROLLBACK;

-- 6. Unpriced usage counts as the summaries count it: a voided unpriced event is not unpriced usage.
SELECT event_id AS u_event FROM usage_meter.usage_record('t6', 'u', 'chat', 'nobody-prices-this', 10, 10,
       occurred_at => '2026-11-04 10:00Z') \gset
SELECT (usage_meter.usage_record('t6', 'u', 'chat', 'nobody-prices-this', 5, 5, occurred_at => '2026-11-04 11:00Z')).event_id IS NOT NULL AS recorded;
SELECT usage_meter.void_event('t6', :u_event, 'test traffic') IS NOT NULL AS voided;
SELECT model, events, tenants, input_tokens FROM usage_meter.unpriced_models() WHERE model = 'nobody-prices-this';
SELECT events, unpriced_events, status FROM usage_meter.health() WHERE tenant = 't6';
SELECT sum(requests) AS requests, sum(unpriced) AS unpriced FROM usage_meter.daily_usage WHERE tenant = 't6';
SELECT usage_meter.void_event('t6', event_id, 'all of it') IS NOT NULL AS voided
  FROM usage_meter.events WHERE tenant = 't6' AND reverses_event_id IS NULL AND event_id <> :u_event;
SELECT count(*) AS listed FROM usage_meter.unpriced_models() WHERE model = 'nobody-prices-this';
SELECT events, unpriced_events, status FROM usage_meter.health() WHERE tenant = 't6';

-- 4. Markups are refused where they enter when they could not be applied to every cost later (too many
-- decimal places, too large); the edges are fine. Nothing is written by a refusal.
SELECT usage_meter.set_tenant('mk', 'UTC', 1e-34);
SELECT usage_meter.set_tenant('mk2', 'UTC', 1e35);
SELECT usage_meter.set_tenant('mk3', 'UTC', 1000.001);
SELECT usage_meter.set_tenant('mk4', 'UTC', -100.5);
SELECT count(*) AS refused_tenants_written FROM usage_meter.tenants WHERE tenant LIKE 'mk%';
SELECT usage_meter.set_tenant('edge-high', 'UTC', 1000), usage_meter.set_tenant('edge-low', 'UTC', -100),
       usage_meter.set_tenant('edge-fine', 'UTC', -33.333);
-- A cost with every decimal place prices allow (a price has 18, a cost 24), billed at each markup edge.
SELECT usage_meter.set_price('finest', 0.000000000000000001, 999999.999999999999999999,
       effective_from => '2026-01-01Z') IS NOT NULL AS set;
SELECT t AS tenant, r.cost, r.billed_cost
  FROM unnest(ARRAY['edge-high', 'edge-low', 'edge-fine']) AS t,
       LATERAL usage_meter.usage_record(t, 'u', 'chat', 'finest', 1, 100, occurred_at => '2026-11-05 10:00Z') AS r;
SELECT * FROM usage_meter.verify();

-- 5. A cost beyond what one event may carry is refused where it enters (22023), whether reported by the
-- provider, given to usage_record, computed from the prices, or estimated; and nothing is written.
SELECT usage_meter.set_limit('big', NULL, 'cost', 'month', 1000, hard => false);
SELECT usage_meter.set_limit('big', NULL, 'billed_cost', 'month', 100000000000000);
SELECT * FROM usage_meter.record_response('big', 'u', 'chat', 'openrouter',
    '{"id": "gen-huge", "model": "openai/gpt-4o", "usage": {"prompt_tokens": 1, "completion_tokens": 1, "cost": 99999999999999999999999999999999999999}}');
SELECT * FROM usage_meter.usage_record('big', 'u', 'chat', cost => 100000000.000000000000000001);
SELECT * FROM usage_meter.usage_record('big', 'u', 'chat', cost => 0.0000000000000000000000001);
SELECT usage_meter.set_price('pricey', 1000000, 1000000, effective_from => '2026-01-01Z') IS NOT NULL AS set;
SELECT * FROM usage_meter.usage_record('big', 'u', 'chat', 'pricey', 100000000, 1, occurred_at => '2026-11-05 10:00Z');
SELECT * FROM usage_meter.check_limit('big', 'u', estimated_cost => 100000001);
SELECT count(*) AS big_events FROM usage_meter.events WHERE tenant = 'big';
-- At the bound it records, and every limit path (soft alert, check_limit, reserve) keeps answering.
SELECT cost, billed_cost FROM usage_meter.record_response('big', 'u', 'chat', 'openrouter',
    '{"id": "gen-max", "model": "openai/gpt-4o", "usage": {"prompt_tokens": 1, "completion_tokens": 1, "cost": 100000000}}');
SELECT cost FROM usage_meter.usage_record('big', 'u', 'chat', cost => 100000000, occurred_at => now() - interval '1 second');
SELECT allowed, metric, used, remaining FROM usage_meter.check_limit('big', 'u', estimated_cost => 100000000);
SELECT usage_meter.reserve('big', 'u', 100000000) > 0 AS reserved;
SELECT level, metric FROM usage_meter.alerts WHERE tenant = 'big' ORDER BY level;
SELECT * FROM usage_meter.verify();
-- Prices beyond a price's bounds are refused at the door too, whichever way they come.
SELECT usage_meter.set_price('too-pricey', 1000001, 1);
SELECT usage_meter.set_price('too-fine', 0.0000000000000000001, 1);
SELECT usage_meter.set_unit_price('search', 1000001);
SELECT usage_meter.set_tiered_price('tiered-too-fine', 1, 1, '[{"above_input_tokens": 10, "input_per_mtok": 0.0000000000000000001, "output_per_mtok": 1}]');
SELECT * FROM usage_meter.import_litellm_prices('{"m-import": {"input_cost_per_token": 2, "output_cost_per_token": 0, "litellm_provider": "x"}}');
SELECT * FROM usage_meter.usage_record('big', 'u', 'search', quantity => 1000000000000.1);
SELECT count(*) AS refused_prices_written FROM usage_meter.prices WHERE model LIKE 'too-%' OR model IN ('tiered-too-fine', 'm-import');

-- 11. A tenant's zone must keep every offset from UTC within -12 h .. +14 h, as every zone of the tz database
-- does since 1900 (what verifiable_since() relies on); POSIX strings beyond it are refused.
SELECT usage_meter.set_tenant('far', 'FOO-100');
SELECT usage_meter.set_tenant('far', '<+167>-167');
SELECT usage_meter.set_tenant('far', '<-15>15');
SELECT usage_meter.set_tenant('far', 'BAR-15BAZ,M3.2.0,M11.1.0');
SELECT count(*) AS far_written FROM usage_meter.tenants WHERE tenant = 'far';
SELECT usage_meter.set_tenant('east', 'Pacific/Kiritimati'), usage_meter.set_tenant('west', 'Etc/GMT+12'),
       usage_meter.set_tenant('lmt', 'Asia/Manila'), usage_meter.set_tenant('posix', '<+14>-14');
-- Every zone PostgreSQL knows by name is accepted.
DO $$
DECLARE
    z text;
    refused text[] := '{}';
BEGIN
    FOR z IN SELECT name FROM pg_timezone_names LOOP
        BEGIN
            PERFORM usage_meter.set_tenant('zone-probe', z);
        EXCEPTION WHEN invalid_parameter_value THEN
            refused := refused || z;
        END;
    END LOOP;
    RAISE NOTICE 'named zones refused: %', refused;
END $$;

-- 13. period_bounds refuses an instant whose day or month cannot be represented, rather than return a period
-- that does not contain it.
SELECT * FROM usage_meter.period_bounds('t13', '294276-12-31 23:59:59+00');
SELECT * FROM usage_meter.period_bounds('t13', '4714-11-24 00:00:00+00 BC');
SELECT period, period_start, starts_at, resets_at FROM usage_meter.period_bounds('t13', '200000-11-15 12:00+00');
SELECT period, period_start, starts_at, resets_at FROM usage_meter.period_bounds('t13', '4713-01-01 12:00+00 BC');

-- 14. An import of many prices takes one lock, not one per key (20,000 keys ran out of shared memory).
SELECT added, unchanged, skipped FROM usage_meter.import_litellm_prices(
    (SELECT jsonb_object_agg('bulk-model-' || i, jsonb_build_object('input_cost_per_token', 0.000001,
                                                                   'output_cost_per_token', 0.000002,
                                                                   'litellm_provider', 'bulk'))
       FROM generate_series(1, 20000) AS i), '2026-01-01Z');
SELECT count(*) AS bulk_prices FROM usage_meter.prices WHERE provider = 'bulk';

SELECT * FROM reversals_off;
SELECT * FROM usage_meter.verify();
DROP VIEW reversals_off;
