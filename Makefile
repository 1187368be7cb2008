# iketcp: one non-recursive Makefile.  `make check` is the test command.
#
# Sources are found by wildcard so that a new file in a module needs no edit
# here: every framing/ tls/ conf/ ike/ esp/ relay/ *.c except relay/main.c
# and relay/iketcpctl.c (the control client) goes into build/libiketcp.a;
# each test/unit/<module>/*_test.c is linked into one Criterion runner;
# each test/fuzz/*_fuzz.c is one libFuzzer target.

PREFIX	?= /usr/local
DESTDIR	?=
BUILD	?= build
CC	?= cc
V	?= 0

VERSION	:= 0.1.0
LLHTTP_DIR	?= /usr/share/llhttp
LLHTTP_INC	?= /usr/share/include/llhttp

# CPPFLAGS, CFLAGS and LDFLAGS are the builder's (dpkg-buildflags sets all
# three); they come after ours on every command line, so they win.
CFLAGS	?= -O2 -g
CPPFLAGS ?=
LDFLAGS	?=
WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter
CPPFLAGS_ALL := -I. -I$(LLHTTP_INC) -D_GNU_SOURCE -DIKETCP_VERSION='"$(VERSION)"' \
	   $(CPPFLAGS)
LDLIBS	:= -lev -lssl -lcrypto

# Hardened by default, with Debian's set: a daemon that parses what the
# network sends gets stack canaries, checked libc calls, a randomised
# address (PIE) and a read-only GOT bound at start (RELRO, BIND_NOW).
# FORTIFY needs an optimising -O (glibc warns otherwise, and -Werror would
# stop the build), and is left to CPPFLAGS when they set it, so that two
# different levels are never defined.  The sanitizer and fuzz builds (SAN
# set) are not hardened: ASan does its own checking, and FORTIFY's checked
# calls would hide from it the accesses it reports.  HARDEN=0 turns it off.
HARDEN	?= $(if $(SAN),0,1)
ifeq ($(HARDEN),1)
HARDEN_CFLAGS := -fstack-protector-strong -fstack-clash-protection -fPIE \
	   $(if $(filter-out -O0,$(lastword $(filter -O%,$(CFLAGS)))), \
	   $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS)),,-D_FORTIFY_SOURCE=2))
HARDEN_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now
endif
ALLCFLAGS = -std=c17 $(WARN) $(HARDEN_CFLAGS) $(CFLAGS) $(SAN) -MMD -MP
# Every program that is installed links with LINK (build/iketcpctl too).
LINK	= $(CC) $(HARDEN_CFLAGS) $(CFLAGS) $(SAN) $(HARDEN_LDFLAGS) $(LDFLAGS)

ifeq ($(V),0)
Q	= @
say	= @printf '  %-7s %s\n' $(1) $(2);
else
Q	=
say	=
endif

MODULES	:= framing tls conf ike esp relay
LIB_SRC	:= $(filter-out relay/main.c relay/iketcpctl.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIB_OBJ	:= $(LIB_SRC:%.c=$(BUILD)/%.o)
LLHTTP_SRC := $(wildcard $(LLHTTP_DIR)/*.c)
LLHTTP_OBJ := $(LLHTTP_SRC:$(LLHTTP_DIR)/%.c=$(BUILD)/llhttp/%.o)
UNIT_SRC := $(wildcard test/unit/*/*_test.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC := $(wildcard test/fuzz/*_fuzz.c)
BENCH_SRC := $(wildcard test/bench/*.c)
BENCH_BIN := $(BENCH_SRC:test/bench/%.c=$(BUILD)/bench/%)
HEADERS	:= $(foreach m,$(MODULES),$(wildcard $(m)/*.h))

DEPS	:= $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(BUILD)/relay/main.d \
	   $(BUILD)/relay/iketcpctl.d \
	   $(BENCH_BIN:=.d) $(BUILD)/ikeresp.d $(BUILD)/radtest.d

.PHONY: all check check-unit fuzz-bin unit asan-build unit-asan fuzz-smoke fuzz integration integration-asan bench \
	bench-scale demo install \
	clean deps deps-check headers format format-check tidy
.DEFAULT_GOAL := all

all: $(BUILD)/iketcpd $(BUILD)/iketcpctl

$(BUILD)/%.o: %.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(ALLCFLAGS) -c $< -o $@

# llhttp is third-party generated C: build it in, without our warning set.
$(BUILD)/llhttp/%.o: $(LLHTTP_DIR)/%.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -I$(LLHTTP_INC) $(CPPFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) $(SAN) -w \
	    -c $< -o $@

$(BUILD)/libiketcp.a: $(LIB_OBJ) $(LLHTTP_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/iketcpd: $(BUILD)/relay/main.o $(BUILD)/libiketcp.a
	$(call say,LD,$@)
	$(Q)$(LINK) -o $@ $^ $(LDLIBS)

# The control client needs nothing of the library.
$(BUILD)/iketcpctl: $(BUILD)/relay/iketcpctl.o
	$(call say,LD,$@)
	$(Q)$(LINK) -o $@ $^

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libiketcp.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $^ -lcriterion $(LDLIBS)

# Test-only UDP front end for the ike/ responder (integration tests).
$(BUILD)/ikeresp: test/integration/ikeresp.c $(BUILD)/libiketcp.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(ALLCFLAGS) -o $@ $^ $(LDLIBS)

# Test-only driver of relay/radclient.c against freeradius (test 58).
$(BUILD)/radtest: test/integration/radtest.c $(BUILD)/libiketcp.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(ALLCFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: test/bench/%.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(ALLCFLAGS) -o $@ $< $(LDLIBS)

# esp_bench measures esp/ itself, so it links the library; the other bench
# programs stay standalone.
$(BUILD)/bench/esp_bench: test/bench/esp_bench.c $(BUILD)/libiketcp.a
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(ALLCFLAGS) -o $@ $< $(BUILD)/libiketcp.a \
	    $(LDLIBS)

# test/unit/run.sh keeps the runner's output (and the expected errors the
# negative tests provoke) in build/unit-tests.log unless a test fails.
unit: $(BUILD)/unit-tests
	$(Q)test/unit/run.sh $(BUILD)/unit-tests --jobs 2 --timeout 60

# Builds that make check starts on its own run JOBS compilers at a time
# (one a core): they are about a third of its time.
JOBS	?= $(shell nproc 2>/dev/null || echo 2)

# The same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer,
# in a build directory of their own.
asan-build:
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/asan \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' \
	    CFLAGS='-O1 -g' build/asan/unit-tests build/asan/iketcpd \
	    build/asan/ikeresp build/asan/radtest

unit-asan: asan-build
	$(Q)ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=test/lsan.supp \
	    UBSAN_OPTIONS=print_stacktrace=1 \
	    test/unit/run.sh build/asan/unit-tests --jobs 2 --timeout 120

# libFuzzer targets (clang).  Each links the same objects as the daemon.
FUZZ_CC	:= clang
FUZZ_BUILD := build/fuzz
FUZZ_BIN := $(FUZZ_SRC:test/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_SMOKE_SECONDS ?= 6
FUZZ_SECONDS ?= 300

$(FUZZ_BUILD)/%: test/fuzz/%.c FORCE_FUZZLIB
	$(call say,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(FUZZ_BUILD)/libiketcp.a $(LDLIBS)

.PHONY: FORCE_FUZZLIB
FORCE_FUZZLIB:
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
	    SAN='-fsanitize=fuzzer-no-link,address,undefined' CFLAGS='-O1 -g' \
	    $(FUZZ_BUILD)/libiketcp.a

# Every target runs even after one fails, JOBS at a time; each one's output
# is in build/fuzz/<target>.log and is shown (its last 50 lines) only on
# failure (test/fuzz/smoke.sh).
fuzz-bin:
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) $(FUZZ_BIN)

fuzz-smoke: fuzz-bin
	$(Q)test/fuzz/smoke.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(JOBS) \
	    $(FUZZ_BIN)

fuzz:
	$(Q)$(MAKE) --no-print-directory fuzz-smoke FUZZ_SMOKE_SECONDS=$(FUZZ_SECONDS)

integration: $(BUILD)/iketcpd $(BUILD)/ikeresp $(BUILD)/radtest
	$(Q)test/integration/run.sh $(BUILD)/iketcpd

# The daemon itself under ASan+UBSan against the same real peers, but for
# tests that only vary another one's peer, address family or timing,
# whose code that test already runs under ASan: CI stays under 30 minutes.
# 44 adds clients to 41's code, 75 puts haproxy before 23's PROXY v2 code,
# 88 runs the sample configuration of 53's, 59's and 80's code.
ASAN_SKIP = 44-integrated-clients 68-connector-ipv6 72-connector-flap \
	    73-connector-switch-nomobike 75-haproxy-scale-out 76-haproxy-stick \
	    81-integrated-udp-ipv6 88-integrated-roadwarrior
integration-asan: asan-build
	$(Q)ASAN_OPTIONS=detect_leaks=1 IKT_SKIP="$(ASAN_SKIP)" \
	    test/integration/run.sh build/asan/iketcpd

# deps-check installs the Debian packages only when something is missing.
deps-check:
	$(Q)test/deps.sh --check || test/deps.sh

deps:
	test/deps.sh

# One line per stage through test/check.sh: a failing stage does not stop
# the others, and the last line sums all of them up ("check: unit 536, ...:
# 1186 passed, 0 failed"); make check fails if any stage did.  Each stage's
# whole output is in build/check/<stage>.log.
CHECK_RUN = $(Q)test/check.sh run

# The unit stage builds everything JOBS at a time, then runs the tests.
check-unit:
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all $(BUILD)/unit-tests
	$(Q)$(MAKE) --no-print-directory unit

check: deps-check
	$(Q)test/check.sh start
	$(CHECK_RUN) unit $(MAKE) --no-print-directory check-unit
	$(CHECK_RUN) unit-asan $(MAKE) --no-print-directory unit-asan
	$(CHECK_RUN) fuzz $(MAKE) --no-print-directory fuzz-smoke
	$(CHECK_RUN) integration $(MAKE) --no-print-directory integration
	$(CHECK_RUN) integration-asan $(MAKE) --no-print-directory integration-asan
	$(CHECK_RUN) package $(MAKE) --no-print-directory package-check
	$(Q)test/check.sh summary

bench: deps-check $(BUILD)/iketcpd $(BENCH_BIN)
	test/bench/run.sh $(BUILD)

# make bench-scale: 100 000 idle relay sessions (BENCH_SESSIONS) over
# workers from 65 534 client addresses in a namespace of its own: set-up
# rate, our memory and the kernel's per session, a sample of sessions
# still carrying traffic both ways, and haproxy holding as many idle
# connections in the same run (test/bench/scale.sh says what each figure
# is).  About a minute on an idle machine.
bench-scale: deps-check $(BUILD)/iketcpd $(BUILD)/iketcpctl $(BENCH_BIN)
	timeout -k 10 1800 test/bench/scale.sh $(BUILD)

demo: deps-check $(BUILD)/iketcpd
	timeout -k 10 180 test/demo.sh $(BUILD)/iketcpd

# Every header compiles on its own.
headers:
	$(Q)set -e; for h in $(HEADERS); do \
	    echo "#include \"$$h\"" | $(CC) $(CPPFLAGS_ALL) -std=c17 $(WARN) -fsyntax-only -x c -; \
	done; echo "  HEADERS ok ($(words $(HEADERS)))"

format:
	clang-format -i $(LIB_SRC) relay/main.c relay/iketcpctl.c $(HEADERS)

format-check:
	clang-format --dry-run --Werror $(LIB_SRC) relay/main.c \
	    relay/iketcpctl.c $(HEADERS)

tidy:
	clang-tidy --quiet $(LIB_SRC) relay/main.c relay/iketcpctl.c -- \
	    $(CPPFLAGS_ALL) -std=c17

# make install DESTDIR=... PREFIX=/usr is what debian/rules runs.  The
# programs go to sbin (iketcpctl with iketcpd once it is built), every man
# page in man/ to its section, the samples to the doc directory, and
# conf/installed.conf -- commented, it starts nothing -- to
# SYSCONFDIR/iketcpd/iketcpd.conf, unless a file is already there.
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/iketcpd
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
INSTALL_PROGS := iketcpd iketcpctl

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/iketcpd
	set -e; for p in $(INSTALL_PROGS); do \
	    [ ! -e $(BUILD)/$$p ] || install -m 755 $(BUILD)/$$p $(DESTDIR)$(SBINDIR)/; \
	done
	install -m 644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(filter-out conf/installed.conf,$(wildcard conf/*.conf)) \
	    conf/haproxy.cfg \
	    $(DESTDIR)$(DOCDIR)/
	[ -e $(DESTDIR)$(SYSCONFDIR)/iketcpd/iketcpd.conf ] || \
	    install -m 644 conf/installed.conf \
	    $(DESTDIR)$(SYSCONFDIR)/iketcpd/iketcpd.conf

# The Debian package, built from a temporary copy of the tree and checked:
# lintian, the files in place, hardening, systemd-analyze verify, install
# and purge into an empty root, the daemon under the unit's capabilities
# (test/pkg/check.sh; about 20 s).
.PHONY: package-check
package-check:
	$(Q)test/pkg/check.sh

# make deb: dpkg-buildpackage -us -uc -b on a copy of the source files, so
# that the tree stays clean; the .deb, -dbgsym and .changes land in
# build/deb.
.PHONY: deb
deb:
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -co --exclude-standard -z | \
	    xargs -0 cp --parents -t $(BUILD)/deb/src; \
	else \
	    tar --exclude=./build --exclude=./.git -cf - . | \
	    tar -C $(BUILD)/deb/src -xf -; \
	fi
	$(Q)cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b >../build.log \
	    2>&1 || { tail -30 ../build.log; exit 1; }
	$(Q)rm -rf $(BUILD)/deb/src && ls $(BUILD)/deb/*.deb

clean:
	rm -rf build

-include $(DEPS)
