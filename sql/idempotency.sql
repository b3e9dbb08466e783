-- Idempotency: a key is unique per tenant; recording it again returns the first event, marked duplicate,
-- and counts nothing twice (the same generation from a webhook and from a periodic sync).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1, 2);

SELECT * FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1000, 500, idempotency_key => 'chatcmpl-1');
SELECT * FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1000, 500, idempotency_key => 'chatcmpl-1');
-- A second delivery with other figures still returns the first event unchanged.
SELECT * FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 9999, 9999, idempotency_key => 'chatcmpl-1');
-- The same key in another tenant is another event.
SELECT * FROM usage_meter.usage_record('globex', 'u', 'chat', 'm', 1000, 500, idempotency_key => 'chatcmpl-1');
-- Without a key nothing is deduplicated.
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 1);
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 1);

SELECT tenant, count(*) AS events, sum(input_tokens) AS input FROM usage_meter.events GROUP BY tenant ORDER BY tenant;
SELECT tenant, requests, input_tokens FROM usage_meter.daily_usage ORDER BY tenant;
SELECT requests, tokens FROM usage_meter.live_usage('acme') WHERE period = 'day';

-- Inside one transaction too.
BEGIN;
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 5, 5, idempotency_key => 'msg_01');
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 5, 5, idempotency_key => 'msg_01');
COMMIT;

-- A bulk load that repeats a key is refused as a whole, by the ledger's unique key.
INSERT INTO usage_meter.events (tenant, operation, idempotency_key) VALUES ('acme', 'chat', 'chatcmpl-1');
INSERT INTO usage_meter.events (tenant, operation, idempotency_key)
    VALUES ('acme', 'chat', 'bulk-1'), ('acme', 'chat', 'bulk-1');
-- ... unless the loader skips known keys, as a sync job should. The ledger is partitioned by time, so its keys
-- are kept in usage_meter.idempotency_keys (ON CONFLICT on the ledger has no unique index to use).
INSERT INTO usage_meter.events (tenant, operation, idempotency_key)
SELECT v.tenant, v.operation, v.idempotency_key
  FROM (VALUES ('acme', 'chat', 'chatcmpl-1'), ('acme', 'chat', 'bulk-2')) AS v(tenant, operation, idempotency_key)
 WHERE NOT EXISTS (SELECT 1 FROM usage_meter.idempotency_keys AS k
                    WHERE k.tenant = v.tenant AND k.idempotency_key = v.idempotency_key);
-- usage_record claims the key, then inserts its event, which finds the key claimed. A claim whose event was
-- refused is rolled back with it: an event inserted later with that id writes its own key row.
BEGIN;
SAVEPOINT before_record;
SELECT usage_meter.usage_record('acme', 'u', 'chat', 'm', -1, 0, idempotency_key => 'refused-after-claim');
ROLLBACK TO SAVEPOINT before_record;
INSERT INTO usage_meter.events (event_id, tenant, operation, idempotency_key)
VALUES (pg_catalog.currval('usage_meter.event_id_seq'), 'acme', 'chat', 'refused-after-claim');
SELECT k.event_id = pg_catalog.currval('usage_meter.event_id_seq') AS key_row_written
  FROM usage_meter.idempotency_keys AS k WHERE k.idempotency_key = 'refused-after-claim';
COMMIT;
SELECT tenant, idempotency_key, count(*) FROM usage_meter.events WHERE idempotency_key IS NOT NULL
GROUP BY tenant, idempotency_key ORDER BY tenant, idempotency_key;
SELECT * FROM usage_meter.verify();
