-- bench/proxy_record.sql calling the PL/Proxy function itself, without usage_meter_proxy's PL/pgSQL wrapper (every
-- argument given, as the wrapper passes them): what the wrapper costs.
\set t random(1, 1000)
\set u random(1, 20)
SELECT usage_meter_proxy.usage_record('t' || :t, 'user' || :u, 'chat', 'claude-3-5-haiku', 1234, 567, 89, 0, 0, NULL,
                                      NULL, NULL, now(), NULL, NULL, NULL, true, '{}', NULL);
