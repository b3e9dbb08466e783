// Prices: the lookup the ledger trigger and price_for() share, the guard on the prices table (history only
// grows forward, tiers are valid and canonical, rows are never updated), price_for() and
// import_litellm_prices().

#include "pricing.h"

#include "args.h"
#include "extension_catalog.h"
#include "statement.h"
#include "tables/prices.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "utils/lsyscache.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace usage_meter::pg {

namespace {

Datum text_datum(const char* data, size_t length) {
    return PointerGetDatum(cstring_to_text_with_len(data, static_cast<int>(length)));
}

Decimal amount_column(TupleTableSlot* row, AttrNumber attnum, const char* name, bool* isnull) {
    Datum d = slot_getattr(row, attnum, isnull);
    return *isnull ? Decimal() : amount_from_numeric(d, name);
}

}  // namespace

bool prices_have_tiers() {
    Oid prices = extension_relation_oid("prices");
    return OidIsValid(prices) && extension_column(prices, "tiers") != InvalidAttrNumber;
}

void price_scan_open(KeyScan* scan) { key_scan_open(scan, "prices", "prices_model_provider_from", 3); }

bool find_price(KeyScan* scan, Datum model, Datum provider, bool provider_null, Datum at, FoundPrice* out) {
    TextView m = text_view(model, false);
    PriceKeys keys;
    core_or_raise([&] { keys = price_lookup_keys(std::string_view(m.data, m.length), !provider_null); });
    Datum prefix = 0;
    for (size_t i = 0; i < keys.count; ++i) {
        const PriceKey& key = keys.keys[i];
        Datum name = key.name_begin == 0 && key.name_length == m.length
                         ? model
                         : text_datum(m.data + key.name_begin, key.name_length);
        Datum key_provider = 0;
        bool key_provider_null = false;
        if (key.provider == KeyProvider::Event) {
            key_provider = provider;
        } else if (key.provider == KeyProvider::Prefix) {
            if (prefix == 0) prefix = text_datum(m.data, keys.prefix_length);
            key_provider = prefix;
        } else {
            key_provider_null = true;
        }
        ScanKeyData sk[3];
        key_text(scan, &sk[0], 1, name);
        if (key_provider_null)
            key_is_null(&sk[1], 2);
        else
            key_text(scan, &sk[1], 2, key_provider);
        key_timestamptz_at_most(&sk[2], 3, at);
        key_scan_rescan(scan, sk, 3);
        if (!key_scan_previous(scan)) continue;

        TupleTableSlot* row = scan->row;
        bool isnull;
        out->price_id = DatumGetInt64(slot_getattr(row, key_scan_column(scan, "price_id"), &isnull));
        out->effective_from = DatumGetTimestampTz(slot_getattr(row, key_scan_column(scan, "effective_from"), &isnull));
        out->price.input_per_mtok =
            amount_column(row, key_scan_column(scan, "input_per_mtok"), "input_per_mtok", &isnull);
        out->price.output_per_mtok =
            amount_column(row, key_scan_column(scan, "output_per_mtok"), "output_per_mtok", &isnull);
        Decimal cache_read =
            amount_column(row, key_scan_column(scan, "cache_read_per_mtok"), "cache_read_per_mtok", &isnull);
        if (!isnull) out->price.cache_read_per_mtok = cache_read;
        Decimal cache_write =
            amount_column(row, key_scan_column(scan, "cache_write_per_mtok"), "cache_write_per_mtok", &isnull);
        if (!isnull) out->price.cache_write_per_mtok = cache_write;
        out->tier_count = 0;
        const AttrNumber tiers_attnum = extension_column(RelationGetRelid(scan->heap), "tiers");  // absent at 1.0
        if (tiers_attnum > 0) {
            Datum tiers = slot_getattr(row, tiers_attnum, &isnull);
            if (!isnull) out->tier_count = tiers_from_jsonb(DatumGetJsonbP(tiers), out->tiers, "tiers");
        }
        // The per-request fee is a column of the same row: no further lookup. Absent in a 1.0 database.
        out->price.per_request = Decimal();
        const AttrNumber fee_attnum = extension_column(RelationGetRelid(scan->heap), "per_request");
        if (fee_attnum > 0) {
            Decimal fee = amount_column(row, fee_attnum, "per_request", &isnull);
            if (!isnull) out->price.per_request = fee;
        }
        out->rule = key.rule;
        out->matched_model = name;
        out->matched_provider = key_provider;
        out->matched_provider_null = key_provider_null;
        return true;
    }
    return false;
}

size_t tiers_from_jsonb(Jsonb* tiers, PriceTier* out, const char* argument) {
    if (!JB_ROOT_IS_ARRAY(tiers) || JB_ROOT_IS_SCALAR(tiers))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid %s: it must be a JSON array of tier objects", argument),
                        errhint("[{\"above_input_tokens\": 200000, \"input_per_mtok\": 6, \"output_per_mtok\": 22.5}]")));
    static const char* const fields[5] = {"above_input_tokens", "input_per_mtok", "output_per_mtok",
                                          "cache_read_per_mtok", "cache_write_per_mtok"};
    size_t count = 0;
    JsonbIterator* it = JsonbIteratorInit(&tiers->root);
    JsonbValue v;
    JsonbIteratorToken token;
    while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
        if (token != WJB_ELEM) continue;
        if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("invalid %s: tier %zu is not a JSON object", argument, count + 1)));
        if (count == kMaxTiers)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("invalid %s: more than %zu tiers", argument, kMaxTiers)));
        const char* texts[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
        JsonbIterator* fit = JsonbIteratorInit(v.val.binary.data);
        JsonbValue f;
        JsonbIteratorToken ft;
        int current = -1;
        while ((ft = JsonbIteratorNext(&fit, &f, true)) != WJB_DONE) {
            if (ft == WJB_KEY) {
                current = -1;
                for (int k = 0; k < 5; ++k)
                    if (static_cast<size_t>(f.val.string.len) == strlen(fields[k]) &&
                        memcmp(f.val.string.val, fields[k], f.val.string.len) == 0)
                        current = k;
                if (current < 0)
                    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                    errmsg("invalid %s: tier %zu has an unknown field \"%.*s\"", argument, count + 1,
                                           f.val.string.len, f.val.string.val)));
            } else if (ft == WJB_VALUE) {
                if (f.type != jbvNumeric)
                    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                    errmsg("invalid %s: tier %zu field %s must be a number", argument, count + 1,
                                           fields[current])));
                texts[current] = numeric_text(NumericGetDatum(f.val.numeric));
            }
        }
        for (int k = 0; k < 3; ++k)
            if (texts[k] == nullptr)
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("invalid %s: tier %zu has no %s", argument, count + 1, fields[k])));
        char* names[5];
        for (int k = 0; k < 5; ++k) names[k] = psprintf("%s: tier %zu %s", argument, count + 1, fields[k]);
        PriceTier& tier = out[count];
        core_or_raise([&] {
            tier = PriceTier();
            tier.above_input_tokens = parse_threshold(names[0], texts[0]);
            tier.price.input_per_mtok = parse_price(names[1], texts[1]);
            tier.price.output_per_mtok = parse_price(names[2], texts[2]);
            if (texts[3]) tier.price.cache_read_per_mtok = parse_price(names[3], texts[3]);
            if (texts[4]) tier.price.cache_write_per_mtok = parse_price(names[4], texts[4]);
        });
        ++count;
    }
    core_or_raise([&] { check_tiers(out, count, argument); });
    return count;
}

Datum tiers_jsonb(const PriceTier* tiers, size_t count) {
    char* buf = static_cast<char*>(palloc(16384));
    bool fits = false;
    core_or_raise([&] { fits = write_tiers_json(tiers, count, buf, 16384); });
    if (!fits) elog(ERROR, "usage_meter: tiers too long");
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf));
}

bool find_unit_price(Datum operation, Datum at, int64* unit_price_id, Decimal* per_unit) {
    KeyScan scan;
    ScanKeyData keys[2];
    key_scan_open(&scan, "unit_prices", "unit_prices_operation_from", 2);
    key_text(&scan, &keys[0], 1, operation);
    key_timestamptz_at_most(&keys[1], 2, at);
    key_scan_rescan(&scan, keys, 2);
    bool found = key_scan_previous(&scan);
    if (found) {
        bool isnull;
        *unit_price_id = DatumGetInt64(slot_getattr(scan.row, key_scan_column(&scan, "unit_price_id"), &isnull));
        *per_unit = amount_from_numeric(slot_getattr(scan.row, key_scan_column(&scan, "per_unit"), &isnull), "per_unit");
    }
    key_scan_close(&scan);
    return found;
}

}  // namespace usage_meter::pg

using namespace usage_meter;
using namespace usage_meter::pg;

// BEFORE INSERT OR UPDATE ON prices FOR EACH ROW. A price is never rewritten: UPDATE is refused, and a new
// price may not start before the latest existing price of the same model and provider (that would change
// which price was in force for events already recorded). Tiers are checked and stored canonically.
UM_FUNCTION(prices_guard) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "prices_guard must be called as a trigger");
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (TRIGGER_FIRED_BY_UPDATE(trigger->tg_event))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("usage_meter.prices rows are never rewritten: UPDATE is not allowed"),
                        errhint("Add the new price with a later effective_from.")));
    Relation rel = trigger->tg_relation;
    TupleDesc desc = RelationGetDescr(rel);
    HeapTuple tuple = trigger->tg_trigtuple;
    bool isnull, provider_null;
    Datum model = heap_getattr(tuple, extension_column(RelationGetRelid(rel), "model"), desc, &isnull);
    if (isnull) return PointerGetDatum(tuple);  // NOT NULL refuses it
    Datum provider = heap_getattr(tuple, extension_column(RelationGetRelid(rel), "provider"), desc, &provider_null);
    Datum from = heap_getattr(tuple, extension_column(RelationGetRelid(rel), "effective_from"), desc, &isnull);
    if (isnull) return PointerGetDatum(tuple);
    TextView m = text_view(model, false);
    TextView p = text_view(provider, provider_null);
    core_or_raise([&] {
        check_required_name("model", m.data, m.length);
        check_optional_name("provider", p.data, p.length);
    });

    // Every price this row sets, within a price's bounds (whichever way it arrives: set_price, the import, an
    // INSERT), with a clear error naming the column and its value before any CHECK constraint's.
    static const char* const price_columns[] = {"input_per_mtok", "output_per_mtok", "cache_read_per_mtok",
                                                "cache_write_per_mtok", "per_request"};
    for (const char* column : price_columns) {
        AttrNumber attnum = extension_column(RelationGetRelid(rel), column);
        if (attnum <= 0) continue;  // per_request: from 1.1
        Datum price = heap_getattr(tuple, attnum, desc, &isnull);
        if (!isnull) (void)bounded_from_numeric(price, column, parse_price);
    }

    AttrNumber tiers_attnum = extension_column(RelationGetRelid(rel), "tiers");
    Datum tiers = heap_getattr(tuple, tiers_attnum, desc, &isnull);
    if (!isnull) {
        PriceTier parsed[kMaxTiers];
        size_t count = tiers_from_jsonb(DatumGetJsonbP(tiers), parsed, "tiers");
        int columns[1] = {tiers_attnum};
        Datum values[1] = {count == 0 ? 0 : tiers_jsonb(parsed, count)};
        bool nulls[1] = {count == 0};  // no tiers at all: NULL
        tuple = heap_modify_tuple_by_cols(tuple, desc, 1, columns, values, nulls);
    }

    // One writer of prices at a time, and the check reads the latest committed prices. One lock for every
    // model: a transaction that writes many prices (an import of the whole map) holds one lock, not one per
    // key (which ran out of shared memory at ~10,000 keys). Price writes are rare; readers never wait.
    static const char kPriceWriterLock[] = "usage_meter.prices";
    int64 lock_key = DatumGetInt64(DirectFunctionCall2Coll(hashtextextended, C_COLLATION_OID,
                                                           CStringGetTextDatum(kPriceWriterLock), Int64GetDatum(0)));
    DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(lock_key));
    PushActiveSnapshot(GetLatestSnapshot());
    KeyScan scan;
    key_scan_open(&scan, "prices", "prices_model_provider_from", 2);  // a scan takes exactly the keys it was opened for
    ScanKeyData keys[2];
    key_text(&scan, &keys[0], 1, model);
    if (provider_null)
        key_is_null(&keys[1], 2);
    else
        key_text(&scan, &keys[1], 2, provider);
    key_scan_rescan(&scan, keys, 2);
    bool later_exists = false;
    TimestampTz latest = 0;
    int64 latest_id = 0;
    if (key_scan_previous(&scan)) {
        latest = DatumGetTimestampTz(slot_getattr(scan.row, key_scan_column(&scan, "effective_from"), &isnull));
        latest_id = DatumGetInt64(slot_getattr(scan.row, key_scan_column(&scan, "price_id"), &isnull));
        later_exists = latest > DatumGetTimestampTz(from);
    }
    key_scan_close(&scan);
    if (later_exists) {
        // A row at exactly this time is no overlap: the unique key settles it (set_price returns the same
        // price, or refuses a different one).
        KeyScan same;
        price_scan_open(&same);
        ScanKeyData exact[3];
        key_text(&same, &exact[0], 1, model);
        if (provider_null)
            key_is_null(&exact[1], 2);
        else
            key_text(&same, &exact[1], 2, provider);
        key_timestamptz_at_most(&exact[2], 3, from);
        key_scan_rescan(&same, exact, 3);
        bool at_same_time = key_scan_previous(&same) &&
                            DatumGetTimestampTz(slot_getattr(same.row, key_scan_column(&same, "effective_from"),
                                                             &isnull)) == DatumGetTimestampTz(from);
        key_scan_close(&same);
        if (!at_same_time) {
            char* new_from = pstrdup(timestamptz_to_str(DatumGetTimestampTz(from)));
            ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION),
                            errmsg("a price for model \"%s\"%s%s%s from %s would overlap price %lld, in force from %s",
                                   TextDatumGetCString(model), provider_null ? "" : " and provider \"",
                                   provider_null ? "" : TextDatumGetCString(provider), provider_null ? "" : "\"",
                                   new_from, static_cast<long long>(latest_id), timestamptz_to_str(latest)),
                            errhint("Prices are never rewritten: a change applies from a time after the latest price.")));
        }
    }
    PopActiveSnapshot();
    return PointerGetDatum(tuple);
}

// price_for(model, provider DEFAULT NULL, at DEFAULT now()) -> the price that applies and why.
UM_FUNCTION(price_for) {
    Datum model = name_arg(fcinfo, 0, "model");
    bool provider_null = PG_ARGISNULL(1);
    Datum provider = provider_null ? 0 : PG_GETARG_DATUM(1);
    if (!provider_null) {
        TextView p = text_view(provider, false);
        core_or_raise([&] { check_optional_name("provider", p.data, p.length); });
    }
    require_arg(fcinfo, 2, "at");
    Datum at = PG_GETARG_DATUM(2);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "price_for must return a record");
    desc = BlessTupleDesc(desc);

    FoundPrice found;
    KeyScan scan;
    price_scan_open(&scan);
    bool ok = find_price(&scan, model, provider, provider_null, at, &found);
    Datum values[12];
    bool nulls[12];
    for (int i = 0; i < 12; ++i) nulls[i] = !ok;
    char* model_text = TextDatumGetCString(model);
    if (ok) {
        values[0] = Int64GetDatum(found.price_id);
        values[1] = PointerGetDatum(DatumGetTextPCopy(found.matched_model));
        values[2] = found.matched_provider_null ? 0 : PointerGetDatum(DatumGetTextPCopy(found.matched_provider));
        nulls[2] = found.matched_provider_null;
        values[3] = TimestampTzGetDatum(found.effective_from);
        values[4] = numeric_from_decimal(found.price.input_per_mtok);
        values[5] = numeric_from_decimal(found.price.output_per_mtok);
        nulls[6] = !found.price.cache_read_per_mtok;
        if (!nulls[6]) values[6] = numeric_from_decimal(*found.price.cache_read_per_mtok);
        nulls[7] = !found.price.cache_write_per_mtok;
        if (!nulls[7]) values[7] = numeric_from_decimal(*found.price.cache_write_per_mtok);
        nulls[8] = found.tier_count == 0;
        if (!nulls[8]) values[8] = tiers_jsonb(found.tiers, found.tier_count);
        values[9] = numeric_from_decimal(found.price.per_request);
        values[10] = CStringGetTextDatum(match_rule_name(found.rule));
        const char* matched_provider = found.matched_provider_null
                                           ? "any provider (provider NULL)"
                                           : psprintf("provider \"%s\"", TextDatumGetCString(found.matched_provider));
        values[11] = CStringGetTextDatum(
            psprintf("%s: model \"%s\" is priced by the entry for \"%s\" and %s, in force since %s",
                     match_rule_name(found.rule), model_text, TextDatumGetCString(found.matched_model),
                     matched_provider, timestamptz_to_str(found.effective_from)));
    } else {
        nulls[11] = false;
        values[11] = CStringGetTextDatum(psprintf(
            "no price: model \"%s\"%s%s%s has no price in force at %s, exactly or by provider prefix or dated id",
            model_text, provider_null ? "" : " with provider \"", provider_null ? "" : TextDatumGetCString(provider),
            provider_null ? "" : "\"", timestamptz_to_str(DatumGetTimestampTz(at))));
    }
    key_scan_close(&scan);
    return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

// import_litellm_prices(prices jsonb, effective_from DEFAULT now()) -> (added, unchanged, skipped).
// Each entry with per-token input and output prices becomes a price for (entry name, litellm_provider) from
// effective_from, unless the price in force then is already exactly the same.
UM_FUNCTION(import_litellm_prices) {
    require_arg(fcinfo, 0, "prices");
    require_arg(fcinfo, 1, "effective_from");
    require_finite(PG_GETARG_TIMESTAMPTZ(1), "effective_from", true);
    Datum from = PG_GETARG_DATUM(1);
    Jsonb* map = PG_GETARG_JSONB_P(0);
    if (!JB_ROOT_IS_OBJECT(map) || JB_ROOT_IS_SCALAR(map))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid prices: it must be a JSON object of model name -> entry"),
                        errhint("Pass the content of LiteLLM's model_prices_and_context_window.json.")));
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) elog(ERROR, "must return a record");
    desc = BlessTupleDesc(desc);

    spi_connect();
    int64 added = 0, unchanged = 0, skipped = 0;
    // On the stack, not palloc'd: Decimal holds an __int128, which needs 16-byte alignment (palloc gives 8).
    LiteLlmPrice entry_storage;
    FoundPrice current_storage;
    LiteLlmPrice* entry = &entry_storage;
    FoundPrice* current = &current_storage;
    MemoryContext per_entry = AllocSetContextCreate(CurrentMemoryContext, "usage_meter import", ALLOCSET_DEFAULT_SIZES);

    JsonbIterator* it = JsonbIteratorInit(&map->root);
    JsonbValue v;
    JsonbIteratorToken token;
    char* name = nullptr;
    while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
        if (token == WJB_KEY) {
            name = pnstrdup(v.val.string.val, v.val.string.len);
            continue;
        }
        if (token != WJB_VALUE) continue;
        // Values that are not objects are the map's own metadata (such as "last_updated"): skipped.
        if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data)) {
            ++skipped;
            continue;
        }
        MemoryContext outer = MemoryContextSwitchTo(per_entry);
        bool name_ok = true;
        size_t name_length = strlen(name);
        {
            Failure failure;
            failure.failed = false;
            name_ok = core_call(failure, [&] { check_required_name("model", name, name_length); });
        }
        // "sample_spec" documents the format; names we could not record usage under are skipped too.
        if (!name_ok || strcmp(name, "sample_spec") == 0) {
            ++skipped;
            MemoryContextSwitchTo(outer);
            MemoryContextReset(per_entry);
            continue;
        }
        *entry = LiteLlmPrice();
        const char* provider = nullptr;
        JsonbIterator* fit = JsonbIteratorInit(v.val.binary.data);
        JsonbValue f;
        JsonbIteratorToken ft;
        char* key = nullptr;
        while ((ft = JsonbIteratorNext(&fit, &f, true)) != WJB_DONE) {
            if (ft == WJB_KEY) {
                key = pnstrdup(f.val.string.val, f.val.string.len);
            } else if (ft == WJB_VALUE) {
                if (strcmp(key, "litellm_provider") == 0) {
                    if (f.type != jbvString)
                        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                        errmsg("invalid prices: litellm_provider of \"%s\" must be a string", name)));
                    provider = pnstrdup(f.val.string.val, f.val.string.len);
                    continue;
                }
                bool is_number = f.type == jbvNumeric;
                const char* number = is_number ? numeric_text(NumericGetDatum(f.val.numeric)) : "";
                core_or_raise([&] { litellm_field(*entry, name, key, is_number, number); });
            }
        }
        bool importable = false;
        core_or_raise([&] {
            importable = litellm_finish(*entry);
            if (provider) check_optional_name("litellm_provider", provider, strlen(provider));
        });
        if (!importable) {
            ++skipped;
            MemoryContextSwitchTo(outer);
            MemoryContextReset(per_entry);
            continue;
        }
        Datum model = CStringGetTextDatum(name);
        Datum provider_datum = provider ? CStringGetTextDatum(provider) : 0;
        // Unchanged when the exact (model, provider) price in force at effective_from is the same.
        KeyScan scan;
        price_scan_open(&scan);
        ScanKeyData keys[3];
        key_text(&scan, &keys[0], 1, model);
        if (provider)
            key_text(&scan, &keys[1], 2, provider_datum);
        else
            key_is_null(&keys[1], 2);
        key_timestamptz_at_most(&keys[2], 3, from);
        key_scan_rescan(&scan, keys, 3);
        bool same = false;
        if (key_scan_previous(&scan)) {
            bool isnull;
            TupleTableSlot* row = scan.row;
            *current = FoundPrice();
            current->price.input_per_mtok =
                amount_from_numeric(slot_getattr(row, key_scan_column(&scan, "input_per_mtok"), &isnull),
                                    "input_per_mtok");
            current->price.output_per_mtok =
                amount_from_numeric(slot_getattr(row, key_scan_column(&scan, "output_per_mtok"), &isnull),
                                    "output_per_mtok");
            Datum d = slot_getattr(row, key_scan_column(&scan, "cache_read_per_mtok"), &isnull);
            if (!isnull) current->price.cache_read_per_mtok = amount_from_numeric(d, "cache_read_per_mtok");
            d = slot_getattr(row, key_scan_column(&scan, "cache_write_per_mtok"), &isnull);
            if (!isnull) current->price.cache_write_per_mtok = amount_from_numeric(d, "cache_write_per_mtok");
            d = slot_getattr(row, key_scan_column(&scan, "tiers"), &isnull);
            if (!isnull) current->tier_count = tiers_from_jsonb(DatumGetJsonbP(d), current->tiers, "tiers");
            current->price.per_request =
                amount_from_numeric(slot_getattr(row, key_scan_column(&scan, "per_request"), &isnull), "per_request");
            core_or_raise([&] {
                same = same_price(current->price, current->tiers, current->tier_count, entry->base, entry->tiers,
                                  entry->tier_count);
            });
        }
        key_scan_close(&scan);
        if (same) {
            ++unchanged;
        } else {
            SqlArg cache_read = kSqlNull, cache_write = kSqlNull, tiers = kSqlNull;
            if (entry->base.cache_read_per_mtok)
                cache_read = sql_arg(numeric_from_decimal(*entry->base.cache_read_per_mtok));
            if (entry->base.cache_write_per_mtok)
                cache_write = sql_arg(numeric_from_decimal(*entry->base.cache_write_per_mtok));
            if (entry->tier_count) tiers = sql_arg(tiers_jsonb(entry->tiers, entry->tier_count));
            price_add({sql_arg(model), sql_arg(numeric_from_decimal(entry->base.input_per_mtok)),
                       sql_arg(numeric_from_decimal(entry->base.output_per_mtok)), cache_read, cache_write,
                       sql_arg_or_null(provider_datum, provider == nullptr), sql_arg(from), tiers,
                       sql_arg(numeric_from_decimal(entry->base.per_request))});
            ++added;
        }
        MemoryContextSwitchTo(outer);
        MemoryContextReset(per_entry);
    }
    SPI_finish();
    Datum values[3] = {Int64GetDatum(added), Int64GetDatum(unchanged), Int64GetDatum(skipped)};
    bool nulls[3] = {false, false, false};
    return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}
