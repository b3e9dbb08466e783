-- usage_meter 1.0 -> 1.1. Version 1.0 is released: its install script is never edited again; everything new
-- or changed since is in this file, and CREATE EXTENSION usage_meter (default 1.1) runs 1.0 then this script.
-- Every name is schema-qualified; every function pins search_path; every new table that holds user data
-- carries the tenant and is registered with pg_extension_config_dump.
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.1'" to load this file. \quit

-- ============================================================================================================
-- pricing: price history, model matching, tiers, the public price map, reprice, markup history
-- ============================================================================================================

-- (end of pricing)

-- ============================================================================================================
-- limits: reservations, hierarchy, soft limits and alerts
-- ============================================================================================================

-- (end of limits)

-- ============================================================================================================
-- provider payloads: normalize_usage, record_response
-- ============================================================================================================

-- (end of provider payloads)

-- ============================================================================================================
-- ledger trust: corrections, repair, retention, roles
-- ============================================================================================================

-- (end of ledger trust)
