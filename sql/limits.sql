-- Limits: check_limit answers "may this request go ahead?" from the live counters, the same for every caller.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1000000, 1000000);  -- 1 USD per token keeps the arithmetic readable

-- No limit (or a tenant never seen): allowed, and nothing to report.
SELECT * FROM usage_meter.check_limit('nobody');
SELECT usage_meter.set_tenant('acme');
SELECT * FROM usage_meter.check_limit('acme', 'alice', 5, 5);

-- A hard limit of 3 requests a day: the 3rd request is allowed, the 4th refused. Usage is still recorded.
SELECT usage_meter.set_limit('acme', NULL, 'requests', 'day', 3);
SELECT allowed, metric, period, used, max_value, remaining FROM usage_meter.check_limit('acme');
SELECT count(*) FROM (SELECT usage_meter.usage_record('acme', 'alice', 'chat') FROM generate_series(1, 2)) AS r;
SELECT allowed, metric, period, used, max_value, remaining FROM usage_meter.check_limit('acme');
SELECT event_id FROM usage_meter.usage_record('acme', 'alice', 'chat');
SELECT allowed, metric, period, used, max_value, remaining FROM usage_meter.check_limit('acme', 'alice');
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'alice', 'chat');  -- never refused: it happened
SELECT allowed, used, remaining FROM usage_meter.check_limit('acme');

-- Raising the limit (upsert) lets requests through again; removing it too.
SELECT usage_meter.set_limit('acme', NULL, 'requests', 'day', 10);
SELECT allowed, used, max_value, remaining FROM usage_meter.check_limit('acme');
SELECT usage_meter.remove_limit('acme', NULL, 'requests', 'day') AS removed,
       usage_meter.remove_limit('acme', NULL, 'requests', 'day') AS removed_again;

-- Cost limits take the estimated cost: used + estimate > max refuses, equal is allowed.
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 100);
SELECT event_id, cost FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 30, 30);
SELECT allowed, metric, period, used, max_value, remaining FROM usage_meter.check_limit('acme', NULL, 40);
SELECT allowed, metric, period, used, max_value, remaining FROM usage_meter.check_limit('acme', NULL, 40.000001);

-- billed_cost limits see the tenant's markup.
SELECT usage_meter.set_tenant('reseller', 'UTC', 50);
SELECT usage_meter.set_limit('reseller', NULL, 'billed_cost', 'day', 10);
SELECT cost, billed_cost FROM usage_meter.usage_record('reseller', 'u', 'chat', 'm', 4, 0);
SELECT allowed, metric, used, remaining FROM usage_meter.check_limit('reseller', 'u', 4);
SELECT allowed, metric, used, remaining FROM usage_meter.check_limit('reseller', 'u', 4.01);

-- Per-user limits: '*' gives each user their own limit; a named user's limit replaces '*' for that user.
SELECT usage_meter.set_tenant('team');
SELECT usage_meter.set_limit('team', '*', 'tokens', 'day', 1000);
SELECT usage_meter.set_limit('team', 'vip', 'tokens', 'day', 5000);
SELECT count(*) FROM (SELECT usage_meter.usage_record('team', u, 'chat', NULL, 900, 0)
                      FROM unnest(ARRAY['ann', 'ben', 'vip']) AS u) AS r;
SELECT u AS user_id, c.allowed, c.metric, c.used, c.max_value, c.remaining
FROM unnest(ARRAY['ann', 'ben', 'vip', 'new-user']) AS u, usage_meter.check_limit('team', u, 0, 200) AS c
ORDER BY u;
-- The tenant-wide view ignores per-user limits.
SELECT allowed, metric FROM usage_meter.check_limit('team', NULL, 0, 200);

-- Tenant and user limits apply together: the request must fit every one of them. Allowed requests report
-- the limit with the smallest share left: ann's own (100 of 1000), or for vip the tenant's (800 of 3500).
SELECT usage_meter.set_limit('team', NULL, 'tokens', 'day', 3500);
SELECT u AS user_id, c.allowed, c.metric, c.used, c.max_value, c.remaining
FROM unnest(ARRAY['ann', 'vip']) AS u, usage_meter.check_limit('team', u, 0, 50) AS c ORDER BY u;
SELECT allowed, metric, used, max_value, remaining FROM usage_meter.check_limit('team', 'vip', 0, 800);
SELECT allowed, metric, used, max_value, remaining FROM usage_meter.check_limit('team', 'vip', 0, 801);

-- Soft limits never refuse, even when exceeded; when allowed the limit with the least share left is reported.
SELECT usage_meter.set_tenant('soft');
SELECT usage_meter.set_limit('soft', NULL, 'requests', 'day', 2, hard => false);
SELECT usage_meter.set_limit('soft', NULL, 'requests', 'month', 100);
SELECT count(*) FROM (SELECT usage_meter.usage_record('soft', 'u', 'chat') FROM generate_series(1, 5)) AS r;
SELECT allowed, metric, period, used, max_value, remaining FROM usage_meter.check_limit('soft');
SELECT usage_meter.set_limit('soft', NULL, 'requests', 'day', 1000, hard => false);
SELECT allowed, metric, period, used, max_value, remaining FROM usage_meter.check_limit('soft');

-- A hard limit of 0 refuses everything; with several refusing limits the most exceeded one is reported.
SELECT usage_meter.set_tenant('frozen');
SELECT usage_meter.set_limit('frozen', NULL, 'cost', 'day', 0);
SELECT allowed, metric, used, max_value, remaining FROM usage_meter.check_limit('frozen', 'u', 0, 0);
SELECT allowed, metric, used, max_value, remaining FROM usage_meter.check_limit('frozen', 'u', 0.01, 0);
SELECT usage_meter.set_limit('soft', NULL, 'tokens', 'month', 10);
SELECT allowed, metric, period FROM usage_meter.check_limit('soft', NULL, 0, 11);
SELECT usage_meter.set_limit('soft', NULL, 'requests', 'month', 5);
SELECT allowed, metric, period FROM usage_meter.check_limit('soft', NULL, 0, 11);
SELECT allowed, metric, period FROM usage_meter.check_limit('soft', NULL, 0, 100);

-- resets_at is the next local midnight (day) or first of the month (month), here in UTC.
SELECT metric, period, resets_at = date_trunc('day', now()) + interval '1 day' AS next_midnight
FROM usage_meter.check_limit('reseller', NULL, 0, 0) WHERE period = 'day';
SELECT period, resets_at = date_trunc('month', now()) + interval '1 month' AS next_month
FROM usage_meter.check_limit('acme', NULL, 1000);

SELECT tenant, user_id, metric, period, max_value, hard FROM usage_meter.limits ORDER BY 1, 2 NULLS FIRST, 3, 4;
SELECT * FROM usage_meter.verify();
