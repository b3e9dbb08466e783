// How a change is added to a daily summary row and to a live counter row: the ON CONFLICT clauses every
// writer of daily_rollup (alias r) and counters (alias c) ends its upsert with, so the roll-up of the ledger
// trigger, roll_up() and reprice() add in exactly one way. Plain SQL text, to concatenate with literals.
#pragma once

#define UM_DAILY_ROLLUP_ADD                                                                                 \
    " ON CONFLICT ON CONSTRAINT daily_rollup_key DO UPDATE SET"                                             \
    " requests = r.requests + excluded.requests, errors = r.errors + excluded.errors,"                      \
    " unpriced = r.unpriced + excluded.unpriced, input_tokens = r.input_tokens + excluded.input_tokens,"    \
    " output_tokens = r.output_tokens + excluded.output_tokens,"                                            \
    " cache_read_tokens = r.cache_read_tokens + excluded.cache_read_tokens,"                                \
    " cache_write_tokens = r.cache_write_tokens + excluded.cache_write_tokens,"                             \
    " reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,"                                   \
    " quantity = r.quantity + excluded.quantity, cost = r.cost + excluded.cost,"                            \
    " billed_cost = r.billed_cost + excluded.billed_cost,"                                                  \
    " latency_ms_total = r.latency_ms_total + excluded.latency_ms_total"

#define UM_COUNTERS_ADD                                                                                     \
    " ON CONFLICT ON CONSTRAINT counters_key DO UPDATE SET"                                                  \
    " requests = c.requests + excluded.requests, tokens = c.tokens + excluded.tokens,"                      \
    " cost = c.cost + excluded.cost, billed_cost = c.billed_cost + excluded.billed_cost"

// One statement rolls up a whole batch of ledger rows (an INSERT, a COPY, an array passed to roll_up, or
// reprice's corrections): events are grouped first, then added to this backend's slot of each daily summary
// and live counter. Rows are written in one global key order (every daily row before any counter row, each
// sorted by its key; a one-event roll-up writes its rows in the same order), so no two writers lock the rows
// they share in opposite orders: single-statement writers never deadlock, whatever the slot count.
// %2$s is the batch: the trigger's transition table, the unnested array argument of roll_up(), or reprice's
// pairs of (old figures negated, new figures); %1$s is
// what one row counts as a request: 1, or -1 for a reversal (event_sign_sql); %3$s selects the rows to roll
// up (the trigger's: those prepared by this statement, not restored ones).
inline constexpr const char* kRollupTemplate =
    "WITH batch AS MATERIALIZED ("
    "  SELECT tenant, user_id, day, operation, provider, model,"
    "         sum(%1$s)::bigint AS requests, COALESCE(sum(%1$s) FILTER (WHERE NOT success), 0)::bigint AS errors,"
    "         COALESCE(sum(%1$s) FILTER (WHERE NOT priced), 0)::bigint AS unpriced,"
    "         sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,"
    "         sum(cache_read_tokens)::bigint AS cache_read_tokens,"
    "         sum(cache_write_tokens)::bigint AS cache_write_tokens,"
    "         sum(reasoning_tokens)::bigint AS reasoning_tokens,"
    "         COALESCE(sum(quantity), 0) AS quantity, COALESCE(sum(cost), 0) AS cost,"
    "         COALESCE(sum(billed_cost), 0) AS billed_cost, COALESCE(sum(latency_ms), 0)::bigint AS latency_ms_total"
    "    FROM %2$s %3$s"
    "   GROUP BY tenant, user_id, day, operation, provider, model),"
    " daily AS ("
    "  INSERT INTO usage_meter.daily_rollup AS r (tenant, user_id, day, operation, provider, model, slot,"
    "         requests, errors, unpriced, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,"
    "         reasoning_tokens, quantity, cost, billed_cost, latency_ms_total)"
    "  SELECT tenant, user_id, day, operation, provider, model, $1, requests, errors, unpriced, input_tokens,"
    "         output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, quantity, cost, billed_cost,"
    "         latency_ms_total"
    "    FROM batch ORDER BY tenant, day, user_id, operation, provider, model"
    UM_DAILY_ROLLUP_ADD ")"
    " INSERT INTO usage_meter.counters AS c (tenant, user_id, period, period_start, slot, requests, tokens, cost,"
    "        billed_cost)"
    " SELECT b.tenant, s.user_id, s.period, s.period_start, $1, sum(b.requests),"
    "        sum(b.input_tokens + b.output_tokens + b.cache_read_tokens + b.cache_write_tokens), sum(b.cost),"
    "        sum(b.billed_cost)"
    "   FROM batch AS b"
    "  CROSS JOIN LATERAL (VALUES (b.user_id, 'day', b.day, false), (NULL, 'day', b.day, true),"
    "        (b.user_id, 'month', b.day - (EXTRACT(day FROM b.day)::int - 1), false),"
    "        (NULL, 'month', b.day - (EXTRACT(day FROM b.day)::int - 1), true)) AS s(user_id, period, period_start, total)"
    "  WHERE s.total OR b.user_id IS NOT NULL"
    "  GROUP BY b.tenant, s.user_id, s.period, s.period_start"
    "  ORDER BY b.tenant, s.user_id NULLS FIRST, s.period, s.period_start"
    UM_COUNTERS_ADD;
