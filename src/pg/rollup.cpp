#include "rollup.h"

#include "init.h"
#include "statement.h"
#include "tables/events.h"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/date.h"
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

// The one-event statement's parameters: the daily key, the slot, the sign, the month start, then one per
// measure with a source column.
enum OneEventParam {
    kPTenant = 1,
    kPUserId,
    kPDay,
    kPOperation,
    kPProvider,
    kPModel,
    kPSlot,
    kPSign,
    kPMonth,
    kPFirstSource
};
constexpr int kOneEventParams = kPFirstSource - 1 + kMeasureCount - 1;

int source_param(int measure) { return kPFirstSource + measure - 1; }  // kMeasures[0] (requests) has none

// What measure m adds for a batch (grouped rows of `sign`) or for one event (parameters).
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

void append_event_measure(StringInfo s, int i) {
    const Measure& m = kMeasures[i];
    switch (m.adds) {
        case Adds::kCount: appendStringInfo(s, "$%d", kPSign); break;
        case Adds::kCountUnless:
            appendStringInfo(s, "(CASE WHEN $%d THEN 0 ELSE $%d END)%s", source_param(i), kPSign, m.cast);
            break;
        case Adds::kSum: appendStringInfo(s, "$%d%s", source_param(i), m.cast); break;
        case Adds::kSumOrZero: appendStringInfo(s, "COALESCE($%d, 0)%s", source_param(i), m.cast); break;
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

// The one-event statement, built once per backend from the description.
char* one_event_sql() {
    StringInfoData s;
    initStringInfo(&s);
    appendStringInfoString(&s, "WITH daily AS (");
    append_daily_insert(&s);
    appendStringInfo(&s, " VALUES ($%d, $%d, $%d, $%d, $%d, $%d, $%d", kPTenant, kPUserId, kPDay, kPOperation,
                     kPProvider, kPModel, kPSlot);
    for (int i = 0; i < kMeasureCount; ++i) {
        appendStringInfoString(&s, ", ");
        append_event_measure(&s, i);
    }
    appendStringInfoChar(&s, ')');
    append_add_on_conflict(&s, true);
    appendStringInfoChar(&s, ')');
    append_counters_insert(&s);
    appendStringInfo(&s, " SELECT $%d, s.user_id, s.period, s.period_start, $%d", kPTenant, kPSlot);
    for (const CounterMeasure& c : kCounterMeasures) {
        appendStringInfoString(&s, ", ");
        for (int k = 0; k < c.from_count; ++k) {
            if (k > 0) appendStringInfoString(&s, " + ");
            append_event_measure(&s, c.from[k]);
        }
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

}  // namespace

char* rollup_batch_sql(const char* sign, const char* batch, const char* where) {
    StringInfoData s;
    initStringInfo(&s);
    appendStringInfo(&s, "WITH batch AS MATERIALIZED (SELECT %s", kDailyKey);
    for (const Measure& m : kMeasures) {
        appendStringInfoString(&s, ", ");
        append_batch_measure(&s, m, sign);
        appendStringInfo(&s, " AS %s", m.column);
    }
    appendStringInfo(&s, " FROM %s %s GROUP BY %s), daily AS (", batch, where, kDailyKey);
    append_daily_insert(&s);
    appendStringInfo(&s, " SELECT %s, $1", kDailyKey);
    append_list(&s, ", ", true);
    appendStringInfo(&s, " FROM batch ORDER BY %s", kDailyOrder);
    append_add_on_conflict(&s, true);
    appendStringInfoChar(&s, ')');
    append_counters_insert(&s);
    appendStringInfoString(&s, " SELECT b.tenant, s.user_id, s.period, s.period_start, $1");
    for (const CounterMeasure& c : kCounterMeasures) {
        appendStringInfoString(&s, ", sum(");
        for (int k = 0; k < c.from_count; ++k)
            appendStringInfo(&s, "%sb.%s", k > 0 ? " + " : "", kMeasures[c.from[k]].column);
        appendStringInfoChar(&s, ')');
    }
    appendStringInfoString(&s, " FROM batch AS b CROSS JOIN LATERAL ");
    append_counter_scopes(&s, "b.user_id", "b.day", "b.day - (EXTRACT(day FROM b.day)::int - 1)");
    appendStringInfoString(&s,
                           " GROUP BY b.tenant, s.user_id, s.period, s.period_start"
                           " ORDER BY b.tenant, s.user_id NULLS FIRST, s.period, s.period_start");
    append_add_on_conflict(&s, false);
    return s.data;
}

void rollup_event(const Datum* values, const bool* nulls, const int* att, int sign) {
    static Statement<kOneEventParams> statement;  // its SQL and types are filled on first use
    if (statement.sql == nullptr) {
        MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
        char* sql = one_event_sql();
        MemoryContextSwitchTo(old);
        const Oid key_types[] = {TEXTOID, TEXTOID, DATEOID, TEXTOID, TEXTOID, TEXTOID, INT2OID, INT8OID, DATEOID};
        for (int i = 0; i < kPFirstSource - 1; ++i) statement.types[i] = key_types[i];
        for (int i = 1; i < kMeasureCount; ++i) statement.types[source_param(i) - 1] = kMeasures[i].source_type;
        statement.sql = sql;
    }
    auto column = [&](EventColumn c) { return sql_arg_or_null(values[att[c] - 1], nulls[att[c] - 1]); };
    const DateADT day = DatumGetDateADT(values[att[kDay] - 1]);
    const DateADT month = pg_date_from_civil(period_start(Period::Month, civil_from_pg_date(day)));
    std::array<SqlArg, kOneEventParams> args;
    args[kPTenant - 1] = column(kTenant);
    args[kPUserId - 1] = column(kUserId);
    args[kPDay - 1] = column(kDay);
    args[kPOperation - 1] = column(kOperation);
    args[kPProvider - 1] = column(kProvider);
    args[kPModel - 1] = column(kModel);
    args[kPSlot - 1] = sql_arg(Int16GetDatum(static_cast<int16>(counter_slot())));
    args[kPSign - 1] = sql_arg(Int64GetDatum(sign));
    args[kPMonth - 1] = sql_arg(DateADTGetDatum(month));
    for (int i = 1; i < kMeasureCount; ++i) args[source_param(i) - 1] = column(kMeasures[i].source);
    run_with(statement, Access::kReadWrite, 0, args);
}

}  // namespace usage_meter::pg
