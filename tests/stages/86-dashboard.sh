# The Grafana dashboard: every variable query and every panel's rawSql in dashboards/grafana-usage-meter.json,
# with the variables and Grafana's time macros substituted, runs against a seeded database as a reader bound to
# one tenant and returns the rows worked out by hand below, for two choices of the variables (every user and
# model; bob and m). Seeded: acme (New York, 10 % markup; m costs 0.002 and big 0.02 for 1000 + 500 tokens)
# records on 2 February alice's m (100 ms) and big (300 ms) events, on the 3rd bob's failed m event (200 ms)
# and an unpriced "mystery" one (400 ms), on the 5th carol's m event, voided; a monthly cost limit of 0.1.
# globex's event is not the reader's. The range: 2 February 00:00 to 5 February 00:00 in New York (local
# days 2 to 5). A panel added without expected rows fails the stage. Bounded: a few seconds.

dashboard_test() (
    set -euo pipefail
    local db=usage_meter_dashboard q="psql -X -q -At -v ON_ERROR_STOP=1"
    um_reader_database "$db" um_dashboard
    $q -d "$db" <<'SQL'
\o /dev/null
SELECT usage_meter.set_price('m', 1, 2), usage_meter.set_price('big', 10, 20);
SELECT usage_meter.set_tenant('acme', 'America/New_York', 10), usage_meter.set_tenant('globex');
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 0.1);
SELECT usage_meter.usage_record('acme', e.u, 'chat', e.model, e.input, e.output, occurred_at => e.at,
                                latency_ms => e.latency, success => e.success)
  FROM (VALUES ('alice', 'm', 1000, 500, '2026-02-02 15:00Z'::timestamptz, 100, true),
               ('alice', 'big', 1000, 500, '2026-02-02 16:00Z', 300, true),
               ('bob', 'm', 1000, 500, '2026-02-03 15:00Z', 200, false),
               ('bob', 'mystery', 100, 0, '2026-02-03 16:00Z', 400, true),
               ('carol', 'm', 1000, 500, '2026-02-05 15:00Z', 500, true)) AS e(u, model, input, output, at, latency, success);
SELECT usage_meter.void_event(e.tenant, e.event_id, 'test') FROM usage_meter.events AS e WHERE e.user_id = 'carol';
SELECT usage_meter.usage_record('globex', 'g', 'chat', 'm', 1000, 500, occurred_at => '2026-02-03 12:00Z');
\o
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('acme', 'um_dashboard');
SQL
    local checked=0
    PGUSER=um_dashboard PGDATABASE=$db PGTZ=UTC PGDATESTYLE=ISO python3 - "$UM_ROOT/dashboards/grafana-usage-meter.json" <<'PY' || checked=1
import json, subprocess, sys
dashboard = json.load(open(sys.argv[1]))
time_from, time_to = "'2026-02-02T05:00:00Z'", "'2026-02-05T05:00:00Z'"  # as Grafana renders $__timeFrom()
def run(sql, variables):
    for name, value in variables.items():
        sql = sql.replace('${%s}' % name, value).replace('$' + name, value)
    sql = sql.replace('$__timeFrom()', time_from).replace('$__timeTo()', time_to)
    assert '$' not in sql, 'unsubstituted: ' + sql
    done = subprocess.run(['psql', '-X', '-q', '-At', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-c', sql],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return ['ERROR: ' + done.stderr.strip()]
    return done.stdout.splitlines()
everyone = {'tenant': 'acme', 'user': '*', 'model': '*'}
bob_m = {'tenant': 'acme', 'user': 'bob', 'model': 'm'}
expected_variables = {'tenant': ['acme'], 'user': ['*', 'alice', 'bob', 'carol'], 'model': ['*', 'big', 'm', 'mystery']}
expected_panels = {
    'Daily cost by model': {
        'everyone': ['2026-02-02 00:00:00|big|0.02', '2026-02-02 00:00:00|m|0.002', '2026-02-03 00:00:00|m|0.002',
                     '2026-02-03 00:00:00|mystery|0', '2026-02-05 00:00:00|m|0.000'],
        'bob_m': ['2026-02-03 00:00:00|m|0.002']},
    # 4 days of 28; 0.024 so far -> 0.168; the limit 0.1 is reached at day 0.1 x 4 / 0.024 = 16.7: 17 February.
    'Month to date, forecast and limit': {
        'everyone': ['0.024|0.168000|0.1|cost|2026-02-17'],
        'bob_m': ['0.002|0.014000|||']},
    'Requests and errors': {
        'everyone': ['2026-02-02 00:00:00|2|0', '2026-02-03 00:00:00|2|1', '2026-02-04 00:00:00|0|0',
                     '2026-02-05 00:00:00|0|0'],
        'bob_m': ['2026-02-02 00:00:00|0|0', '2026-02-03 00:00:00|1|1', '2026-02-04 00:00:00|0|0',
                  '2026-02-05 00:00:00|0|0']},
    'Top users by cost': {
        'everyone': ['1|alice|0.022|0.916667', '2|bob|0.002|0.083333', '3|carol|0.000|0.000000'],
        'bob_m': ['1|alice|0.022|0.916667', '2|bob|0.002|0.083333', '3|carol|0.000|0.000000']},
    'Latency percentiles by model': {
        'everyone': ['big|1|300|300|300', 'm|2|100|200|200', 'mystery|1|400|400|400'],
        'bob_m': ['m|2|100|200|200']},
    'Unpriced events': {
        'everyone': ['mystery||chat|1'],
        'bob_m': []},
}
failed = 0
for variable in dashboard['templating']['list']:
    got = run(variable['query'], everyone)
    if got != expected_variables.get(variable['name']):
        print('variable %s: expected %s, got %s' % (variable['name'], expected_variables.get(variable['name']), got))
        failed += 1
panels = [p for p in dashboard['panels'] if p.get('targets')]
for panel in panels:
    for target in panel['targets']:
        for label, variables in (('everyone', everyone), ('bob_m', bob_m)):
            got = run(target['rawSql'], variables)
            want = expected_panels.get(panel['title'], {}).get(label)
            if got != want:
                print('panel "%s" (%s): expected %s, got %s' % (panel['title'], label, want, got))
                failed += 1
print('dashboard: %d variables, %d panels, each run for 2 choices of the variables; %d mismatches'
      % (len(dashboard['templating']['list']), len(panels), failed))
if {p['title'] for p in panels} != set(expected_panels):
    print('panels without expected rows, or expected rows without a panel:',
          sorted({p['title'] for p in panels} ^ set(expected_panels)))
    failed += 1
sys.exit(1 if failed else 0)
PY
    $q -d postgres -c "DROP DATABASE $db WITH (FORCE)" -c "DROP ROLE um_dashboard"
    return $checked
)

stage "Grafana: every variable and panel query of dashboards/grafana-usage-meter.json returns the expected rows" dashboard_test
