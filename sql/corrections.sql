-- Corrections: the ledger is append-only; void_event writes a reversing entry and correct_event a reversal
-- plus a replacement. Both stay in the ledger with their reason, and every summary and counter goes back by
-- exactly the cancelled event (verify() stays empty).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1, 2) AS price_id;
SELECT usage_meter.set_price('m', 3, 6, effective_from => '2026-11-10') AS later_price;
SELECT usage_meter.set_unit_price('search', 0.01) AS unit_price_id;
SELECT usage_meter.set_tenant('acme', 'Europe/Paris', 10);

SELECT event_id, cost, billed_cost FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 1000, 2000,
       cache_read_tokens => 300, reasoning_tokens => 100, occurred_at => '2026-11-02 23:30Z',
       idempotency_key => 'msg-1', latency_ms => 250);
SELECT event_id, cost FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 10, 20,
       occurred_at => '2026-11-02 12:00Z', success => false);
SELECT event_id, cost FROM usage_meter.usage_record('acme', 'bob', 'search', quantity => 7,
       occurred_at => '2026-11-02 12:00Z');
SELECT event_id, priced FROM usage_meter.usage_record('acme', 'bob', 'chat', 'unknown-model', 5, 5,
       occurred_at => '2026-11-02 12:00Z');
CREATE TEMP TABLE before_void AS
    SELECT user_id, day, operation, requests, errors, unpriced, input_tokens, output_tokens, cost, billed_cost,
           latency_ms_total
      FROM usage_meter.daily_usage;
CREATE TEMP TABLE counters_before AS
    SELECT user_id, period, period_start, sum(requests) AS requests, sum(tokens) AS tokens, sum(cost) AS cost
      FROM usage_meter.counters GROUP BY 1, 2, 3;

-- UPDATE and DELETE stay refused.
UPDATE usage_meter.events SET cost = 0 WHERE event_id = 1;
DELETE FROM usage_meter.events WHERE event_id = 1;

-- Void event 1: a reversing row with every figure negated, on the event's own day (Paris time: the 3rd).
SELECT usage_meter.void_event('acme', 1, 'duplicate delivery from the gateway') AS reversal_id;
SELECT event_id, user_id, operation, input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, cost,
       billed_cost, priced, day, latency_ms, idempotency_key, reverses_event_id, reason
  FROM usage_meter.events ORDER BY event_id;
SELECT user_id, day, operation, requests, input_tokens, output_tokens, cost, billed_cost, latency_ms_total
  FROM usage_meter.daily_usage WHERE day = '2026-11-03';
SELECT user_id, period, period_start, sum(requests) AS requests, sum(tokens) AS tokens, sum(cost) AS cost
  FROM usage_meter.counters WHERE user_id = 'alice' GROUP BY 1, 2, 3 ORDER BY 2, 3;
SELECT * FROM usage_meter.verify();

-- Void the failed event 2 (errors go back), the unit-priced event 3 (quantity) and the unpriced event 4.
SELECT usage_meter.void_event('acme', 2, 'test traffic') IS NOT NULL AS voided;
SELECT usage_meter.void_event('acme', 3, 'test traffic') IS NOT NULL AS voided;
SELECT usage_meter.void_event('acme', 4, 'test traffic') IS NOT NULL AS voided;
SELECT user_id, day, operation, requests, errors, unpriced, input_tokens, quantity, cost
  FROM usage_meter.daily_usage ORDER BY user_id, day, operation;
SELECT period, sum(requests) AS requests, sum(tokens) AS tokens, sum(cost) AS cost
  FROM usage_meter.counters WHERE user_id IS NULL GROUP BY period ORDER BY period;
SELECT * FROM usage_meter.verify();

-- Refused, writing nothing: a second void, a void of a reversal, unknown events and tenants, bad reasons.
SELECT count(*) AS events_before FROM usage_meter.events;
SELECT usage_meter.void_event('acme', 1, 'again');
SELECT usage_meter.void_event('acme', 5, 'undo the undo');
SELECT usage_meter.void_event('acme', 999, 'no such event');
SELECT usage_meter.void_event('globex', 2, 'another tenant''s event');
SELECT usage_meter.void_event('acme', NULL, 'x');
SELECT usage_meter.void_event(NULL, 2, 'x');
SELECT usage_meter.void_event('acme', 2, NULL);
SELECT usage_meter.void_event('acme', 2, '');
SELECT usage_meter.void_event('acme', 2, repeat('x', 1001));
SELECT count(*) AS events_after FROM usage_meter.events;
SELECT * FROM usage_meter.verify();

-- Correct an estimate with the provider's bill: a reversal plus a replacement, both with the reason.
SELECT event_id AS estimate_id, cost FROM usage_meter.usage_record('acme', 'carol', 'chat', 'm', 100, 100,
       occurred_at => '2026-11-05 10:00Z', idempotency_key => 'stream-7', session_id => 's1', latency_ms => 40) \gset
SELECT reversal_id - :estimate_id AS reversal, replacement_id - :estimate_id AS replacement, new_cost,
       new_billed_cost, priced
  FROM usage_meter.correct_event('acme', :estimate_id, 'provider bill', input_tokens => 120, output_tokens => 180);
SELECT max(event_id) AS replacement_id FROM usage_meter.events \gset
-- ... a reported cost wins over the price table, and a correction can itself be corrected.
SELECT new_cost, new_billed_cost, priced
  FROM usage_meter.correct_event('acme', :replacement_id, 'invoice credit', cost => 0.0004, idempotency_key => 'inv-7');
SELECT event_id - :estimate_id AS event, input_tokens, output_tokens, cost, billed_cost, cost_source, day,
       session_id, latency_ms, idempotency_key, reverses_event_id - :estimate_id AS reverses,
       corrects_event_id - :estimate_id AS corrects, reason
  FROM usage_meter.events WHERE user_id = 'carol' ORDER BY event_id;
SELECT user_id, day, requests, input_tokens, output_tokens, cost, billed_cost, latency_ms_total
  FROM usage_meter.daily_usage WHERE user_id = 'carol';
-- The original keeps its idempotency key: a retry of the original record is still a duplicate, not new usage.
SELECT event_id = :estimate_id AS same_event, duplicate FROM usage_meter.usage_record('acme', 'carol', 'chat', 'm',
       100, 100, occurred_at => '2026-11-05 10:00Z', idempotency_key => 'stream-7');
-- Correcting an already corrected event is refused: the replacement is what to correct.
SELECT * FROM usage_meter.correct_event('acme', :estimate_id, 'again', input_tokens => 1);
-- A bad new figure is refused, and the reversal it began is rolled back with it.
SELECT max(event_id) AS latest_id FROM usage_meter.events \gset
SELECT * FROM usage_meter.correct_event('acme', :latest_id, 'bad figures', input_tokens => -5);
SELECT count(*) AS reversals_of_latest FROM usage_meter.events WHERE reverses_event_id = :latest_id;
SELECT * FROM usage_meter.verify();

-- A reversal cannot be forged with a direct INSERT (possible only for the owner): whatever figures the row
-- names, the trigger stores the exact negation of the event it reverses.
SELECT event_id AS target_id FROM usage_meter.usage_record('acme', 'dave', 'chat', 'm', 50, 60,
       occurred_at => '2026-11-06 10:00Z') \gset
INSERT INTO usage_meter.events (tenant, user_id, operation, input_tokens, cost, day, reverses_event_id, reason)
VALUES ('acme', 'eve', 'other', 1, 1000000, '2000-01-01', :target_id, 'forged');
SELECT user_id, operation, input_tokens, output_tokens, cost, billed_cost, day, reason
  FROM usage_meter.events WHERE user_id = 'dave' ORDER BY event_id;

-- Several rows in one statement (the set-based roll-up) count a reversal as -1 request too.
INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, occurred_at, reverses_event_id, reason)
VALUES ('acme', 'frank', 'chat', 'm', 10, '2026-11-07 10:00Z', NULL, NULL),
       ('acme', NULL, '-', NULL, 0, '2026-11-07 10:00Z', :latest_id, 'bulk void');
SELECT user_id, day, requests, input_tokens, cost FROM usage_meter.daily_usage
 WHERE user_id IN ('carol', 'frank') ORDER BY user_id;
SELECT * FROM usage_meter.verify();

-- The remaining totals equal the ledger's net figures: the events nobody voided or replaced.
SELECT sum(requests) AS requests, sum(cost) AS cost FROM usage_meter.daily_usage;
SELECT count(*) AS live_events, sum(cost) AS cost FROM usage_meter.events AS e
 WHERE e.reverses_event_id IS NULL
   AND NOT EXISTS (SELECT 1 FROM usage_meter.events AS r WHERE r.tenant = e.tenant AND r.reverses_event_id = e.event_id);
SELECT * FROM usage_meter.verify();

-- The contract's forms by event_id alone find the event's tenant themselves.
SELECT event_id AS lone_id FROM usage_meter.usage_record('globex', 'gina', 'chat', 'm', 7, 8,
       occurred_at => '2026-11-08 10:00Z') \gset
SELECT usage_meter.void_event(:lone_id, 'voided by id') IS NOT NULL AS voided;
SELECT tenant, user_id, input_tokens, output_tokens, reason FROM usage_meter.events WHERE reverses_event_id = :lone_id;
SELECT event_id AS lone2_id FROM usage_meter.usage_record('globex', 'gina', 'chat', 'm', 7, 8,
       occurred_at => '2026-11-08 11:00Z') \gset
SELECT replacement_id AS lone2_replacement FROM usage_meter.correct_event(:lone2_id, 'by id', input_tokens => 70) \gset
SELECT tenant, user_id, input_tokens, output_tokens, corrects_event_id = :lone2_id AS corrects, reason
  FROM usage_meter.events WHERE event_id = :lone2_replacement;
SELECT usage_meter.void_event(987654321, 'no such event');
SELECT usage_meter.void_event(NULL::bigint, 'x');
SELECT * FROM usage_meter.verify();
