-- One usage event for the hot tenant, recorded through the extension (validated, priced, rolled up).
\set u random(1, 100)
SELECT usage_meter.usage_record('hot', 'user' || :u, 'chat', 'claude-3-5-haiku', 1234, 567, 89);
