#include "model_match.h"

namespace usage_meter {

const char* match_rule_name(MatchRule rule) {
    switch (rule) {
        case MatchRule::Exact: return "exact";
        case MatchRule::ProviderPrefix: return "provider prefix";
        case MatchRule::DatedId: return "dated id";
        case MatchRule::ProviderPrefixDated: return "provider prefix + dated id";
    }
    return "?";
}

namespace {

bool digits(std::string_view s) {
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return !s.empty();
}

int number(std::string_view s) {
    int v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
}

// A plausible release date: year 2000-2099, month 1-12, day 1-31.
bool plausible_date(std::string_view year, std::string_view month, std::string_view day) {
    if (!digits(year) || !digits(month) || !digits(day)) return false;
    int y = number(year), m = number(month), d = number(day);
    return y >= 2000 && y <= 2099 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

void add(PriceKeys& out, size_t begin, size_t length, KeyProvider provider, MatchRule rule) {
    if (out.count == kMaxPriceKeys) return;  // cannot happen: at most 10 keys are generated
    out.keys[out.count++] = PriceKey{static_cast<uint32_t>(begin), static_cast<uint32_t>(length), provider, rule};
}

}  // namespace

size_t undated_length(std::string_view name) {
    const size_t n = name.size();
    // -YYYYMMDD or @YYYYMMDD
    if (n > 9 && (name[n - 9] == '-' || name[n - 9] == '@') &&
        plausible_date(name.substr(n - 8, 4), name.substr(n - 4, 2), name.substr(n - 2, 2)))
        return n - 9;
    // -YYYY-MM-DD or @YYYY-MM-DD
    if (n > 11 && (name[n - 11] == '-' || name[n - 11] == '@') && name[n - 6] == '-' && name[n - 3] == '-' &&
        plausible_date(name.substr(n - 10, 4), name.substr(n - 5, 2), name.substr(n - 2, 2)))
        return n - 11;
    return n;
}

PriceKeys price_lookup_keys(std::string_view model, bool event_has_provider) {
    PriceKeys out;
    const size_t n = model.size();
    // 1. exact
    if (event_has_provider) add(out, 0, n, KeyProvider::Event, MatchRule::Exact);
    add(out, 0, n, KeyProvider::None, MatchRule::Exact);

    // 2. provider prefix
    size_t slash = model.find('/');
    bool prefixed = slash != std::string_view::npos && slash > 0 && slash + 1 < n;
    KeyProvider rest_provider = event_has_provider ? KeyProvider::Event : KeyProvider::Prefix;
    size_t rest_begin = 0, rest_length = 0;
    if (prefixed) {
        out.prefix_length = static_cast<uint32_t>(slash);
        rest_begin = slash + 1;
        rest_length = n - rest_begin;
        if (!event_has_provider) add(out, 0, n, KeyProvider::Prefix, MatchRule::ProviderPrefix);
        add(out, rest_begin, rest_length, rest_provider, MatchRule::ProviderPrefix);
        add(out, rest_begin, rest_length, KeyProvider::None, MatchRule::ProviderPrefix);
    }

    // 3. dated id
    size_t undated = undated_length(model);
    if (undated < n && undated > (prefixed ? slash + 1 : 0)) {
        if (event_has_provider) add(out, 0, undated, KeyProvider::Event, MatchRule::DatedId);
        add(out, 0, undated, KeyProvider::None, MatchRule::DatedId);
    }

    // 4. provider prefix + dated id
    if (prefixed) {
        size_t rest_undated = undated_length(model.substr(rest_begin, rest_length));
        if (rest_undated > 0 && rest_undated < rest_length) {
            add(out, rest_begin, rest_undated, rest_provider, MatchRule::ProviderPrefixDated);
            add(out, rest_begin, rest_undated, KeyProvider::None, MatchRule::ProviderPrefixDated);
        }
    }
    return out;
}

}  // namespace usage_meter
