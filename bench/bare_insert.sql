-- Baseline for usage_record.sql: the same logical ledger row, inserted straight into a table of the same
-- shape (bench.bare_events: LIKE usage_meter.events INCLUDING ALL, no triggers). The columns the ledger's
-- trigger derives are constants here:
--   cost = billed_cost = 1234 x 0.80 / 1e6 + 567 x 4.00 / 1e6 + 89 x 0.08 / 1e6 = 0.00326232 (markup 0)
--   price_id = :price_id and day = :day (today in UTC, the tenant's zone) are passed with -D by run.sh.
-- event_id, occurred_at, recorded_at, success and metadata come from the table's defaults.
\set u random(1, 100)
INSERT INTO bench.bare_events (tenant, user_id, operation, model, provider,
                               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                               quantity, cost, billed_cost, priced, cost_source, price_id, unit_price_id, markup_pct,
                               day, idempotency_key, session_id, latency_ms)
VALUES ('hot', 'user' || :u, 'chat', 'claude-3-5-haiku', NULL,
        1234, 567, 89, 0, 0,
        NULL, 0.00326232, 0.00326232, true, 'price_table', :price_id, NULL, 0,
        :day, NULL, NULL, NULL);
