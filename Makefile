# stopgate — plain Makefile, pkg-config, -MMD -MP dependencies.
#
# Every source folder builds into one static archive that the daemon, the
# unit tests, the tools and the fuzzers link. The libraries (smpp/, config/,
# store/) know nothing of the event loop. proxy/ is layered, each folder an
# archive that may include only the folders listed for it ("libs" is smpp,
# config and store):
#
#   proxy/admin/       admin HTTP API (front end)  -> daemon, cluster,
#                                                     compliance, io, policy,
#                                                     libs
#   proxy/cli/         command line (front end)    -> cluster, compliance,
#                                                     policy, libs
#   proxy/daemon/      the SMPP runtime            -> io, policy, compliance,
#                                                     cluster, libs
#   proxy/cluster/     several nodes: PostgreSQL   -> io, policy, libs
#                      shipper and follower
#   proxy/compliance/  staff operations            -> policy, libs
#   proxy/policy/      decisions                   -> libs
#   proxy/io/          event-loop plumbing (log,   -> smpp, config
#                      TLS, listener, pduconn)
#   store/             the opt-out store (LMDB)    -> smpp
#   config/            YAML to struct config       -> smpp
#   smpp/              the codec                   -> nothing of ours
#
# proxy/main.c wires them together. There is no include cycle between
# modules (x.c, x.h and x_int.h are one). Only proxy/daemon, proxy/admin and
# proxy/io include libevent or OpenSSL (compliance and policy run without an
# event loop); only store/ includes LMDB, only config/ libyaml, only
# proxy/cluster libpq.
# tests/check-layout.py (make layout-check) enforces it.

CC	?= cc
PKG_CONFIG ?= pkg-config
BUILD	?= build
# A build tree may carry its own flags (make check writes build/san's), so
# any later make with that BUILD (make install from a test, say) builds
# and links it the same way instead of relinking it without them.
-include $(BUILD)/build.mk

PKGS	 = libevent libevent_openssl lmdb yaml-0.1 openssl jansson libpq
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

WARN	 = -Wall -Wextra -Wpedantic -Wshadow -Wpointer-arith -Wcast-qual \
	   -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	   -Wformat=2 -Wundef -Wvla -Wwrite-strings -Wnull-dereference \
	   -Wimplicit-fallthrough -Werror=implicit-function-declaration
# The codec is pure arithmetic on untrusted bytes: no silent narrowing.
WARN_SMPP = -Wconversion -Wsign-conversion

OPT	?= -O2
CFLAGS_BASE = -std=c11 -pthread -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g $(OPT) \
	   $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2 -I.
ifeq ($(WERROR),1)
CFLAGS_BASE += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS_BASE += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
# _FORTIFY_SOURCE and ASan disagree at -O0; keep the optimised build.
endif
ifeq ($(COVERAGE),1)
CFLAGS_BASE += --coverage
LDFLAGS += --coverage
endif

ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS)
LIBS	 = $(PKG_LIBS) -lunistring -lm -pthread

SMPP_SRC   := $(wildcard smpp/*.c)
CONFIG_SRC := $(wildcard config/*.c)
STORE_SRC  := $(wildcard store/*.c)
PROXY_DIRS := admin cli daemon cluster compliance policy io

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_SMPP   = $(BUILD)/libsmpp.a
LIB_CONFIG = $(BUILD)/libconfig.a
LIB_STORE  = $(BUILD)/libstore.a
LIB_PROXY  = $(foreach d,$(PROXY_DIRS),$(BUILD)/libproxy_$(d).a)
# Link order: dependants first.
LIBS_ALL   = $(LIB_PROXY) $(LIB_STORE) $(LIB_CONFIG) $(LIB_SMPP)

UNIT_SRC   := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN   := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all test unit integration interop check fuzz fuzz-smoke run bench \
	run-cluster \
	clean deps format format-check analyze layout-check lint coverage tools \
	regress

all: $(BUILD)/stopgate tools

tools: $(TOOL_BIN)

$(BUILD)/obj/smpp/%.o: smpp/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(WARN_SMPP) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_SMPP): $(call obj,$(SMPP_SRC))
$(LIB_CONFIG): $(call obj,$(CONFIG_SRC))
$(LIB_STORE): $(call obj,$(STORE_SRC))
$(foreach d,$(PROXY_DIRS),$(eval \
  $(BUILD)/libproxy_$(d).a: $(call obj,$(wildcard proxy/$(d)/*.c))))
# The dashboard's files (proxy/admin/web/) compiled in as byte arrays.
WEB_ASSETS := $(wildcard proxy/admin/web/*.html proxy/admin/web/*.js \
	      proxy/admin/web/*.svg \
	      proxy/admin/web/*.css)
$(BUILD)/tools/embed: proxy/admin/web/embed.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -Wall -Wextra -o $@ $<
$(BUILD)/gen/admin_assets.c: $(WEB_ASSETS) $(BUILD)/tools/embed
	@mkdir -p $(@D)
	$(BUILD)/tools/embed $@ $(WEB_ASSETS)
$(BUILD)/obj/gen/admin_assets.o: $(BUILD)/gen/admin_assets.c \
    proxy/admin/admin_web.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/libproxy_admin.a: $(BUILD)/obj/gen/admin_assets.o

$(BUILD)/lib%.a:
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/stopgate: $(call obj,proxy/main.c) $(LIBS_ALL)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIBS_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBS_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# --- dependencies -----------------------------------------------------
# On a fresh Debian 12 machine as root, install what the build and the
# tests need. A no-op when everything is present.
deps:
	@sh tests/install-deps.sh

# --- tests ------------------------------------------------------------
# Each libFuzzer target is also built as a plain program (the same flags
# and archives as the unit tests, sanitizers included under `make check`)
# with tests/fuzz/standalone.c as its main, to replay tests/regress/<target>/
# and the seed corpora on every `make unit`.
REGRESS_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/regress/%,$(FUZZ_SRC))

$(BUILD)/regress/%: $(BUILD)/obj/tests/fuzz/%.o \
    $(BUILD)/obj/tests/fuzz/standalone.o $(LIBS_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

regress: $(REGRESS_BIN)
	@sh tests/regress/run.sh $(BUILD)/regress

unit: $(UNIT_BIN) $(REGRESS_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)
	@sh tests/regress/run.sh $(BUILD)/regress

test: deps
	@$(MAKE) --no-print-directory all unit
	@sh tests/run-all.sh

# WERROR build with ASan and UBSan, every suite, in its own build tree.
check: deps
	@mkdir -p build/san && printf '%s\n' 'SANITIZE ?= address,undefined' \
		'OPT ?= -O1' 'WERROR ?= 1' > build/san/build.mk
	@$(MAKE) --no-print-directory BUILD=build/san all unit
	@BUILD=build/san sh tests/run-all.sh

# --- fuzzing (clang libFuzzer) -----------------------------------------
FUZZ_CC	 ?= clang
FUZZ_FLAGS = -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. \
	     $(shell $(PKG_CONFIG) --cflags yaml-0.1 lmdb) \
	     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# The parsers the daemon and CLI feed untrusted bytes to live in libraries
# with no libevent: the fuzzers link those libraries, built with the fuzz
# flags into an archive of their own (only the objects a target uses are
# pulled in).
FUZZ_LIBSRC = $(SMPP_SRC) $(CONFIG_SRC) $(STORE_SRC) \
	      $(wildcard proxy/policy/*.c proxy/compliance/*.c)
FUZZ_LIB := $(BUILD)/fuzz/libfuzzed.a
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_LIBSRC))
	rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB) \
		$(shell $(PKG_CONFIG) --libs yaml-0.1 lmdb) -lunistring -lm

fuzz: $(FUZZ_BIN)

# FUZZ_SECONDS per target; corpora are copied so the repo stays clean.
FUZZ_SECONDS ?= 20
fuzz-smoke: fuzz
	@sh tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

# --- running ----------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@sh tests/tools/run-example.sh

# Two nodes on one throwaway PostgreSQL and the SMSC simulator (README
# "Several nodes").
run-cluster: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/tools/run-cluster.py

bench: deps
	@$(MAKE) --no-print-directory OPT="-O2 -DNDEBUG" all
	@sh tests/bench/run.sh

# --- tooling ----------------------------------------------------------
PRODUCT_SRC = $(wildcard smpp/*.[ch] config/*.[ch] store/*.[ch] proxy/*.[ch] \
	      proxy/*/*.[ch])
TEST_CSRC   = $(shell find tests -name '*.[ch]' 2>/dev/null | sort)

# The style gate: tests/style-check.py checks what STYLE.md states and a
# tool can check (tabs, 80 columns, return type on its own line, header
# guards, own header first, banned calls, VLAs, 100-line functions in
# product code, no "issue N" in comments). clang-format 14 cannot express
# our aligned KNF declarations, so it is not the gate.
format-check:
	@rc=0; python3 tests/style-check.py --self-test || rc=1; \
	python3 tests/style-check.py $(PRODUCT_SRC) || rc=1; \
	python3 tests/style-check.py --no-length $(TEST_CSRC) || rc=1; \
	exit $$rc

# Advisory, for editors: clang-format (see .clang-format) on the files
# named, e.g. `make format FILES=smpp/pdu.c`. It realigns hand-aligned
# declarations, so review its diff; format-check is what CI runs.
format:
	@test -n "$(FILES)" || { echo "usage: make format FILES='a.c b.h'" >&2; \
		exit 2; }
	clang-format -i $(FILES)

# Folder layering, include cycles and who may include libevent, OpenSSL,
# LMDB and libyaml (see the head of this file).
layout-check:
	@python3 tests/check-layout.py .

# Static analysis: cppcheck over the product code with the build's defines
# and include path. tests/cppcheck.supp lists the rules we turn off, each
# with its reason; a one-off goes inline (cppcheck-suppress) with a comment.
CPPCHECK_FLAGS = -q --std=c11 --library=posix \
	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. \
	$(filter -I% -D%,$(PKG_CFLAGS)) \
	--enable=warning,style,performance,portability --inline-suppr \
	--suppressions-list=tests/cppcheck.supp --error-exitcode=1 \
	--template='{file}:{line}: {severity}: {id}: {message}'
analyze:
	cppcheck $(CPPCHECK_FLAGS) $(filter %.c,$(PRODUCT_SRC))

# The quick gates, in the order CI runs them.
lint: format-check layout-check analyze

coverage:
	$(MAKE) BUILD=build/cov COVERAGE=1 OPT=-O0 all unit

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# --- install ------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=/tmp/root]: the binary, the
# man pages stopgate(8) and stopgate.yaml(5), the systemd unit, the
# sysusers.d file that creates the stopgate user, and an example config.
# config/REFERENCE.md is the one source of stopgate.yaml(5), rendered by
# config/md2man.py; stopgate(8) and the unit are config/*.in with the
# install paths filled in. Nothing here touches the running system
# (users, systemctl): the README's "Install" section lists those steps.
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/stopgate
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
PYTHON3	?= python3
INSTALL	?= install

GEN	 = $(BUILD)/gen
GEN_FILES = $(GEN)/stopgate.8 $(GEN)/stopgate.yaml.5 \
	    $(GEN)/stopgate.service $(GEN)/stopgate.yaml.example
SUBST	 = sed -e 's|@SBINDIR@|$(SBINDIR)|g' \
	       -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	       -e 's|@UNITDIR@|$(UNITDIR)|g' \
	       -e 's|@SYSUSERSDIR@|$(SYSUSERSDIR)|g' \
	       -e 's|@DOCDIR@|$(DOCDIR)|g'

.PHONY: man install uninstall
man: $(GEN)/stopgate.8 $(GEN)/stopgate.yaml.5

# The paths are part of the generated text: regenerate on every install.
$(GEN)/stopgate.8: config/stopgate.8.in FORCE
	@mkdir -p $(@D)
	$(SUBST) config/stopgate.8.in >$@
$(GEN)/stopgate.yaml.5: config/REFERENCE.md config/md2man.py FORCE
	@mkdir -p $(@D)
	$(PYTHON3) config/md2man.py config/REFERENCE.md | $(SUBST) >$@.tmp
	mv $@.tmp $@
$(GEN)/stopgate.service: config/stopgate.service.in FORCE
	@mkdir -p $(@D)
	$(SUBST) config/stopgate.service.in >$@
# The example with its store where the unit's StateDirectory is.
$(GEN)/stopgate.yaml.example: config/example.yaml
	@mkdir -p $(@D)
	sed -e 's|^\(  path:\).*|\1 /var/lib/stopgate/store  # the unit'"'"'s StateDirectory|' \
		config/example.yaml >$@
FORCE:

install: $(BUILD)/stopgate $(GEN_FILES)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 755 $(BUILD)/stopgate $(DESTDIR)$(SBINDIR)/stopgate
	$(INSTALL) -m 644 $(GEN)/stopgate.8 $(DESTDIR)$(MANDIR)/man8/stopgate.8
	$(INSTALL) -m 644 $(GEN)/stopgate.yaml.5 \
		$(DESTDIR)$(MANDIR)/man5/stopgate.yaml.5
	$(INSTALL) -m 644 $(GEN)/stopgate.service \
		$(DESTDIR)$(UNITDIR)/stopgate.service
	$(INSTALL) -m 644 config/stopgate.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/stopgate.conf
	$(INSTALL) -m 644 $(GEN)/stopgate.yaml.example \
		$(DESTDIR)$(DOCDIR)/stopgate.yaml.example

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/stopgate \
		$(DESTDIR)$(MANDIR)/man8/stopgate.8 \
		$(DESTDIR)$(MANDIR)/man5/stopgate.yaml.5 \
		$(DESTDIR)$(UNITDIR)/stopgate.service \
		$(DESTDIR)$(SYSUSERSDIR)/stopgate.conf \
		$(DESTDIR)$(DOCDIR)/stopgate.yaml.example
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
