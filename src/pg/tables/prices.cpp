#include "prices.h"

#include "../pricing.h"

extern "C" {
#include "catalog/pg_type.h"
}

namespace usage_meter::pg {

namespace {

constexpr std::array<Oid, 9> kPriceTypes = {TEXTOID, NUMERICOID,     NUMERICOID, NUMERICOID, NUMERICOID,
                                            TEXTOID, TIMESTAMPTZOID, JSONBOID,   NUMERICOID};
constexpr std::array<Oid, 7> kPriceTypes10 = {TEXTOID,    NUMERICOID, NUMERICOID,    NUMERICOID,
                                              NUMERICOID, TEXTOID,    TIMESTAMPTZOID};

// After an INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new id, or the existing row's found by
// `existing`, whose second column says whether it is the same.
template <size_t N>
PriceAdded added_or_existing(Statement<N>& existing, const std::array<SqlArg, N>& params, int64* id) {
    bool isnull;
    if (SPI_processed == 1) {
        *id = DatumGetInt64(result_value(0, 1, &isnull));
        return PriceAdded::kAdded;
    }
    run_with(existing, Access::kReadWrite, 1, params);
    if (SPI_processed != 1) elog(ERROR, "usage_meter: conflicting price not found");
    *id = DatumGetInt64(result_value(0, 1, &isnull));
    return DatumGetBool(result_value(0, 2, &isnull)) ? PriceAdded::kSameExists : PriceAdded::kDifferentExists;
}

}  // namespace

PriceAdded price_insert(const std::array<SqlArg, 9>& price, int64* price_id) {
    if (!prices_have_tiers()) {
        static Statement<7> insert10 = {
            "INSERT INTO usage_meter.prices (model, input_per_mtok, output_per_mtok,"
            " cache_read_per_mtok, cache_write_per_mtok, provider, effective_from)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT ON CONSTRAINT prices_model_provider_from DO NOTHING RETURNING price_id",
            kPriceTypes10};
        static Statement<7> existing10 = {
            "SELECT price_id, input_per_mtok = $2 AND output_per_mtok = $3"
            "   AND cache_read_per_mtok IS NOT DISTINCT FROM $4"
            "   AND cache_write_per_mtok IS NOT DISTINCT FROM $5"
            "  FROM usage_meter.prices WHERE model = $1 AND provider IS NOT DISTINCT FROM $6"
            "   AND effective_from = $7",
            kPriceTypes10};
        const std::array<SqlArg, 7> params = {price[0], price[1], price[2], price[3], price[4], price[5], price[6]};
        run_with(insert10, Access::kReadWrite, 0, params);
        return added_or_existing(existing10, params, price_id);
    }
    static Statement<9> insert = {
        "INSERT INTO usage_meter.prices (model, input_per_mtok, output_per_mtok,"
        " cache_read_per_mtok, cache_write_per_mtok, provider, effective_from, tiers, per_request)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT ON CONSTRAINT prices_model_provider_from DO NOTHING RETURNING price_id",
        kPriceTypes};
    static Statement<9> existing = {
        "SELECT price_id, input_per_mtok = $2 AND output_per_mtok = $3"
        "   AND cache_read_per_mtok IS NOT DISTINCT FROM $4"
        "   AND cache_write_per_mtok IS NOT DISTINCT FROM $5"
        "   AND tiers IS NOT DISTINCT FROM $8 AND per_request = $9"
        "  FROM usage_meter.prices WHERE model = $1 AND provider IS NOT DISTINCT FROM $6"
        "   AND effective_from = $7",
        kPriceTypes};
    run_with(insert, Access::kReadWrite, 0, price);
    return added_or_existing(existing, price, price_id);
}

void price_add(const std::array<SqlArg, 9>& price) {
    static Statement<9> insert = {
        "INSERT INTO usage_meter.prices (model, provider, input_per_mtok, output_per_mtok, cache_read_per_mtok,"
        " cache_write_per_mtok, effective_from, tiers, per_request) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        {TEXTOID, TEXTOID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, TIMESTAMPTZOID, JSONBOID, NUMERICOID}};
    run(insert, Access::kReadWrite, 0, price[0], price[5], price[1], price[2], price[3], price[4], price[6], price[7],
        price[8]);
}

PriceAdded unit_price_insert(const std::array<SqlArg, 3>& unit_price, int64* unit_price_id) {
    static Statement<3> insert = {
        "INSERT INTO usage_meter.unit_prices (operation, per_unit, effective_from)"
        " VALUES ($1, $2, $3) ON CONFLICT ON CONSTRAINT unit_prices_operation_from DO NOTHING"
        " RETURNING unit_price_id",
        {TEXTOID, NUMERICOID, TIMESTAMPTZOID}};
    static Statement<3> existing = {
        "SELECT unit_price_id, per_unit = $2 FROM usage_meter.unit_prices"
        " WHERE operation = $1 AND effective_from = $3",
        {TEXTOID, NUMERICOID, TIMESTAMPTZOID}};
    run_with(insert, Access::kReadWrite, 0, unit_price);
    return added_or_existing(existing, unit_price, unit_price_id);
}

}  // namespace usage_meter::pg
