-- Settings the examples run against (tests/stages/45-client-examples.sh loads this first): prices for the
-- example responses' models, and a user of each example tenant whose daily request limit is already used up.
SELECT usage_meter.set_price('gpt-4o-mini-2024-07-18', 0.15, 0.60, 0.075, provider => 'openai');
SELECT usage_meter.set_price('claude-sonnet-4-20250514', 3.00, 15.00, 0.30, 3.75, provider => 'anthropic');
SELECT usage_meter.set_price('o4-mini-2025-04-16', 1.10, 4.40, 0.275, provider => 'openai');
SELECT usage_meter.set_price('gemini-2.5-pro', 1.25, 10.00, 0.31, provider => 'gemini');
SELECT usage_meter.set_limit(tenant, 'mallory', 'requests', 'day', 0)
  FROM unnest(ARRAY['demo-sql', 'demo-python', 'demo-node', 'demo-cpp', 'demo-go']) AS tenant;
