// The extension's SQL statements: prepared once per backend and kept, run with their parameters checked.
//
// A Statement is a static, constant-initialized object holding its SQL, its parameter types and the plan
// prepared on first use (a generic plan, kept across transactions; PostgreSQL re-plans it when its tables or
// their statistics change). run() takes exactly as many SqlArg values as the statement has parameters (checked
// when compiling) and builds the nulls string SPI wants from them. Statements whose SQL is only known at run
// time (a template filled once) use kept_plan() and execute_plan() directly.
#pragma once

#include <array>

#include "boundary.h"

extern "C" {
#include "executor/spi.h"
}

namespace usage_meter::pg {

// One parameter's value; isnull makes it SQL NULL (its value is then ignored).
struct SqlArg {
    Datum value;
    bool isnull;
};
inline SqlArg sql_arg(Datum value) { return {value, false}; }
inline SqlArg sql_arg_or_null(Datum value, bool isnull) { return {isnull ? static_cast<Datum>(0) : value, isnull}; }
constexpr SqlArg kSqlNull = {static_cast<Datum>(0), true};

enum class Access { kReadOnly, kReadWrite };

// How a kept statement is planned. kGeneric: once, without the values (keyed lookups and upserts on the hot
// path, whose best plan does not depend on them). kWithValues: on every call with its values (a custom plan;
// for the rare settings calls, where planning costs nothing that matters and a planner given the values can
// fold the statement's NULL tests and route it by tenant: docs/scale-out.md, the Citus plan).
enum class Planning { kGeneric, kWithValues };

// Plain data (no constructor or destructor runs at load or exit): declare each one `static`, next to its use.
template <size_t N>
struct Statement {
    const char* sql;
    std::array<Oid, N> types;
    SPIPlanPtr plan = nullptr;  // prepared on first use, kept for the backend's life
    Planning planning = Planning::kGeneric;
};

// SPI_connect, raising an ERROR when it fails.
void spi_connect();

// search_path = pg_catalog, pg_temp until unpin_search_path(the returned level), for SQL run where the caller's
// search_path is in force (the ledger's row trigger, which has no SET clause: it would cost every row of a bulk
// load a GUC save and restore, and only its rare SQL needs it). An ERROR restores it with the (sub)transaction.
int pin_search_path();
void unpin_search_path(int level);

// Prepares sql once per backend into *slot (kept across transactions), planned as `planning` says.
SPIPlanPtr kept_plan(SPIPlanPtr* slot, const char* sql, int nargs, const Oid* argtypes,
                     Planning planning = Planning::kGeneric);

// Executes a kept plan; raises an ERROR if SPI reports a failure. nulls: ' ' or 'n' per argument.
int execute_plan(SPIPlanPtr plan, const Datum* values, const char* nulls, bool read_only, long count);

// Runs a statement inside SPI with its N parameters (count: at most that many rows, 0 for all); returns the
// SPI result code. Read-only statements run in the current snapshot; read-write ones take a new one.
// run_from reads the N parameters from args[0 .. N-1]; run_with takes them as an array built beforehand.
template <size_t N>
int run_from(Statement<N>& s, Access access, long count, const SqlArg* args) {
    Datum values[N > 0 ? N : 1];
    char nulls[N + 1];
    for (size_t i = 0; i < N; ++i) {
        values[i] = args[i].value;
        nulls[i] = args[i].isnull ? 'n' : ' ';
    }
    nulls[N] = '\0';
    return execute_plan(kept_plan(&s.plan, s.sql, N, s.types.data(), s.planning), values, nulls,
                        access == Access::kReadOnly, count);
}

template <size_t N>
int run_with(Statement<N>& s, Access access, long count, const std::array<SqlArg, N>& args) {
    return run_from(s, access, count, args.data());
}

template <size_t N, typename... P>
int run(Statement<N>& s, Access access, long count, P... params) {
    static_assert(sizeof...(P) == N, "a statement takes exactly as many parameters as it declares types");
    return run_with(s, access, count, std::array<SqlArg, N>{params...});
}

// Column `col` (1-based) of row `row` of the last result.
inline Datum result_value(uint64 row, int col, bool* isnull) {
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

}  // namespace usage_meter::pg
