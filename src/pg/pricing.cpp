// Prices: the lookup the ledger trigger and price_for() share, the guard on the prices table (history only
// grows forward, tiers are valid and canonical, rows are never updated), price_for() and
// import_litellm_prices().

#include "pricing.h"

#include "args.h"
#include "extension_catalog.h"
#include "statement.h"
#include "tables/aliases.h"
#include "tables/prices.h"

extern "C" {
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "utils/lsyscache.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "lib/stringinfo.h"
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

namespace {

// Reads the price row in scan->row into out (not the match fields).
void read_price_row(KeyScan* scan, TupleTableSlot* row, FoundPrice* out) {
    bool isnull;
    out->price_id = DatumGetInt64(slot_getattr(row, key_scan_column(scan, "price_id"), &isnull));
    out->effective_from = DatumGetTimestampTz(slot_getattr(row, key_scan_column(scan, "effective_from"), &isnull));
    out->price = TokenPrice();
    out->price.input_per_mtok = amount_column(row, key_scan_column(scan, "input_per_mtok"), "input_per_mtok", &isnull);
    out->price.output_per_mtok = amount_column(row, key_scan_column(scan, "output_per_mtok"), "output_per_mtok", &isnull);
    Decimal cache_read = amount_column(row, key_scan_column(scan, "cache_read_per_mtok"), "cache_read_per_mtok", &isnull);
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
}

// The latest price of (name, provider) in force at `at`: one backward index probe.
bool probe_price(KeyScan* scan, Datum name, Datum provider, bool provider_null, Datum at, FoundPrice* out) {
    ScanKeyData sk[3];
    key_text(scan, &sk[0], 1, name);
    if (provider_null)
        key_is_null(&sk[1], 2);
    else
        key_text(scan, &sk[1], 2, provider);
    key_timestamptz_at_most(&sk[2], 3, at);
    key_scan_rescan(scan, sk, 3);
    if (!key_scan_previous(scan)) return false;
    read_price_row(scan, scan->row, out);
    return true;
}

}  // namespace

TimestampTz price_superseded_at(KeyScan* scan, Datum model, Datum provider, bool provider_null, TimestampTz from) {
    ScanKeyData sk[3];
    key_text(scan, &sk[0], 1, model);
    if (provider_null)
        key_is_null(&sk[1], 2);
    else
        key_text(scan, &sk[1], 2, provider);
    key_timestamptz_after(&sk[2], 3, TimestampTzGetDatum(from));
    key_scan_rescan(scan, sk, 3);
    if (!key_scan_next(scan)) return DT_NOEND;
    bool isnull;
    return DatumGetTimestampTz(slot_getattr(scan->row, key_scan_column(scan, "effective_from"), &isnull));
}

namespace {

// A price key as shown to people: "model (provider)", or "model" for a provider-NULL price.
char* price_key_text(Datum model, Datum provider) {
    return provider == 0 ? TextDatumGetCString(model)
                         : psprintf("%s (%s)", TextDatumGetCString(model), TextDatumGetCString(provider));
}

// At most this many providers of one name are considered (the public map prices a name under one).
constexpr size_t kMaxOffers = 64;

// The providers that have a price for one name in force at `at`, each with the row of its latest such price.
struct Offers {
    size_t count;
    Datum model[kMaxOffers];     // text: the key's model (collect_keys_of_name), or 0: the name itself
    Datum provider[kMaxOffers];  // text, 0 for NULL
    ItemPointerData row[kMaxOffers];
    ProviderOffer offer[kMaxOffers];
};

// Whether offer i is for this provider (NULL included).
bool same_provider(const Offers& offers, size_t i, Datum provider, bool provider_null) {
    return provider_null ? offers.offer[i].null : !offers.offer[i].null && text_equal(offers.provider[i], provider);
}

// One forward scan of the name's rows (ordered by provider, then effective_from) through `by_name`, opened on
// prices_model_provider_from with 2 keys (model, effective_from <= at).
void collect_offers(KeyScan* by_name, Datum name, Datum at, Offers* out) {
    ScanKeyData sk[2];
    key_text(by_name, &sk[0], 1, name);
    key_timestamptz_at_most(&sk[1], 3, at);
    key_scan_rescan(by_name, sk, 2);
    const AttrNumber provider_column = key_scan_column(by_name, "provider");
    out->count = 0;
    while (key_scan_next(by_name)) {
        bool isnull;
        Datum provider = slot_getattr(by_name->row, provider_column, &isnull);
        size_t last = out->count;  // the same provider as the previous row: a later price of it
        if (last > 0 && same_provider(*out, last - 1, provider, isnull)) {
            out->row[last - 1] = by_name->row->tts_tid;
            continue;
        }
        if (out->count == kMaxOffers) break;
        out->model[last] = 0;
        out->provider[last] = isnull ? 0 : datumCopy(provider, false, -1);
        out->offer[last] = ProviderOffer{isnull, -1};
        out->row[last] = by_name->row->tts_tid;
        ++out->count;
    }
}

// Every price key "s/name" (any s) with a price in force at `at`, one offer per (model, provider) key, through
// `by_suffix`, opened on prices_unprefixed (the part of model after its first '/') with 1 key. Each key is
// another provider's (rank -1): one key is the only one that prices the name, several are ambiguous.
void collect_keys_of_name(KeyScan* by_suffix, Datum name, Datum at, Offers* out) {
    ScanKeyData sk;
    key_text(by_suffix, &sk, 1, name);
    key_scan_rescan(by_suffix, &sk, 1);
    const AttrNumber model_column = key_scan_column(by_suffix, "model"),
                     provider_column = key_scan_column(by_suffix, "provider"),
                     from_column = key_scan_column(by_suffix, "effective_from");
    const TimestampTz until = DatumGetTimestampTz(at);
    TimestampTz latest[kMaxOffers];
    out->count = 0;
    while (key_scan_next(by_suffix)) {
        bool isnull, provider_null;
        const TimestampTz from = DatumGetTimestampTz(slot_getattr(by_suffix->row, from_column, &isnull));
        if (from > until) continue;
        Datum model = slot_getattr(by_suffix->row, model_column, &isnull);
        Datum provider = slot_getattr(by_suffix->row, provider_column, &provider_null);
        size_t k = 0;
        while (k < out->count && !(text_equal(out->model[k], model) && same_provider(*out, k, provider, provider_null)))
            ++k;
        if (k == out->count) {
            if (out->count == kMaxOffers) continue;
            out->model[k] = datumCopy(model, false, -1);
            out->provider[k] = provider_null ? 0 : datumCopy(provider, false, -1);
            out->offer[k] = ProviderOffer{false, -1};  // a key of its own, whatever its provider
            latest[k] = from;
            out->row[k] = by_suffix->row->tts_tid;
            ++out->count;
        } else if (from > latest[k]) {
            latest[k] = from;
            out->row[k] = by_suffix->row->tts_tid;
        }
    }
}

// Ranks each offer against a provider family (0: the provider itself, k: its k-th alias, -1: another).
void rank_offers(Offers* offers, const ProviderFamily& family) {
    for (size_t i = 0; i < offers->count; ++i) {
        if (offers->offer[i].null) continue;
        offers->offer[i].rank = -1;
        for (size_t k = 0; k < family.count; ++k)
            if (text_equal(offers->provider[i], family.names[k])) {
                offers->offer[i].rank = static_cast<int>(k);
                break;
            }
    }
}

const char* choice_name(ProviderChoiceKind kind) {
    switch (kind) {
        case ProviderChoiceKind::None: return "no provider applies";
        case ProviderChoiceKind::Preferred: return "the event's provider";
        case ProviderChoiceKind::Alias: return "an alias of the provider";
        case ProviderChoiceKind::NullProvider: return "the provider-NULL price";
        case ProviderChoiceKind::OnlyProvider: return "the only provider that prices it";
        case ProviderChoiceKind::Ambiguous: return "several providers, none chosen";
    }
    return "?";
}

void trace_line(List** trace, const char* rule, bool any_prefix, Datum name, const Offers& offers,
                ProviderChoiceKind kind) {
    if (trace == nullptr) return;
    StringInfoData line;
    initStringInfo(&line);
    appendStringInfo(&line, "%s: %s%s [", rule, any_prefix ? "*/" : "", TextDatumGetCString(name));
    for (size_t i = 0; i < offers.count; ++i) {
        const char* key = offers.model[i] != 0
                              ? price_key_text(offers.model[i], offers.offer[i].null ? 0 : offers.provider[i])
                          : offers.offer[i].null ? "NULL"
                                                 : TextDatumGetCString(offers.provider[i]);
        appendStringInfo(&line, "%s%s", i ? ", " : "", key);
    }
    appendStringInfo(&line, "] -> %s", choice_name(kind));
    *trace = lappend(*trace, line.data);
}

struct Lookup {
    KeyScan* scan;    // prices_model_provider_from, 3 keys
    KeyScan by_name;  // the same index, 2 keys; opened on first use
    bool by_name_open;
    KeyScan by_suffix;  // prices_unprefixed, 1 key; opened on first use
    bool by_suffix_open;
    Datum at;
    List** trace;
};

bool has_other_provider(const Offers& offers) {
    for (size_t i = 0; i < offers.count; ++i)
        if (!offers.offer[i].null && offers.offer[i].rank < 0) return true;
    return false;
}

// The names of the core's matching for (model, provider), in order (price_name_candidates), each chosen among
// its providers (choose_provider). The event provider's aliases are read only when the exact name does not
// settle it: priced neither for the provider itself nor for NULL, or priced for another provider too.
bool match(Lookup* lookup, Datum model, Datum provider, bool provider_null, bool with_alias, FoundPrice* out) {
    TextView m = text_view(model, false);
    ProviderFamily event_family;
    event_family.count = provider_null ? 0 : 1;
    event_family.names[0] = provider;
    bool aliases_read = provider_null;
    NameCandidates candidates;
    auto list_candidates = [&] {
        std::string_view spellings[kMaxProviderSpellings];
        for (size_t i = 0; i < event_family.count; ++i) {
            TextView t = text_view(event_family.names[i], false);
            spellings[i] = std::string_view(t.data, t.length);
        }
        core_or_raise([&] {
            candidates = price_name_candidates(std::string_view(m.data, m.length), !provider_null, spellings,
                                               event_family.count, with_alias);
        });
    };
    auto read_aliases = [&] {
        if (aliases_read) return;
        provider_family(provider, &event_family);
        aliases_read = true;
        list_candidates();  // the same first candidate; provider keys for every spelling after it
    };
    list_candidates();
    ProviderFamily prefix_family;  // the provider the model's prefix names, and its aliases once read
    prefix_family.count = 0;
    bool prefix_aliases_read = false;
    Offers* offers = static_cast<Offers*>(palloc(sizeof(Offers)));
    for (size_t i = 0; i < candidates.count; ++i) {
        if (i == 1) read_aliases();
        const NameCandidate& c = candidates.items[i];
        if (c.rule == MatchRule::ModelAlias) {
            Datum target, target_provider;
            bool target_provider_null;
            if (!model_alias(model, &target, &target_provider, &target_provider_null)) continue;
            if (target_provider_null) {  // the alias names no provider: the event's
                target_provider = provider;
                target_provider_null = provider_null;
            }
            if (lookup->trace)
                *lookup->trace =
                    lappend(*lookup->trace, psprintf("model alias: %s -> %s%s%s", TextDatumGetCString(model),
                                                     TextDatumGetCString(target), target_provider_null ? "" : " @",
                                                     target_provider_null ? "" : TextDatumGetCString(target_provider)));
            if (match(lookup, target, target_provider, target_provider_null, false, out)) {
                out->rule = MatchRule::ModelAlias;
                out->via_alias = true;
                out->alias_model = target;
                return true;
            }
            continue;
        }
        Datum name;
        if (c.key_spelling >= 0) {
            TextView s = text_view(event_family.names[c.key_spelling], false);
            name = PointerGetDatum(cstring_to_text(psprintf("%.*s/%.*s", static_cast<int>(s.length), s.data,
                                                            static_cast<int>(c.length), m.data + c.begin)));
        } else {
            name = c.begin == 0 && c.length == m.length ? model : text_datum(m.data + c.begin, c.length);
        }
        KeyScan* scanned = &lookup->by_name;
        if (c.any_prefix) {
            if (!OidIsValid(extension_relation_oid("prices_unprefixed"))) continue;  // before 1.5
            if (!lookup->by_suffix_open) {
                key_scan_open(&lookup->by_suffix, "prices", "prices_unprefixed", 1);
                lookup->by_suffix_open = true;
            }
            scanned = &lookup->by_suffix;
            collect_keys_of_name(scanned, name, lookup->at, offers);
        } else {
            if (!lookup->by_name_open) {
                key_scan_open(&lookup->by_name, "prices", "prices_model_provider_from", 2);
                lookup->by_name_open = true;
            }
            collect_offers(scanned, name, lookup->at, offers);
        }
        if (c.preferred == PreferredProvider::Event) {
            rank_offers(offers, event_family);
            if (!aliases_read && has_other_provider(*offers)) {
                read_aliases();
                rank_offers(offers, event_family);
            }
        } else if (c.preferred == PreferredProvider::Prefix) {
            if (prefix_family.count == 0) {
                prefix_family.count = 1;
                prefix_family.names[0] = text_datum(m.data, candidates.prefix_length);
            }
            rank_offers(offers, prefix_family);
            if (!prefix_aliases_read && has_other_provider(*offers)) {
                provider_family(prefix_family.names[0], &prefix_family);
                prefix_aliases_read = true;
                rank_offers(offers, prefix_family);
            }
        }
        ProviderChoice choice;
        core_or_raise([&] { choice = choose_provider(c, offers->offer, offers->count); });
        trace_line(lookup->trace, match_rule_name(c.rule), c.any_prefix, name, *offers, choice.kind);
        if (choice.kind == ProviderChoiceKind::None) continue;
        if (choice.kind == ProviderChoiceKind::Ambiguous) {
            // Never a pick among them; a later rule may still price the event (the rest of a prefixed name
            // for the prefix's provider, say). When none does, the first ambiguity is what price_for reports.
            if (out->ambiguous_count == 0) {
                out->ambiguous_name = name;
                for (size_t k = 0; k < offers->count && out->ambiguous_count < FoundPrice::kMaxListed; ++k) {
                    if (offers->offer[k].null && offers->model[k] == 0) continue;  // (it would have been chosen)
                    out->ambiguous_model[out->ambiguous_count] = offers->model[k] != 0 ? offers->model[k] : name;
                    out->ambiguous[out->ambiguous_count++] = offers->offer[k].null ? 0 : offers->provider[k];
                }
            }
            continue;
        }
        // The chosen provider's latest price in force: the row the scan saw, fetched by its id.
        if (!table_tuple_fetch_row_version(scanned->heap, &offers->row[choice.offer], scanned->scan->xs_snapshot,
                                           scanned->row))
            elog(ERROR, "usage_meter: a price row vanished during its lookup");
        read_price_row(scanned, scanned->row, out);
        out->rule = reported_rule(c, choice.kind);
        out->choice = choice.kind;
        out->matched_model = offers->model[choice.offer] != 0 ? offers->model[choice.offer] : name;
        out->matched_provider_null = offers->offer[choice.offer].null;
        out->matched_provider = out->matched_provider_null ? 0 : offers->provider[choice.offer];
        return true;
    }
    return false;
}

}  // namespace

bool find_price(KeyScan* scan, Datum model, Datum provider, bool provider_null, Datum at, FoundPrice* out, List** trace) {
    out->via_alias = false;
    out->alias_model = 0;
    out->ambiguous_count = 0;
    // The common case, one probe: the exact name, priced for the event's provider (or for none when it has none).
    if (probe_price(scan, model, provider, provider_null, at, out)) {
        out->rule = MatchRule::Exact;
        out->choice = provider_null ? ProviderChoiceKind::NullProvider : ProviderChoiceKind::Preferred;
        out->matched_model = model;
        out->matched_provider = provider;
        out->matched_provider_null = provider_null;
        if (trace)
            *trace = lappend(*trace, psprintf("exact: %s [%s] -> %s", TextDatumGetCString(model),
                                              provider_null ? "NULL" : TextDatumGetCString(provider),
                                              choice_name(out->choice)));
        return true;
    }
    Lookup lookup{scan, {}, false, {}, false, at, trace};
    bool found = match(&lookup, model, provider, provider_null, true, out);
    if (lookup.by_name_open) key_scan_close(&lookup.by_name);
    if (lookup.by_suffix_open) key_scan_close(&lookup.by_suffix);
    return found;
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
    List* trace = NIL;
    bool ok = find_price(&scan, model, provider, provider_null, at, &found, &trace);
    // 12 columns up to 1.4; 1.5 adds candidates (the names considered, one line each).
    const int natts = desc->natts < 13 ? desc->natts : 13;
    Datum values[13];
    bool nulls[13];
    for (int i = 0; i < 13; ++i) nulls[i] = !ok;
    char* model_text = TextDatumGetCString(model);
    const char* event_provider = provider_null ? "" : psprintf(" with provider \"%s\"", TextDatumGetCString(provider));
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
        const char* how = found.choice == ProviderChoiceKind::OnlyProvider ? " (the only provider that prices it)"
                          : found.choice == ProviderChoiceKind::Alias      ? " (an alias of the event's provider)"
                                                                           : "";
        const char* alias =
            found.via_alias ? psprintf(" is a model alias of \"%s\" and", TextDatumGetCString(found.alias_model)) : "";
        values[11] = CStringGetTextDatum(
            psprintf("%s: model \"%s\"%s is priced by the entry for \"%s\" and %s%s, in force since %s",
                     match_rule_name(found.rule), model_text, alias, TextDatumGetCString(found.matched_model),
                     matched_provider, how, timestamptz_to_str(found.effective_from)));
    } else if (found.ambiguous_count > 0) {
        nulls[11] = false;
        StringInfoData names;
        initStringInfo(&names);
        for (size_t i = 0; i < found.ambiguous_count; ++i)
            appendStringInfo(&names, "%s%s", i ? ", " : "", price_key_text(found.ambiguous_model[i], found.ambiguous[i]));
        values[11] = CStringGetTextDatum(
            psprintf("no price: model \"%s\"%s is ambiguous: \"%s\" is priced by several keys (%s) and none is the event's "
                     "provider's; record the provider, or set a model alias",
                     model_text, event_provider, TextDatumGetCString(found.ambiguous_name), names.data));
    } else {
        nulls[11] = false;
        values[11] = CStringGetTextDatum(
            psprintf("no price: model \"%s\"%s has no price in force at %s, exactly, by provider key, model alias, provider "
                     "prefix or dated id",
                     model_text, event_provider, timestamptz_to_str(DatumGetTimestampTz(at))));
    }
    if (natts == 13) {
        const int n = list_length(trace);
        Datum* lines = static_cast<Datum*>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
        int k = 0;
        ListCell* cell;
        foreach (cell, trace) lines[k++] = CStringGetTextDatum(static_cast<char*>(lfirst(cell)));
        values[12] = PointerGetDatum(construct_array(lines, n, TEXTOID, -1, false, TYPALIGN_INT));
        nulls[12] = false;
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
        bool same = false;
        if (probe_price(&scan, model, provider_datum, provider == nullptr, from, current)) {
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

// price_suggestions(model, provider DEFAULT NULL) -> text[]: the price keys ("model (provider)", or "model" for
// a provider-NULL price) that a set_model_alias or a price could use for a model without one: the providers of
// an ambiguous name first, then every priced name with the same fingerprint (model_fingerprint: case,
// separators, a provider prefix and a date aside). At most kMaxSuggestions, in that order.
UM_FUNCTION(price_suggestions) {
    constexpr int kMaxSuggestions = 10;
    constexpr size_t kFingerprintBytes = 4 * kMaxNameLength;
    Datum model = name_arg(fcinfo, 0, "model");
    bool provider_null = PG_ARGISNULL(1);
    Datum provider = provider_null ? 0 : PG_GETARG_DATUM(1);
    if (!provider_null) {
        TextView p = text_view(provider, false);
        core_or_raise([&] { check_optional_name("provider", p.data, p.length); });
    }
    MemoryContext caller = CurrentMemoryContext;
    Datum found[kMaxSuggestions];
    int count = 0;
    auto add = [&](const char* key) {
        for (int i = 0; i < count; ++i)
            if (strcmp(TextDatumGetCString(found[i]), key) == 0) return;
        if (count < kMaxSuggestions) found[count++] = CStringGetTextDatum(key);
    };

    // An ambiguous name: each of its providers.
    FoundPrice* price = static_cast<FoundPrice*>(palloc(sizeof(FoundPrice)));
    KeyScan scan;
    price_scan_open(&scan);
    bool priced = find_price(&scan, model, provider, provider_null,
                             TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), price);
    key_scan_close(&scan);
    if (!priced)
        for (size_t i = 0; i < price->ambiguous_count; ++i)
            add(price_key_text(price->ambiguous_model[i], price->ambiguous[i]));

    // Priced names with the same fingerprint.
    TextView m = text_view(model, false);
    char* own = static_cast<char*>(palloc(kFingerprintBytes));
    size_t own_length = 0;
    core_or_raise([&] { own_length = model_fingerprint(std::string_view(m.data, m.length), own, kFingerprintBytes); });
    char* other = static_cast<char*>(palloc(kFingerprintBytes));
    spi_connect();
    static Statement<0> keys = {"SELECT DISTINCT p.model, p.provider FROM usage_meter.prices AS p ORDER BY 1, 2 NULLS FIRST",
                                {}};
    run(keys, Access::kReadOnly, 0);
    for (uint64 row = 0; row < SPI_processed && count < kMaxSuggestions && own_length > 0; ++row) {
        bool isnull, key_provider_null;
        TextView k = text_view(result_value(row, 1, &isnull), false);
        size_t length = 0;
        core_or_raise([&] { length = model_fingerprint(std::string_view(k.data, k.length), other, kFingerprintBytes); });
        if (length != own_length || memcmp(own, other, length) != 0) continue;
        Datum key_provider = result_value(row, 2, &key_provider_null);
        MemoryContext spi = MemoryContextSwitchTo(caller);
        add(price_key_text(result_value(row, 1, &isnull), key_provider_null ? 0 : key_provider));
        MemoryContextSwitchTo(spi);
    }
    SPI_finish();
    PG_RETURN_ARRAYTYPE_P(construct_array(found, count, TEXTOID, -1, false, TYPALIGN_INT));
}
