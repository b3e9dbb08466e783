# usage_meter: PGXS build of the extension (C++17), its pg_regress tests and isolation specs.
# The pure C++ core is also built and unit-tested on its own with CMake (see CMakeLists.txt).

EXTENSION = usage_meter
MODULE_big = usage_meter

# Paths are relative to the source directory, $(srcdir) (set by PGXS; another directory in a VPATH build, as
# Debian's pg_buildext does: make -C build -f SRC/Makefile VPATH=SRC). The variables are expanded only once
# PGXS has set it.
DATA = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/extension/$(EXTENSION)--*.sql))

CORE_SRCS = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/src/core/*.cpp))
PG_SRCS = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/src/pg/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

REGRESS = recording pricing time_zones idempotency limits bad_input rollback bulk_load roll_up
ISOLATION = concurrent_counters idempotency_race check_limit_snapshot
# Each feature area adds its files under its own heading (REGRESS += ..., ISOLATION += ...).
# -- pricing: history, matching, tiers, import, reprice
REGRESS += price_matching price_tiers price_import reprice markup_history request_fees
ISOLATION += reprice_race

# -- limits: reservations, hierarchy, soft limits, alerts
REGRESS += reservations alerts
ISOLATION += reservation_last_room reservation_settle_release reservation_expiry alert_once limits_cache \
	hold_index_cache

# -- provider payloads and record_response
REGRESS += provider_payloads record_response
ISOLATION += record_response_race

# -- ledger trust: corrections, repair, retention, roles, dump, upgrade
REGRESS += roles search_path_trap corrections rebuild hostile_input restore retention
ISOLATION += rebuild_while_recording retention_race

# -- where features meet: reversals under reprice, bounds, lock order on the ledger, zones (1.4)
REGRESS += ledger_invariants
ISOLATION += void_reprice_race partition_while_recording drop_while_recording

REGRESS_OPTS = --inputdir=$(srcdir) --outputdir=build/regress
ISOLATION_OPTS = --inputdir=$(srcdir) --outputdir=build/isolation

PG_CONFIG ?= pg_config
PG_CXXFLAGS = -std=c++17 -fno-strict-aliasing -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-register -Wno-cast-function-type
SHLIB_LINK = -lstdc++

EXTRA_CLEAN = build/regress build/isolation

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Debian also compiles every source to LLVM bitcode with clang, without our C++ flags.
COMPILE.cxx.bc += $(PG_CXXFLAGS)

# pg_regress and pg_isolation_regress write their results here rather than into the source tree.
installcheck: | build/regress build/isolation
build/regress build/isolation:
	mkdir -p $@

# PGXS tracks no header dependencies here: rebuild every object when any header changes, so a changed struct
# can never meet an object compiled against the old one.
$(OBJS) $(OBJS:.o=.bc): $(wildcard $(srcdir)/src/core/*.h $(srcdir)/src/pg/*.h)

# In a VPATH build the objects go to the build directory's src/core and src/pg, which must exist first (named
# by absolute path: make would find the relative names in the source directory through VPATH).
$(OBJS) $(OBJS:.o=.bc): | $(abspath $(sort $(dir $(OBJS))))
$(abspath $(sort $(dir $(OBJS)))):
	mkdir -p $@
