-- One usage event for one of 1000 tenants (bench/proxy.sh): through the proxy it goes to the tenant's partition.
\set t random(1, 1000)
\set u random(1, 20)
SELECT usage_meter.usage_record('t' || :t, 'user' || :u, 'chat', 'claude-3-5-haiku', 1234, 567, 89);
