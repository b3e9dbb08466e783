-- Price history and model matching: which price row prices an event, and why (price_for).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- History only grows forward: a change is a new price from a later time on.
SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08, 1.00, 'anthropic', '2026-01-01') AS jan;
SELECT usage_meter.set_price('claude-3-5-haiku', 1.00, 5.00, 0.10, 1.25, 'anthropic', '2026-06-01') AS jun;
-- Inserting a price between them would change what was in force for events already recorded: refused.
SELECT usage_meter.set_price('claude-3-5-haiku', 0.90, 4.50, NULL, NULL, 'anthropic', '2026-03-01');
INSERT INTO usage_meter.prices (model, provider, input_per_mtok, output_per_mtok, effective_from)
VALUES ('claude-3-5-haiku', 'anthropic', 9, 9, '2025-01-01');
-- The same price again at the same time is a no-op, a different one is refused (also for an older row).
SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08, 1.00, 'anthropic', '2026-01-01') AS same_jan;
SELECT usage_meter.set_price('claude-3-5-haiku', 0.81, 4.00, 0.08, 1.00, 'anthropic', '2026-01-01');
-- Rows are never rewritten in place.
UPDATE usage_meter.prices SET input_per_mtok = 0 WHERE model = 'claude-3-5-haiku';
-- Another provider, or provider NULL, has its own history.
SELECT usage_meter.set_price('claude-3-5-haiku', 0.85, 4.25, provider => 'bedrock', effective_from => '2026-02-01') AS bedrock;
SELECT model, provider, input_per_mtok, effective_from FROM usage_meter.prices ORDER BY price_id;

-- Each event keeps the price row in force at its occurred_at.
SELECT t.at, r.cost
FROM (VALUES ('2026-01-01 00:00:00+00'::timestamptz), ('2026-05-31 23:59:59.999999'), ('2026-06-01')) AS t(at),
     LATERAL usage_meter.usage_record('acme', 'u', 'chat', 'claude-3-5-haiku', 1000000, 0, provider => 'anthropic',
                                      occurred_at => t.at) AS r;
-- Before the first price: unpriced.
SELECT cost, priced FROM usage_meter.usage_record('acme', 'u', 'chat', 'claude-3-5-haiku', 10, 0,
                                                  provider => 'anthropic', occurred_at => '2025-12-31');
SELECT e.occurred_at, e.price_id, p.effective_from
FROM usage_meter.events AS e LEFT JOIN usage_meter.prices AS p USING (price_id) ORDER BY e.event_id;

-- Matching precedence, shown by price_for. Prices from the start of time for a compact story:
SELECT usage_meter.set_price('gpt-4o-mini', 0.15, 0.60, provider => 'openai') AS openai_mini;
SELECT usage_meter.set_price('gpt-4o-mini', 0.20, 0.80) AS any_mini;
SELECT usage_meter.set_price('gpt-4o', 2.50, 10) AS gpt4o;
SELECT usage_meter.set_price('gpt-4o-2024-05-13', 5, 15) AS gpt4o_dated_own_price;
SELECT usage_meter.set_price('azure/gpt-4o', 2.75, 11, provider => 'azure') AS azure_key;

SELECT t.model, t.provider, f.rule, f.matched_model, f.matched_provider, f.input_per_mtok, f.output_per_mtok
FROM (VALUES
    -- exact, provider-specific beats provider NULL
    ('gpt-4o-mini', 'openai'), ('gpt-4o-mini', 'groq'), ('gpt-4o-mini', NULL),
    -- a provider prefix names the provider when the event has none
    ('openai/gpt-4o-mini', NULL), ('openrouter/gpt-4o-mini', NULL), ('openai/gpt-4o-mini', 'azure'),
    -- a full key that itself carries the prefix (as the public price map has them) wins first
    ('azure/gpt-4o', NULL),
    -- dated ids: the undated entry, unless the dated id has its own price
    ('gpt-4o-2024-08-06', NULL), ('gpt-4o-2024-05-13', NULL), ('claude-3-5-haiku-20241022', 'anthropic'),
    ('claude-3-5-haiku@20241022', 'bedrock'),
    -- prefix and date together
    ('anthropic/claude-3-5-haiku-20241022', NULL),
    -- no price
    ('gpt-4o-mini-realtime', NULL), ('claude-3-5-haiku', NULL)) AS t(model, provider),
     LATERAL usage_meter.price_for(t.model, t.provider, '2026-07-01') AS f;

-- The explanation names the rule, the entry and the time.
SELECT explanation FROM usage_meter.price_for('anthropic/claude-3-5-haiku-20241022', NULL, '2026-07-01');
SELECT explanation FROM usage_meter.price_for('claude-3-5-haiku-20241022', 'anthropic', '2026-03-01');
SELECT price_id IS NULL AS none, explanation FROM usage_meter.price_for('mystery-model', 'acme-ai', '2026-07-01');

-- Recording uses the same lookup: the dated id is priced by the undated entry and keeps that row.
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'claude-3-5-haiku-20241022', 1000000, 1000000,
                                          provider => 'anthropic', occurred_at => '2026-07-01');
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'openai/gpt-4o-mini', 1000000, 1000000,
                                          occurred_at => '2026-07-01');
SELECT e.model, e.provider, e.cost, p.model AS price_model, p.provider AS price_provider
FROM usage_meter.events AS e JOIN usage_meter.prices AS p USING (price_id)
WHERE e.occurred_at = '2026-07-01' ORDER BY e.event_id;

-- Bad input.
SELECT * FROM usage_meter.price_for(NULL);
SELECT * FROM usage_meter.price_for('', 'openai');
SELECT * FROM usage_meter.price_for('gpt-4o', '');
SELECT * FROM usage_meter.price_for('gpt-4o', NULL, NULL);

SELECT * FROM usage_meter.verify();
