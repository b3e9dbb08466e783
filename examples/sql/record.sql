-- Recording from psql (or any SQL client): check before the provider call, record its response after it.
-- Run from the repository root:  psql -v user=alice -f examples/sql/record.sql
-- (the provider call is simulated by reading a saved response: examples/responses/openai_chat_completion.json)
\set ON_ERROR_STOP on
\if :{?user}
\else
  \set user alice
\endif
\if :{?response_file}
\else
  \set response_file examples/responses/openai_chat_completion.json
\endif

-- 1. Before the call: may this user go ahead? (allowed is true when no limit applies)
SELECT allowed, metric, period, remaining
  FROM usage_meter.check_limit('demo-sql', :'user', estimated_cost => 0.01) \gset

\if :allowed
  -- 2. Call the provider (here: a saved response), then 3. record exactly what it reported.
  \set response `cat :response_file`
  SELECT event_id, cost, duplicate
    FROM usage_meter.record_response('demo-sql', :'user', 'chat', 'auto', :'response');
\else
  -- Refused: do not call the provider.
  \echo refused: :user has reached the :period :metric limit
\endif
