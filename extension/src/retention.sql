-- Retention: the ledger's monthly partitions (create_partition, create_partitions), dropping whole months of
-- raw events (drop_events_before) while the summaries keep the history, and the first day whose raw events
-- are all kept (verifiable_since), from which verify() and rebuild() compare; maintain(), which runs every
-- periodic job, with its retention policy and its pg_cron schedule. The tables are in tables.sql.
--
-- One lock order on the ledger: the parent usage_meter.events first, then its partitions. Every statement
-- locks the parent before its partitions; create_partition and drop_events_before take ACCESS EXCLUSIVE on the
-- parent before they touch any partition. So they never hold a partition lock that a recording, a void or a
-- reprice waits for while it holds the parent (40P01); a transaction already holding a lock on the parent is
-- let through ahead of them when it needs a stronger one (a void's INSERT after its SELECT, a reprice's UPDATE
-- after its FOR UPDATE); and a recording that waited for a new partition routes its row after the partition
-- exists (routed before the wait, it would reach the default partition and fail its constraint: 23514). Reads
-- and writes of the ledger wait for the moment a partition is created or dropped. Partition changes are
-- serialized by the transaction advisory lock 'usage_meter.partitions', whose shared side verify() takes.

-- The first day whose raw events are all kept, for every tenant: verify() and rebuild() check the days from it
-- on (all days when nothing was dropped). Conservative for every time zone: a tenant day starts at most 16
-- hours before the same UTC day, so a day is whole when its UTC start is at least kept_from + 16 hours.
CREATE FUNCTION usage_meter.verifiable_since()
RETURNS date
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((SELECT CASE WHEN b.t OPERATOR(pg_catalog.=) b.t::date THEN b.t::date
                                 ELSE b.t::date OPERATOR(pg_catalog.+) 1 END
                       FROM usage_meter.retention AS r
                      CROSS JOIN LATERAL (SELECT (r.kept_from OPERATOR(pg_catalog.+) interval '16 hours')
                                                 AT TIME ZONE 'UTC' AS t) AS b),
                    '-infinity'::date)
$$;
COMMENT ON FUNCTION usage_meter.verifiable_since IS 'First day whose raw events are all kept: verify() and rebuild() check from it on';

-- The partition of the UTC month starting at month_start: created (if missing) from the default partition's
-- rows of that month, moved as they are (no trigger fires: not priced or rolled up again), with its own key,
-- reversal index, session index and append-only trigger, then attached (which clones the parent's row trigger onto it).
-- Returns its name, NULL if it existed.
CREATE FUNCTION usage_meter.create_partition(month_start timestamptz)
RETURNS text
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    upper timestamptz := ((month_start AT TIME ZONE 'UTC') OPERATOR(pg_catalog.+) interval '1 month') AT TIME ZONE 'UTC';
    name text := 'events_' OPERATOR(pg_catalog.||) pg_catalog.to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM')
                 OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.date_part('year', month_start AT TIME ZONE 'UTC')
                                                   OPERATOR(pg_catalog.<=) 0 THEN '_bc' ELSE '' END;
    role text := pg_catalog.current_setting('session_replication_role');
BEGIN
    IF month_start OPERATOR(pg_catalog.<>) pg_catalog.date_trunc('month', month_start, 'UTC') THEN
        RAISE EXCEPTION 'invalid month_start: % is not the start of a UTC month', month_start
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.to_regclass('usage_meter.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(name)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    -- The ledger waits here for a moment (only when a partition is created): no row is routed while the
    -- partitions change, and the transactions in flight finish before the default partition's rows move.
    LOCK TABLE ONLY usage_meter.events IN ACCESS EXCLUSIVE MODE;
    EXECUTE pg_catalog.format('CREATE TABLE usage_meter.%I (LIKE usage_meter.events INCLUDING DEFAULTS'
                              ' INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)', name);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ADD CONSTRAINT %I PRIMARY KEY (tenant, event_id, occurred_at)',
                              name, name OPERATOR(pg_catalog.||) '_pkey');
    EXECUTE pg_catalog.format('CREATE UNIQUE INDEX %I ON usage_meter.%I (tenant, reverses_event_id)'
                              ' WHERE reverses_event_id IS NOT NULL', name OPERATOR(pg_catalog.||) '_reversed_once', name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON usage_meter.%I (tenant, session_id) WHERE session_id IS NOT NULL',
                              name OPERATOR(pg_catalog.||) '_session', name);
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    EXECUTE pg_catalog.format('WITH moved AS (DELETE FROM usage_meter.events_default AS d'
                              ' WHERE d.occurred_at OPERATOR(pg_catalog.>=) $1 AND d.occurred_at OPERATOR(pg_catalog.<) $2'
                              ' RETURNING d.*) INSERT INTO usage_meter.%I SELECT * FROM moved', name)
        USING month_start, upper;
    PERFORM pg_catalog.set_config('session_replication_role', role, true);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.events ATTACH PARTITION usage_meter.%I FOR VALUES FROM (%L) TO (%L)',
                              name, month_start, upper);
    EXECUTE pg_catalog.format('CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON usage_meter.%I'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION usage_meter.events_append_only()', name);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ENABLE ROW LEVEL SECURITY', name);
    RETURN name;
END
$$;

-- create_partitions(months_ahead) -> the partitions it created: the current UTC month and months_ahead months
-- after it, and every month that has rows in the default partition (whose rows move into it). Run it after
-- CREATE EXTENSION or ALTER EXTENSION UPDATE and then daily (it does nothing when all exist). A row of a month
-- without a partition is never refused: it goes to the default partition until this runs.
CREATE FUNCTION usage_meter.create_partitions(months_ahead integer DEFAULT 3)
RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m timestamptz;
    created text;
BEGIN
    IF months_ahead IS NULL OR months_ahead OPERATOR(pg_catalog.<) 0 OR months_ahead OPERATOR(pg_catalog.>) 120 THEN
        RAISE EXCEPTION 'invalid months_ahead: % (0 to 120)', months_ahead USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.partitions'));
    FOR m IN SELECT DISTINCT pg_catalog.date_trunc('month', d.occurred_at, 'UTC') FROM usage_meter.events_default AS d
             UNION
             SELECT ((pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC') AT TIME ZONE 'UTC')
                     OPERATOR(pg_catalog.+) pg_catalog.make_interval(months => i)) AT TIME ZONE 'UTC'
               FROM pg_catalog.generate_series(0, months_ahead) AS i
             ORDER BY 1
    LOOP
        created := usage_meter.create_partition(m);
        IF created IS NOT NULL THEN
            RETURN NEXT created;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION usage_meter.create_partitions IS 'Creates the ledger''s monthly partitions ahead, and for rows waiting in the default partition';

-- drop_events_before(cutoff) -> the number of raw events dropped. Drops every monthly partition that ends at or
-- before the start of cutoff's UTC month (rows of those months still in the default partition get their
-- partition first); daily_rollup and counters keep the history. From then on events older than that boundary
-- are refused, and verify()/rebuild() check the days from verifiable_since(). Idempotency keys are kept as
-- tombstones: the key of a dropped event is kept until it is 35 days old (recorded_at), so a late retry of it
-- is refused (22023) even when it does not carry its original occurred_at; each call also deletes the
-- tombstones that have aged past that. A key whose event is kept is never deleted.
-- An admin function: it runs as the extension's owner (DROP TABLE takes an ACCESS EXCLUSIVE lock on the
-- ledger for a moment, so recording waits for it).
CREATE FUNCTION usage_meter.drop_events_before(cutoff timestamptz)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    boundary timestamptz;
    kept timestamptz;
    m timestamptz;
    p record;
    n bigint;
    dropped bigint := 0;
BEGIN
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'cutoff must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(cutoff) OR cutoff OPERATOR(pg_catalog.>) pg_catalog.now() THEN
        RAISE EXCEPTION 'invalid cutoff: % (it must be a finite time, not in the future)', cutoff
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    boundary := pg_catalog.date_trunc('month', cutoff, 'UTC');
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.partitions'));
    SELECT r.kept_from INTO kept FROM usage_meter.retention AS r;
    IF kept IS NULL OR boundary OPERATOR(pg_catalog.>) kept THEN
        -- The parent first, as recording takes it: recording waits from here to the commit.
        LOCK TABLE ONLY usage_meter.events IN ACCESS EXCLUSIVE MODE;
        FOR m IN SELECT DISTINCT pg_catalog.date_trunc('month', d.occurred_at, 'UTC') FROM usage_meter.events_default AS d
                  WHERE d.occurred_at OPERATOR(pg_catalog.<) boundary LOOP
            PERFORM usage_meter.create_partition(m);
        END LOOP;
        FOR p IN SELECT c.oid::regclass AS part,
                        pg_catalog.substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'TO \(''(.*)''\)')::timestamptz AS upper
                   FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                  WHERE i.inhparent OPERATOR(pg_catalog.=) 'usage_meter.events'::regclass
                    AND c.oid OPERATOR(pg_catalog.<>) 'usage_meter.events_default'::regclass LOOP
            IF p.upper OPERATOR(pg_catalog.<=) boundary THEN
                EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p.part);
                EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', p.part) INTO n;
                dropped := dropped OPERATOR(pg_catalog.+) n;
                EXECUTE pg_catalog.format('DROP TABLE %s', p.part);
            END IF;
        END LOOP;
        INSERT INTO usage_meter.retention AS r (singleton, kept_from) VALUES (true, boundary)
            ON CONFLICT (singleton) DO UPDATE SET kept_from = excluded.kept_from, updated_at = pg_catalog.now();
        kept := boundary;
    END IF;
    IF kept IS NOT NULL THEN
        DELETE FROM usage_meter.idempotency_keys AS k
         WHERE k.occurred_at OPERATOR(pg_catalog.<) kept
           AND k.recorded_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) interval '35 days');
    END IF;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION usage_meter.drop_events_before IS 'Drops the raw events of every UTC month before cutoff''s; summaries keep the history, keys stay 35 days as tombstones';

------------------------------------------------------------------------------------------------------------
-- Maintenance: every periodic job in one call (maintain), the retention policy it applies (set_retention),
-- and its schedule with pg_cron (schedule_maintenance). Admin functions.
------------------------------------------------------------------------------------------------------------
-- set_retention(keep) -> the policy now: maintain() drops the raw events of every UTC month that ended more
-- than `keep` ago (drop_events_before(now() - keep)); the summaries keep the history. NULL keeps everything.
-- At least one month, so the cut is always a month start before the current month; at most 1000 years.
CREATE FUNCTION usage_meter.set_retention(keep interval)
RETURNS interval
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF keep IS NULL THEN
        DELETE FROM usage_meter.retention_policy;
        RETURN NULL;
    END IF;
    IF keep OPERATOR(pg_catalog.<) interval '1 month' OR keep OPERATOR(pg_catalog.>) interval '1000 years' THEN
        RAISE EXCEPTION 'invalid keep: "%" (1 month to 1000 years; NULL keeps every raw event)', keep
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Raw events are dropped by whole UTC months, such as keep => ''13 months''.';
    END IF;
    INSERT INTO usage_meter.retention_policy AS p (singleton, keep) VALUES (true, set_retention.keep)
        ON CONFLICT ON CONSTRAINT retention_policy_pkey
        DO UPDATE SET keep = excluded.keep, updated_at = pg_catalog.now();
    RETURN keep;
END
$$;
COMMENT ON FUNCTION usage_meter.set_retention IS 'How long maintain() keeps raw events (at least 1 month; NULL: forever)';

-- maintain() -> one row per job, with what it did. Every job is idempotent: run it hourly (schedule_maintenance)
-- or from a system cron. One maintain() at a time: a second one waits for the first to commit, then finds
-- nothing left to do. Recording goes on meanwhile (it waits a moment while a partition is created or dropped).
--   partitions    create_partitions(3): this UTC month and 3 ahead, and the months of rows waiting in the
--                 default partition, whose rows move into them
--   reservations  purge_reservations(tenant, '7 days') for every tenant with reservations
--   retention     with a policy (set_retention), drop_events_before(now() - keep)
CREATE FUNCTION usage_meter.maintain()
RETURNS TABLE (job text, done bigint, detail text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    waiting bigint;
    created bigint;
    purged bigint := 0;
    t text;
    keep_for interval;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.maintain'));

    SELECT pg_catalog.count(*) INTO waiting FROM usage_meter.events_default;
    SELECT pg_catalog.count(*) INTO created FROM usage_meter.create_partitions(3) AS c;
    job := 'partitions';
    done := created;
    detail := pg_catalog.format('%s partitions created, %s rows moved out of the default partition', created,
                                waiting OPERATOR(pg_catalog.-) (SELECT pg_catalog.count(*) FROM usage_meter.events_default));
    RETURN NEXT;

    FOR t IN SELECT DISTINCT r.tenant FROM usage_meter.reservations AS r ORDER BY 1 LOOP
        purged := purged OPERATOR(pg_catalog.+) usage_meter.purge_reservations(t, interval '7 days');
    END LOOP;
    job := 'reservations';
    done := purged;
    detail := pg_catalog.format('%s reservations closed or expired more than 7 days ago deleted', purged);
    RETURN NEXT;

    SELECT p.keep INTO keep_for FROM usage_meter.retention_policy AS p;
    job := 'retention';
    IF keep_for IS NULL THEN
        done := 0;
        detail := 'no retention policy (set_retention): every raw event is kept';
    ELSE
        done := usage_meter.drop_events_before(pg_catalog.now() OPERATOR(pg_catalog.-) keep_for);
        detail := pg_catalog.format('%s raw events dropped; kept from %s (policy: %s)', done,
                                    (SELECT r.kept_from FROM usage_meter.retention AS r), keep_for);
    END IF;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION usage_meter.maintain IS 'Every periodic job, idempotently: partitions ahead, reservations purged, the retention policy applied';

-- schedule_maintenance(cron) -> the pg_cron job id: one job, usage_meter_maintain, running maintain() on that
-- schedule (registered, or updated when it exists). pg_cron must be installed in this database; the job runs
-- as the caller.
CREATE FUNCTION usage_meter.schedule_maintenance(cron text DEFAULT '7 * * * *')
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job_id bigint;
BEGIN
    IF cron IS NULL OR pg_catalog.btrim(cron) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'invalid cron: it must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension AS x WHERE x.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'feature_not_supported',
                  HINT = pg_catalog.format('Install pg_cron (shared_preload_libraries = ''pg_cron'', then CREATE EXTENSION '
                                           'pg_cron) and call this again. If pg_cron runs in another database, run there: '
                                           'SELECT cron.schedule_in_database(''usage_meter_maintain'', %L, '
                                           '''SELECT * FROM usage_meter.maintain()'', %L). Without pg_cron, a system '
                                           'crontab line: %s psql -d %s -c ''SELECT * FROM usage_meter.maintain()''',
                                           cron, pg_catalog.current_database(), cron, pg_catalog.current_database());
    END IF;
    BEGIN
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job_id
            USING 'usage_meter_maintain', cron, 'SELECT * FROM usage_meter.maintain()';
    EXCEPTION WHEN invalid_parameter_value OR internal_error THEN
        RAISE EXCEPTION 'invalid cron: "%" (%)', cron, SQLERRM
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Five fields, minute hour day-of-month month day-of-week, such as ''7 * * * *''.';
    END;
    RETURN job_id;
END
$$;
COMMENT ON FUNCTION usage_meter.schedule_maintenance IS 'Runs maintain() from pg_cron on this schedule (one job, usage_meter_maintain)';
