-- May a request of user :u of the hot tenant go ahead? Reads limits and live counters only.
\set u random(1, 100)
SELECT * FROM usage_meter.check_limit('hot', 'user' || :u, 0.01, 2000);
