// reprice(): what it writes for an event priced again, and when it leaves an event alone.
#include "test_support.h"

namespace usage_meter {
namespace {

using test::dec;

PricedCost priced_from_table(const char* cost, bool used_token_price = true) {
    PricedCost p;
    p.priced = true;
    p.source = CostSource::PriceTable;
    p.cost = dec(cost);
    p.used_token_price = used_token_price;
    return p;
}

EventPricing pricing(bool priced, const char* cost, const char* billed, bool has_price_id = false, int64_t price_id = 0,
                     bool has_unit = false, int64_t unit_id = 0) {
    EventPricing e;
    e.priced = priced;
    e.cost = dec(cost);
    e.billed_cost = dec(billed);
    e.has_price_id = has_price_id;
    e.price_id = price_id;
    e.has_unit_price_id = has_unit;
    e.unit_price_id = unit_id;
    return e;
}

// ---- what reprice writes ---------------------------------------------------------------------------------

TEST(RepricedEventPricing, TokenPricedFromTheTable) {
    const EventPricing e = repriced_event_pricing(priced_from_table("0.003"), dec("0.0036"), 42, false, 7);
    EXPECT_TRUE(e.priced);
    EXPECT_EQ(e.cost, dec("0.003"));
    EXPECT_EQ(e.billed_cost, dec("0.0036"));
    EXPECT_TRUE(e.has_price_id);
    EXPECT_EQ(e.price_id, 42);
    EXPECT_FALSE(e.has_unit_price_id);  // no quantity needed a unit price
}

TEST(RepricedEventPricing, UnitPriceOnlyWhenItApplies) {
    const EventPricing e = repriced_event_pricing(priced_from_table("2", false), dec("2"), 42, true, 7);
    EXPECT_FALSE(e.has_price_id);  // the model's price charged nothing
    EXPECT_TRUE(e.has_unit_price_id);
    EXPECT_EQ(e.unit_price_id, 7);
}

TEST(RepricedEventPricing, UnpricedWritesZeroesAndNoIds) {
    PricedCost p;  // not priced: cost and ids are not kept even when passed
    p.cost = dec("5");
    p.used_token_price = true;
    p.source = CostSource::PriceTable;
    const EventPricing e = repriced_event_pricing(p, dec("6"), 42, true, 7);
    EXPECT_FALSE(e.priced);
    EXPECT_EQ(e.cost, Decimal());
    EXPECT_EQ(e.billed_cost, Decimal());
    EXPECT_FALSE(e.has_price_id);
    EXPECT_FALSE(e.has_unit_price_id);
}

TEST(RepricedEventPricing, ReportedCostHasNoPriceId) {
    PricedCost p = priced_from_table("1");
    p.source = CostSource::Reported;
    EXPECT_FALSE(repriced_event_pricing(p, dec("1"), 42, false, 0).has_price_id);
    p.source = CostSource::None;
    EXPECT_FALSE(repriced_event_pricing(p, dec("1"), 42, false, 0).has_price_id);
}

// ---- when an event is unchanged ----------------------------------------------------------------------

TEST(SameEventPricing, IdenticalIsUnchanged) {
    const EventPricing a = pricing(true, "0.003", "0.0036", true, 42, true, 7);
    EXPECT_TRUE(same_event_pricing(a, a));
}

TEST(SameEventPricing, AmountsCompareAsNumbers) {
    EXPECT_TRUE(same_event_pricing(pricing(true, "1.50", "1.800", true, 1), pricing(true, "1.5", "1.8", true, 1)));
    EXPECT_TRUE(same_event_pricing(pricing(true, "0.000", "0", true, 1), pricing(true, "0", "0.0", true, 1)));
}

TEST(SameEventPricing, AnyAmountDifferenceIsAChange) {
    const EventPricing base = pricing(true, "1", "1.2", true, 1);
    EXPECT_FALSE(same_event_pricing(base, pricing(true, "1.000000000000000001", "1.2", true, 1)));
    EXPECT_FALSE(same_event_pricing(base, pricing(true, "1", "1.21", true, 1)));
    EXPECT_FALSE(same_event_pricing(base, pricing(true, "0.999", "1.2", true, 1)));
}

TEST(SameEventPricing, PricedFlagAloneIsAChange) {
    // Priced at 0 versus not priced (a NULL cost reads as 0): changed.
    EXPECT_FALSE(same_event_pricing(pricing(false, "0", "0"), pricing(true, "0", "0")));
    EXPECT_FALSE(same_event_pricing(pricing(true, "0", "0"), pricing(false, "0", "0")));
    EXPECT_TRUE(same_event_pricing(pricing(false, "0", "0"), pricing(false, "0", "0")));
}

TEST(SameEventPricing, PriceIdPresenceAndValue) {
    EXPECT_FALSE(same_event_pricing(pricing(true, "1", "1", true, 42), pricing(true, "1", "1", true, 43)));
    EXPECT_FALSE(same_event_pricing(pricing(true, "1", "1", true, 42), pricing(true, "1", "1", false, 0)));
    EXPECT_FALSE(same_event_pricing(pricing(true, "1", "1", false, 0), pricing(true, "1", "1", true, 42)));
    // An absent id's value is not looked at.
    EXPECT_TRUE(same_event_pricing(pricing(true, "1", "1", false, 5), pricing(true, "1", "1", false, 9)));
}

TEST(SameEventPricing, UnitPriceIdPresenceAndValue) {
    EXPECT_FALSE(
        same_event_pricing(pricing(true, "1", "1", false, 0, true, 7), pricing(true, "1", "1", false, 0, true, 8)));
    EXPECT_FALSE(
        same_event_pricing(pricing(true, "1", "1", false, 0, true, 7), pricing(true, "1", "1", false, 0, false, 0)));
    EXPECT_FALSE(
        same_event_pricing(pricing(true, "1", "1", false, 0, false, 0), pricing(true, "1", "1", false, 0, true, 7)));
    EXPECT_TRUE(
        same_event_pricing(pricing(true, "1", "1", false, 0, false, 3), pricing(true, "1", "1", false, 0, false, 4)));
    // The token price id and the unit price id are not interchangeable.
    EXPECT_FALSE(
        same_event_pricing(pricing(true, "1", "1", true, 7, false, 0), pricing(true, "1", "1", false, 0, true, 7)));
}

TEST(SameEventPricing, StoredUnpricedAgainstRepricedUnpriced) {
    // An event still without a price: the stored NULLs (read as 0 and no ids) equal what reprice would write.
    PricedCost p;
    const EventPricing repriced = repriced_event_pricing(p, Decimal(), 0, false, 0);
    EXPECT_TRUE(same_event_pricing(pricing(false, "0", "0"), repriced));
}

TEST(SameEventPricing, NewPriceForTheSameAmountIsAChange) {
    // A new price row charging the same: the price id moves, so the event is rewritten (no amount changes).
    const EventPricing stored = pricing(true, "0.5", "0.5", true, 1);
    EXPECT_FALSE(same_event_pricing(stored, repriced_event_pricing(priced_from_table("0.5"), dec("0.5"), 2, false, 0)));
    EXPECT_TRUE(same_event_pricing(stored, repriced_event_pricing(priced_from_table("0.5"), dec("0.5"), 1, false, 0)));
}

}  // namespace
}  // namespace usage_meter
