#include "rollup.h"

#include "init.h"
#include "statement.h"
#include "tables/events.h"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace usage_meter::pg {

namespace {

// What an event adds to a daily summary column.
enum class Adds {
    kCount,        // its sign: 1, or -1 for a reversal
    kCountUnless,  // its sign unless the source (boolean) column is true, else 0
    kSum,          // the source column (never NULL in the ledger)
    kSumOrZero,    // the source column, 0 when NULL
};

struct Measure {
    const char* column;  // of usage_meter.daily_rollup
    Adds adds;
    EventColumn source;  // unused for kCount
    Oid source_type;
    const char* cast;  // to the summary column's type
};

// The daily summary's columns after its key and slot, in the table's order.
constexpr Measure kMeasures[] = {
    {"requests", Adds::kCount, kTenant, InvalidOid, "::bigint"},
    {"errors", Adds::kCountUnless, kSuccess, BOOLOID, "::bigint"},
    {"unpriced", Adds::kCountUnless, kPriced, BOOLOID, "::bigint"},
    {"input_tokens", Adds::kSum, kInputTokens, INT8OID, "::bigint"},
    {"output_tokens", Adds::kSum, kOutputTokens, INT8OID, "::bigint"},
    {"cache_read_tokens", Adds::kSum, kCacheReadTokens, INT8OID, "::bigint"},
    {"cache_write_tokens", Adds::kSum, kCacheWriteTokens, INT8OID, "::bigint"},
    {"reasoning_tokens", Adds::kSum, kReasoningTokens, INT8OID, "::bigint"},
    {"quantity", Adds::kSumOrZero, kQuantity, NUMERICOID, ""},
    {"cost", Adds::kSumOrZero, kCost, NUMERICOID, ""},
    {"billed_cost", Adds::kSumOrZero, kBilledCost, NUMERICOID, ""},
    {"latency_ms_total", Adds::kSumOrZero, kLatencyMs, INT4OID, "::bigint"},
};
constexpr int kMeasureCount = sizeof kMeasures / sizeof kMeasures[0];

// A counter column: the sum of daily measures (indexes into kMeasures). Tokens are the tokens a limit counts:
// input, output and cache reads and writes (reasoning tokens are part of output).
struct CounterMeasure {
    const char* column;  // of usage_meter.counters
    int from[4];
    int from_count;
};
constexpr CounterMeasure kCounterMeasures[] = {
    {"requests", {0}, 1},
    {"tokens", {3, 4, 5, 6}, 4},
    {"cost", {9}, 1},
    {"billed_cost", {10}, 1},
};

constexpr const char* kDailyKey = "tenant, user_id, day, operation, provider, model";
constexpr const char* kDailyOrder = "tenant, day, user_id, operation, provider, model";

// What measure m adds for a batch of ledger rows (grouped, each counting `sign` requests).
void append_batch_measure(StringInfo s, const Measure& m, const char* sign) {
    const char* source = event_column_name(m.source);
    switch (m.adds) {
        case Adds::kCount: appendStringInfo(s, "sum(%s)%s", sign, m.cast); break;
        case Adds::kCountUnless:
            appendStringInfo(s, "COALESCE(sum(%s) FILTER (WHERE NOT %s), 0)%s", sign, source, m.cast);
            break;
        case Adds::kSum: appendStringInfo(s, "sum(%s)%s", source, m.cast); break;
        case Adds::kSumOrZero: appendStringInfo(s, "COALESCE(sum(%s), 0)%s", source, m.cast); break;
    }
}

void append_list(StringInfo s, const char* before, bool daily) {
    if (daily)
        for (const Measure& m : kMeasures) appendStringInfo(s, "%s%s", before, m.column);
    else
        for (const CounterMeasure& c : kCounterMeasures) appendStringInfo(s, "%s%s", before, c.column);
}

// INSERT INTO daily_rollup AS r (key, slot, measures...)
void append_daily_insert(StringInfo s) {
    appendStringInfo(s, "INSERT INTO usage_meter.daily_rollup AS r (%s, slot", kDailyKey);
    append_list(s, ", ", true);
    appendStringInfoChar(s, ')');
}

void append_counters_insert(StringInfo s) {
    appendStringInfoString(s, " INSERT INTO usage_meter.counters AS c (tenant, user_id, period, period_start, slot");
    append_list(s, ", ", false);
    appendStringInfoChar(s, ')');
}

// The additive ON CONFLICT clause: each summary column plus what the change adds.
void append_add_on_conflict(StringInfo s, bool daily) {
    const char alias = daily ? 'r' : 'c';
    appendStringInfo(s, " ON CONFLICT ON CONSTRAINT %s DO UPDATE SET", daily ? "daily_rollup_key" : "counters_key");
    bool first = true;
    auto add = [&](const char* column) {
        appendStringInfo(s, "%s %s = %c.%s + excluded.%s", first ? "" : ",", column, alias, column, column);
        first = false;
    };
    if (daily)
        for (const Measure& m : kMeasures) add(m.column);
    else
        for (const CounterMeasure& c : kCounterMeasures) add(c.column);
}

// The four counter rows of a daily row, as a FROM item `s(user_id, period, period_start, total)` and its WHERE:
// the tenant's day and month, then the user's day and month (only for a named user). Listed in the counters'
// key order (user_id NULLS FIRST, period, period_start), the order the one-event roll-up writes them in.
void append_counter_scopes(StringInfo s, const char* user, const char* day, const char* month) {
    appendStringInfo(s,
                     "(VALUES (NULL::text, 'day', %2$s, true), (NULL, 'month', %3$s, true),"
                     " (%1$s, 'day', %2$s, false), (%1$s, 'month', %3$s, false))"
                     " AS s(user_id, period, period_start, total) WHERE s.total OR %1$s IS NOT NULL",
                     user, day, month);
}

// The writes shared by every set-based roll-up: each row of the CTE `batch` (a daily key and its measures) added
// to the daily row of this backend's slot ($1), then the batch's sums per counter row added to the counters, each
// in its key order.
void append_writes(StringInfo s) {
    appendStringInfoString(s, "daily AS (");
    append_daily_insert(s);
    appendStringInfo(s, " SELECT %s, $1", kDailyKey);
    append_list(s, ", ", true);
    appendStringInfo(s, " FROM batch ORDER BY %s", kDailyOrder);
    append_add_on_conflict(s, true);
    appendStringInfoChar(s, ')');
    append_counters_insert(s);
    appendStringInfoString(s, " SELECT b.tenant, s.user_id, s.period, s.period_start, $1");
    for (const CounterMeasure& c : kCounterMeasures) {
        appendStringInfoString(s, ", sum(");
        for (int k = 0; k < c.from_count; ++k)
            appendStringInfo(s, "%sb.%s", k > 0 ? " + " : "", kMeasures[c.from[k]].column);
        appendStringInfoChar(s, ')');
    }
    appendStringInfoString(s, " FROM batch AS b CROSS JOIN LATERAL ");
    append_counter_scopes(s, "b.user_id", "b.day", "b.day - (EXTRACT(day FROM b.day)::int - 1)");
    appendStringInfoString(s,
                           " GROUP BY b.tenant, s.user_id, s.period, s.period_start"
                           " ORDER BY b.tenant, s.user_id NULLS FIRST, s.period, s.period_start");
    append_add_on_conflict(s, false);
}

// The parameters of the statements that write deltas: the slot, the daily key, one per measure, the month start
// (one-key statement only). The set-based one takes arrays of the same.
enum DeltaParam { kPSlot = 1, kPTenant, kPUserId, kPDay, kPOperation, kPProvider, kPModel, kPFirstMeasure };
constexpr int kDeltaParams = kPFirstMeasure - 1 + kMeasureCount;  // the set-based statement's
constexpr int kPMonth = kDeltaParams + 1;
constexpr int kOneKeyParams = kPMonth;

// One key's deltas: the daily row, then its counter rows.
char* one_key_sql() {
    StringInfoData s;
    initStringInfo(&s);
    appendStringInfoString(&s, "WITH daily AS (");
    append_daily_insert(&s);
    appendStringInfo(&s, " VALUES ($%d, $%d, $%d, $%d, $%d, $%d, $%d", kPTenant, kPUserId, kPDay, kPOperation,
                     kPProvider, kPModel, kPSlot);
    for (int i = 0; i < kMeasureCount; ++i) appendStringInfo(&s, ", $%d", kPFirstMeasure + i);
    appendStringInfoChar(&s, ')');
    append_add_on_conflict(&s, true);
    appendStringInfoChar(&s, ')');
    append_counters_insert(&s);
    appendStringInfo(&s, " SELECT $%d, s.user_id, s.period, s.period_start, $%d", kPTenant, kPSlot);
    for (const CounterMeasure& c : kCounterMeasures) {
        appendStringInfoString(&s, ", ");
        for (int k = 0; k < c.from_count; ++k)
            appendStringInfo(&s, "%s$%d", k > 0 ? " + " : "", kPFirstMeasure + c.from[k]);
    }
    appendStringInfoString(&s, " FROM ");
    char user[16], day[16], month[16];
    snprintf(user, sizeof user, "$%d", kPUserId);
    snprintf(day, sizeof day, "$%d::date", kPDay);
    snprintf(month, sizeof month, "$%d::date", kPMonth);
    append_counter_scopes(&s, user, day, month);
    append_add_on_conflict(&s, false);
    return s.data;
}

// Any number of keys' deltas, as arrays (a key may repeat: they are added up first).
char* many_keys_sql() {
    StringInfoData s;
    initStringInfo(&s);
    appendStringInfo(&s, "WITH batch AS MATERIALIZED (SELECT %s", kDailyKey);
    for (const Measure& m : kMeasures) appendStringInfo(&s, ", sum(%s)%s AS %s", m.column, m.cast, m.column);
    appendStringInfoString(&s, " FROM unnest(");
    for (int p = kPTenant; p <= kDeltaParams; ++p) appendStringInfo(&s, "%s$%d", p > kPTenant ? ", " : "", p);
    appendStringInfo(&s, ") AS p(%s", kDailyKey);
    append_list(&s, ", ", true);
    appendStringInfo(&s, ") GROUP BY %s), ", kDailyKey);
    append_writes(&s);
    return s.data;
}

Oid measure_type(int m) { return kMeasures[m].source_type == NUMERICOID ? NUMERICOID : INT8OID; }

// Fills a statement's SQL and types on first use (kept in TopMemoryContext for the backend's life).
template <size_t N>
void prepare_once(Statement<N>* statement, char* (*build)(), bool arrays) {
    if (statement->sql != nullptr) return;
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    char* sql = build();
    MemoryContextSwitchTo(old);
    const Oid key_types[] = {INT2OID, TEXTOID, TEXTOID, DATEOID, TEXTOID, TEXTOID, TEXTOID};
    for (int i = 0; i < kPFirstMeasure - 1; ++i)
        statement->types[i] = arrays && i > 0 ? get_array_type(key_types[i]) : key_types[i];
    for (int m = 0; m < kMeasureCount; ++m)
        statement->types[kPFirstMeasure - 1 + m] = arrays ? get_array_type(measure_type(m)) : measure_type(m);
    if (N > static_cast<size_t>(kDeltaParams)) statement->types[kPMonth - 1] = DATEOID;
    statement->sql = sql;
}

}  // namespace

bool rollup_measure_is_numeric(int m) { return measure_type(m) == NUMERICOID; }

char* rollup_batch_sql(const char* sign, const char* batch, const char* where) {
    StringInfoData s;
    initStringInfo(&s);
    appendStringInfo(&s, "WITH batch AS MATERIALIZED (SELECT %s", kDailyKey);
    for (const Measure& m : kMeasures) {
        appendStringInfoString(&s, ", ");
        append_batch_measure(&s, m, sign);
        appendStringInfo(&s, " AS %s", m.column);
    }
    appendStringInfo(&s, " FROM %s %s GROUP BY %s), ", batch, where, kDailyKey);
    append_writes(&s);
    return s.data;
}

void rollup_event_measures(const Datum* values, const bool* nulls, const int* att, int sign, RollupDelta* delta) {
    for (int m = 0; m < kMeasureCount; ++m) {
        const Measure& measure = kMeasures[m];
        delta->ints[m] = 0;
        delta->numerics[m] = nullptr;
        const int a = measure.adds == Adds::kCount ? 0 : att[measure.source] - 1;
        const bool null = measure.adds != Adds::kCount && nulls[a];
        switch (measure.adds) {
            case Adds::kCount: delta->ints[m] = sign; break;
            case Adds::kCountUnless: delta->ints[m] = !null && DatumGetBool(values[a]) ? 0 : sign; break;
            case Adds::kSum:
            case Adds::kSumOrZero:
                if (null) break;
                if (measure.source_type == NUMERICOID)
                    delta->numerics[m] = DatumGetNumeric(values[a]);
                else if (measure.source_type == INT4OID)
                    delta->ints[m] = DatumGetInt32(values[a]);
                else
                    delta->ints[m] = DatumGetInt64(values[a]);
                break;
        }
    }
}

void rollup_write(RollupDelta* const* deltas, int count) {
    if (count <= 0) return;
    static_assert(kMeasureCount == kRollupMeasures, "rollup.h's measure count");
    const Datum zero = DirectFunctionCall1(int8_numeric, Int64GetDatum(0));
    const Datum slot = Int16GetDatum(static_cast<int16>(counter_slot()));
    auto text_arg = [](text* t) { return sql_arg_or_null(PointerGetDatum(t), t == nullptr); };
    if (count == 1) {
        static Statement<kOneKeyParams> one_key{};
        prepare_once(&one_key, one_key_sql, false);
        const RollupDelta& d = *deltas[0];
        std::array<SqlArg, kOneKeyParams> args;
        args[kPSlot - 1] = sql_arg(slot);
        args[kPTenant - 1] = text_arg(d.tenant);
        args[kPUserId - 1] = text_arg(d.user_id);
        args[kPDay - 1] = sql_arg(DateADTGetDatum(d.day));
        args[kPOperation - 1] = text_arg(d.operation);
        args[kPProvider - 1] = text_arg(d.provider);
        args[kPModel - 1] = text_arg(d.model);
        for (int m = 0; m < kMeasureCount; ++m)
            args[kPFirstMeasure - 1 + m] =
                sql_arg(rollup_measure_is_numeric(m) ? (d.numerics[m] != nullptr ? NumericGetDatum(d.numerics[m]) : zero)
                                                     : Int64GetDatum(d.ints[m]));
        const DateADT month = pg_date_from_civil(period_start(Period::Month, civil_from_pg_date(d.day)));
        args[kPMonth - 1] = sql_arg(DateADTGetDatum(month));
        run_with(one_key, Access::kReadWrite, 0, args);
        return;
    }
    static Statement<kDeltaParams> many_keys{};
    prepare_once(&many_keys, many_keys_sql, true);
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    bool* element_nulls = static_cast<bool*>(palloc(sizeof(bool) * count));
    std::array<SqlArg, kDeltaParams> args;
    args[kPSlot - 1] = sql_arg(slot);
    int dims[1] = {count}, lbs[1] = {1};
    auto column = [&](int param, Oid type, auto&& element) {
        for (int i = 0; i < count; ++i) element_nulls[i] = !element(*deltas[i], &elements[i]);
        int16 typlen;
        bool typbyval;
        char typalign;
        get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
        args[param - 1] = sql_arg(PointerGetDatum(
            construct_md_array(elements, element_nulls, 1, dims, lbs, type, typlen, typbyval, typalign)));
    };
    auto text_column = [&](int param, text* RollupDelta::*field) {
        column(param, TEXTOID, [&](const RollupDelta& d, Datum* out) {
            *out = PointerGetDatum(d.*field);
            return d.*field != nullptr;
        });
    };
    text_column(kPTenant, &RollupDelta::tenant);
    text_column(kPUserId, &RollupDelta::user_id);
    column(kPDay, DATEOID, [](const RollupDelta& d, Datum* out) {
        *out = DateADTGetDatum(d.day);
        return true;
    });
    text_column(kPOperation, &RollupDelta::operation);
    text_column(kPProvider, &RollupDelta::provider);
    text_column(kPModel, &RollupDelta::model);
    for (int m = 0; m < kMeasureCount; ++m) {
        const bool numeric = rollup_measure_is_numeric(m);
        column(kPFirstMeasure + m, numeric ? NUMERICOID : INT8OID, [&](const RollupDelta& d, Datum* out) {
            *out = numeric ? (d.numerics[m] != nullptr ? NumericGetDatum(d.numerics[m]) : zero)
                           : Int64GetDatum(d.ints[m]);
            return true;
        });
    }
    run_with(many_keys, Access::kReadWrite, 0, args);
}

}  // namespace usage_meter::pg
