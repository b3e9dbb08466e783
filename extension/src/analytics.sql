-- Analytics: what an admin (or a reader, for its tenants) asks of the usage: a series by day, ISO week or month
-- (usage_series), the top users, operations, providers or models (top_usage), a session's totals
-- (session_usage), latency percentiles (latency_percentiles) and where the month is heading (spend_forecast).
-- They run with the caller's rights (SECURITY INVOKER), so row-level security limits a reader to the tenants
-- bound to it: another tenant reads as empty. Dates are the tenant's local dates (events.day, daily_rollup.day);
-- since and until are both inclusive. Series, top lists and the forecast read the summaries only (daily_rollup,
-- counters), so their time does not grow with the ledger; session_usage is one index lookup per partition (the
-- session index, tables.sql and create_partition); latency_percentiles reads the raw events of its range.
-- A voided event counts nowhere and a correction counts as its replacement, as in the summaries.

------------------------------------------------------------------------------------------------------------
-- Argument checks shared by the reports: SQLSTATE 22004 for a NULL, 22023 for a bad value, naming the argument.
------------------------------------------------------------------------------------------------------------
-- A tenant and a range of local dates: finite, since <= until, at most 3653 days (ten years).
CREATE FUNCTION usage_meter.check_report_range(tenant text, since date, until date)
RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF since IS NULL THEN
        RAISE EXCEPTION 'since must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF until IS NULL THEN
        RAISE EXCEPTION 'until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT pg_catalog.isfinite(since) THEN
        RAISE EXCEPTION 'invalid since: % (a finite date)', since USING ERRCODE = 'invalid_parameter_value';
    ELSIF NOT pg_catalog.isfinite(until) THEN
        RAISE EXCEPTION 'invalid until: % (a finite date)', until USING ERRCODE = 'invalid_parameter_value';
    ELSIF since OPERATOR(pg_catalog.>) until THEN
        RAISE EXCEPTION 'invalid since: % is after until %', since, until USING ERRCODE = 'invalid_parameter_value';
    ELSIF until OPERATOR(pg_catalog.-) since OPERATOR(pg_catalog.>=) 3653 THEN
        RAISE EXCEPTION 'invalid until: % .. % covers % days (at most 3653, ten years)',
                        since, until, until OPERATOR(pg_catalog.-) since OPERATOR(pg_catalog.+) 1
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- A list of column names (group_by) or one name (dimension, metric, bucket: an array of one, NULL when the
-- name is NULL) among the allowed ones.
CREATE FUNCTION usage_meter.check_report_names(argument text, names text[], allowed text[])
RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
BEGIN
    IF names IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', argument USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT n INTO bad FROM pg_catalog.unnest(names) AS n
     WHERE n IS NULL OR NOT n OPERATOR(pg_catalog.=) ANY (allowed) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'invalid %: "%" (one of %)', argument, COALESCE(bad, 'NULL'),
                        pg_catalog.array_to_string(allowed, ', ')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

------------------------------------------------------------------------------------------------------------
-- Reports from the summaries.
------------------------------------------------------------------------------------------------------------
-- The first day of the bucket (day, ISO week from Monday, month) holding a local date.
CREATE FUNCTION usage_meter.bucket_start(bucket text, day date)
RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE bucket
               WHEN 'day' THEN day
               WHEN 'week' THEN day OPERATOR(pg_catalog.-) (EXTRACT(isodow FROM day)::integer OPERATOR(pg_catalog.-) 1)
               ELSE pg_catalog.date_trunc('month', day::timestamp)::date
           END
$$;

-- usage_series: one row per bucket (the local day, the ISO week from its Monday, or the month from its 1st; the
-- first and last buckets may start before since or end after until, only days in the range are counted) and
-- per combination of the group_by columns (the others are NULL). Without group_by every bucket of the range
-- appears, with zeros where nothing was recorded. avg_latency_ms is the summaries' latency total over their
-- requests: an event recorded without a latency counts as 0 ms (latency_percentiles reads the events).
CREATE FUNCTION usage_meter.usage_series(tenant text, since date, until date, bucket text DEFAULT 'day',
                                         group_by text[] DEFAULT '{}', only_user text DEFAULT NULL)
RETURNS TABLE (bucket_start date, user_id text, operation text, provider text, model text, requests bigint,
               errors bigint, input_tokens bigint, output_tokens bigint, cache_read_tokens bigint,
               cache_write_tokens bigint, reasoning_tokens bigint, cost numeric, billed_cost numeric,
               avg_latency_ms numeric)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    step interval;
BEGIN
    PERFORM usage_meter.check_report_range(usage_series.tenant, usage_series.since, usage_series.until);
    PERFORM usage_meter.check_report_names('bucket', CASE WHEN usage_series.bucket IS NOT NULL
                                                          THEN ARRAY[usage_series.bucket] END,
                                           ARRAY['day', 'week', 'month']);
    PERFORM usage_meter.check_report_names('group_by', usage_series.group_by,
                                           ARRAY['user_id', 'operation', 'provider', 'model']);
    step := CASE usage_series.bucket WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '1 week'
                                     ELSE interval '1 month' END;
    RETURN QUERY
    WITH grouped AS (
        SELECT usage_meter.bucket_start(usage_series.bucket, r.day) AS b,
               CASE WHEN 'user_id' OPERATOR(pg_catalog.=) ANY (usage_series.group_by) THEN r.user_id END AS u,
               CASE WHEN 'operation' OPERATOR(pg_catalog.=) ANY (usage_series.group_by) THEN r.operation END AS o,
               CASE WHEN 'provider' OPERATOR(pg_catalog.=) ANY (usage_series.group_by) THEN r.provider END AS p,
               CASE WHEN 'model' OPERATOR(pg_catalog.=) ANY (usage_series.group_by) THEN r.model END AS m,
               pg_catalog.sum(r.requests) AS requests, pg_catalog.sum(r.errors) AS errors,
               pg_catalog.sum(r.input_tokens) AS input_tokens, pg_catalog.sum(r.output_tokens) AS output_tokens,
               pg_catalog.sum(r.cache_read_tokens) AS cache_read_tokens,
               pg_catalog.sum(r.cache_write_tokens) AS cache_write_tokens,
               pg_catalog.sum(r.reasoning_tokens) AS reasoning_tokens,
               pg_catalog.sum(r.cost) AS cost, pg_catalog.sum(r.billed_cost) AS billed_cost,
               pg_catalog.sum(r.latency_ms_total) AS latency_ms_total
          FROM usage_meter.daily_rollup AS r
         WHERE r.tenant OPERATOR(pg_catalog.=) usage_series.tenant
           AND r.day OPERATOR(pg_catalog.>=) usage_series.since AND r.day OPERATOR(pg_catalog.<=) usage_series.until
           AND (usage_series.only_user IS NULL OR r.user_id OPERATOR(pg_catalog.=) usage_series.only_user)
         GROUP BY 1, 2, 3, 4, 5
    ),
    -- Every bucket of the range, when nothing is grouped (a chart needs the gaps).
    buckets AS (
        SELECT s::date AS b
          FROM pg_catalog.generate_series(usage_meter.bucket_start(usage_series.bucket, usage_series.since)::timestamp,
                                          usage_meter.bucket_start(usage_series.bucket, usage_series.until)::timestamp,
                                          step) AS s
         WHERE pg_catalog.cardinality(usage_series.group_by) OPERATOR(pg_catalog.=) 0
    )
    SELECT COALESCE(g.b, k.b), g.u, g.o, g.p, g.m,
           COALESCE(g.requests, 0)::bigint, COALESCE(g.errors, 0)::bigint, COALESCE(g.input_tokens, 0)::bigint,
           COALESCE(g.output_tokens, 0)::bigint, COALESCE(g.cache_read_tokens, 0)::bigint,
           COALESCE(g.cache_write_tokens, 0)::bigint, COALESCE(g.reasoning_tokens, 0)::bigint,
           COALESCE(g.cost, 0), COALESCE(g.billed_cost, 0),
           CASE WHEN g.requests OPERATOR(pg_catalog.<>) 0
                THEN pg_catalog.round(g.latency_ms_total OPERATOR(pg_catalog./) g.requests, 2) END
      FROM grouped AS g
      FULL JOIN buckets AS k ON k.b OPERATOR(pg_catalog.=) g.b
     ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST, 4 NULLS FIRST, 5 NULLS FIRST;
END
$$;
COMMENT ON FUNCTION usage_meter.usage_series IS
    'Usage by local day, ISO week or month, optionally by user, operation, provider and model (from the daily summaries)';

-- top_usage: the n keys of a dimension with the largest value of a metric in the range (ties by key, NULL
-- last), with their share of the tenant's total of that metric in the range (6 decimal places; 0 when the
-- total is 0). tokens = input + output + cache read + cache write, as in limits.
CREATE FUNCTION usage_meter.top_usage(tenant text, since date, until date, dimension text, metric text DEFAULT 'cost',
                                      n integer DEFAULT 10)
RETURNS TABLE (rank integer, key text, value numeric, share numeric)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM usage_meter.check_report_range(top_usage.tenant, top_usage.since, top_usage.until);
    PERFORM usage_meter.check_report_names('dimension', CASE WHEN top_usage.dimension IS NOT NULL
                                                             THEN ARRAY[top_usage.dimension] END,
                                           ARRAY['user_id', 'operation', 'provider', 'model']);
    PERFORM usage_meter.check_report_names('metric', CASE WHEN top_usage.metric IS NOT NULL
                                                          THEN ARRAY[top_usage.metric] END,
                                           ARRAY['cost', 'billed_cost', 'tokens', 'requests', 'errors']);
    IF top_usage.n IS NULL THEN
        RAISE EXCEPTION 'n must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF top_usage.n OPERATOR(pg_catalog.<=) 0 THEN
        RAISE EXCEPTION 'invalid n: % (at least 1)', top_usage.n USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH per_key AS (
        SELECT CASE top_usage.dimension WHEN 'user_id' THEN r.user_id WHEN 'operation' THEN r.operation
                                        WHEN 'provider' THEN r.provider ELSE r.model END AS k,
               pg_catalog.sum(CASE top_usage.metric
                                  WHEN 'cost' THEN r.cost
                                  WHEN 'billed_cost' THEN r.billed_cost
                                  WHEN 'tokens' THEN r.input_tokens::numeric OPERATOR(pg_catalog.+) r.output_tokens
                                                     OPERATOR(pg_catalog.+) r.cache_read_tokens
                                                     OPERATOR(pg_catalog.+) r.cache_write_tokens
                                  WHEN 'requests' THEN r.requests::numeric
                                  ELSE r.errors::numeric END) AS v
          FROM usage_meter.daily_rollup AS r
         WHERE r.tenant OPERATOR(pg_catalog.=) top_usage.tenant
           AND r.day OPERATOR(pg_catalog.>=) top_usage.since AND r.day OPERATOR(pg_catalog.<=) top_usage.until
         GROUP BY 1
    ),
    total AS (SELECT pg_catalog.sum(x.v) AS t FROM per_key AS x)
    SELECT (pg_catalog.row_number() OVER (ORDER BY x.v DESC, x.k NULLS LAST))::integer, x.k, x.v,
           CASE WHEN t.t OPERATOR(pg_catalog.=) 0 THEN 0::numeric
                ELSE pg_catalog.round(x.v OPERATOR(pg_catalog./) t.t, 6) END
      FROM per_key AS x CROSS JOIN total AS t
     ORDER BY 1
     LIMIT top_usage.n;
END
$$;
COMMENT ON FUNCTION usage_meter.top_usage IS
    'The n users, operations, providers or models with the most cost, billed cost, tokens, requests or errors in a range, with their share';

------------------------------------------------------------------------------------------------------------
-- Reports from the ledger.
------------------------------------------------------------------------------------------------------------
-- session_usage: the totals of one session's events that count (voided events and the reversals left out;
-- a correction counts as its replacement), with the first and last occurred_at and the models used. One row,
-- zeros for an unknown session.
CREATE FUNCTION usage_meter.session_usage(tenant text, session_id text)
RETURNS TABLE (requests bigint, errors bigint, tokens bigint, cost numeric, billed_cost numeric,
               first_at timestamptz, last_at timestamptz, models text[])
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF session_usage.tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF session_usage.session_id IS NULL THEN
        RAISE EXCEPTION 'session_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN QUERY
    SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE NOT e.success),
           COALESCE(pg_catalog.sum(e.input_tokens OPERATOR(pg_catalog.+) e.output_tokens
                                   OPERATOR(pg_catalog.+) e.cache_read_tokens
                                   OPERATOR(pg_catalog.+) e.cache_write_tokens), 0)::bigint,
           COALESCE(pg_catalog.sum(e.cost), 0), COALESCE(pg_catalog.sum(e.billed_cost), 0),
           pg_catalog.min(e.occurred_at), pg_catalog.max(e.occurred_at),
           COALESCE(pg_catalog.array_agg(DISTINCT e.model ORDER BY e.model) FILTER (WHERE e.model IS NOT NULL),
                    '{}')
      FROM usage_meter.events AS e
     WHERE e.tenant OPERATOR(pg_catalog.=) session_usage.tenant
       AND e.session_id OPERATOR(pg_catalog.=) session_usage.session_id
       AND e.reverses_event_id IS NULL
       AND NOT EXISTS (SELECT FROM usage_meter.events AS r
                        WHERE r.tenant OPERATOR(pg_catalog.=) e.tenant
                          AND r.reverses_event_id OPERATOR(pg_catalog.=) e.event_id
                          AND r.occurred_at OPERATOR(pg_catalog.=) e.occurred_at);
END
$$;
COMMENT ON FUNCTION usage_meter.session_usage IS
    'Totals of one session: requests, errors, tokens, cost, first and last event, models (voided events left out)';

-- latency_percentiles: exact percentiles (percentile_disc) of latency_ms over the range's events that carry one
-- and count (voided events and reversals left out), per combination of the group_by columns. It reads raw
-- events, so the range must start on or after verifiable_since(). The occurred_at bounds (a local day starts
-- between 14 hours before and 12 hours after its UTC midnight) let the planner skip other months' partitions.
CREATE FUNCTION usage_meter.latency_percentiles(tenant text, since date, until date,
                                                group_by text[] DEFAULT '{model}')
RETURNS TABLE (operation text, provider text, model text, requests bigint, p50_ms integer, p95_ms integer,
               p99_ms integer)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kept_since date;
BEGIN
    PERFORM usage_meter.check_report_range(latency_percentiles.tenant, latency_percentiles.since,
                                           latency_percentiles.until);
    PERFORM usage_meter.check_report_names('group_by', latency_percentiles.group_by,
                                           ARRAY['operation', 'provider', 'model']);
    kept_since := usage_meter.verifiable_since();
    IF latency_percentiles.since OPERATOR(pg_catalog.<) kept_since THEN
        RAISE EXCEPTION 'invalid since: % is before %, the first day whose raw events are all kept',
                        latency_percentiles.since, kept_since
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Latency percentiles read the raw events; usage_series has the daily average for older days.';
    END IF;
    RETURN QUERY
    SELECT CASE WHEN 'operation' OPERATOR(pg_catalog.=) ANY (latency_percentiles.group_by) THEN e.operation END,
           CASE WHEN 'provider' OPERATOR(pg_catalog.=) ANY (latency_percentiles.group_by) THEN e.provider END,
           CASE WHEN 'model' OPERATOR(pg_catalog.=) ANY (latency_percentiles.group_by) THEN e.model END,
           pg_catalog.count(*),
           pg_catalog.percentile_disc(0.5) WITHIN GROUP (ORDER BY e.latency_ms),
           pg_catalog.percentile_disc(0.95) WITHIN GROUP (ORDER BY e.latency_ms),
           pg_catalog.percentile_disc(0.99) WITHIN GROUP (ORDER BY e.latency_ms)
      FROM usage_meter.events AS e
     WHERE e.tenant OPERATOR(pg_catalog.=) latency_percentiles.tenant
       AND e.day OPERATOR(pg_catalog.>=) latency_percentiles.since
       AND e.day OPERATOR(pg_catalog.<=) latency_percentiles.until
       AND e.occurred_at OPERATOR(pg_catalog.>=)
           (latency_percentiles.since::timestamp OPERATOR(pg_catalog.-) interval '14 hours') AT TIME ZONE 'UTC'
       AND e.occurred_at OPERATOR(pg_catalog.<)
           ((latency_percentiles.until OPERATOR(pg_catalog.+) 1)::timestamp OPERATOR(pg_catalog.+) interval '12 hours')
           AT TIME ZONE 'UTC'
       AND e.latency_ms IS NOT NULL
       AND e.reverses_event_id IS NULL
       AND NOT EXISTS (SELECT FROM usage_meter.events AS r
                        WHERE r.tenant OPERATOR(pg_catalog.=) e.tenant
                          AND r.reverses_event_id OPERATOR(pg_catalog.=) e.event_id
                          AND r.occurred_at OPERATOR(pg_catalog.=) e.occurred_at)
     GROUP BY 1, 2, 3
     ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST;
END
$$;
COMMENT ON FUNCTION usage_meter.latency_percentiles IS
    'Exact p50, p95 and p99 latency of the events in a range, by operation, provider and model (from the raw events)';

------------------------------------------------------------------------------------------------------------
-- Forecast, from the month counters (what limits read).
------------------------------------------------------------------------------------------------------------
-- spend_forecast: the month holding "at" (default now) in the tenant's time zone, what it has cost so far (the
-- month counter of the tenant, or of user_id), and the straight line through it: days_elapsed is the local
-- wall-clock time since the month's first midnight in days (6 places, at least 1), projected = month_to_date x
-- days in the month / days_elapsed (6 places). The limit is the monthly cost or billed_cost limit of the same
-- scope (the tenant's own for the tenant; the user's own, else '*', for a user), hard or soft, that the line
-- reaches first (at day max_value x days_elapsed / used); projected_exhaustion is the local date it does,
-- NULL when it does not within the month (or nothing was spent).
CREATE FUNCTION usage_meter.spend_forecast(tenant text, user_id text DEFAULT NULL,
                                           at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (month_start date, month_end date, days_elapsed numeric, month_to_date numeric,
               billed_month_to_date numeric, projected numeric, projected_billed numeric, limit_metric text,
               max_value numeric, projected_exhaustion date)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    zone text;
    days_in_month integer;
    reach numeric;
BEGIN
    IF spend_forecast.tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF spend_forecast.at IS NULL THEN
        RAISE EXCEPTION 'at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF spend_forecast.user_id OPERATOR(pg_catalog.=) '*' THEN
        RAISE EXCEPTION 'invalid user_id: "*" names every user, not one' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT b.period_start INTO month_start
      FROM usage_meter.period_bounds(spend_forecast.tenant, spend_forecast.at) AS b
     WHERE b.period OPERATOR(pg_catalog.=) 'month';
    month_end := (month_start::timestamp OPERATOR(pg_catalog.+) interval '1 month')::date OPERATOR(pg_catalog.-) 1;
    days_in_month := month_end OPERATOR(pg_catalog.-) month_start OPERATOR(pg_catalog.+) 1;
    SELECT COALESCE((SELECT t.time_zone FROM usage_meter.tenants AS t
                      WHERE t.tenant OPERATOR(pg_catalog.=) spend_forecast.tenant), 'UTC') INTO zone;
    days_elapsed := pg_catalog.round(GREATEST(1,
        EXTRACT(epoch FROM (spend_forecast.at AT TIME ZONE zone) OPERATOR(pg_catalog.-) month_start::timestamp)
        OPERATOR(pg_catalog./) 86400), 6);
    SELECT COALESCE(pg_catalog.sum(c.cost), 0), COALESCE(pg_catalog.sum(c.billed_cost), 0)
      INTO month_to_date, billed_month_to_date
      FROM usage_meter.counters AS c
     WHERE c.tenant OPERATOR(pg_catalog.=) spend_forecast.tenant
       AND c.period OPERATOR(pg_catalog.=) 'month' AND c.period_start OPERATOR(pg_catalog.=) month_start
       AND c.user_id IS NOT DISTINCT FROM spend_forecast.user_id;
    projected := pg_catalog.round(month_to_date OPERATOR(pg_catalog.*) days_in_month
                                  OPERATOR(pg_catalog./) days_elapsed, 6);
    projected_billed := pg_catalog.round(billed_month_to_date OPERATOR(pg_catalog.*) days_in_month
                                         OPERATOR(pg_catalog./) days_elapsed, 6);
    SELECT l.metric, l.max_value, l.reach INTO limit_metric, max_value, reach
      FROM (SELECT x.metric, x.max_value,
                   CASE WHEN u.used OPERATOR(pg_catalog.>) 0
                        THEN x.max_value OPERATOR(pg_catalog.*) days_elapsed OPERATOR(pg_catalog./) u.used END AS reach
              FROM usage_meter.limits AS x
             CROSS JOIN LATERAL (SELECT CASE x.metric WHEN 'cost' THEN month_to_date
                                                      ELSE billed_month_to_date END AS used) AS u
             WHERE x.tenant OPERATOR(pg_catalog.=) spend_forecast.tenant
               AND x.period OPERATOR(pg_catalog.=) 'month'
               AND x.metric OPERATOR(pg_catalog.=) ANY (ARRAY['cost', 'billed_cost'])
               AND CASE WHEN spend_forecast.user_id IS NULL THEN x.user_id IS NULL
                        ELSE x.user_id OPERATOR(pg_catalog.=) spend_forecast.user_id
                             OR (x.user_id OPERATOR(pg_catalog.=) '*'
                                 AND NOT EXISTS (SELECT FROM usage_meter.limits AS own
                                                  WHERE own.tenant OPERATOR(pg_catalog.=) x.tenant
                                                    AND own.user_id OPERATOR(pg_catalog.=) spend_forecast.user_id
                                                    AND own.metric OPERATOR(pg_catalog.=) x.metric
                                                    AND own.period OPERATOR(pg_catalog.=) x.period)) END) AS l
     ORDER BY l.reach NULLS LAST, l.max_value, l.metric
     LIMIT 1;
    projected_exhaustion := CASE WHEN reach OPERATOR(pg_catalog.<) days_in_month
                                 THEN month_start OPERATOR(pg_catalog.+) pg_catalog.floor(reach)::integer END;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION usage_meter.spend_forecast IS
    'Month to date, the straight-line projection to the month''s end, and the date it reaches the first monthly cost limit';
