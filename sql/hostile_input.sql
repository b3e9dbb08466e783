-- Hostile input found by the fuzz test (tests/stages/65-fuzz.sh): times at the ends of PostgreSQL's range.
-- Each is refused or recorded on a valid day; verify() keeps working.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_tenant('la', 'America/Los_Angeles');
SELECT usage_meter.set_tenant('tokyo', 'Asia/Tokyo');
-- The last representable times are far in the future (computing them in Unix microseconds used to overflow
-- and let them through, with a nonsense day).
SELECT * FROM usage_meter.usage_record('la', 'u', 'chat', occurred_at => '294276-12-31 23:59:59Z');
SELECT * FROM usage_meter.usage_record('la', 'u', 'chat', occurred_at => '200000-01-01Z');
-- The first representable time falls on a day before the first date west of UTC: refused.
SELECT * FROM usage_meter.usage_record('la', 'u', 'chat', occurred_at => '4714-11-24 00:00:00Z BC');
-- East of UTC its day exists, but the month it belongs to starts before the range: refused too.
SELECT * FROM usage_meter.usage_record('tokyo', 'u', 'chat', occurred_at => '4714-11-24 00:00:00Z BC');
-- A little later both work.
SELECT event_id, duplicate FROM usage_meter.usage_record('la', 'u', 'chat', occurred_at => '4714-12-02 00:00:00Z BC');
SELECT event_id, duplicate FROM usage_meter.usage_record('tokyo', 'u', 'chat', occurred_at => '4714-12-02 00:00:00Z BC');
SELECT tenant, day FROM usage_meter.events ORDER BY event_id;
SELECT * FROM usage_meter.verify();
SELECT * FROM usage_meter.rebuild();
