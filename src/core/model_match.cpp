#include "model_match.h"

namespace usage_meter {

const char* match_rule_name(MatchRule rule) {
    switch (rule) {
        case MatchRule::Exact: return "exact";
        case MatchRule::ProviderKey: return "provider key";
        case MatchRule::ModelAlias: return "model alias";
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

void add(NameCandidates& out, size_t begin, size_t length, int key_spelling, MatchRule rule,
         PreferredProvider preferred, bool null_first, bool any_single, bool any_prefix = false) {
    if (out.count == kMaxNameCandidates) return;  // cannot happen: at most kMaxProviderSpellings + 6 are listed
    out.items[out.count++] = NameCandidate{static_cast<uint32_t>(begin),
                                           static_cast<uint32_t>(length),
                                           static_cast<int16_t>(key_spelling),
                                           rule,
                                           preferred,
                                           null_first,
                                           any_single,
                                           any_prefix};
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

NameCandidates price_name_candidates(std::string_view model, bool event_has_provider, const std::string_view* spellings,
                                     size_t spelling_count, bool with_alias) {
    NameCandidates out;
    const size_t n = model.size();
    const size_t slash = model.find('/');
    const bool prefixed = slash != std::string_view::npos && slash > 0 && slash + 1 < n;
    if (prefixed) out.prefix_length = static_cast<uint32_t>(slash);
    // The exact name and its dated form: the event's provider, or the prefix's, or none.
    const PreferredProvider own = event_has_provider ? PreferredProvider::Event
                                  : prefixed         ? PreferredProvider::Prefix
                                                     : PreferredProvider::None;
    // The rest of a prefixed name: the prefix names the provider when the event does not.
    const PreferredProvider rest = event_has_provider ? PreferredProvider::Event : PreferredProvider::Prefix;
    const bool single = !event_has_provider;

    // 1. exact
    add(out, 0, n, -1, MatchRule::Exact, own, !event_has_provider, single);

    // 2. provider key
    if (!event_has_provider) add(out, 0, n, -1, MatchRule::ProviderKey, PreferredProvider::None, false, true, true);
    if (event_has_provider) {
        const size_t count = spelling_count < kMaxProviderSpellings ? spelling_count : kMaxProviderSpellings;
        for (size_t i = 0; i < count; ++i) {
            if (spellings[i].empty()) continue;
            bool repeated = false;
            for (size_t j = 0; j < i; ++j) repeated |= spellings[j] == spellings[i];
            if (!repeated) add(out, 0, n, static_cast<int>(i), MatchRule::ProviderKey, own, false, false);
        }
    }

    // 3. model alias
    if (with_alias) add(out, 0, n, -1, MatchRule::ModelAlias, own, false, false);

    // 4. provider prefix
    size_t rest_begin = 0, rest_length = 0;
    if (prefixed) {
        rest_begin = slash + 1;
        rest_length = n - rest_begin;
        add(out, rest_begin, rest_length, -1, MatchRule::ProviderPrefix, rest, false, false);
    }

    // 5. dated id
    const size_t undated = undated_length(model);
    if (undated < n && undated > (prefixed ? slash + 1 : 0))
        add(out, 0, undated, -1, MatchRule::DatedId, own, false, single);

    // 6. provider prefix + dated id
    if (prefixed) {
        const size_t rest_undated = undated_length(model.substr(rest_begin, rest_length));
        if (rest_undated > 0 && rest_undated < rest_length)
            add(out, rest_begin, rest_undated, -1, MatchRule::ProviderPrefixDated, rest, false, false);
    }
    return out;
}

ProviderChoice choose_provider(const NameCandidate& candidate, const ProviderOffer* offers, size_t count) {
    size_t null_offer = count, best = count, other = count, others = 0;
    for (size_t i = 0; i < count; ++i) {
        if (offers[i].null) {
            null_offer = i;
        } else if (offers[i].rank >= 0) {
            if (best == count || offers[i].rank < offers[best].rank) best = i;
        } else {
            if (other == count) other = i;
            ++others;
        }
    }
    const bool preferring = candidate.preferred != PreferredProvider::None;
    if (candidate.null_first && null_offer < count) return {ProviderChoiceKind::NullProvider, null_offer};
    if (preferring && best < count)
        return {offers[best].rank == 0 ? ProviderChoiceKind::Preferred : ProviderChoiceKind::Alias, best};
    if (null_offer < count) return {ProviderChoiceKind::NullProvider, null_offer};
    if (candidate.any_single && others == 1) return {ProviderChoiceKind::OnlyProvider, other};
    if (candidate.any_single && others > 1) return {ProviderChoiceKind::Ambiguous, other};
    return {ProviderChoiceKind::None, count};
}

MatchRule reported_rule(const NameCandidate& candidate, ProviderChoiceKind kind) {
    if (candidate.rule == MatchRule::Exact && candidate.preferred == PreferredProvider::Prefix &&
        (kind == ProviderChoiceKind::Preferred || kind == ProviderChoiceKind::Alias))
        return MatchRule::ProviderPrefix;
    return candidate.rule;
}

size_t model_fingerprint(std::string_view name, char* out, size_t capacity) {
    const size_t slash = name.rfind('/');
    if (slash != std::string_view::npos) name = name.substr(slash + 1);
    name = name.substr(0, undated_length(name));
    size_t length = 0;
    for (char c : name) {
        if (c == '.' || c == '_' || c == ':' || c == '-') continue;
        if (length == capacity) break;
        out[length++] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return length;
}

}  // namespace usage_meter
