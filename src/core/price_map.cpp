#include "price_map.h"

#include <string>

#include "error.h"
#include "validate.h"

namespace usage_meter {

namespace {

bool json_number_grammar(std::string_view s) {
    size_t i = 0, n = s.size();
    auto digit = [&](size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
    if (i < n && s[i] == '-') ++i;
    if (!digit(i)) return false;
    if (s[i] == '0') {
        ++i;
    } else {
        while (digit(i)) ++i;
    }
    if (i < n && s[i] == '.') {
        ++i;
        if (!digit(i)) return false;
        while (digit(i)) ++i;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digit(i)) return false;
        while (digit(i)) ++i;
    }
    return i == n;
}

enum Component { kInput = 0, kOutput = 1, kCacheRead = 2, kCacheWrite = 3 };

struct FieldName {
    const char* name;
    Component component;
};
const FieldName kFields[] = {
    {"input_cost_per_token", kInput},
    {"output_cost_per_token", kOutput},
    {"cache_read_input_token_cost", kCacheRead},
    {"cache_creation_input_token_cost", kCacheWrite},
};

void set_component(TokenPrice& price, Component c, const Decimal& value) {
    switch (c) {
        case kInput: price.input_per_mtok = value; break;
        case kOutput: price.output_per_mtok = value; break;
        case kCacheRead: price.cache_read_per_mtok = value; break;
        case kCacheWrite: price.cache_write_per_mtok = value; break;
    }
}

// "_above_<N>k_tokens" -> N * 1000, or -1 when the suffix is something else.
int64_t tier_threshold(std::string_view suffix) {
    constexpr std::string_view head = "_above_", tail = "k_tokens";
    if (suffix.size() <= head.size() + tail.size() || suffix.substr(0, head.size()) != head ||
        suffix.substr(suffix.size() - tail.size()) != tail)
        return -1;
    std::string_view number = suffix.substr(head.size(), suffix.size() - head.size() - tail.size());
    if (number.size() > 9) return -1;
    int64_t n = 0;
    for (char c : number) {
        if (c < '0' || c > '9') return -1;
        n = n * 10 + (c - '0');
    }
    return n * 1000;
}

}  // namespace

Decimal amount_from_json_number(std::string_view text, std::string_view field) {
    if (!json_number_grammar(text))
        throw CoreError(ErrorKind::InvalidParameter,
                        "invalid " + std::string(field) + ": \"" + std::string(text) + "\" is not a JSON number");
    Decimal value = Decimal::parse_named(text, field);
    if (value.is_negative())
        throw CoreError(ErrorKind::InvalidParameter,
                        "invalid " + std::string(field) + ": " + std::string(text) + " is negative");
    return value;
}

Decimal per_million_from_json_number(std::string_view text, std::string_view field) {
    return amount_from_json_number(text, field) * Decimal::from_int(1000000);
}

void litellm_field(LiteLlmPrice& price, std::string_view model, std::string_view key, bool is_number,
                   std::string_view number_text) {
    if (key == "input_cost_per_request") {  // USD per request, as it is: our per_request fee
        std::string field = "price of \"" + std::string(model) + "\" field " + std::string(key);
        if (!is_number) throw CoreError(ErrorKind::InvalidParameter, "invalid " + field + ": it must be a JSON number");
        price.base.per_request = amount_from_json_number(number_text, field);
        return;
    }
    for (const FieldName& f : kFields) {
        std::string_view name = f.name;
        if (key.substr(0, name.size()) != name) continue;
        std::string_view suffix = key.substr(name.size());
        int64_t threshold = suffix.empty() ? 0 : tier_threshold(suffix);
        if (threshold < 0) continue;  // another variant (_priority, _batches, _above_1hr...): not ours
        std::string field = "price of \"" + std::string(model) + "\" field " + std::string(key);
        if (!suffix.empty() && threshold == 0)
            throw CoreError(ErrorKind::InvalidParameter, "invalid " + field + ": a tier must start above 0 tokens");
        if (!is_number) throw CoreError(ErrorKind::InvalidParameter, "invalid " + field + ": it must be a JSON number");
        Decimal value = per_million_from_json_number(number_text, field);
        const uint8_t bit = static_cast<uint8_t>(1u << f.component);
        if (threshold == 0) {
            set_component(price.base, f.component, value);
            price.base_mask |= bit;
            return;
        }
        size_t t = 0;
        while (t < price.tier_count && price.tiers[t].above_input_tokens != threshold) ++t;
        if (t == price.tier_count) {
            if (price.tier_count == kMaxTiers)
                throw CoreError(ErrorKind::InvalidParameter, "invalid " + field + ": more than 8 tiers");
            price.tiers[t].above_input_tokens = threshold;
            ++price.tier_count;
        }
        set_component(price.tiers[t].price, f.component, value);
        price.tier_mask[t] |= bit;
        return;
    }
}

bool litellm_finish(LiteLlmPrice& price) {
    constexpr uint8_t input_output = (1u << kInput) | (1u << kOutput);
    if ((price.base_mask & input_output) != input_output) return false;
    for (size_t t = 0; t < price.tier_count; ++t) {
        TokenPrice& tier = price.tiers[t].price;
        uint8_t mask = price.tier_mask[t];
        if (!(mask & (1u << kInput))) tier.input_per_mtok = price.base.input_per_mtok;
        if (!(mask & (1u << kOutput))) tier.output_per_mtok = price.base.output_per_mtok;
        // An absent cache price means the input price; keep the base's meaning explicit in the tier.
        if (!(mask & (1u << kCacheRead)))
            tier.cache_read_per_mtok = price.base.cache_read_per_mtok ? *price.base.cache_read_per_mtok
                                                                      : price.base.input_per_mtok;
        if (!(mask & (1u << kCacheWrite)))
            tier.cache_write_per_mtok = price.base.cache_write_per_mtok ? *price.base.cache_write_per_mtok
                                                                        : price.base.input_per_mtok;
    }
    check_tiers(price.tiers, price.tier_count, "tiers");
    return true;
}

}  // namespace usage_meter
