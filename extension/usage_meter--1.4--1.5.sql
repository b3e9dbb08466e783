-- usage_meter 1.4 -> 1.5. Versions 1.0 to 1.4 are released: their scripts are never edited again. A fresh
-- CREATE EXTENSION runs usage_meter--1.5.sql, built from extension/src; this script brings a 1.4 database
-- to the same schema (tests/stages/76-fresh-vs-upgrade.sh compares the two).
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.5'" to load this file. \quit

-- normalize_usage reads more providers' payloads (the library does the reading; only its description changes).
COMMENT ON FUNCTION usage_meter.normalize_usage(text, jsonb) IS
    'Reads the usage in a provider response (OpenAI, Azure OpenAI, Anthropic, OpenRouter, Gemini, Vertex AI, DeepSeek, xAI, Mistral, Bedrock, OpenTelemetry) in usage_meter''s meanings';
