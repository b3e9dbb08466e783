-- Fingerprint of every table usage_meter keeps (row count and a hash of all rows in a fixed order), and the
-- totals that matter. Used by the dump/restore and upgrade stages to compare two databases or two moments.
-- :event_columns lists the ledger columns to compare (all of them, or those 1.0 had).
SELECT 'events ' || count(*) || ' ' || md5(string_agg(r, E'\n' ORDER BY r))
  FROM (SELECT (:event_columns)::text AS r FROM usage_meter.events AS e) AS t;
SELECT t.name || ' ' || t.rows || ' ' || t.hash FROM (
    SELECT 'daily_rollup' AS name, count(*) AS rows, md5(string_agg(d::text, E'\n' ORDER BY d::text)) AS hash
      FROM usage_meter.daily_rollup AS d
    UNION ALL SELECT 'counters', count(*), md5(string_agg(c::text, E'\n' ORDER BY c::text)) FROM usage_meter.counters AS c
    -- tenants, prices and limits: the columns 1.0 had (1.1 adds tenants.markup_from, prices.tiers,
    -- prices.per_request, and the alert flags tenants.alert_limits and limits.alert, all with defaults)
    UNION ALL SELECT 'tenants', count(*), md5(string_agg(t::text, E'\n' ORDER BY t::text))
      FROM (SELECT tenant, time_zone, markup_pct, created_at, updated_at FROM usage_meter.tenants) AS t
    UNION ALL SELECT 'prices', count(*), md5(string_agg(p::text, E'\n' ORDER BY p::text))
      FROM (SELECT price_id, model, provider, input_per_mtok, output_per_mtok, cache_read_per_mtok,
                   cache_write_per_mtok, effective_from, created_at FROM usage_meter.prices) AS p
    UNION ALL SELECT 'unit_prices', count(*), md5(string_agg(u::text, E'\n' ORDER BY u::text)) FROM usage_meter.unit_prices AS u
    UNION ALL SELECT 'limits', count(*), md5(string_agg(l::text, E'\n' ORDER BY l::text))
      FROM (SELECT tenant, user_id, metric, period, max_value, hard, created_at, updated_at FROM usage_meter.limits) AS l
) AS t ORDER BY 1;
SELECT 'totals ' || tenant || ': requests ' || sum(requests) || ', tokens '
       || sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) || ', cost ' || sum(cost)
       || ', billed ' || sum(billed_cost)
  FROM usage_meter.daily_usage GROUP BY tenant ORDER BY tenant;
SELECT 'verify() differences: ' || count(*) FROM usage_meter.verify();
