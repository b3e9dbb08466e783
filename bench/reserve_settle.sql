-- One reserve/settle pair for user :u of the hot tenant, as two transactions (a gateway reserves before the
-- provider call and settles after it): reserve() admits and holds the estimate against the tenant's three
-- limits, then usage_record(..., reservation_id) records the actual usage and drops the hold.
\set u random(1, 100)
SELECT usage_meter.reserve('hot', 'user' || :u, 0.01, 2000) AS rid \gset
SELECT usage_meter.usage_record('hot', 'user' || :u, 'chat', 'claude-3-5-haiku', 1234, 567, 89, reservation_id => :rid);
