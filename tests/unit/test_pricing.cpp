// Pricing: which price row applies and what an event costs. Expected costs are computed by hand in comments.
#include <algorithm>
#include <optional>
#include <vector>

#include "test_support.h"

namespace usage_meter {
namespace {

using test::dec;

TokenPrice price(const char* input, const char* output, std::optional<const char*> cache_read = std::nullopt,
                 std::optional<const char*> cache_write = std::nullopt) {
    TokenPrice p;
    p.input_per_mtok = dec(input);
    p.output_per_mtok = dec(output);
    if (cache_read) p.cache_read_per_mtok = dec(*cache_read);
    if (cache_write) p.cache_write_per_mtok = dec(*cache_write);
    return p;
}

TokenUsage usage(int64_t input, int64_t output, int64_t cache_read = 0, int64_t cache_write = 0, int64_t reasoning = 0) {
    TokenUsage u;
    u.input = input;
    u.output = output;
    u.cache_read = cache_read;
    u.cache_write = cache_write;
    u.reasoning = reasoning;
    return u;
}

// ---- token_cost --------------------------------------------------------------------------------------

TEST(TokenCost, SpecExample) {
    // (1234 x 0.80 + 567 x 4.00 + 89 x 0.08) / 10^6 = (987.2 + 2268 + 7.12) / 10^6 = 3262.32 / 10^6.
    Decimal cost = token_cost(usage(1234, 567, 89), price("0.80", "4.00", "0.08"));
    EXPECT_EQ(cost.to_string(), "0.00326232");
    EXPECT_EQ(cost, dec("0.00326232"));
}

TEST(TokenCost, MissingCachePricesFallBackToTheInputPrice) {
    // Both absent: (1000 x 3 + 2000 x 3) / 10^6 = 0.009.
    EXPECT_EQ(token_cost(usage(0, 0, 1000, 2000), price("3", "15")), dec("0.009"));
    // Only the read price: 1000 x 0.3 + 2000 x 3 = 6300 -> 0.0063.
    EXPECT_EQ(token_cost(usage(0, 0, 1000, 2000), price("3", "15", "0.3")), dec("0.0063"));
    // Only the write price: 1000 x 3 + 2000 x 3.75 = 10500 -> 0.0105.
    EXPECT_EQ(token_cost(usage(0, 0, 1000, 2000), price("3", "15", std::nullopt, "3.75")), dec("0.0105"));
    // An explicit zero is a price, not an absence: 1000 x 0 + 2000 x 0 = 0.
    EXPECT_EQ(token_cost(usage(0, 0, 1000, 2000), price("3", "15", "0", "0")), Decimal());
}

TEST(TokenCost, EachCountUsesItsOwnPrice) {
    // 1 x 1 + 10 x 2 + 100 x 3 + 1000 x 4 = 4321 -> 0.004321: any price applied to the wrong count shows.
    EXPECT_EQ(token_cost(usage(1, 10, 100, 1000), price("1", "2", "3", "4")), dec("0.004321"));
}

TEST(TokenCost, ReasoningTokensAreNotPricedAgain) {
    // Reasoning tokens are part of the output: 100 output tokens at 10 per million cost 0.001 whatever
    // share of them was reasoning.
    const TokenPrice p = price("1", "10");
    EXPECT_EQ(token_cost(usage(0, 100, 0, 0, 60), p), dec("0.001"));
    EXPECT_EQ(token_cost(usage(0, 100, 0, 0, 60), p), token_cost(usage(0, 100), p));
    EXPECT_EQ(usage(1, 100, 2, 3, 60).billable_total(), 106);
    EXPECT_FALSE(usage(0, 0).any());
    EXPECT_TRUE(usage(0, 0, 0, 1).any());
}

TEST(TokenCost, LargeCountsStayExact) {
    // 10^12 tokens at 0.000001 per million: 10^12 x 10^-6 / 10^6 = 1.
    EXPECT_EQ(token_cost(usage(1000000000000, 0), price("0.000001", "0")), dec("1"));
    // 999999999999 x 75 / 10^6 = 74999999.999925
    EXPECT_EQ(token_cost(usage(0, 999999999999), price("0", "75")), dec("74999999.999925"));
}

// ---- tiers: whole-request semantics -------------------------------------------------------------------

PriceTier tier(int64_t above, const char* input, const char* output) {
    PriceTier t;
    t.above_input_tokens = above;
    t.price = price(input, output);
    return t;
}

TEST(SelectTier, NoTiersIsTheBasePrice) { EXPECT_EQ(select_tier(nullptr, 0, usage(5000000, 1)), -1); }

TEST(SelectTier, JustUnderAtAndJustOverTheThreshold) {
    PriceTier tiers[] = {tier(200000, "6", "22.5")};
    EXPECT_EQ(select_tier(tiers, 1, usage(199999, 0)), -1);
    EXPECT_EQ(select_tier(tiers, 1, usage(200000, 0)), -1);  // "above 200k": exactly 200k is not above
    EXPECT_EQ(select_tier(tiers, 1, usage(200001, 0)), 0);
}

TEST(SelectTier, CountsCachedContextButNotOutput) {
    PriceTier tiers[] = {tier(200000, "6", "22.5")};
    EXPECT_EQ(select_tier(tiers, 1, usage(100000, 900000, 50000, 50000)), -1);  // 200000 context tokens
    EXPECT_EQ(select_tier(tiers, 1, usage(100000, 0, 50000, 50001)), 0);
    EXPECT_EQ(select_tier(tiers, 1, usage(0, 0, 200001, 0)), 0);
}

TEST(SelectTier, HighestThresholdCrossedWinsInAnyOrder) {
    PriceTier tiers[] = {tier(272000, "3", "3"), tier(128000, "2", "2"), tier(200000, "1", "1")};
    EXPECT_EQ(select_tier(tiers, 3, usage(128000, 0)), -1);
    EXPECT_EQ(select_tier(tiers, 3, usage(128001, 0)), 1);
    EXPECT_EQ(select_tier(tiers, 3, usage(200001, 0)), 2);
    EXPECT_EQ(select_tier(tiers, 3, usage(272001, 0)), 0);
}

TEST(PriceEvent, CrossingATierPricesTheWholeRequestAtTheTierRates) {
    TokenPrice base = price("3", "15", "0.3", "3.75");
    PriceTier tiers[] = {tier(200000, "6", "22.5")};
    tiers[0].price.cache_read_per_mtok = dec("0.6");
    PricingInputs in;
    in.has_model = true;
    in.token_price = &base;
    in.tiers = tiers;
    in.tier_count = 1;
    in.tokens = usage(150000, 1000, 50000);  // exactly 200000 context tokens: base
    PricedCost at = price_event(in);
    EXPECT_EQ(at.tier, -1);
    // 150000 x 3 + 1000 x 15 + 50000 x 0.3 = 480000 per million
    EXPECT_EQ(at.cost, dec("0.48"));
    in.tokens = usage(150001, 1000, 50000);  // one more: every token at the tier's rates
    PricedCost over = price_event(in);
    EXPECT_EQ(over.tier, 0);
    // 150001 x 6 + 1000 x 22.5 + 50000 x 0.6 = 952506 per million
    EXPECT_EQ(over.cost, dec("0.952506"));
}

TEST(CheckTiers, RefusesAbsurdOrRepeatedThresholds) {
    PriceTier ok[] = {tier(128000, "1", "1"), tier(200000, "2", "2")};
    EXPECT_NO_THROW(check_tiers(ok, 2, "tiers"));
    PriceTier zero[] = {tier(0, "1", "1")};
    EXPECT_CORE_ERROR(check_tiers(zero, 1, "tiers"), ErrorKind::InvalidParameter, "threshold 0");
    PriceTier huge[] = {tier(1000000000001, "1", "1")};
    EXPECT_CORE_ERROR(check_tiers(huge, 1, "tiers"), ErrorKind::InvalidParameter, "threshold 1000000000001");
    PriceTier twice[] = {tier(5, "1", "1"), tier(5, "2", "2")};
    EXPECT_CORE_ERROR(check_tiers(twice, 2, "tiers"), ErrorKind::InvalidParameter, "appears twice");
}

TEST(Tiers, CanonicalJsonSortedByThreshold) {
    PriceTier tiers[] = {tier(272000, "3", "30"), tier(128000, "0.000001", "2")};
    tiers[1].price.cache_read_per_mtok = dec("0.5");
    char buf[512];
    ASSERT_TRUE(write_tiers_json(tiers, 2, buf, sizeof buf));
    EXPECT_STREQ(buf,
                 "[{\"above_input_tokens\": 128000, \"input_per_mtok\": 0.000001, \"output_per_mtok\": 2, "
                 "\"cache_read_per_mtok\": 0.5}, {\"above_input_tokens\": 272000, \"input_per_mtok\": 3, "
                 "\"output_per_mtok\": 30}]");
    EXPECT_FALSE(write_tiers_json(tiers, 2, buf, 20));
    ASSERT_TRUE(write_tiers_json(tiers, 0, buf, sizeof buf));
    EXPECT_STREQ(buf, "[]");
}

TEST(Tiers, ThresholdsAreWholeTokenCounts) {
    EXPECT_EQ(parse_threshold("t", "200000"), 200000);
    EXPECT_EQ(parse_threshold("t", "2e5"), 200000);
    EXPECT_CORE_ERROR(parse_threshold("t", "200000.5"), ErrorKind::InvalidParameter, "whole number");
    EXPECT_CORE_ERROR(parse_threshold("t", "0"), ErrorKind::InvalidParameter, "whole number");
    EXPECT_CORE_ERROR(parse_threshold("t", "-5"), ErrorKind::InvalidParameter, "whole number");
    EXPECT_CORE_ERROR(parse_threshold("t", "1e13"), ErrorKind::InvalidParameter, "whole number");
}

TEST(Tiers, SamePriceIgnoresTierOrderButNotValues) {
    TokenPrice base = price("1", "2");
    PriceTier a[] = {tier(100, "3", "4"), tier(200, "5", "6")};
    PriceTier b[] = {tier(200, "5", "6"), tier(100, "3.0", "4")};
    EXPECT_TRUE(same_price(base, a, 2, price("1.00", "2"), b, 2));
    EXPECT_FALSE(same_price(base, a, 2, base, b, 1));
    b[0].price.cache_read_per_mtok = dec("5");  // explicit cache price differs from "absent"
    EXPECT_FALSE(same_price(base, a, 2, base, b, 2));
    EXPECT_FALSE(same_price(base, nullptr, 0, price("1", "2", "1"), nullptr, 0));
}

// ---- price_event -------------------------------------------------------------------------------------

TEST(PriceEvent, ReportedCostWins) {
    const TokenPrice p = price("0.80", "4.00", "0.08");
    PricingInputs in;
    in.tokens = usage(1234, 567, 89);
    in.has_model = true;
    in.token_price = &p;
    in.quantity = dec("3");
    in.unit_price = dec("0.002");
    in.reported_cost = dec("0.5");
    PricedCost out = price_event(in);
    EXPECT_TRUE(out.priced);
    EXPECT_EQ(out.source, CostSource::Reported);
    EXPECT_EQ(out.cost, dec("0.5"));

    // Even when nothing else could be priced.
    PricingInputs bare;
    bare.tokens = usage(10, 10);
    bare.quantity = dec("2");
    bare.reported_cost = dec("0");
    out = price_event(bare);
    EXPECT_TRUE(out.priced);
    EXPECT_EQ(out.source, CostSource::Reported);
    EXPECT_TRUE(out.cost.is_zero());
}

TEST(PriceEvent, TokensWithoutModelOrPriceAreUnpriced) {
    const TokenPrice p = price("1", "1");
    PricingInputs no_model;
    no_model.tokens = usage(10, 0);
    no_model.token_price = &p;  // a price without a model does not count
    PricedCost out = price_event(no_model);
    EXPECT_FALSE(out.priced);
    EXPECT_EQ(out.source, CostSource::None);

    PricingInputs no_price;
    no_price.tokens = usage(0, 0, 5);
    no_price.has_model = true;
    out = price_event(no_price);
    EXPECT_FALSE(out.priced);
    EXPECT_EQ(out.source, CostSource::None);

    // Unpriced tokens make the whole event unpriced even when the quantity has a price.
    no_price.quantity = dec("1");
    no_price.unit_price = dec("1");
    EXPECT_FALSE(price_event(no_price).priced);
}

TEST(PriceEvent, QuantityWithoutUnitPriceIsUnpriced) {
    const TokenPrice p = price("1", "1");
    PricingInputs in;
    in.tokens = usage(10, 10);
    in.has_model = true;
    in.token_price = &p;
    in.quantity = dec("3");
    PricedCost out = price_event(in);
    EXPECT_FALSE(out.priced);
    EXPECT_EQ(out.source, CostSource::None);

    PricingInputs only_quantity;
    only_quantity.quantity = dec("0.5");
    EXPECT_FALSE(price_event(only_quantity).priced);
}

TEST(PriceEvent, NothingToPriceCostsZero) {
    PricingInputs empty;
    PricedCost out = price_event(empty);
    EXPECT_TRUE(out.priced);
    EXPECT_EQ(out.source, CostSource::PriceTable);
    EXPECT_TRUE(out.cost.is_zero());

    // A zero quantity needs no unit price.
    PricingInputs zero_quantity;
    zero_quantity.quantity = dec("0");
    out = price_event(zero_quantity);
    EXPECT_TRUE(out.priced);
    EXPECT_TRUE(out.cost.is_zero());
}

TEST(PriceEvent, QuantityTimesUnitPriceIsAddedToTokenCost) {
    const TokenPrice p = price("0.80", "4.00", "0.08");
    PricingInputs in;
    in.tokens = usage(1234, 567, 89);
    in.has_model = true;
    in.token_price = &p;
    in.quantity = dec("3");
    in.unit_price = dec("0.002");
    // 0.00326232 + 3 x 0.002 = 0.00926232
    PricedCost out = price_event(in);
    EXPECT_TRUE(out.priced);
    EXPECT_EQ(out.source, CostSource::PriceTable);
    EXPECT_EQ(out.cost, dec("0.00926232"));
    EXPECT_EQ(out.cost.to_string(), "0.00926232");
}

TEST(PriceEvent, QuantityAloneNeedsNoModel) {
    PricingInputs in;
    in.quantity = dec("2.5");
    in.unit_price = dec("0.04");
    // 2.5 x 0.04 = 0.1
    PricedCost out = price_event(in);
    EXPECT_TRUE(out.priced);
    EXPECT_EQ(out.source, CostSource::PriceTable);
    EXPECT_EQ(out.cost, dec("0.1"));
}

TEST(PriceEvent, TokensAloneUseTheTokenPrice) {
    const TokenPrice p = price("0.80", "4.00", "0.08");
    PricingInputs in;
    in.tokens = usage(1234, 567, 89);
    in.has_model = true;
    in.token_price = &p;
    PricedCost out = price_event(in);
    EXPECT_TRUE(out.priced);
    EXPECT_EQ(out.source, CostSource::PriceTable);
    EXPECT_EQ(out.cost, dec("0.00326232"));
}

// ---- per-request fees ---------------------------------------------------------------------------------

TEST(PriceEvent, PerRequestFeeIsAddedToTheTokenCost) {
    TokenPrice p = price("0.80", "4.00", "0.08");
    p.per_request = dec("0.005");
    PricingInputs in;
    in.tokens = usage(1234, 567, 89);
    in.has_model = true;
    in.token_price = &p;
    // 0.00326232 (tokens) + 0.005 (fee) = 0.00826232
    PricedCost out = price_event(in);
    EXPECT_TRUE(out.priced);
    EXPECT_TRUE(out.used_token_price);
    EXPECT_EQ(out.cost.to_string(), "0.00826232");
    // With a quantity too: + 3 x 0.002 = 0.01426232
    in.quantity = dec("3");
    in.unit_price = dec("0.002");
    EXPECT_EQ(price_event(in).cost.to_string(), "0.01426232");
}

TEST(PriceEvent, PerRequestFeePricesAZeroTokenRequest) {
    TokenPrice p = price("3", "15");
    p.per_request = dec("0.005");
    PricingInputs in;
    in.has_model = true;
    in.token_price = &p;
    PricedCost out = price_event(in);
    EXPECT_TRUE(out.priced);
    EXPECT_EQ(out.source, CostSource::PriceTable);
    EXPECT_TRUE(out.used_token_price);
    EXPECT_EQ(out.cost, dec("0.005"));
    // Without a fee the same request costs 0 and does not use the price.
    p.per_request = Decimal();
    out = price_event(in);
    EXPECT_TRUE(out.priced);
    EXPECT_FALSE(out.used_token_price);
    EXPECT_TRUE(out.cost.is_zero());
}

TEST(PriceEvent, PerRequestFeeIsThePricesInEveryTier) {
    TokenPrice base = price("3", "15");
    base.per_request = dec("0.01");
    PriceTier tiers[] = {tier(200000, "6", "22.5")};
    PricingInputs in;
    in.has_model = true;
    in.token_price = &base;
    in.tiers = tiers;
    in.tier_count = 1;
    in.tokens = usage(200000, 1000);  // at the threshold: base rates
    // 200000 x 3 + 1000 x 15 = 615000 per million = 0.615, + 0.01
    EXPECT_EQ(price_event(in).cost.to_string(), "0.625");
    in.tokens = usage(200001, 1000);  // over: tier rates, the same fee once
    // 200001 x 6 + 1000 x 22.5 = 1222506 per million = 1.222506, + 0.01
    PricedCost over = price_event(in);
    EXPECT_EQ(over.tier, 0);
    EXPECT_EQ(over.cost.to_string(), "1.232506");
}

TEST(PriceEvent, PerRequestFeeNeedsTheModelsPriceAndReportedCostWins) {
    TokenPrice p = price("3", "15");
    p.per_request = dec("0.005");
    PricingInputs in;
    in.has_model = true;
    in.token_price = &p;
    in.reported_cost = dec("0.5");
    EXPECT_EQ(price_event(in).cost, dec("0.5"));
    // Tokens of a model without a price stay unpriced, fee or not.
    PricingInputs unpriced;
    unpriced.has_model = true;
    unpriced.tokens = usage(10, 10);
    EXPECT_FALSE(price_event(unpriced).priced);
}

TEST(Tiers, SamePriceComparesThePerRequestFee) {
    TokenPrice a = price("3", "15"), b = price("3", "15");
    EXPECT_TRUE(same_price(a, nullptr, 0, b, nullptr, 0));
    b.per_request = dec("0.005");
    EXPECT_FALSE(same_price(a, nullptr, 0, b, nullptr, 0));
    a.per_request = dec("0.00500");
    EXPECT_TRUE(same_price(a, nullptr, 0, b, nullptr, 0));
}

// ---- billed_cost -------------------------------------------------------------------------------------

TEST(BilledCost, ZeroMarkupIsTheCost) {
    EXPECT_EQ(billed_cost(dec("0.00326232"), Decimal()), dec("0.00326232"));
    EXPECT_EQ(billed_cost(Decimal(), dec("50")), Decimal());
}

TEST(BilledCost, PositiveMarkup) {
    // 0.00326232 x 1.125 = 0.00326232 + 0.00040779 = 0.00367011
    EXPECT_EQ(billed_cost(dec("0.00326232"), dec("12.5")), dec("0.00367011"));
    EXPECT_EQ(billed_cost(dec("1"), dec("100")), dec("2"));
    EXPECT_EQ(billed_cost(dec("4"), dec("0.25")), dec("4.01"));
}

TEST(BilledCost, NegativeMarkup) {
    EXPECT_EQ(billed_cost(dec("0.00326232"), dec("-100")), Decimal());
    EXPECT_TRUE(billed_cost(dec("123.456"), dec("-100")).is_zero());
    EXPECT_EQ(billed_cost(dec("1"), dec("-50")), dec("0.5"));
    EXPECT_EQ(billed_cost(dec("3"), dec("-12.5")), dec("2.625"));
}

TEST(BilledCost, IsExact) {
    // 0.1 x (1 + 33.333 / 100) = 0.1 + 0.033333 = 0.133333, with no digit beyond the sixth place.
    Decimal billed = billed_cost(dec("0.1"), dec("33.333"));
    EXPECT_EQ(billed, dec("0.133333"));
    EXPECT_EQ(billed.to_string(), "0.133333");
    // 0.00000001 x 1.00001 = 0.0000000100001
    EXPECT_EQ(billed_cost(dec("0.00000001"), dec("0.001")), dec("0.0000000100001"));
    // 1/3-like inputs do not round: 0.333333 x 1.333333 = 0.444443888889
    EXPECT_EQ(billed_cost(dec("0.333333"), dec("33.3333")), dec("0.444443888889"));
}

TEST(PriceEvent, OneEventCostsAtMostTheBound) {
    TokenPrice price;
    price.input_per_mtok = dec("1000000");
    price.output_per_mtok = dec("1000000");
    PricingInputs in;
    in.has_model = true;
    in.token_price = &price;
    in.tokens.input = 100000000;  // 10^8 tokens at 10^6 per million: exactly the bound
    EXPECT_EQ(price_event(in).cost, dec("100000000"));
    in.tokens.output = 1;
    EXPECT_CORE_ERROR(price_event(in), ErrorKind::InvalidParameter, "100000001");
    // Too large to compute at all (a quantity times a unit price beyond 38 digits): refused the same way.
    PricingInputs units;
    units.quantity = dec("1000000000000");
    units.unit_price = dec("999999.999999999999999999");
    EXPECT_CORE_ERROR(price_event(units), ErrorKind::InvalidParameter, "cost");
    // A reported cost was checked where it was parsed, and is taken as it is.
    PricingInputs reported;
    reported.reported_cost = dec("100000000");
    EXPECT_EQ(price_event(reported).cost, dec("100000000"));
}

}  // namespace
}  // namespace usage_meter
