-- The partitioned ledger's layout and what goes with it: rows per partition (each row in exactly one), which
-- partitions are extension members (only the default one), the idempotency keys and the retention boundary.
SELECT 'partition ' || e.tableoid::regclass || ' ' || count(*) FROM usage_meter.events AS e GROUP BY e.tableoid ORDER BY 1;
SELECT 'partitions ' || string_agg(c.relname || CASE WHEN d.objid IS NULL THEN '' ELSE ' (member)' END, ', ' ORDER BY c.relname)
  FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
  LEFT JOIN pg_depend AS d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
 WHERE i.inhparent = 'usage_meter.events'::regclass;
SELECT 'idempotency_keys ' || count(*) || ' ' || md5(string_agg(k::text, E'\n' ORDER BY k::text))
  FROM usage_meter.idempotency_keys AS k;
SELECT 'retention ' || COALESCE((SELECT kept_from::text FROM usage_meter.retention), 'none')
       || ', verifiable since ' || usage_meter.verifiable_since();
