# Prometheus: Debian's prometheus-postgres-exporter with dashboards/prometheus-queries.yaml, against a database
# of the test cluster (its unix socket), listening on 127.0.0.1 on a free port. Seeded: acme (UTC, 10 %
# markup) records three priced events (1000 + 500 tokens at 1 + 2 USD per million: 0.002 each) and one
# unpriced one (100 tokens) now, under two hard limits (cost per day 0.012, requests per month 8); globex
# records one; hidden records one but is not bound to the exporter's reader role. Checks from one scrape of
# /metrics: the per-tenant series and values (today and this month), the limits' shares, verify()'s 0, and no
# series for the unbound tenant or per user. Bounded: the exporter is stopped after 60 s at most; a few seconds.

exporter_test() (
    set -euo pipefail
    local db=usage_meter_exporter q="psql -X -q -At -v ON_ERROR_STOP=1" out="$UM_ROOT/build/exporter"
    local exporter pid="" port
    exporter=$(command -v prometheus-postgres-exporter) || { echo "prometheus-postgres-exporter is not installed"; return 1; }
    mkdir -p "$out"
    um_reader_database "$db" um_exporter
    $q -d "$db" <<'SQL'
\o /dev/null
SELECT usage_meter.set_price('m', 1, 2);
SELECT usage_meter.set_tenant('acme', 'UTC', 10), usage_meter.set_tenant('globex', 'Asia/Tokyo'),
       usage_meter.set_tenant('hidden');
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', 0.012), usage_meter.set_limit('acme', NULL, 'requests', 'month', 8),
       usage_meter.set_limit('acme', '*', 'cost', 'day', 1);
SELECT usage_meter.usage_record('acme', 'u' || i, 'chat', 'm', 1000, 500) FROM generate_series(1, 3) AS i;
SELECT usage_meter.usage_record('acme', 'u1', 'chat', 'no-price', 100);
SELECT usage_meter.usage_record('globex', 'g', 'chat', 'm', 1000, 500);
SELECT usage_meter.usage_record('hidden', 'h', 'chat', 'm', 1000, 500);
\o
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('acme', 'um_exporter'), ('globex', 'um_exporter');
SQL
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
    DATA_SOURCE_NAME="host=$PGHOST port=$PGPORT user=um_exporter dbname=$db sslmode=disable" \
        timeout 60 "$exporter" --web.listen-address="127.0.0.1:$port" \
        --extend.query-path="$UM_ROOT/dashboards/prometheus-queries.yaml" \
        --disable-default-metrics --disable-settings-metrics >"$out/exporter.log" 2>&1 &
    pid=$!
    local waited=0
    until curl -sf "http://127.0.0.1:$port/metrics" -o "$out/metrics.txt" && grep -q '^usage_meter_verify_' "$out/metrics.txt"; do
        sleep 0.5
        waited=$((waited + 1))
        [ $waited -lt 40 ] || { echo "no usage_meter metrics on 127.0.0.1:$port within 20 s"; tail -20 "$out/exporter.log"; return 1; }
    done
    grep '^usage_meter_' "$out/metrics.txt" | sort
    # Expected series, with labels other than the exporter's own (server) and values compared as numbers.
    local checked=0
    python3 - "$out/metrics.txt" <<'PY' || checked=1
import re, sys
series = {}
for line in open(sys.argv[1]):
    m = re.match(r'^(usage_meter_\w+)(?:\{(.*)\})? (\S+)$', line.strip())
    if not m:
        continue
    labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ''))
    labels.pop('server', None)
    series[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(3))
expected = {}
for tenant, values in {'acme': dict(cost_today_usd=0.006, billed_cost_today_usd=0.0066, requests_today=4,
                                    tokens_today=4600, unpriced_events=1),
                       'globex': dict(cost_today_usd=0.002, billed_cost_today_usd=0.002, requests_today=1,
                                      tokens_today=1500, unpriced_events=0)}.items():
    for name, value in list(values.items()):
        expected[('usage_meter_tenant_' + name, (('tenant', tenant),))] = value
        if name.endswith('_today') or name.endswith('_today_usd'):  # all recorded now: the month holds the same
            expected[('usage_meter_tenant_' + name.replace('today', 'month'), (('tenant', tenant),))] = value
for metric, period, used, max_value in [('cost', 'day', 0.006, 0.012), ('requests', 'month', 4, 8)]:
    labels = (('metric', metric), ('period', period), ('tenant', 'acme'))
    expected[('usage_meter_limit_used', labels)] = used
    expected[('usage_meter_limit_max_value', labels)] = max_value
    expected[('usage_meter_limit_used_ratio', labels)] = 0.5
expected[('usage_meter_verify_disagreements', ())] = 0
failed = 0
for key, value in sorted(expected.items()):
    got = series.get(key)
    if got is None or abs(got - value) > 1e-12:
        print('expected %s %s = %s, got %s' % (key[0], dict(key[1]), value, got))
        failed += 1
extra = sorted(k for k in series if k not in expected)
for key in extra:
    print('unexpected series %s %s' % (key[0], dict(key[1])))
print('usage_meter series: %d expected, %d found, %d wrong or missing, %d unexpected'
      % (len(expected), len(series), failed, len(extra)))
sys.exit(1 if failed or extra else 0)
PY
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=""
    $q -d postgres -c "DROP DATABASE $db WITH (FORCE)" -c "DROP ROLE um_exporter"
    return $checked
)

stage "Prometheus: prometheus-postgres-exporter with dashboards/prometheus-queries.yaml exports each tenant's figures" exporter_test
