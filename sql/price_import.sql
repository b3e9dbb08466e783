-- Import of the public price map (LiteLLM's model_prices_and_context_window.json, snapshot in tests/data/):
-- exact per-million prices, cache prices, tiers, providers; entries without token prices skipped and counted;
-- a re-import adds only prices that changed.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Read the snapshot on the client side (psql), so the test needs no server file access.
\getenv abs_srcdir PG_ABS_SRCDIR
\set snapshot_path :abs_srcdir '/tests/data/litellm_model_prices.json'
\set snapshot `cat :'snapshot_path'`
CREATE TEMP TABLE snapshot AS SELECT :'snapshot'::jsonb AS doc;
SELECT count(*) AS entries FROM snapshot, jsonb_object_keys(doc);

-- Works with no import at all.
SELECT count(*) AS prices_before FROM usage_meter.prices;

SELECT * FROM usage_meter.import_litellm_prices((SELECT doc FROM snapshot), '2026-07-01');
-- Every entry with per-token input and output prices became one price; the others were skipped.
SELECT count(*) FILTER (WHERE e.value ? 'input_cost_per_token' AND e.value ? 'output_cost_per_token'
                              AND e.key <> 'sample_spec') AS with_token_prices,
       count(*) FILTER (WHERE NOT (e.value ? 'input_cost_per_token' AND e.value ? 'output_cost_per_token')
                              OR e.key = 'sample_spec') AS without
FROM snapshot, jsonb_each(doc) AS e;

-- Spot check across providers, exactly (USD per million tokens; the JSON has USD per token).
SELECT model, provider, input_per_mtok, output_per_mtok, cache_read_per_mtok, cache_write_per_mtok, tiers
FROM usage_meter.prices
WHERE model IN ('gpt-4o', 'gpt-4o-mini', 'gpt-5', 'claude-sonnet-4-20250514', 'gemini/gemini-2.5-pro',
                'gemini-2.5-pro', 'mistral/mistral-large-latest', 'deepseek/deepseek-chat',
                'groq/llama-3.3-70b-versatile', 'azure/gpt-4o', 'text-embedding-3-small',
                'vertex_ai/claude-3-5-haiku@20241022', 'xai/grok-3', 'openrouter/openai/gpt-4o')
ORDER BY model;

-- Every imported price, checked against the JSON with PostgreSQL's own exact numeric arithmetic.
SELECT count(*) AS imported,
       count(*) FILTER (WHERE p.input_per_mtok <> (e.value->>'input_cost_per_token')::numeric * 1000000
                           OR p.output_per_mtok <> (e.value->>'output_cost_per_token')::numeric * 1000000
                           OR p.cache_read_per_mtok IS DISTINCT FROM
                              (e.value->>'cache_read_input_token_cost')::numeric * 1000000
                           OR p.cache_write_per_mtok IS DISTINCT FROM
                              (e.value->>'cache_creation_input_token_cost')::numeric * 1000000
                           OR p.provider IS DISTINCT FROM e.value->>'litellm_provider') AS mismatched
FROM usage_meter.prices AS p
JOIN snapshot ON true
JOIN LATERAL jsonb_each(snapshot.doc) AS e ON e.key = p.model;
-- Tiers: every _above_<N>k_tokens input price became a tier above N*1000 tokens at that price.
SELECT count(*) AS tier_prices,
       count(*) FILTER (WHERE t IS NULL OR (t->>'input_per_mtok')::numeric <> f.value::numeric * 1000000) AS mismatched
FROM usage_meter.prices AS p
JOIN snapshot ON true
JOIN LATERAL jsonb_each(snapshot.doc -> p.model) AS f
     ON f.key ~ '^input_cost_per_token_above_[0-9]+k_tokens$'
LEFT JOIN LATERAL jsonb_array_elements(p.tiers) AS t
     ON (t->>'above_input_tokens')::bigint = substring(f.key FROM '_above_([0-9]+)k_')::bigint * 1000;

-- Recording against imported prices: provider prefix and dated ids match, tiers apply to the whole request.
SELECT t.model, t.provider, r.cost
FROM (VALUES ('gpt-4o-mini', 'openai', 1000000, 1000000),
             ('openai/gpt-4o-mini', NULL, 1000000, 1000000),
             ('claude-sonnet-4-20250514', 'anthropic', 200000, 1000),
             ('claude-sonnet-4-20250514', 'anthropic', 200001, 1000),
             ('gemini/gemini-2.5-pro', NULL, 250000, 0)) AS t(model, provider, input, output),
     LATERAL usage_meter.usage_record('acme', 'u', 'chat', t.model, t.input, t.output, provider => t.provider,
                                      occurred_at => '2026-07-02') AS r;

-- Importing the same map again, later: nothing changed, nothing added.
SELECT * FROM usage_meter.import_litellm_prices((SELECT doc FROM snapshot), '2026-08-01');
-- A later map where one price changed and one model is new: only those are added.
SELECT * FROM usage_meter.import_litellm_prices(
    jsonb_set((SELECT doc FROM snapshot), '{gpt-4o-mini,input_cost_per_token}', '1.6e-07')
    || '{"brand-new-model": {"litellm_provider": "acme", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}',
    '2026-09-01');
SELECT model, provider, input_per_mtok, effective_from FROM usage_meter.prices
WHERE model IN ('gpt-4o-mini', 'brand-new-model') ORDER BY model, effective_from;
-- Events keep their price; new events get the new one.
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'gpt-4o-mini', 1000000, 0, provider => 'openai',
                                          occurred_at => '2026-09-02');
-- Importing with an effective time before prices already in the table would rewrite history: refused.
SELECT * FROM usage_meter.import_litellm_prices(
    jsonb_set((SELECT doc FROM snapshot), '{gpt-4o-mini,input_cost_per_token}', '1.7e-07'), '2026-08-15');

-- Bad input is refused clearly and writes nothing.
CREATE TEMP TABLE before AS SELECT count(*) AS n FROM usage_meter.prices;
SELECT * FROM usage_meter.import_litellm_prices('[1, 2]');
SELECT * FROM usage_meter.import_litellm_prices('"prices"');
SELECT * FROM usage_meter.import_litellm_prices('{"m1": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}, "m2": {"input_cost_per_token": 1e-6, "output_cost_per_token": null}}', '2027-01-01');
SELECT * FROM usage_meter.import_litellm_prices('{"m3": {"input_cost_per_token": "1e-6", "output_cost_per_token": 2e-6}}', '2027-01-01');
SELECT * FROM usage_meter.import_litellm_prices('{"m4": {"input_cost_per_token": -1e-6, "output_cost_per_token": 2e-6}}', '2027-01-01');
SELECT * FROM usage_meter.import_litellm_prices('{"m5": {"litellm_provider": 7, "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}', '2027-01-01');
SELECT * FROM usage_meter.import_litellm_prices('{"m6": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "input_cost_per_token_above_0k_tokens": 1e-6}}', '2027-01-01');
SELECT * FROM usage_meter.import_litellm_prices(NULL);
SELECT * FROM usage_meter.import_litellm_prices('{}', NULL);
SELECT * FROM usage_meter.import_litellm_prices('{}', 'infinity');
SELECT (SELECT count(*) FROM usage_meter.prices) - n AS written FROM before;
-- An empty map, and entries that are not models we could record (too long a name, no token prices, metadata
-- such as "last_updated"), are skipped and counted.
SELECT * FROM usage_meter.import_litellm_prices(jsonb_build_object(repeat('x', 201),
    '{"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6}'::jsonb, 'image-only', '{"output_cost_per_image": 0.04}'::jsonb,
    'last_updated', '2026-07-01', 'sample_spec', '{"input_cost_per_token": 0, "output_cost_per_token": 0}'::jsonb), '2027-01-01');
SELECT * FROM usage_meter.import_litellm_prices('{}');

SELECT * FROM usage_meter.verify();
