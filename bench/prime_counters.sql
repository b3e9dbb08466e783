-- Puts the hot tenant's live counters in the shape steady traffic leaves them: run once by each of 16 clients
-- (-c 16 -t 1), it records one event for every user from each backend, so every user's day and month counters
-- of today have a row in each of the 16 slots check_limit adds up (1600 events in all).
SELECT count(usage_meter.usage_record('hot', 'user' || g, 'chat', 'claude-3-5-haiku', 1234, 567, 89))
  FROM generate_series(1, 100) AS g;
