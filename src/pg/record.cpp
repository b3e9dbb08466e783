// Recording: the ledger's BEFORE ROW trigger (validate, bucket, price), its AFTER STATEMENT trigger (roll up
// into daily summaries and live counters), the append-only guard, and usage_record().
//
// Every row that enters usage_meter.events goes through the same two triggers, whether it comes from
// usage_record, a plain INSERT or a COPY backfill, so every path is validated, priced and rolled up alike.

#include <cstring>

#include "alerts.h"
#include "args.h"
#include "corrections.h"
#include "key_scan.h"
#include "init.h"
#include "pricing.h"
#include "extension_catalog.h"
#include "rollup.h"
#include "reservations.h"
#include "statement.h"
#include "tables/events.h"
#include "tables/idempotency_keys.h"
#include "tables/retention.h"
#include "tables/tenants.h"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
}

namespace usage_meter::pg {
namespace {

// Everything the ledger needs from the settings tables to bucket and price one event. Plain data only.
struct EventContext {
    pg_tz* zone;
    Decimal markup_pct;
    bool has_price;
    FoundPrice price;
    bool has_unit_price;
    int64 unit_price_id;
    Decimal unit_price;
};

// A price the exact rule found (the event's own model and provider), and until when rows find the same one.
struct CachedPrice {
    Datum model;     // text, a copy in the statement's memory; 0: an unused entry
    Datum provider;  // text, a copy, or 0 for NULL
    TimestampTz until;
    FoundPrice price;  // its matched model and provider are the copies
};

constexpr int kCachedPrices = 8;  // the models of a mixed import; a ninth replaces the oldest

// What events_prepare keeps for the rest of its statement (in the trigger's fn_extra, which lives as long as
// the statement's executor): the last tenant row it read, and the prices the exact rule found. The statement
// reads the tenants and prices tables under one snapshot, so a bulk INSERT's rows would read the same rows
// again. Plain data only.
struct StatementCache {
    Datum tenant;  // a copy in the statement's memory, or 0
    TenantRow row;
    int next_price;  // the entry the next price found replaces
    CachedPrice prices[kCachedPrices];
};

Datum copy_text(Datum value, MemoryContext memory) {
    text* t = DatumGetTextPP(value);
    MemoryContext old = MemoryContextSwitchTo(memory);
    Datum copy = PointerGetDatum(cstring_to_text_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
    MemoryContextSwitchTo(old);
    return copy;
}

// The event's price from the statement's cache: an entry of the same model and provider whose row applies at `at`.
bool cached_price(const StatementCache* cache, Datum model, Datum provider, bool provider_null, TimestampTz at,
                  FoundPrice* out) {
    for (const CachedPrice& entry : cache->prices) {
        if (entry.model == 0 || at < entry.price.effective_from || at >= entry.until) continue;
        if ((entry.provider == 0) != provider_null) continue;
        if (!text_equal(entry.model, model) || (!provider_null && !text_equal(entry.provider, provider))) continue;
        *out = entry.price;
        return true;
    }
    return false;
}

// Keeps a price the exact rule found, with the time the key's next price takes over (one more probe).
void cache_price(StatementCache* cache, MemoryContext memory, KeyScan* scan, Datum model, Datum provider,
                 bool provider_null, const FoundPrice& found) {
    CachedPrice& entry = cache->prices[cache->next_price];
    cache->next_price = (cache->next_price + 1) % kCachedPrices;
    if (entry.model != 0) pfree(DatumGetPointer(entry.model));
    if (entry.provider != 0) pfree(DatumGetPointer(entry.provider));
    entry.model = 0;
    entry.provider = 0;
    const TimestampTz until = price_superseded_at(scan, model, provider, provider_null, found.effective_from);
    entry.price = found;
    entry.until = until;
    entry.provider = provider_null ? 0 : copy_text(provider, memory);
    entry.price.matched_model = entry.model = copy_text(model, memory);
    entry.price.matched_provider = entry.provider;
}

// The tenant's time zone and the markup in force at `at`; false when the tenant does not exist (yet); refuses a
// tenant being moved to another database (the flag is in the row read anyway, so the check costs nothing). The
// current markup applies from tenants.markup_from on (a 1.0 database has no markup history: always).
bool read_tenant(Datum tenant, TimestampTz at, EventContext* ctx, StatementCache* cache, MemoryContext cache_memory) {
    TenantRow row;
    if (cache != nullptr && cache->tenant != 0 && text_equal(cache->tenant, tenant)) {
        row = cache->row;
    } else {
        if (!tenant_read(tenant, nullptr, &row)) return false;
        if (cache != nullptr) {
            if (cache->tenant != 0) pfree(DatumGetPointer(cache->tenant));
            cache->tenant = 0;
            cache->tenant = copy_text(tenant, cache_memory);
            cache->row = row;
        }
    }
    if (row.moving) raise_tenant_moving(tenant);  // not recorded on the side it is leaving
    ctx->zone = row.zone;
    ctx->markup_pct = row.markup_pct;
    note_tenant_alerts(tenant, row.alert_limits);  // whether the roll-up has alerts to look for
    if (row.has_markup_from && at < row.markup_from) tenant_past_markup(tenant, at, &ctx->markup_pct);
    return true;
}

// Loads the tenant (creating it on first use) and the prices that could apply to the event. The lookups are
// index scans: this runs for every ledger row.
void load_context(Datum tenant, Datum model, bool model_null, Datum provider, bool provider_null,
                  TimestampTz occurred_at, Datum operation, bool need_unit_price, EventContext* ctx,
                  StatementCache* cache, MemoryContext cache_memory) {
    if (!read_tenant(tenant, occurred_at, ctx, cache, cache_memory)) {
        // Not in the statement's snapshot. An earlier row of this statement (a bulk INSERT of a new tenant's
        // events) may have created it: look with a snapshot of now before inserting, or every row of the
        // statement would insert it again (and invalidate caches each time).
        PushActiveSnapshot(GetLatestSnapshot());
        bool found = read_tenant(tenant, occurred_at, ctx, cache, cache_memory);
        PopActiveSnapshot();
        if (!found) {
            const int path = pin_search_path();
            spi_connect();
            tenant_ensure(tenant);
            SPI_finish();
            unpin_search_path(path);
            CommandCounterIncrement();  // make the new (or concurrently committed) row visible to the lookup
            PushActiveSnapshot(GetTransactionSnapshot());
            found = read_tenant(tenant, occurred_at, ctx, cache, cache_memory);
            PopActiveSnapshot();
            if (!found) elog(ERROR, "usage_meter: tenant could not be created");
        }
    }
    ctx->has_price = false;
    ctx->has_unit_price = false;
    Datum at = TimestampTzGetDatum(occurred_at);
    if (!model_null && cache != nullptr && cached_price(cache, model, provider, provider_null, occurred_at, &ctx->price)) {
        ctx->has_price = true;
    } else if (!model_null) {
        KeyScan scan;
        price_scan_open(&scan);
        ctx->has_price = find_price(&scan, model, provider, provider_null, at, &ctx->price);
        if (ctx->has_price && ctx->price.rule == MatchRule::Exact && cache != nullptr)
            cache_price(cache, cache_memory, &scan, model, provider, provider_null, ctx->price);
        key_scan_close(&scan);
    }
    if (need_unit_price) ctx->has_unit_price = find_unit_price(operation, at, &ctx->unit_price_id, &ctx->unit_price);
}

void raise_null(const char* column) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", column)));
}

// Claims the tenant's idempotency key for the event being inserted, unless it already holds it (usage_record
// claims the key before inserting the event). Another event holding it is a duplicate: refused, as the unique
// index of a 1.0 ledger refused it. A claim by a concurrent transaction makes the INSERT wait for it, and fail
// if it commits.
void claim_idempotency_key(Datum tenant, Datum key, Datum event_id, Datum occurred_at) {
    if (!key_claimed(event_id)) key_insert(tenant, key, event_id, occurred_at);
}

// Rows of a month without a partition go to the default partition; those before the retention boundary
// (usage_meter.retention.kept_from) are refused: their month was dropped, with the idempotency keys that would
// have recognised a retry. Rows routed to a monthly partition are after the boundary by construction.
void check_retention(Relation partition, TimestampTz occurred_at) {
    if (!partition->rd_rel->relispartition || std::strcmp(RelationGetRelationName(partition), "events_default") != 0)
        return;
    TimestampTz kept_from = 0;
    if (retention_boundary(&kept_from) && occurred_at < kept_from)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid occurred_at: %s is before the retention boundary %s",
                               pstrdup(timestamptz_to_str(occurred_at)), pstrdup(timestamptz_to_str(kept_from))),
                        errdetail("Raw events before the boundary were dropped by drop_events_before; an event that "
                                  "old cannot be recorded (nor recognised as a retry).")));
}

// What every new ledger row goes through once prepared: the retention boundary and the idempotency key.
HeapTuple finish_row(Relation partition, HeapTuple row) {
    TupleDesc desc = RelationGetDescr(partition);
    const int* att = event_attnums(desc);
    bool null_at, null_key, null_tenant, null_id;
    Datum at = heap_getattr(row, att[kOccurredAt], desc, &null_at);
    if (!null_at) check_retention(partition, DatumGetTimestampTz(at));
    Datum key = heap_getattr(row, att[kIdempotencyKey], desc, &null_key);
    if (null_key || null_at || !keys_table_exists()) return row;
    Datum tenant = heap_getattr(row, att[kTenant], desc, &null_tenant);
    int id_attnum = SPI_fnumber(desc, "event_id");
    if (id_attnum <= 0) elog(ERROR, "usage_meter.events has no column \"event_id\"");
    Datum event_id = heap_getattr(row, id_attnum, desc, &null_id);
    if (null_tenant || null_id) return row;  // refused by the NOT NULL constraints
    claim_idempotency_key(tenant, key, event_id, at);
    return row;
}
}  // namespace
}  // namespace usage_meter::pg

using namespace usage_meter;
using namespace usage_meter::pg;

// BEFORE INSERT ... FOR EACH ROW: validates the row, buckets its day in the tenant's time zone, prices it and
// fills the derived columns (cost, billed_cost, priced, cost_source, price ids, markup, day, recorded_at).
UM_FUNCTION(events_prepare) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("events_prepare must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!TRIGGER_FIRED_BEFORE(trigger->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigger->tg_event) ||
        !TRIGGER_FIRED_BY_INSERT(trigger->tg_event))
        elog(ERROR, "events_prepare must fire BEFORE INSERT FOR EACH ROW");

    TupleDesc desc = RelationGetDescr(trigger->tg_relation);
    HeapTuple tuple = trigger->tg_trigtuple;
    const int* att = event_attnums(desc);
    Datum* values = static_cast<Datum*>(palloc(desc->natts * sizeof(Datum)));
    bool* nulls = static_cast<bool*>(palloc(desc->natts * sizeof(bool)));
    heap_deform_tuple(tuple, desc, values, nulls);
    // A row that arrives already prepared (day and markup filled, as only this trigger fills them, and recorded
    // before this transaction) is a restored one, e.g. pg_dump's COPY: kept as it was recorded, and not rolled
    // up again (events_rollup rolls up only rows recorded in this transaction). Only the owner can write the
    // ledger directly.
    if (!nulls[att[kDay] - 1] && !nulls[att[kMarkupPct] - 1] && !nulls[att[kRecordedAt] - 1] &&
        DatumGetTimestampTz(values[att[kRecordedAt] - 1]) < GetCurrentTransactionStartTimestamp())
        return PointerGetDatum(tuple);
    if (event_sign(desc, values, nulls) < 0)  // a reversal: filled from the event it cancels, not priced again
        return PointerGetDatum(
            finish_row(trigger->tg_relation, prepare_reversal(trigger->tg_relation, tuple, values, nulls)));
    auto value = [&](int c) { return values[att[c] - 1]; };
    auto is_null = [&](int c) { return nulls[att[c] - 1]; };

    TextView tenant = text_view(value(kTenant), is_null(kTenant));
    TextView user_id = text_view(value(kUserId), is_null(kUserId));
    TextView operation = text_view(value(kOperation), is_null(kOperation));
    TextView model = text_view(value(kModel), is_null(kModel));
    TextView provider = text_view(value(kProvider), is_null(kProvider));
    TextView idempotency_key = text_view(value(kIdempotencyKey), is_null(kIdempotencyKey));
    TextView session_id = text_view(value(kSessionId), is_null(kSessionId));

    static const int token_columns[5] = {kInputTokens, kOutputTokens, kCacheReadTokens, kCacheWriteTokens,
                                         kReasoningTokens};
    int64 tokens[5];
    for (int i = 0; i < 5; ++i) tokens[i] = is_null(token_columns[i]) ? 0 : DatumGetInt64(value(token_columns[i]));
    const char* quantity_text = is_null(kQuantity) ? nullptr : numeric_text(value(kQuantity));
    const char* cost_text = is_null(kCost) ? nullptr : numeric_text(value(kCost));
    if (is_null(kSuccess)) raise_null("success");
    bool occurred_null = is_null(kOccurredAt);
    TimestampTz occurred_at = occurred_null ? 0 : DatumGetTimestampTz(value(kOccurredAt));
    TimestampTz now = GetCurrentStatementStartTimestamp();
    if (!is_null(kMetadata)) {
        Jsonb* metadata = DatumGetJsonbP(value(kMetadata));
        if (!JB_ROOT_IS_OBJECT(metadata) || JB_ROOT_IS_SCALAR(metadata))
            ereport(ERROR,
                    (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid metadata: it must be a JSON object")));
    }

    TokenUsage usage;
    std::optional<Decimal> quantity, reported_cost;
    core_or_raise([&] {
        check_required_name("tenant", tenant.data, tenant.length);
        check_user_id("user_id", user_id.data, user_id.length);
        check_required_name("operation", operation.data, operation.length);
        check_optional_name("model", model.data, model.length);
        check_optional_name("provider", provider.data, provider.length);
        check_optional_name("idempotency_key", idempotency_key.data, idempotency_key.length);
        check_optional_name("session_id", session_id.data, session_id.length);
        static const char* const names[5] = {"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                                             "reasoning_tokens"};
        for (int i = 0; i < 5; ++i) check_token_count(names[i], tokens[i]);
        check_reasoning(tokens[4], tokens[1]);
        if (!is_null(kLatencyMs)) check_latency("latency_ms", DatumGetInt32(value(kLatencyMs)));
        check_occurred_at("occurred_at", occurred_null, !occurred_null && TIMESTAMP_NOT_FINITE(occurred_at),
                          unix_us_from_pg(occurred_at), unix_us_from_pg(now));
        if (quantity_text) quantity = parse_quantity("quantity", quantity_text);
        if (cost_text) reported_cost = parse_cost("cost", cost_text);
        usage.input = tokens[0];
        usage.output = tokens[1];
        usage.cache_read = tokens[2];
        usage.cache_write = tokens[3];
        usage.reasoning = tokens[4];
    });

    EventContext context;
    bool need_unit_price = quantity.has_value() && !quantity->is_zero() && !reported_cost.has_value();
    if (fcinfo->flinfo->fn_extra == nullptr) {  // aligned for its Decimal (__int128), beyond palloc's MAXALIGN
        void* raw = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(StatementCache) + alignof(StatementCache));
        fcinfo->flinfo->fn_extra =
            reinterpret_cast<void*>(TYPEALIGN(alignof(StatementCache), reinterpret_cast<uintptr_t>(raw)));
    }
    load_context(value(kTenant), value(kModel), is_null(kModel), value(kProvider), is_null(kProvider), occurred_at,
                 value(kOperation), need_unit_price, &context, static_cast<StatementCache*>(fcinfo->flinfo->fn_extra),
                 fcinfo->flinfo->fn_mcxt);

    CivilDate day;
    PricedCost priced;
    Decimal billed;
    core_or_raise([&] {
        PgZone zone(context.zone);
        day = local_date(floor_div(unix_us_from_pg(occurred_at), kUsecPerSec), zone);
        PricingInputs in;
        in.tokens = usage;
        in.has_model = model.data != nullptr;
        in.token_price = context.has_price ? &context.price.price : nullptr;
        in.tiers = context.price.tiers;
        in.tier_count = context.has_price ? context.price.tier_count : 0;
        in.quantity = quantity;
        if (context.has_unit_price) in.unit_price = context.unit_price;
        in.reported_cost = reported_cost;
        priced = price_event(in);
        if (priced.priced) billed = billed_cost(priced.cost, context.markup_pct);
    });

    // Far-past times exist as timestamps but their day (or its month) may not as a date.
    const DateADT pg_day = pg_date_from_civil(day);
    if (!IS_VALID_DATE(pg_day) || !IS_VALID_DATE(pg_date_from_civil(period_start(Period::Month, day))))
        ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                        errmsg("invalid occurred_at: its day in the tenant's time zone is out of the date range")));

    const bool from_table = priced.source == CostSource::PriceTable;
    int columns[16];
    Datum replacements[16];
    bool replacement_nulls[16];
    int n = 0;
    auto set = [&](int column, Datum datum, bool null) {
        columns[n] = att[column];
        replacements[n] = datum;
        replacement_nulls[n] = null;
        ++n;
    };
    for (int i = 0; i < 5; ++i) set(token_columns[i], Int64GetDatum(tokens[i]), false);
    set(kCost, priced.priced ? numeric_from_decimal(priced.cost) : 0, !priced.priced);
    set(kBilledCost, priced.priced ? numeric_from_decimal(billed) : 0, !priced.priced);
    set(kPriced, BoolGetDatum(priced.priced), false);
    set(kCostSource, priced.priced ? CStringGetTextDatum(from_table ? "price_table" : "reported") : 0, !priced.priced);
    bool token_priced = from_table && priced.used_token_price;
    set(kPriceId, token_priced ? Int64GetDatum(context.price.price_id) : 0, !token_priced);
    bool unit_priced = from_table && need_unit_price && context.has_unit_price;
    set(kUnitPriceId, unit_priced ? Int64GetDatum(context.unit_price_id) : 0, !unit_priced);
    set(kMarkupPct, numeric_from_decimal(context.markup_pct), false);
    set(kDay, DateADTGetDatum(pg_day), false);
    set(kRecordedAt, TimestampTzGetDatum(now), false);
    if (is_null(kMetadata)) set(kMetadata, DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")), false);

    HeapTuple prepared = heap_modify_tuple_by_cols(tuple, desc, n, columns, replacements, replacement_nulls);
    return PointerGetDatum(finish_row(trigger->tg_relation, prepared));
}

namespace usage_meter::pg {
namespace {}  // namespace
}  // namespace usage_meter::pg

// AFTER INSERT ... FOR EACH STATEMENT, with the inserted rows as transition table new_events.
UM_FUNCTION(events_rollup) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("events_rollup must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (trigger->tg_newtable == nullptr) elog(ERROR, "events_rollup needs REFERENCING NEW TABLE AS new_events");
    int64 count = tuplestore_tuple_count(trigger->tg_newtable);
    if (count == 0) return PointerGetDatum(nullptr);

    if (count == 1) {
        // One row (usage_record, a one-row INSERT): its deltas join the transaction's pending roll-up.
        // Read the row through a read pointer of our own, as a NamedTuplestoreScan would.
        Tuplestorestate* rows = trigger->tg_newtable;
        TupleDesc desc = RelationGetDescr(trigger->tg_relation);
        TupleTableSlot* row = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
        int reader = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
        tuplestore_select_read_pointer(rows, reader);
        tuplestore_rescan(rows);
        if (!tuplestore_gettupleslot(rows, true, false, row)) elog(ERROR, "usage_meter: transition row missing");
        slot_getallattrs(row);
        const int* att = event_attnums(desc);
        // A restored row (events_prepare kept its earlier recorded_at) came with its summaries: not rolled up again.
        // Alerts are checked once the deltas are written, for a tenant with alerting limits (the flag
        // events_prepare read with the tenant).
        if (DatumGetTimestampTz(row->tts_values[att[kRecordedAt] - 1]) >= GetCurrentTransactionStartTimestamp())
            rollup_event(row->tts_values, row->tts_isnull, att, event_sign(desc, row->tts_values, row->tts_isnull),
                         tenant_has_alerts(row->tts_values[att[kTenant] - 1]));
        ExecDropSingleTupleTableSlot(row);
        return PointerGetDatum(nullptr);
    }
    spi_connect();
    static SPIPlanPtr rollup_plans[2] = {nullptr, nullptr};  // without, with reversals (1.0, 1.1 ledgers)
    static const Oid types[1] = {INT2OID};
    if (SPI_register_trigger_data(trigger) != SPI_OK_TD_REGISTER)
        elog(ERROR, "usage_meter: could not register the transition table");
    TupleDesc desc = RelationGetDescr(trigger->tg_relation);
    SPIPlanPtr* rollup_plan = &rollup_plans[reversal_attnum(desc) > 0 ? 1 : 0];
    if (*rollup_plan == nullptr)
        kept_plan(rollup_plan,
                  rollup_batch_sql(event_sign_sql(desc), "new_events", "WHERE recorded_at >= pg_catalog.now()"), 1,
                  types);
    Datum slot = Int16GetDatum(static_cast<int16>(counter_slot()));
    execute_plan(*rollup_plan, &slot, " ", false, 0);
    fire_batch_alerts("new_events", "WHERE recorded_at >= pg_catalog.now()", 0, nullptr, nullptr, nullptr);
    SPI_finish();
    return PointerGetDatum(nullptr);
}

// roll_up(events usage_meter.events[]) -> number of events rolled up. The same roll-up the trigger does, for
// deployments where triggers cannot run on the ledger (Citus refuses them on distributed tables): record
// with the events_rollup trigger disabled, then pass the inserted rows here in the same transaction.
UM_FUNCTION(roll_up) {
    require_arg(fcinfo, 0, "events");
    ArrayType* events = PG_GETARG_ARRAYTYPE_P(0);
    int count = ArrayGetNItems(ARR_NDIM(events), ARR_DIMS(events));
    if (count == 0) PG_RETURN_INT64(0);
    if (array_contains_nulls(events))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("events must not contain NULL")));

    // The plan is tied to the array type's OID, which changes when the extension is created again.
    static SPIPlanPtr plan = nullptr;
    static Oid plan_type = InvalidOid;
    static bool plan_reversals = false;
    Oid array_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
    Oid types[2] = {INT2OID, array_type};
    TupleDesc desc = lookup_rowtype_tupdesc(get_element_type(array_type), -1);
    const char* sign_sql = event_sign_sql(desc);
    bool reversals = reversal_attnum(desc) > 0;
    ReleaseTupleDesc(desc);
    spi_connect();
    if (plan != nullptr && (plan_type != array_type || plan_reversals != reversals)) {
        SPI_freeplan(plan);
        plan = nullptr;
    }
    if (plan == nullptr) {
        kept_plan(&plan, rollup_batch_sql(sign_sql, "pg_catalog.unnest($2) AS new_events", ""), 2, types);
        plan_type = array_type;
        plan_reversals = reversals;
    }
    Datum args[2] = {Int16GetDatum(static_cast<int16>(counter_slot())), PointerGetDatum(events)};
    execute_plan(plan, args, "  ", false, 0);
    fire_batch_alerts("pg_catalog.unnest($1) AS new_events", "", 1, &types[1], &args[1], " ");
    SPI_finish();
    PG_RETURN_INT64(count);
}

namespace usage_meter::pg {
namespace {
// Set only inside reprice() around its own UPDATE of the pricing columns (see reprice.cpp), and always reset.
bool reprice_update_allowed = false;
// Set only inside purge_tenant_events() around its own DELETE of one tenant's rows (tenant_move.cpp).
bool purge_delete_allowed = false;
}  // namespace
void allow_reprice_update(bool allowed) { reprice_update_allowed = allowed; }
void allow_purge_delete(bool allowed) { purge_delete_allowed = allowed; }
}  // namespace usage_meter::pg

// BEFORE UPDATE OR DELETE OR TRUNCATE: the ledger is append-only. The exceptions are reprice()'s own
// statement, which rewrites only cost, billed_cost, priced, cost_source, price_id and unit_price_id, and
// purge_tenant()'s, which deletes every event of one tenant (a tenant moved away, or a deletion request).
UM_FUNCTION(events_append_only) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("events_append_only must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    const char* action = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)   ? "UPDATE"
                         : TRIGGER_FIRED_BY_DELETE(trigger->tg_event) ? "DELETE"
                                                                      : "TRUNCATE";
    if (reprice_update_allowed && TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)) return PointerGetDatum(nullptr);
    if (purge_delete_allowed && TRIGGER_FIRED_BY_DELETE(trigger->tg_event)) return PointerGetDatum(nullptr);
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("usage_meter.events is append-only: %s is not allowed", action),
                    errhint("Usage already happened; record a correcting event instead.")));
    return PointerGetDatum(nullptr);
}

namespace usage_meter::pg {
namespace {

// How many times a READ COMMITTED duplicate lookup is repeated when the key's event is not visible yet. It
// happens when the lookup took its snapshot, then waited for create_partitions (which moves the event from the
// default partition into its month's) and ran against the new partition: a new snapshot sees the move.
constexpr int kDuplicateLookups = 3;

// Finds the event holding the tenant's key; refuses a tombstone (the event's raw row was dropped) with 22023.
// Returns false when the holder is not visible to any snapshot tried (only possible when the snapshot is the
// transaction's, under REPEATABLE READ or SERIALIZABLE).
bool find_duplicate(Datum tenant, Datum key) {
    const int lookups = IsolationUsesXactSnapshot() ? 1 : kDuplicateLookups;
    for (int i = 0; i < lookups; ++i) {
        key_event(tenant, key);
        if (SPI_processed == 0) continue;  // the holder is not visible: it committed after our snapshot
        bool event_null, isnull;
        result_value(0, 1, &event_null);
        if (!event_null) return true;
        TimestampTz at = DatumGetTimestampTz(result_value(0, 6, &isnull));
        TimestampTz kept_from;
        if (retention_boundary(&kept_from) && at < kept_from)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("idempotency_key \"%s\" was recorded by tenant \"%s\" as event %lld at %s, whose "
                                   "raw events were dropped",
                                   TextDatumGetCString(key), TextDatumGetCString(tenant),
                                   static_cast<long long>(DatumGetInt64(result_value(0, 5, &isnull))),
                                   pstrdup(timestamptz_to_str(at))),
                            errdetail("drop_events_before dropped the raw events before %s; the key is kept so that "
                                      "a late retry is refused rather than counted again.",
                                      pstrdup(timestamptz_to_str(kept_from)))));
    }
    return false;
}

}  // namespace
}  // namespace usage_meter::pg

// usage_record(tenant, user_id, operation, model, input_tokens, output_tokens, cache_read_tokens,
//              cache_write_tokens, reasoning_tokens, quantity, cost, provider, occurred_at, idempotency_key,
//              session_id, latency_ms, success, metadata, reservation_id) -> usage_meter.recorded
// reservation_id (1.1; a database still at 1.0 calls with 18 arguments) settles that reservation in the same
// transaction: its hold stops counting as the event's usage starts to.
UM_FUNCTION(usage_record) {
    TupleDesc result_desc;
    if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "usage_record must return usage_meter.recorded");
    result_desc = BlessTupleDesc(result_desc);

    SqlArg args[kEventInsertArgs + 1];  // [kEventInsertArgs]: the event id a key claimed
    for (int i = 0; i < kEventInsertArgs; ++i) args[i] = sql_arg_or_null(PG_GETARG_DATUM(i), PG_ARGISNULL(i));
    // Missing token counts and metadata mean none: the ledger trigger turns NULL counts into 0, and
    // metadata into '{}'. A NULL success or occurred_at is refused there.
    const Datum tenant = args[0].value, key = args[13].value;

    const bool partitioned = keys_table_exists();
    const bool keyed = !PG_ARGISNULL(13);
    if (partitioned && keyed) {
        // The key is checked before it is claimed, so a bad one gets the ledger's own message.
        TextView k = text_view(key, false);
        core_or_raise([&] { check_optional_name("idempotency_key", k.data, k.length); });
    }

    MemoryContext caller = CurrentMemoryContext;
    spi_connect();
    bool duplicate = false, found = true;
    if (!partitioned) {
        event_insert(args, EventInsert::kKeyedByIndex);
        if (SPI_processed == 0) {
            // The key was recorded before (or by a transaction that committed while we waited): return that event.
            event_by_key(tenant, key);
            duplicate = true;
            found = SPI_processed > 0;
        }
    } else if (!keyed || PG_ARGISNULL(12) || PG_ARGISNULL(0)) {
        event_insert(args, EventInsert::kNewId);
    } else {
        Datum event_id;
        if (key_claim(tenant, key, args[12].value, &event_id)) {
            args[kEventInsertArgs] = sql_arg(event_id);
            key_claimed_by(event_id);
            event_insert(args, EventInsert::kClaimedId);
        } else {
            duplicate = true;
            found = find_duplicate(tenant, key);
        }
    }
    if (duplicate && !found)
        ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                        errmsg("idempotency_key \"%s\" is held by a transaction this snapshot cannot see",
                               TextDatumGetCString(key)),
                        errhint("Retry the transaction.")));
    Datum values[5];
    bool result_nulls[5];
    for (int col = 0; col < 4; ++col) values[col] = result_value(0, col + 1, &result_nulls[col]);
    values[4] = BoolGetDatum(duplicate);
    result_nulls[4] = false;
    MemoryContext spi = MemoryContextSwitchTo(caller);
    HeapTuple result = heap_form_tuple(result_desc, values, result_nulls);  // copies the numerics out of SPI
    MemoryContextSwitchTo(spi);
    if (PG_NARGS() > 18 && !PG_ARGISNULL(18))
        settle_reservation(tenant, args[1].value, args[1].isnull, PG_GETARG_DATUM(18), values[0]);
    SPI_finish();
    return HeapTupleGetDatum(result);
}
