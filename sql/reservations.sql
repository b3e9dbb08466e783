-- Reservations: reserve() admits a request and holds its estimate against every hard limit that covers it;
-- usage_record(..., reservation_id) settles it, release() gives the room back, and a hold past its ttl stops
-- counting by itself. check_limit counts held amounts like usage.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
SELECT usage_meter.set_price('m', 1000000, 1000000);  -- 1 USD per token keeps the arithmetic readable

-- A refusal raises SQLSTATE UM001; this shows the state and the message.
CREATE FUNCTION pg_temp.try_reserve(tenant text, user_id text, cost numeric DEFAULT 0, tokens bigint DEFAULT 0,
                                    ttl interval DEFAULT '10 minutes') RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM usage_meter.reserve(tenant, user_id, cost, tokens, ttl);
    RETURN 'reserved';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE VIEW pg_temp.open_holds AS
    SELECT tenant, user_id, estimated_cost, estimated_tokens, state FROM usage_meter.reservations
    WHERE state = 'held' ORDER BY reservation_id;

-- Without limits every reservation is admitted; the tenant is created on first use like usage_record does.
SELECT usage_meter.reserve('open', 'u', 5) > 0 AS reserved;
SELECT tenant, time_zone FROM usage_meter.tenants WHERE tenant = 'open';

-- A tenant-wide cost limit of 10: holds count like usage, and the reservation that would pass it is refused.
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', 10);
SELECT usage_meter.reserve('acme', 'alice', 6) AS r1 \gset
SELECT allowed, metric, used, held, max_value, remaining FROM usage_meter.check_limit('acme', 'bob', 4);
SELECT allowed, metric, used, held, max_value, remaining FROM usage_meter.check_limit('acme', 'bob', 4.01);
SELECT pg_temp.try_reserve('acme', 'bob', 4.01);
SELECT usage_meter.reserve('acme', 'bob', 4) AS r2 \gset
SELECT pg_temp.try_reserve('acme', 'carol', 0.000001);
SELECT * FROM pg_temp.open_holds;

-- Settling records the actual usage (here below the estimate) and drops the hold in the same transaction.
SELECT event_id, cost, duplicate FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 2, 1, reservation_id => :r1);
SELECT allowed, used, held, remaining FROM usage_meter.check_limit('acme', 'bob');
SELECT state, event_id FROM usage_meter.reservations WHERE reservation_id = :r1;
-- The actual may be above the estimate: usage already happened and is never refused.
SELECT event_id, cost FROM usage_meter.usage_record('acme', 'bob', 'chat', 'm', 5, 0, reservation_id => :r2);
SELECT allowed, used, held, remaining FROM usage_meter.check_limit('acme', 'bob');
SELECT pg_temp.try_reserve('acme', 'bob', 2);
SELECT pg_temp.try_reserve('acme', 'bob', 0);

-- A settled reservation cannot be settled again, nor released; the failed call writes nothing.
SELECT count(*) AS events_before FROM usage_meter.events \gset
SELECT * FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 1, 0, reservation_id => :r1);
SELECT usage_meter.release(:r1);
SELECT count(*) = :events_before AS nothing_written FROM usage_meter.events;
-- An idempotent retry of the settling call is a duplicate, not a second settlement.
SELECT usage_meter.set_tenant('retry');
SELECT usage_meter.reserve('retry', 'u', 1) AS r3 \gset
SELECT duplicate FROM usage_meter.usage_record('retry', 'u', 'chat', 'm', 1, 0, idempotency_key => 'k1', reservation_id => :r3);
SELECT duplicate FROM usage_meter.usage_record('retry', 'u', 'chat', 'm', 1, 0, idempotency_key => 'k1', reservation_id => :r3);

-- Unknown ids, another tenant's or another user's reservation: refused, nothing written.
SELECT usage_meter.reserve('acme', 'dave', 0) AS r4 \gset
SELECT * FROM usage_meter.usage_record('acme', 'dave', 'chat', 'm', 1, 0, reservation_id => -1);
SELECT * FROM usage_meter.usage_record('other', 'dave', 'chat', 'm', 1, 0, reservation_id => :r4);
SELECT * FROM usage_meter.usage_record('acme', 'erin', 'chat', 'm', 1, 0, reservation_id => :r4);
SELECT * FROM usage_meter.usage_record('acme', NULL, 'chat', 'm', 1, 0, reservation_id => :r4);
SELECT usage_meter.release(123456789);
SELECT count(*) = :events_before + 1 AS nothing_else_written FROM usage_meter.events;
SELECT state FROM usage_meter.reservations WHERE reservation_id = :r4;

-- release() gives the room back without usage (true: it was still holding); releasing twice is refused.
SELECT usage_meter.set_tenant('rel');
SELECT usage_meter.set_limit('rel', NULL, 'requests', 'day', 1);
SELECT usage_meter.reserve('rel', 'u') AS r5 \gset
SELECT pg_temp.try_reserve('rel', 'v');
SELECT usage_meter.release(:r5);
SELECT usage_meter.release(:r5);
SELECT usage_meter.reserve('rel', 'v') > 0 AS reserved_after_release;

-- Per-user limits: '*' gives each user their own room, a named user's limit replaces it, and the tenant-wide
-- limit applies on top. A reservation without a user counts against the tenant's limits only.
SELECT usage_meter.set_tenant('team');
SELECT usage_meter.set_limit('team', '*', 'tokens', 'day', 1000);
SELECT usage_meter.set_limit('team', 'vip', 'tokens', 'day', 3000);
SELECT usage_meter.set_limit('team', NULL, 'tokens', 'day', 4500);
SELECT usage_meter.reserve('team', 'ann', 0, 1000) > 0 AS ann_full;
SELECT pg_temp.try_reserve('team', 'ann', 0, 1);
SELECT usage_meter.reserve('team', 'ben', 0, 600) > 0 AS ben_600;
SELECT usage_meter.reserve('team', 'vip', 0, 2500) > 0 AS vip_2500;
SELECT pg_temp.try_reserve('team', 'vip', 0, 501);
SELECT pg_temp.try_reserve('team', NULL, 0, 401);
SELECT usage_meter.reserve('team', NULL, 0, 400) > 0 AS tenant_400;
SELECT pg_temp.try_reserve('team', 'ben', 0, 1);
SELECT u AS user_id, c.allowed, c.metric, c.used, c.held, c.max_value, c.remaining
FROM unnest(ARRAY['ann', 'ben', 'vip', 'new']) AS u, usage_meter.check_limit('team', u) AS c ORDER BY u;
SELECT allowed, used, held, remaining FROM usage_meter.check_limit('team');

-- Requests limits hold one request per reservation; soft limits never refuse a reservation.
SELECT usage_meter.set_tenant('req');
SELECT usage_meter.set_limit('req', NULL, 'requests', 'month', 2);
SELECT usage_meter.set_limit('req', NULL, 'cost', 'day', 0.5, hard => false);
SELECT usage_meter.reserve('req', 'u', 1) > 0 AS first, usage_meter.reserve('req', 'u', 1) > 0 AS second;
SELECT pg_temp.try_reserve('req', 'u');
SELECT allowed, metric, period, used, held, max_value, remaining FROM usage_meter.check_limit('req', 'u');

-- Expiry: a hold past its ttl stops counting by itself, with no job; it can still be settled (the usage
-- happened) or released (false: it had stopped holding).
SELECT usage_meter.set_tenant('exp');
SELECT usage_meter.set_limit('exp', NULL, 'requests', 'day', 1);
SELECT usage_meter.reserve('exp', 'u', ttl => '2 seconds') AS r6 \gset
SELECT pg_temp.try_reserve('exp', 'u');
SELECT pg_sleep(2.1);
SELECT allowed, used, held FROM usage_meter.check_limit('exp', 'u');
SELECT usage_meter.reserve('exp', 'u', ttl => '200 milliseconds') AS r7 \gset
SELECT pg_sleep(0.3);
SELECT usage_meter.release(:r6) AS r6_was_holding;
SELECT event_id > 0 AS settled_late FROM usage_meter.usage_record('exp', 'u', 'chat', reservation_id => :r7);
SELECT allowed, used, held FROM usage_meter.check_limit('exp', 'u');
-- Expired holds are marked lazily by later reservations of the tenant (every 32nd call of a backend).
SELECT usage_meter.set_limit('exp', NULL, 'requests', 'day', 1000);
SELECT usage_meter.reserve('exp', 'u', ttl => '100 milliseconds') AS r8 \gset
SELECT pg_sleep(0.2);
SELECT state FROM usage_meter.reservations WHERE reservation_id = :r8;
SELECT count(usage_meter.release(usage_meter.reserve('exp', 'w'))) FROM generate_series(1, 64);
SELECT state FROM usage_meter.reservations WHERE reservation_id = :r8;

-- Bad input: a clear error naming the argument, and nothing written.
SELECT count(*) AS reservations_before FROM usage_meter.reservations \gset
SELECT usage_meter.reserve('acme', 'u', -1);
SELECT usage_meter.reserve('acme', 'u', 'NaN');
SELECT usage_meter.reserve('acme', 'u', 0, -5);
SELECT usage_meter.reserve('acme', 'u', ttl => '0 seconds');
SELECT usage_meter.reserve('acme', 'u', ttl => '-1 minute');
SELECT usage_meter.reserve('acme', 'u', ttl => NULL);
SELECT usage_meter.reserve('acme', 'u', NULL);
SELECT usage_meter.reserve('acme', 'u', 0, NULL);
SELECT usage_meter.reserve(NULL, 'u');
SELECT usage_meter.reserve('', 'u');
SELECT usage_meter.reserve('acme', '*');
SELECT usage_meter.reserve('acme', '');
SELECT usage_meter.release(NULL);
SELECT count(*) = :reservations_before AS nothing_written FROM usage_meter.reservations;

-- record_response settles a reservation too: the provider's response is the actual usage.
SELECT usage_meter.set_limit('gw', NULL, 'tokens', 'day', 2000);
SELECT usage_meter.reserve('gw', 'u', 0, 1500) AS r10 \gset
SELECT pg_temp.try_reserve('gw', 'u', 0, 501);
SELECT duplicate FROM usage_meter.record_response('gw', 'u', 'chat', 'openai',
    '{"id": "chatcmpl-r10", "model": "m", "usage": {"prompt_tokens": 900, "completion_tokens": 100}}',
    reservation_id => :r10);
SELECT state, event_id IS NOT NULL AS has_event FROM usage_meter.reservations WHERE reservation_id = :r10;
SELECT allowed, used, held, remaining FROM usage_meter.check_limit('gw', 'u');
SELECT * FROM usage_meter.record_response('gw', 'u', 'chat', 'openai',
    '{"id": "chatcmpl-other", "model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}',
    reservation_id => :r10);

-- Amounts beyond what one limit or one event may carry are refused where they enter (22023), writing nothing.
SELECT usage_meter.set_limit('huge', NULL, 'cost', 'day', 99999999999999999999999999999999999999);
SELECT usage_meter.reserve('huge', 'u', 99999999999999999999999999999999999999);
-- A total beyond every limit already in the tables (here a hold written directly, as a version before 1.4
-- could have) never makes a limit path fail: it counts as more than the largest limit. The fast path counts
-- it, withdraws its own hold (its subtransaction rolls back), and the slow path refuses (UM001), which a
-- caller's exception block catches like any refusal; the transaction goes on normally.
SELECT usage_meter.set_limit('huge', NULL, 'cost', 'day', 100000000000000);
INSERT INTO usage_meter.reservations (tenant, user_id, estimated_cost, estimated_tokens, expires_at)
VALUES ('huge', 'u', 99999999999999999999999999999999999999, 0, now() + interval '1 hour');
BEGIN;
DO $$
BEGIN
    PERFORM usage_meter.reserve('huge', 'u', 1);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'caught %', SQLSTATE;
END $$;
SELECT count(*) AS holds FROM usage_meter.reservations WHERE tenant = 'huge';
SELECT allowed, used, held, max_value FROM usage_meter.check_limit('huge', 'u');
COMMIT;
SELECT count(*) AS holds_after_commit FROM usage_meter.reservations WHERE tenant = 'huge';

-- Closed and expired reservations are kept until purged, per tenant; live holds never are.
SELECT state, count(*) FROM usage_meter.reservations WHERE tenant = 'exp' GROUP BY state ORDER BY state;
SELECT usage_meter.purge_reservations('exp', '1 hour') AS purged_nothing_yet;
SELECT usage_meter.reserve('exp', 'live') > 0 AS live_hold;
SELECT usage_meter.purge_reservations('exp', '0 seconds') AS purged;
SELECT state, count(*) FROM usage_meter.reservations WHERE tenant = 'exp' GROUP BY state ORDER BY state;
SELECT usage_meter.purge_reservations('exp', '-1 day');
SELECT usage_meter.purge_reservations(NULL);

SELECT * FROM usage_meter.verify();

-- The writer role may reserve, settle and release (the functions run as the extension's owner), not purge.
SET client_min_messages = warning;
DROP ROLE IF EXISTS reservations_test_writer;
RESET client_min_messages;
CREATE ROLE reservations_test_writer;
GRANT usage_meter_writer TO reservations_test_writer;
SELECT usage_meter.set_limit('wr', NULL, 'cost', 'day', 1);
SET ROLE reservations_test_writer;
SELECT usage_meter.reserve('wr', 'w', 0.5) AS r11 \gset
SELECT usage_meter.reserve('wr', 'w', 0.5) AS r12 \gset
SELECT pg_temp.try_reserve('wr', 'w', 0.01);
SELECT cost FROM usage_meter.usage_record('wr', 'w', 'chat', cost => 0.25, reservation_id => :r11);
SELECT usage_meter.release(:r12);
SELECT usage_meter.purge_reservations('wr', '0 seconds');
SELECT count(*) FROM usage_meter.reservations;
RESET ROLE;
SELECT state, count(*) FROM usage_meter.reservations WHERE user_id = 'w' GROUP BY state ORDER BY state;
DROP ROLE reservations_test_writer;

-- The next two sections start from a new extension with one tenant whose limits cover its holds: requests
-- tenant-wide, tokens for each user.
SET client_min_messages = warning;
DROP EXTENSION usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SELECT usage_meter.set_limit('keys', NULL, 'requests', 'day', 10);
SELECT usage_meter.set_limit('keys', '*', 'tokens', 'day', 1000);

-- Key lookups on reservations stay index lookups even when planned on an empty, freshly analyzed table (the
-- planner then prefers a sequential scan, and a backend would keep that plan for every later settle).
TRUNCATE usage_meter.reservations;
ANALYZE usage_meter.reservations;
\c
BEGIN;
SELECT usage_meter.reserve('keys', 'u', estimated_tokens => 1) AS r11 \gset
SELECT usage_meter.reserve('keys', 'u', estimated_tokens => 1) AS r12 \gset
SELECT duplicate FROM usage_meter.usage_record('keys', 'u', 'chat', 'm', 1, reservation_id => :r11);
SELECT usage_meter.release(:r12);
SELECT seq_scan, idx_scan > 0 AS by_index FROM pg_stat_xact_user_tables WHERE relid = 'usage_meter.reservations'::regclass;
COMMIT;

-- reserve() writes its hold without the executor, yet as the executor would: a CHECK constraint added to the
-- table is enforced, and an INSERT trigger, which that path would not fire, is refused rather than skipped.
ALTER TABLE usage_meter.reservations ADD CONSTRAINT small_holds CHECK (estimated_tokens <= 1000);
SELECT usage_meter.reserve('keys', 'u', estimated_tokens => 2) IS NOT NULL AS admitted;
\set VERBOSITY terse
SELECT usage_meter.reserve('keys', 'u', estimated_tokens => 1001);
\set VERBOSITY default
ALTER TABLE usage_meter.reservations DROP CONSTRAINT small_holds;
CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER noop BEFORE INSERT ON usage_meter.reservations FOR EACH ROW EXECUTE FUNCTION pg_temp.noop();
SELECT usage_meter.reserve('keys', 'u', estimated_tokens => 2);
DROP TRIGGER noop ON usage_meter.reservations;
SELECT usage_meter.reserve('keys', 'u', estimated_tokens => 2) IS NOT NULL AS admitted_again;

-- The library keeps the OIDs of the extension's relations per backend. Recreating the extension in this very
-- session gives every relation a new OID, and a renamed relation is no longer found under its old name: both
-- reach the cache as catalog invalidations, so the next calls use the new relations or fail naming the table.
DROP EXTENSION usage_meter CASCADE;
CREATE EXTENSION usage_meter;
SELECT usage_meter.set_limit('again', NULL, 'tokens', 'day', 10) AS limit_id \gset
SELECT usage_meter.reserve('again', 'u', estimated_tokens => 4) IS NOT NULL AS admitted;
SELECT metric, used, held, max_value FROM usage_meter.check_limit('again', 'u');
BEGIN;
ALTER TABLE usage_meter.reservations RENAME TO reservations_renamed;
SELECT usage_meter.reserve('again', 'u', estimated_tokens => 1);
ROLLBACK;
SELECT usage_meter.reserve('again', 'u', estimated_tokens => 4) IS NOT NULL AS admitted_after_rollback;
\set VERBOSITY terse
SELECT usage_meter.reserve('again', 'u', estimated_tokens => 4);
\set VERBOSITY default

-- reserve() keeps the descriptions of reservations' indexes between calls. An index created after they were
-- kept gets the next holds all the same (counted through that index alone); with an index of a kind whose
-- insert could keep state between calls (BRIN), reserve() opens the indexes afresh each time.
SELECT usage_meter.release(reservation_id) IS NOT NULL AS released FROM usage_meter.reservations WHERE state = 'held';
CREATE INDEX reservations_by_tokens ON usage_meter.reservations (estimated_tokens) WHERE estimated_tokens = 3;
SELECT usage_meter.reserve('again', 'u', estimated_tokens => 3) IS NOT NULL AS admitted;
CREATE INDEX reservations_brin ON usage_meter.reservations USING brin (created_at);
SELECT usage_meter.reserve('again', 'u', estimated_tokens => 3) IS NOT NULL AS admitted;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM usage_meter.reservations WHERE estimated_tokens = 3;
SELECT count(*) AS holds_found_through_the_new_index FROM usage_meter.reservations WHERE estimated_tokens = 3;
RESET enable_bitmapscan;
RESET enable_seqscan;
DROP INDEX usage_meter.reservations_by_tokens, usage_meter.reservations_brin;
SELECT usage_meter.reserve('again', 'u', estimated_tokens => 3) IS NOT NULL AS admitted_after_drop;

-- release(tenant, reservation_id), the tenant-first form: another tenant's reservation is unknown to it.
SELECT usage_meter.reserve('again', 'u', estimated_tokens => 1) AS tenant_first_id \gset
SELECT usage_meter.release('someone-else', :tenant_first_id);
SELECT usage_meter.release(NULL, :tenant_first_id);
SELECT usage_meter.release('again', :tenant_first_id) AS released;
SELECT usage_meter.release('again', :tenant_first_id);
SELECT state FROM usage_meter.reservations WHERE reservation_id = :tenant_first_id;
