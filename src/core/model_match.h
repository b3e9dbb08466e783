// Model matching: which price an event of (model, provider) gets. The core lists the model names to look up,
// best first, and chooses among the providers that price one name; the adapter reads the prices table. The
// first name that yields a choice wins, so the candidate order and choose_provider are the whole precedence
// rule (docs/pricing.md gives it as one table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace usage_meter {

// Why a name was tried; price_for() reports it.
enum class MatchRule : uint8_t {
    Exact,                // the event's model as recorded
    ProviderKey,          // the price map's key for the event's provider: "gemini" + "gemini-2.5-pro" ->
                          // "gemini/gemini-2.5-pro" (also under each spelling the provider aliases give)
    ModelAlias,           // set_model_alias: the alias's model (and provider), matched by the other rules
    ProviderPrefix,       // "openai/gpt-4o-mini": the part after the first '/', the prefix naming the provider
    DatedId,              // "claude-3-5-haiku-20241022": the model without its trailing release date
    ProviderPrefixDated,  // both: "anthropic/claude-3-5-haiku-20241022" -> "claude-3-5-haiku"
};
const char* match_rule_name(MatchRule rule);

// Which provider a name's prices are chosen for.
enum class PreferredProvider : uint8_t {
    Event,   // the event's provider, then its aliases
    Prefix,  // the provider the model's prefix names, then its aliases (the event has no provider)
    None,    // none: the event has no provider and the name says none
};

// One model name to look up. The name is model.substr(begin, length), preceded by spelling[key_spelling] and
// '/' when key_spelling >= 0 (rule ProviderKey). A ModelAlias candidate is a marker: look the model's alias
// up here and match its target by the other rules.
struct NameCandidate {
    uint32_t begin;
    uint32_t length;
    int16_t key_spelling;
    MatchRule rule;
    PreferredProvider preferred;
    bool null_first;  // a provider-NULL price comes before the preferred provider's (the exact name, no
                      // provider on the event: what it recorded is the name alone)
    bool any_single;  // when neither applies, the one provider that prices the name; several: ambiguous
    bool any_prefix;  // the name is any price key "s/name" (and the name itself): the event has no provider, and
                      // the one key found prices it (rule ProviderKey)
};

// The provider spellings a ProviderKey candidate may use: the event's provider and its aliases, at most this many.
constexpr size_t kMaxProviderSpellings = 32;
constexpr size_t kMaxNameCandidates = kMaxProviderSpellings + 8;

struct NameCandidates {
    size_t count = 0;
    uint32_t prefix_length = 0;  // length of the provider prefix before the first '/', 0 when none
    NameCandidate items[kMaxNameCandidates];
};

// The names to try, best first:
//   1. exact          the model; provider: the event's (then its aliases, then NULL); without one: NULL, then
//                     the prefix's provider, then the one provider that prices the name
//   2. provider key   (event with provider p) s/model for s = p, then each alias of p (the map has keys
//                     such as "openrouter/openrouter/auto"); provider as in 1. Without a provider: any key s/model, when
//                     exactly one exists (several: ambiguous)
//   3. model alias    the alias's model, matched by 1, 2, 4, 5, 6 (for its provider, or the event's)
//   4. prefix         model "s/rest": rest; provider: the event's, or s (then aliases), then NULL
//   5. dated id       the model without a trailing -YYYYMMDD, -YYYY-MM-DD, @YYYYMMDD or @YYYY-MM-DD; as in 1
//   6. prefix + dated the rest without its date; as in 4
// `spellings` are the event's provider followed by its aliases (count 0 when the event has none); `with_alias`
// false leaves out 3 (an alias's target is not looked up again).
NameCandidates price_name_candidates(std::string_view model, bool event_has_provider, const std::string_view* spellings,
                                     size_t spelling_count, bool with_alias);

// A provider that has a price in force for one name: NULL, or how it relates to the preferred provider
// (rank 0: it is the preferred provider; k > 0: its k-th alias; -1: another provider).
struct ProviderOffer {
    bool null;
    int rank;
};

enum class ProviderChoiceKind : uint8_t {
    None,          // nothing applies: try the next name
    Preferred,     // the preferred provider itself
    Alias,         // one of its aliases (the best ranked)
    NullProvider,  // the provider-NULL price
    OnlyProvider,  // the one provider that prices the name (the event named none)
    Ambiguous,     // several providers price it and none is preferred or NULL: the event stays unpriced
};

struct ProviderChoice {
    ProviderChoiceKind kind;
    size_t offer;  // index into offers, for every kind that chooses one
};

ProviderChoice choose_provider(const NameCandidate& candidate, const ProviderOffer* offers, size_t count);

// The rule price_for reports for a choice: an exact name priced through the prefix's provider is reported as
// the provider prefix rule, as before there were other ways to choose.
MatchRule reported_rule(const NameCandidate& candidate, ProviderChoiceKind kind);

// Length of `name` without a trailing release date (see above), or name.size() when it has none.
size_t undated_length(std::string_view name);

// A loose form of a model name for suggestions: the part after the last '/', without a release date, lower
// case, with '.', '_', ':' and '-' removed ("Claude-3.5-Sonnet-20241022" -> "claude35sonnet"). Writes at most
// `capacity` bytes to out and returns the length.
size_t model_fingerprint(std::string_view name, char* out, size_t capacity);

}  // namespace usage_meter
