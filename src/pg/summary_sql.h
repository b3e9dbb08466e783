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
