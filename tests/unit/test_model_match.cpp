// Model matching: the names tried, in precedence order, for every shape of model name, and the choice among
// the providers that price one name.
#include <string>
#include <vector>

#include "test_support.h"

namespace usage_meter {
namespace {

// Each candidate as "rule: name @preferred" where preferred is "event", the prefix itself or "none"; a
// candidate that takes the provider-NULL price before the preferred one ends in " (NULL first)", one that may
// take the only provider pricing it in " (single)".
std::vector<std::string> names(std::string_view model, std::vector<std::string_view> spellings = {},
                               bool with_alias = false) {
    NameCandidates c = price_name_candidates(model, !spellings.empty(), spellings.data(), spellings.size(), with_alias);
    std::vector<std::string> out;
    for (size_t i = 0; i < c.count; ++i) {
        const NameCandidate& n = c.items[i];
        std::string name = n.any_prefix          ? "*/"
                           : n.key_spelling >= 0 ? std::string(spellings[n.key_spelling]) + "/"
                                                 : "";
        name += std::string(model.substr(n.begin, n.length));
        std::string preferred = n.preferred == PreferredProvider::Event ? "event"
                                : n.preferred == PreferredProvider::Prefix
                                    ? std::string(model.substr(0, c.prefix_length))
                                    : "none";
        out.push_back(std::string(match_rule_name(n.rule)) + ": " + name + " @" + preferred +
                      (n.null_first ? " (NULL first)" : "") + (n.any_single ? " (single)" : ""));
    }
    return out;
}

using V = std::vector<std::string>;

TEST(PriceNameCandidates, PlainModelIsExactOnly) {
    EXPECT_EQ(names("gpt-4o", {"openai"}), (V{"exact: gpt-4o @event", "provider key: openai/gpt-4o @event"}));
    EXPECT_EQ(names("gpt-4o"), (V{"exact: gpt-4o @none (NULL first) (single)", "provider key: */gpt-4o @none (single)"}));
}

TEST(PriceNameCandidates, DatedIdFallsBackToTheUndatedName) {
    EXPECT_EQ(names("claude-3-5-haiku-20241022", {"anthropic"}),
              (V{"exact: claude-3-5-haiku-20241022 @event", "provider key: anthropic/claude-3-5-haiku-20241022 @event",
                 "dated id: claude-3-5-haiku @event"}));
    EXPECT_EQ(names("gpt-4o-2024-08-06"),
              (V{"exact: gpt-4o-2024-08-06 @none (NULL first) (single)",
                 "provider key: */gpt-4o-2024-08-06 @none (single)", "dated id: gpt-4o @none (single)"}));
    EXPECT_EQ(names("claude-3-5-sonnet-v2@20241022"),
              (V{"exact: claude-3-5-sonnet-v2@20241022 @none (NULL first) (single)",
                 "provider key: */claude-3-5-sonnet-v2@20241022 @none (single)",
                 "dated id: claude-3-5-sonnet-v2 @none (single)"}));
}

TEST(PriceNameCandidates, ProviderPrefixNamesTheProviderWhenTheEventHasNone) {
    EXPECT_EQ(names("openai/gpt-4o-mini"),
              (V{"exact: openai/gpt-4o-mini @openai (NULL first) (single)",
                 "provider key: */openai/gpt-4o-mini @none (single)", "provider prefix: gpt-4o-mini @openai"}));
    // With a provider on the event, the event's provider is preferred for the rest of the name too; the
    // provider key is tried even though the model carries the prefix (the map has "openrouter/openrouter/auto").
    EXPECT_EQ(names("openai/gpt-4o-mini", {"openai"}),
              (V{"exact: openai/gpt-4o-mini @event", "provider key: openai/openai/gpt-4o-mini @event",
                 "provider prefix: gpt-4o-mini @event"}));
}

TEST(PriceNameCandidates, PrefixAndDateTogether) {
    EXPECT_EQ(names("anthropic/claude-3-5-haiku-20241022"),
              (V{"exact: anthropic/claude-3-5-haiku-20241022 @anthropic (NULL first) (single)",
                 "provider key: */anthropic/claude-3-5-haiku-20241022 @none (single)",
                 "provider prefix: claude-3-5-haiku-20241022 @anthropic",
                 "dated id: anthropic/claude-3-5-haiku @anthropic (single)",
                 "provider prefix + dated id: claude-3-5-haiku @anthropic"}));
}

TEST(PriceNameCandidates, ProviderKeyUnderEverySpellingOfTheProvider) {
    // The event's provider first, then its aliases in order; a repeated spelling is tried once.
    EXPECT_EQ(names("gemini-2.5-pro", {"vertex_ai", "vertex_ai-language-models", "vertex_ai"}),
              (V{"exact: gemini-2.5-pro @event", "provider key: vertex_ai/gemini-2.5-pro @event",
                 "provider key: vertex_ai-language-models/gemini-2.5-pro @event"}));
    // A model that already starts with one of the spellings gets it again.
    EXPECT_EQ(names("openrouter/auto", {"openrouter"}),
              (V{"exact: openrouter/auto @event", "provider key: openrouter/openrouter/auto @event",
                 "provider prefix: auto @event"}));
    // Spellings beyond kMaxProviderSpellings are not tried.
    std::vector<std::string> many;
    for (size_t i = 0; i < kMaxProviderSpellings + 5; ++i) many.push_back("p" + std::to_string(i));
    std::vector<std::string_view> views(many.begin(), many.end());
    NameCandidates c = price_name_candidates("m", true, views.data(), views.size(), true);
    EXPECT_EQ(c.count, 1 + kMaxProviderSpellings + 1);
}

TEST(PriceNameCandidates, ModelAliasComesBeforeThePatterns) {
    EXPECT_EQ(names("my-gpt-4o-20240806", {"azure"}, true),
              (V{"exact: my-gpt-4o-20240806 @event", "provider key: azure/my-gpt-4o-20240806 @event",
                 "model alias: my-gpt-4o-20240806 @event", "dated id: my-gpt-4o @event"}));
    EXPECT_EQ(names("team/my-model", {}, true),
              (V{"exact: team/my-model @team (NULL first) (single)", "provider key: */team/my-model @none (single)",
                 "model alias: team/my-model @team", "provider prefix: my-model @team"}));
}

TEST(PriceNameCandidates, OnlyPlausibleDatesAreStripped) {
    EXPECT_EQ(undated_length("gpt-4-0613"), 10u);       // MMDD alone is not a date we strip
    EXPECT_EQ(undated_length("model-12345678"), 14u);   // not a year 20xx
    EXPECT_EQ(undated_length("model-20241322"), 14u);   // month 13
    EXPECT_EQ(undated_length("model-20241200"), 14u);   // day 0
    EXPECT_EQ(undated_length("model-2024-1-05"), 15u);  // not YYYY-MM-DD
    EXPECT_EQ(undated_length("model-20241231"), 5u);
    EXPECT_EQ(undated_length("-20241231"), 9u);  // nothing would be left
    EXPECT_EQ(undated_length("20241231"), 8u);
    EXPECT_EQ(names("-20241231"),
              (V{"exact: -20241231 @none (NULL first) (single)", "provider key: */-20241231 @none (single)"}));
}

TEST(PriceNameCandidates, DegenerateSlashes) {
    EXPECT_EQ(names("/gpt"), (V{"exact: /gpt @none (NULL first) (single)", "provider key: *//gpt @none (single)"}));
    EXPECT_EQ(names("gpt/"), (V{"exact: gpt/ @none (NULL first) (single)", "provider key: */gpt/ @none (single)"}));
    // Only the first '/' separates the provider: the rest keeps its own slashes.
    EXPECT_EQ(names("openrouter/meta/llama"),
              (V{"exact: openrouter/meta/llama @openrouter (NULL first) (single)",
                 "provider key: */openrouter/meta/llama @none (single)", "provider prefix: meta/llama @openrouter"}));
}

TEST(PriceNameCandidates, NeverMoreThanTheCapacity) {
    std::vector<std::string_view> spellings(kMaxProviderSpellings + 3, "p");
    for (size_t i = 0; i < spellings.size(); ++i) spellings[i] = i % 2 ? "a" : "b";
    for (bool alias : {false, true}) {
        EXPECT_LE(price_name_candidates("a/b-2024-01-01", false, nullptr, 0, alias).count, kMaxNameCandidates);
        EXPECT_LE(price_name_candidates("a/b-2024-01-01", true, spellings.data(), spellings.size(), alias).count,
                  kMaxNameCandidates);
    }
}

// The choice among the providers that price one name.
NameCandidate candidate(PreferredProvider preferred, bool null_first, bool any_single) {
    return NameCandidate{0, 1, -1, MatchRule::Exact, preferred, null_first, any_single, false};
}
constexpr ProviderOffer kNull{true, 0};
ProviderOffer ranked(int rank) { return ProviderOffer{false, rank}; }
ProviderOffer other() { return ProviderOffer{false, -1}; }

TEST(ChooseProvider, TheEventsProviderThenItsAliasesThenNull) {
    const NameCandidate c = candidate(PreferredProvider::Event, false, false);
    ProviderOffer offers[] = {kNull, other(), ranked(2), ranked(1)};
    ProviderChoice choice = choose_provider(c, offers, 4);
    EXPECT_EQ(choice.kind, ProviderChoiceKind::Alias);
    EXPECT_EQ(choice.offer, 3u);  // the best-ranked alias
    ProviderOffer with_own[] = {kNull, ranked(1), ranked(0)};
    choice = choose_provider(c, with_own, 3);
    EXPECT_EQ(choice.kind, ProviderChoiceKind::Preferred);
    EXPECT_EQ(choice.offer, 2u);
    ProviderOffer null_and_other[] = {other(), kNull};
    choice = choose_provider(c, null_and_other, 2);
    EXPECT_EQ(choice.kind, ProviderChoiceKind::NullProvider);
    EXPECT_EQ(choice.offer, 1u);
    // Another provider alone never prices an event that names its provider.
    ProviderOffer only_other[] = {other()};
    EXPECT_EQ(choose_provider(c, only_other, 1).kind, ProviderChoiceKind::None);
    EXPECT_EQ(choose_provider(c, nullptr, 0).kind, ProviderChoiceKind::None);
}

TEST(ChooseProvider, NoProviderOnTheEventTakesTheOnlyOneOrNone) {
    const NameCandidate c = candidate(PreferredProvider::None, true, true);
    ProviderOffer one[] = {other()};
    EXPECT_EQ(choose_provider(c, one, 1).kind, ProviderChoiceKind::OnlyProvider);
    ProviderOffer two[] = {other(), other()};
    ProviderChoice choice = choose_provider(c, two, 2);
    EXPECT_EQ(choice.kind, ProviderChoiceKind::Ambiguous);  // never a silent pick
    ProviderOffer two_and_null[] = {other(), kNull, other()};
    choice = choose_provider(c, two_and_null, 3);
    EXPECT_EQ(choice.kind, ProviderChoiceKind::NullProvider);
    EXPECT_EQ(choice.offer, 1u);
}

TEST(ChooseProvider, ExactPrefixedNameTakesNullFirstThenThePrefixsProvider) {
    const NameCandidate exact = candidate(PreferredProvider::Prefix, true, true);
    ProviderOffer both[] = {ranked(0), kNull};
    EXPECT_EQ(choose_provider(exact, both, 2).kind, ProviderChoiceKind::NullProvider);
    ProviderOffer prefix_and_other[] = {other(), ranked(0)};
    ProviderChoice choice = choose_provider(exact, prefix_and_other, 2);
    EXPECT_EQ(choice.kind, ProviderChoiceKind::Preferred);
    EXPECT_EQ(reported_rule(exact, choice.kind), MatchRule::ProviderPrefix);
    EXPECT_EQ(reported_rule(exact, ProviderChoiceKind::OnlyProvider), MatchRule::Exact);
    // The rest of a prefixed name: the prefix's provider before NULL, never another provider.
    const NameCandidate rest = candidate(PreferredProvider::Prefix, false, false);
    EXPECT_EQ(choose_provider(rest, both, 2).kind, ProviderChoiceKind::Preferred);
    ProviderOffer only_other[] = {other()};
    EXPECT_EQ(choose_provider(rest, only_other, 1).kind, ProviderChoiceKind::None);
}

std::string fingerprint(std::string_view name) {
    char buf[64];
    return std::string(buf, model_fingerprint(name, buf, sizeof buf));
}

TEST(ModelFingerprint, IgnoresPrefixDateCaseAndSeparators) {
    EXPECT_EQ(fingerprint("Claude-3.5-Sonnet-20241022"), "claude35sonnet");
    EXPECT_EQ(fingerprint("anthropic/claude-3-5-sonnet"), "claude35sonnet");
    EXPECT_EQ(fingerprint("fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct"), "llamav3p18binstruct");
    EXPECT_EQ(fingerprint("gpt-4o"), fingerprint("GPT4o"));
    char small[3];
    EXPECT_EQ(model_fingerprint("abcdef", small, sizeof small), 3u);
}

}  // namespace
}  // namespace usage_meter
