# pg_cron runs maintain(): a cluster with pg_cron preloaded, schedule_maintenance('* * * * *') registers one job
# (again: the same job, updated), an invalid schedule is refused (22023) with the job unchanged, and within two
# minutes cron.job_run_details shows maintain() ran and succeeded, having created the ledger's partitions.

pg_cron_test() (
    set -euo pipefail
    um_cluster_start
    cat >>"$UM_CLUSTER_DIR/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
CONF
    runuser -u postgres -- "$UM_PG_BIN/pg_ctl" -D "$UM_CLUSTER_DIR/data" -l "$UM_CLUSTER_DIR/server.log" -w -t 60 \
        restart >/dev/null || { tail -20 "$UM_CLUSTER_DIR/server.log"; return 1; }
    local q="psql -X -q -At -v ON_ERROR_STOP=1 -d postgres"
    $q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION usage_meter"
    local first second
    first=$($q -c "SELECT usage_meter.schedule_maintenance('* * * * *')")
    second=$($q -c "SELECT usage_meter.schedule_maintenance('* * * * *')")
    echo "job id: $first, scheduled again: $second"
    [ "$first" = "$second" ] || { echo "scheduling twice made two jobs"; return 1; }
    local refused
    refused=$($q -c "DO \$\$ BEGIN PERFORM usage_meter.schedule_maintenance('61 * * * *');
                      EXCEPTION WHEN invalid_parameter_value THEN RAISE NOTICE 'refused: %', SQLERRM; END \$\$" 2>&1)
    echo "$refused"
    echo "$refused" | grep -q "refused: invalid cron" || { echo "an invalid schedule was not refused with 22023"; return 1; }
    [ "$($q -c "SELECT count(*) || ' ' || min(schedule) FROM cron.job WHERE jobname = 'usage_meter_maintain'")" = "1 * * * * *" ] \
        || { echo "the job changed"; return 1; }
    local waited=0 status=""
    while [ $waited -lt 130 ]; do
        status=$($q -c "SELECT status FROM cron.job_run_details WHERE jobid = $first AND status IN ('succeeded', 'failed')
                         ORDER BY runid LIMIT 1")
        [ -n "$status" ] && break
        sleep 5
        waited=$((waited + 5))
    done
    $q -c "SELECT 'run: ' || status || ', ' || return_message FROM cron.job_run_details WHERE jobid = $first ORDER BY runid LIMIT 1"
    [ "$status" = "succeeded" ] || { echo "maintain() did not run successfully within 130 s (status: '${status:-none}')"; return 1; }
    local partitions
    partitions=$($q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'usage_meter.events'::regclass
                          AND inhrelid <> 'usage_meter.events_default'::regclass")
    echo "partitions after the scheduled run: $partitions (after ${waited} s)"
    [ "$partitions" -ge 4 ]
)

stage "pg_cron runs maintain(): one job, an invalid schedule refused, a scheduled run succeeds" pg_cron_test
