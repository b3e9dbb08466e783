-- The floor for reserve_settle.sql (see bench/setup.sql): the same two transactions, with the reserve reduced to
-- a durable INSERT of the hold's columns into bench.floor_holds (no limit read, no check), then the same
-- usage_record without a reservation to settle.
\set u random(1, 100)
INSERT INTO bench.floor_holds (tenant, user_id, estimated_cost, estimated_tokens)
VALUES ('hot', 'user' || :u, 0.01, 2000) RETURNING hold_id AS rid \gset
SELECT usage_meter.usage_record('hot', 'user' || :u, 'chat', 'claude-3-5-haiku', 1234, 567, 89);
