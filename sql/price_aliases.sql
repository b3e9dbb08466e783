-- Model matching beyond the exact key: the one provider that prices a name, ambiguity, the price map's key for
-- the event's provider, provider aliases, model aliases; price_for's candidates, unpriced_models' suggestions.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Prices as the public map stores them: provider-specific, the Gemini and Vertex keys prefixed.
SELECT usage_meter.set_price('gpt-4o-mini', 0.15, 0.60, provider => 'openai') > 0 AS ok;
SELECT usage_meter.set_price('gemini/gemini-2.5-pro', 1.25, 10, provider => 'gemini') > 0 AS ok;
SELECT usage_meter.set_price('vertex_ai/claude-sonnet-4@20250514', 3, 15, provider => 'vertex_ai-anthropic_models') > 0 AS ok;
SELECT usage_meter.set_price('claude-sonnet-4-20250514', 3.3, 16.5, provider => 'anthropic') > 0 AS ok;
SELECT usage_meter.set_price('llama-3-70b', 0.9, 0.9, provider => 'together_ai') > 0 AS ok;
SELECT usage_meter.set_price('llama-3-70b', 0.8, 0.8, provider => 'fireworks_ai') > 0 AS ok;

-- 1. No provider on the event: the one provider that prices the name.
SELECT matched_model, matched_provider, rule, explanation
  FROM usage_meter.price_for('gpt-4o-mini', NULL, '2025-06-01');
-- Several providers and none provider-NULL: unpriced, never a silent pick; price_for names them.
SELECT price_id, rule, explanation, candidates FROM usage_meter.price_for('llama-3-70b', NULL, '2025-06-01');
-- The event's provider settles it; a provider-NULL price would too.
SELECT matched_provider, input_per_mtok FROM usage_meter.price_for('llama-3-70b', 'fireworks_ai', '2025-06-01');
SELECT usage_meter.set_price('llama-3-70b', 1, 1) > 0 AS ok;
SELECT matched_provider, input_per_mtok, rule FROM usage_meter.price_for('llama-3-70b', NULL, '2025-06-01');
-- A price for another provider never prices an event that names its provider.
SELECT price_id, explanation FROM usage_meter.price_for('gpt-4o-mini', 'azure', '2025-06-01');

-- 2. The price map's key for the event's provider: the name Gemini's API returns, with provider gemini.
SELECT matched_model, matched_provider, rule, explanation
  FROM usage_meter.price_for('gemini-2.5-pro', 'gemini', '2025-06-01');
-- Under an alias of the provider (vertex_ai -> vertex_ai-anthropic_models): key prefix and provider.
SELECT matched_model, matched_provider, rule, explanation, candidates
  FROM usage_meter.price_for('claude-sonnet-4@20250514', 'vertex_ai', '2025-06-01');
-- The OpenTelemetry spelling of the same provider.
SELECT matched_model, matched_provider, rule FROM usage_meter.price_for('claude-sonnet-4@20250514', 'gcp.vertex_ai', '2025-06-01');

-- Where a new rule now comes first (1.5), the price an event gets changes: an alias of the event's provider
-- beats a provider-NULL price of the same name (1.4: the NULL price) ...
SELECT usage_meter.set_price('nova-pro', 1, 1) > 0 AS ok;
SELECT usage_meter.set_price('nova-pro', 0.8, 3.2, provider => 'bedrock_converse') > 0 AS ok;
SELECT matched_provider, input_per_mtok, rule FROM usage_meter.price_for('nova-pro', 'bedrock', '2025-06-01');
-- ... and the one provider pricing a dated name with no provider beats the undated provider-NULL price (1.4:
-- the dated-id rule's NULL price).
SELECT usage_meter.set_price('claude-3-5-haiku', 1, 1) > 0 AS ok;
SELECT usage_meter.set_price('claude-3-5-haiku-20241022', 0.8, 4, provider => 'anthropic') > 0 AS ok;
SELECT matched_model, matched_provider, input_per_mtok, rule
  FROM usage_meter.price_for('claude-3-5-haiku-20241022', NULL, '2025-06-01');

-- Provider aliases: the built-in ones are fixed; an admin adds and removes their own.
SELECT count(*) > 20 AS builtin_rows FROM usage_meter.provider_aliases WHERE builtin;
SELECT usage_meter.remove_provider_alias('vertex_ai', 'vertex_ai-anthropic_models');
SELECT usage_meter.set_provider_alias('vertex_ai', 'vertex_ai-anthropic_models', 1);
SELECT price_id, explanation FROM usage_meter.price_for('llama-3-70b-instruct', 'acme_cloud', '2025-06-01');
SELECT usage_meter.set_price('acme_cloud_v2/llama-3-70b-instruct', 0.5, 0.5, provider => 'acme_cloud_v2') > 0 AS ok;
SELECT usage_meter.set_provider_alias('acme_cloud', 'acme_cloud_v2');
SELECT provider, alias, position, builtin FROM usage_meter.provider_aliases WHERE provider = 'acme_cloud';
SELECT matched_model, matched_provider, rule FROM usage_meter.price_for('llama-3-70b-instruct', 'acme_cloud', '2025-06-01');
SELECT usage_meter.remove_provider_alias('acme_cloud', 'acme_cloud_v2');
SELECT usage_meter.remove_provider_alias('acme_cloud', 'acme_cloud_v2');
SELECT price_id FROM usage_meter.price_for('llama-3-70b-instruct', 'acme_cloud', '2025-06-01');
SELECT usage_meter.set_provider_alias('acme', 'acme');
SELECT usage_meter.set_provider_alias(NULL, 'acme');
SELECT usage_meter.set_provider_alias('acme', '');
SELECT usage_meter.set_provider_alias('acme', repeat('x', 201));

-- 3. Model aliases: a deployment name priced as the model it deploys, tried before the patterns.
SELECT usage_meter.set_tenant('acme', 'UTC') IS NOT NULL AS ok;
SELECT priced FROM usage_meter.usage_record('acme', 'alice', 'chat', 'my-gpt4o-mini-eu', 1000, 100,
                                            provider => 'azure', occurred_at => '2025-06-01 10:00');
SELECT usage_meter.set_model_alias('my-gpt4o-mini-eu', 'gpt-4o-mini', 'openai');
SELECT alias, model, provider FROM usage_meter.model_aliases;
SELECT matched_model, matched_provider, rule, explanation, candidates
  FROM usage_meter.price_for('my-gpt4o-mini-eu', 'azure', '2025-06-01');
-- An alias applies to events recorded after it; reprice() applies it to the earlier one.
SELECT priced, cost FROM usage_meter.usage_record('acme', 'alice', 'chat', 'my-gpt4o-mini-eu', 1000, 100,
                                                  provider => 'azure', occurred_at => '2025-06-01 11:00');
SELECT occurred_at, priced, cost FROM usage_meter.events WHERE tenant = 'acme' ORDER BY occurred_at;
SELECT events_changed, cost_difference FROM usage_meter.reprice('acme');
SELECT occurred_at, priced, cost FROM usage_meter.events WHERE tenant = 'acme' AND reverses_event_id IS NULL
 ORDER BY occurred_at, event_id;
SELECT * FROM usage_meter.verify();
-- The alias's own name wins when it has a price; an alias with no provider uses the event's.
SELECT usage_meter.set_model_alias('team-llama', 'llama-3-70b');
SELECT matched_provider, rule FROM usage_meter.price_for('team-llama', 'together_ai', '2025-06-01');
SELECT matched_provider, rule FROM usage_meter.price_for('team-llama', NULL, '2025-06-01');
SELECT usage_meter.set_price('team-llama', 0.1, 0.1) > 0 AS ok;
SELECT matched_model, rule FROM usage_meter.price_for('team-llama', NULL, '2025-06-01');
-- A dated deployment name: the alias comes before the dated-id rule.
SELECT usage_meter.set_model_alias('gpt-4o-mini-20250101', 'gemini-2.5-pro', 'gemini');
SELECT matched_model, rule FROM usage_meter.price_for('gpt-4o-mini-20250101', 'openai', '2025-06-01');
SELECT usage_meter.remove_model_alias('gpt-4o-mini-20250101');
SELECT usage_meter.remove_model_alias('gpt-4o-mini-20250101');
SELECT matched_model, rule FROM usage_meter.price_for('gpt-4o-mini-20250101', 'openai', '2025-06-01');
-- Bad input: refused, nothing written.
SELECT usage_meter.set_model_alias('same', 'same');
SELECT usage_meter.set_model_alias(NULL, 'gpt-4o');
SELECT usage_meter.set_model_alias('x', '');
SELECT usage_meter.set_model_alias('x', 'gpt-4o', repeat('p', 201));
SELECT count(*) AS aliases FROM usage_meter.model_aliases;

-- 5. unpriced_models suggests the keys that would price each model.
SELECT priced FROM usage_meter.usage_record('acme', 'alice', 'chat', 'Claude-Sonnet-4', 10, 10,
                                            occurred_at => '2025-06-01 12:00');
SELECT priced FROM usage_meter.usage_record('acme', 'alice', 'chat', 'llama-3-70b', 10, 10, provider => 'groq',
                                            occurred_at => '2025-06-01 12:00');
SELECT model, provider, events, suggestions FROM usage_meter.unpriced_models();
SELECT usage_meter.price_suggestions('nothing-like-it');

-- Only the admin manages aliases; readers read them.
SELECT has_function_privilege('usage_meter_writer', 'usage_meter.set_model_alias(text, text, text)', 'EXECUTE') AS writer_sets,
       has_function_privilege('usage_meter_admin', 'usage_meter.set_model_alias(text, text, text)', 'EXECUTE') AS admin_sets,
       has_table_privilege('usage_meter_reader', 'usage_meter.model_aliases', 'SELECT') AS reader_reads;

DROP EXTENSION usage_meter CASCADE;
