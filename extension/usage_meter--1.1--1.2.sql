-- usage_meter 1.1 -> 1.2. Versions 1.0 and 1.1 are released: their scripts are never edited again; CREATE
-- EXTENSION usage_meter (default 1.2) runs 1.0, then 1.0--1.1, then this script.
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.2'" to load this file. \quit

-- ============================================================================================================
-- limits: open holds are found through hash indexes
-- ============================================================================================================
-- reserve() and check_limit() sum a tenant's and a user's open holds. At 1.1 they did so through btrees on
-- (tenant[, user_id], expires_at) WHERE state = 'held': every settled or released hold left a dead entry in
-- the scanned range, and a btree only removes those at VACUUM, so on a busy tenant each reserve() walked the
-- entries of every hold closed since the last VACUUM (measured: 1450 reserve/settle pairs a second falling
-- to 920 within 15 seconds on a new table). A hash index puts all of a tenant's entries in one bucket, and
-- an insert into a full bucket page first reclaims the entries scans have marked dead, so the bucket stays
-- about as large as the set of open holds. The user index hashes tenant, a unit separator and user_id;
-- readers check tenant and user_id on every row, so hash collisions cost time, never correctness.
CREATE INDEX reservations_open_tenant ON usage_meter.reservations USING hash (tenant) WHERE state = 'held';
CREATE INDEX reservations_open_user ON usage_meter.reservations
    USING hash (pg_catalog.textcat(pg_catalog.textcat(tenant, E'\x1f'), user_id))
    WHERE state = 'held' AND user_id IS NOT NULL;
DROP INDEX usage_meter.reservations_held_tenant;
DROP INDEX usage_meter.reservations_held_user;

-- The statements these functions run on usage_meter.reservations look a row up by its key. Planned while the
-- table was empty and freshly analyzed (VACUUM ANALYZE right after CREATE EXTENSION), the settling UPDATE
-- became a sequential scan, and every backend kept that plan until the next ANALYZE: each settle then read
-- the whole table (measured: bench/run.sh's first reserve/settle stage at 0.21 of usage_record's rate, with
-- 5115 sequential scans of reservations in 12 seconds). With sequential scans disabled inside these calls
-- the key lookups always use the primary key or the open-holds index, whatever the statistics say.
ALTER FUNCTION usage_meter.usage_record(text, text, text, text, bigint, bigint, bigint, bigint, bigint, numeric,
                                        numeric, text, timestamptz, text, text, integer, boolean, jsonb, bigint)
    SET enable_seqscan = off;
ALTER FUNCTION usage_meter.record_response(text, text, text, text, jsonb, text, integer, boolean, timestamptz,
                                           jsonb, text, bigint)
    SET enable_seqscan = off;
ALTER FUNCTION usage_meter.reserve(text, text, numeric, bigint, interval) SET enable_seqscan = off;
ALTER FUNCTION usage_meter.release(bigint) SET enable_seqscan = off;
