# Makefile for cdp, built with PGXS.
#
#   make            build the shared library and the install script
#   make install    install into the PostgreSQL found by $(PG_CONFIG)
#   make test       install missing Debian packages, build, and run the whole
#                   suite against a throwaway cluster (ends "N passed, N failed")
#   make demo       the same set-up, then load the demo data set and print reports
#   make bench      benchmarks; each prints ratios measured in the same run
#
# The install script cdp--$(EXTVERSION).sql is assembled from the per-module
# SQL files in src/, in the order of MODULES (reference schema first).

EXTENSION = cdp
EXTVERSION = 0.2
# the last released version, whose install script is frozen in upgrade/
PREV_VERSION = 0.1
PG_CONFIG ?= pg_config

# Module order matters: each piece may use what the pieces before it created.
MODULES_ORDER = schema lifecycle normalize company city bant scoring funnel graph rollup views governance

SQL_PIECES = $(wildcard $(addprefix src/,$(addsuffix .sql,$(MODULES_ORDER))))
UPGRADE_PIECES = $(wildcard $(addprefix upgrade/$(EXTVERSION)/,$(addsuffix .sql,$(MODULES_ORDER))))
C_SOURCES = $(sort $(wildcard src/*.c))

MODULE_big = $(EXTENSION)
OBJS = $(C_SOURCES:.c=.o)
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(EXTENSION)--$(PREV_VERSION)--$(EXTVERSION).sql
# released install scripts and the upgrade scripts between releases
DATA = $(wildcard upgrade/$(EXTENSION)--*.sql)

REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
# company_quality measures matching quality on the development data in
# ../shared/data, which is not part of this repository: without it that one
# test is left out (tools/test.sh says so).
ifeq ($(wildcard ../shared/data/company_pairs_en_dev.csv),)
REGRESS := $(filter-out company_quality,$(REGRESS))
endif
REGRESS_OPTS = --inputdir=.

ICU_CFLAGS := $(shell pkg-config --cflags icu-uc icu-i18n 2>/dev/null)
ICU_LIBS := $(shell pkg-config --libs icu-uc icu-i18n 2>/dev/null || echo -licui18n -licuuc -licudata)

PG_CPPFLAGS = -I$(srcdir)/src $(ICU_CFLAGS) -DCDP_VERSION='"$(EXTVERSION)"'
PG_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers
# ICU is linked even before a module calls it, so a missing ICU fails at load
SHLIB_LINK = -Wl,--no-as-needed $(ICU_LIBS) -Wl,--as-needed

EXTRA_CLEAN = results regression.diffs regression.out .build

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
# Debian ships pgxs.mk with the client; the server headers come with
# postgresql-server-dev-15, so they tell whether we can build.
PG_SERVER_HEADER := $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)/postgres.h

.PHONY: test demo demo-stop bench deps

ifneq ($(and $(wildcard $(PGXS)),$(wildcard $(PG_SERVER_HEADER))),)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PIECES) tools/assemble-sql.sh Makefile
	tools/assemble-sql.sh $(EXTENSION) $(SQL_PIECES) > $@.tmp && mv $@.tmp $@

$(EXTENSION)--$(PREV_VERSION)--$(EXTVERSION).sql: $(UPGRADE_PIECES) $(SQL_PIECES) tools/assemble-sql.sh Makefile
	tools/assemble-sql.sh --update $(PREV_VERSION) $(EXTVERSION) $(EXTENSION) $(UPGRADE_PIECES) > $@.tmp && mv $@.tmp $@

else ifeq ($(CDP_DEPS_TRIED),)
# No server development files yet (fresh machine): build targets first run
# tools/deps.sh, which installs them, then start again (once).
all install installcheck:
	tools/deps.sh
	$(MAKE) CDP_DEPS_TRIED=1 $@
else
all install installcheck:
	@echo "cdp: no PostgreSQL server headers at $(PG_SERVER_HEADER) (PG_CONFIG=$(PG_CONFIG)), even after tools/deps.sh" >&2
	@exit 1
endif

# The commands below do their own set-up (see tools/), so they work on a
# fresh machine and may be run twice in a row.
test:
	tools/test.sh

demo:
	tools/demo.sh

demo-stop:
	tools/demo.sh --stop

bench:
	tools/bench.sh

deps:
	tools/deps.sh
