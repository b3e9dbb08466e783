-- The proxy's round trip alone (bench/proxy.sh): a PL/Proxy call routed by tenant to a partition that runs SELECT 1
-- (no ledger write, no commit to wait for): the most calls per second the proxy path itself carries here.
\set t random(1, 1000)
SELECT bench_noop('t' || :t);
