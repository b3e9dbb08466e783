# usage_meter: PGXS build of the extension (C++17), its pg_regress tests and isolation specs.
# The pure C++ core is also built and unit-tested on its own with CMake (see CMakeLists.txt).

EXTENSION = usage_meter
MODULE_big = usage_meter

# Paths are relative to the source directory, $(srcdir) (set by PGXS; another directory in a VPATH build, as
# Debian's pg_buildext does: make -C build -f SRC/Makefile VPATH=SRC). The variables are expanded only once
# PGXS has set it.
# The install script of the default version is built from the per-area sources in extension/src, concatenated
# in this order (each file's header says what it owns); CREATE EXTENSION runs it alone. The released scripts
# (extension/usage_meter--1.0.sql and the upgrade scripts) are installed as they are and never edited.
EXTENSION_SQL_SRCS = tables recording pricing limits retention trust analytics tenants_move access
# default_version, read once from the control file.
EXTVERSION = $(eval EXTVERSION := $(shell sed -n "s/^default_version = '\(.*\)'$$/\1/p" $(srcdir)/$(EXTENSION).control))$(EXTVERSION)
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/extension/$(EXTENSION)--*.sql))
# The second extension, usage_meter_proxy (docs/scale-out.md): its control file and scripts, installed beside
# usage_meter's (PGXS installs DATA into the extension directory). Plain SQL over PL/Proxy: no library.
DATA += $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/proxy/usage_meter_proxy.control $(srcdir)/proxy/usage_meter_proxy--*.sql))

CORE_SRCS = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/src/core/*.cpp))
PG_SRCS = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/src/pg/*.cpp $(srcdir)/src/pg/tables/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

REGRESS = recording pricing time_zones idempotency limits bad_input rollback pending_rollup bulk_load roll_up
ISOLATION = concurrent_counters batch_writers idempotency_race check_limit_snapshot
# Each feature area adds its files under its own heading (REGRESS += ..., ISOLATION += ...).
# -- pricing: history, matching, tiers, import, reprice
REGRESS += price_matching price_tiers price_import reprice markup_history request_fees price_aliases price_coverage
ISOLATION += reprice_race

# -- limits: reservations, hierarchy, soft limits, alerts
REGRESS += reservations alerts
ISOLATION += reservation_last_room reservation_settle_release reservation_expiry alert_once limits_cache \
	hold_index_cache

# -- provider payloads and record_response
REGRESS += provider_payloads record_response
ISOLATION += record_response_race

# -- ledger trust: corrections, repair, retention, roles, dump, upgrade (old versions served by this library)
REGRESS += roles search_path_trap corrections rebuild hostile_input restore retention old_versions maintenance
ISOLATION += maintain_twice
ISOLATION += rebuild_while_recording retention_race

# -- where features meet: reversals under reprice, bounds, lock order on the ledger, zones (1.4)
REGRESS += ledger_invariants

# -- analytics: series, top lists, sessions, latency percentiles, forecast (1.5)
REGRESS += analytics
ISOLATION += void_reprice_race partition_while_recording drop_while_recording

# -- recording at scale: usage_record_batch (1.5)
REGRESS += usage_record_batch
# -- scale-out: moving a tenant between databases, catalog idempotence and digest (1.5)
REGRESS += tenant_move

REGRESS_OPTS = --inputdir=$(srcdir) --outputdir=build/regress
ISOLATION_OPTS = --inputdir=$(srcdir) --outputdir=build/isolation

PG_CONFIG ?= pg_config
PG_CXXFLAGS = -std=c++17 -fno-strict-aliasing -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-register -Wno-cast-function-type
SHLIB_LINK = -lstdc++

EXTRA_CLEAN = build/regress build/isolation $(EXTENSION)--*.sql.tmp

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
$(OBJS) $(OBJS:.o=.bc): $(wildcard $(srcdir)/src/core/*.h $(srcdir)/src/pg/*.h $(srcdir)/src/pg/tables/*.h)

# In a VPATH build the objects go to the build directory's src/core, src/pg and src/pg/tables, which must exist first (named
# by absolute path: make would find the relative names in the source directory through VPATH).
$(OBJS) $(OBJS:.o=.bc): | $(abspath $(sort $(dir $(OBJS))))
$(abspath $(sort $(dir $(OBJS)))):
	mkdir -p $@

# The install script: a generated-file banner, psql's guard, then each source in EXTENSION_SQL_SRCS' order.
$(DATA_built): $(addprefix $(srcdir)/extension/src/,$(addsuffix .sql,$(EXTENSION_SQL_SRCS))) $(srcdir)/$(EXTENSION).control
	{ printf '%s\n' '-- usage_meter $(EXTVERSION): generated by make from extension/src/*.sql; edit those, not this file.' \
	      '\echo Use "CREATE EXTENSION usage_meter" to load this file. \quit'; \
	  for f in $(filter %.sql,$^); do printf '\n-- %s\n\n' "$${f#$(srcdir)/}"; cat "$$f"; done; } >$@.tmp
	mv $@.tmp $@

# The PGXN distribution: META.json is checked against the spec and the control file, then git archive writes
# the committed tree (HEAD) as dist/usage_meter-<version>.tar.gz, version being default_version as a SemVer
# (1.5 -> 1.5.0, as META.json spells it). DISTDIR=... writes it elsewhere.
DISTVERSION = $(EXTVERSION)$(if $(word 3,$(subst ., ,$(EXTVERSION))),,$(if $(word 2,$(subst ., ,$(EXTVERSION))),.0,.0.0))
DISTDIR = dist
dist:
	python3 $(srcdir)/scripts/check_meta.py
	mkdir -p $(DISTDIR)
	git -C $(srcdir) archive --format=tar.gz --prefix=$(EXTENSION)-$(DISTVERSION)/ \
	    -o $(abspath $(DISTDIR))/$(EXTENSION)-$(DISTVERSION).tar.gz HEAD
	@echo "wrote $(DISTDIR)/$(EXTENSION)-$(DISTVERSION).tar.gz"
.PHONY: dist
