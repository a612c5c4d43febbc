# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Build ngx_stream_redis_master_module.so against the nginx installed from
# Debian 12 (nginx-dev ships its configure and headers), and run the tests.

SHELL      := /bin/bash
NGX_SRC    ?= /usr/share/nginx/src
BUILD      := $(CURDIR)/build
MODULE     := $(BUILD)/ngx_stream_redis_master_module.so
DEPS       := $(CURDIR)/.deps
TEST_NGINX := $(DEPS)/test-nginx/usr/share/perl5
SOURCES    := config $(wildcard ngx_stream_redis_master_module/*.[ch])

# Debian packages the demo needs: nginx with its stream module, what
# builds the module, Redis; and HAProxy, which the demo's partition
# comparison runs (DEMO_HAPROXY=0 leaves it out). None of them is a test
# tool, and none but nginx's own changes /etc/nginx.
DEMO_HAPROXY ?= 1
DEMO_PKGS := nginx nginx-dev libnginx-mod-stream libhiredis-dev \
             libpcre2-dev libssl-dev zlib1g-dev dpkg-dev gcc make \
             redis-server redis-tools $(if $(filter 1,$(DEMO_HAPROXY)),haproxy)

# Debian packages the build and tests need. The Lua and NDK nginx modules
# the stream test blocks drive are not installed: scripts/fetch-test-nginx.sh
# unpacks them (and Test::Nginx) into .deps/; only LuaJIT, the library they
# link, is installed. valgrind is installed by test-valgrind only.
# t/18-status.t checks the status page with prometheus's promtool and
# renders it in chromium.
APT_PKGS := nginx nginx-dev libnginx-mod-stream libhiredis-dev \
            libpcre2-dev libssl-dev zlib1g-dev dpkg-dev gcc make \
            redis-server redis-tools libluajit2-5.1-2 debhelper perl \
            libtest-base-perl libipc-run-perl libtext-diff-perl \
            libtest-longstring-perl liblist-moreutils-perl liburi-perl \
            libwww-perl libhttp-message-perl prometheus chromium

# the stream flags must match the installed binary: they change struct
# layouts (see docs/install.md)
STREAM_FLAGS := --with-stream=dynamic --with-stream_ssl_module \
                --with-stream_ssl_preread_module --with-stream_realip_module

WARN := -Wall -Wextra -Werror -Wno-unused-parameter

# the version is in one place, the header the module logs it from
VERSION := $(shell sed -n 's/^\#define NGX_STREAM_REDIS_MASTER_VERSION  *"\(.*\)"/\1/p' \
             ngx_stream_redis_master_module/ngx_stream_redis_master_version.h)
DEB_NAME := libnginx-mod-stream-redis-master
DEB_ARCH  = $(shell dpkg --print-architecture)
DEB       = $(BUILD)/$(DEB_NAME)_$(VERSION)_$(DEB_ARCH).deb
DEB_PKGS := debhelper nginx nginx-dev libnginx-mod-stream libhiredis-dev \
            libpcre2-dev libssl-dev zlib1g-dev dpkg-dev gcc make

# make install: where nginx looks for modules (its --modules-path)
MODULES_DIR ?= $(or $(shell nginx -V 2>&1 | \
                 sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p'), \
                 /usr/lib/nginx/modules)

.PHONY: all deb install version deps demo-deps etc-before etc-after \
        quiet-build test test-valgrind test-eagain unit demo bench \
        bench-reload soak bench-scale bench-scale-deps fuzz fuzz-deps \
        fuzz-build fuzz-coverage fuzz-seeds clean

# installs, with apt-get, those of the Debian packages $(1) that are missing
define install_missing
@missing=$$(for p in $(1); do \
    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
        | grep -q '^install ok installed' || echo $$p; done); \
if [ -n "$$missing" ]; then \
    echo "installing:" $$missing; \
    apt-get update -q && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends $$missing; \
fi
endef

all: $(MODULE)

deps:
	$(call install_missing,$(APT_PKGS))
	@bash scripts/fetch-test-nginx.sh $(DEPS)/test-nginx $(DEPS)/lua

demo-deps:
	$(call install_missing,$(DEMO_PKGS))

# /etc/nginx before and after the suites or the demo: apart from installing
# Debian's nginx (the deps above), neither may change anything there
ETC_BEFORE := $(BUILD)/etc-nginx.before
etc-before:
	@mkdir -p $(BUILD)
	@perl scripts/etc-manifest > $(ETC_BEFORE)

etc-after:
	@perl scripts/etc-manifest --compare $(ETC_BEFORE)

# the module with the compiler's output in build/build.log, and one line
quiet-build:
	@mkdir -p $(BUILD)
	@if $(MAKE) -s --no-print-directory $(MODULE) > $(BUILD)/build.log 2>&1; \
	then echo "build: $(MODULE) (version $(VERSION)), compiler output in" \
	          "build/build.log"; \
	else tail -n 20 $(BUILD)/build.log; \
	     echo "build: FAILED, see build/build.log"; exit 1; fi

$(BUILD)/Makefile: config
	mkdir -p $(BUILD)
	cd $(NGX_SRC) && . ./conf_flags && ./configure \
	    --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC $(WARN)" \
	    --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS)" \
	    "$${NGX_CONF_FLAGS[@]}" $(STREAM_FLAGS) \
	    --add-dynamic-module=$(CURDIR) --builddir=$(BUILD) > $(BUILD)/configure.log

$(MODULE): $(BUILD)/Makefile $(SOURCES)
	$(MAKE) -f $(BUILD)/Makefile -C $(NGX_SRC) $(MODULE)

version:
	@echo $(VERSION)

# the Debian package, built with debhelper and dh_nginx (debian/) from a
# copy of the sources in build/deb; its changelog is written from VERSION
deb:
	$(call install_missing,$(DEB_PKGS))
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	cp -r config LICENSE CHANGES README.md docs debian \
	    ngx_stream_redis_master_module $(BUILD)/deb/src/
	printf '%s (%s) unstable; urgency=medium\n\n  * Release %s (see CHANGES).\n\n -- %s  %s\n' \
	    $(DEB_NAME) $(VERSION) $(VERSION) \
	    "$$(sed -n 's/^Maintainer: //p' debian/control)" \
	    "$$(date -R)" > $(BUILD)/deb/src/debian/changelog
	cd $(BUILD)/deb/src && dpkg-buildpackage -b -us -uc \
	    > $(BUILD)/deb/build.log 2>&1 \
	    || { tail -n 30 $(BUILD)/deb/build.log; exit 1; }
	cp $(BUILD)/deb/$(notdir $(DEB)) $(DEB)
	@echo "built $(DEB) (log: $(BUILD)/deb/build.log)"
	@dpkg-deb -f $(DEB) Depends

# for a source build: the module into nginx's modules directory; nothing
# under /etc/nginx is changed (the load_module lines are printed)
install: $(MODULE)
	install -d $(DESTDIR)$(MODULES_DIR)
	install -m 644 $(MODULE) $(DESTDIR)$(MODULES_DIR)/
	@echo "installed $(DESTDIR)$(MODULES_DIR)/$(notdir $(MODULE));" \
	    "load it after the stream module, in the main context:"
	@echo "    load_module modules/ngx_stream_module.so;"
	@echo "    load_module modules/$(notdir $(MODULE));"

# every suite; deadlines scale with TEST_NGINX_TIMEOUT_SCALE (default 3,
# see docs/testing.md)
test: deps
	$(MAKE) etc-before
	$(MAKE) $(MODULE)
	$(MAKE) deb
	perl scripts/check-layers
	perl scripts/licence-headers --check
	$(MAKE) unit
	PERL5LIB=$(TEST_NGINX):$(CURDIR)/t/lib prove -r t
	$(MAKE) etc-after

# some suites again with nginx under valgrind (xt/valgrind.t)
test-valgrind: deps
	$(call install_missing,valgrind)
	$(MAKE) $(MODULE)
	PERL5LIB=$(TEST_NGINX):$(CURDIR)/t/lib prove xt/valgrind.t

# the suites that talk to servers, Sentinels and the DNS fixture again,
# with nginx's socket reads and writes failing with EAGAIN and cut short at
# random by an LD_PRELOAD shim (xt/eagain.t, xt/eagain/eagain.c); the seed
# is printed, EAGAIN_SEED=N runs the same sequence of fakes again (see
# docs/testing.md)
EAGAIN_SO := $(BUILD)/eagain/eagain.so
ifeq ($(origin EAGAIN_SEED),undefined)
EAGAIN_SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif

$(EAGAIN_SO): xt/eagain/eagain.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -g $(WARN) -o $@ $< -ldl

test-eagain: deps
	$(MAKE) $(MODULE) $(EAGAIN_SO)
	@echo "test-eagain: EAGAIN_SEED=$(EAGAIN_SEED)" \
	    "(make test-eagain EAGAIN_SEED=$(EAGAIN_SEED) runs it again)"
	EAGAIN_SEED=$(EAGAIN_SEED) PERL5LIB=$(TEST_NGINX):$(CURDIR)/t/lib \
	    prove xt/eagain.t

# the demo: knobs DEMO_KEEP, DEMO_HAPROXY, DEMO_NGINX (see README.md)
demo: demo-deps
	@$(MAKE) -s --no-print-directory etc-before
	@$(MAKE) -s --no-print-directory quiet-build
	@DEMO_HAPROXY=$(DEMO_HAPROXY) perl -I$(CURDIR)/t/lib scripts/demo.pl
	@$(MAKE) -s --no-print-directory etc-after

# the failover drill against the HAProxy recipe, how soon sessions to a
# demoted master are closed (see docs/failover.md), reloads and worker
# deaths under load (see docs/testing.md), and the cost against the number
# of servers (see docs/benchmarks.md)
bench: deps bench-scale-deps
	$(call install_missing,haproxy python3-redis)
	$(MAKE) $(MODULE)
	perl bench/failover
	perl bench/fleet
	perl bench/close
	perl bench/reload
	perl bench/scale

# reloads and worker deaths under redis-benchmark (redis-tools) alone
bench-reload: deps
	$(MAKE) $(MODULE)
	perl bench/reload

# faults in a random order under load for SOAK_SECONDS (600), order from
# SOAK_SEED (see docs/testing.md, "Soak")
soak: deps
	$(call install_missing,python3-redis)
	$(MAKE) $(MODULE)
	perl bench/soak

# unit tests, without nginx or Redis (unit/), under ASan and UBSan: the
# policy layer (tables of views and the decisions expected), the decision
# module over a double of the state layer, hold.c and link.c
UNIT         := $(BUILD)/unit
UNIT_MODULE  := ngx_stream_redis_master_module/ngx_stream_redis_master
UNIT_SOURCES := $(UNIT_MODULE)_policy.c fuzz/ngx_stub.c
UNIT_INCS    := $(addprefix -I$(NGX_SRC)/src/,core event event/modules \
                os/unix stream) -I$(BUILD) \
                -I$(CURDIR)/ngx_stream_redis_master_module

$(UNIT)/policy: unit/ngx_stream_redis_master_policy_test.c $(UNIT_SOURCES) \
                $(UNIT_MODULE)_types.h $(UNIT_MODULE)_policy.h \
                $(BUILD)/Makefile
	@mkdir -p $(UNIT)
	$(CC) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	    $(WARN) $(UNIT_INCS) -o $@ $< $(UNIT_SOURCES)

# how a held connection sees its client leave: ngx_stream_redis_master_hold.c
# itself, on loopback TCP connections (the nginx functions it calls are
# doubles in the test)
$(UNIT)/hold: unit/ngx_stream_redis_master_hold_test.c \
              $(UNIT_MODULE)_hold.c $(UNIT_MODULE)_hold.h \
              $(UNIT_MODULE)_types.h $(UNIT_MODULE)_state.h \
              $(BUILD)/Makefile
	@mkdir -p $(UNIT)
	$(CC) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	    $(WARN) $(UNIT_INCS) -o $@ $<

# which TLS error a link reports: ngx_stream_redis_master_link.c itself
# (LINK_C: another copy of it, by absolute path, build/unit/link removed
# first), two links of a worker in their handshakes, the nginx functions
# it calls doubles in the test
LINK_C ?= ngx_stream_redis_master_link.c

$(UNIT)/link: unit/ngx_stream_redis_master_link_test.c \
              $(UNIT_MODULE)_link.c $(UNIT_MODULE)_reply.c \
              $(UNIT_MODULE)_wire.h $(UNIT_MODULE)_types.h \
              fuzz/ngx_stub.c $(BUILD)/Makefile
	@mkdir -p $(UNIT)
	$(CC) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	    $(WARN) $(UNIT_INCS) -DT_LINK_C='"$(LINK_C)"' -o $@ $< \
	    $(UNIT_MODULE)_reply.c fuzz/ngx_stub.c -lhiredis -lssl -lcrypto

# the decision module: ngx_stream_redis_master_decision.c itself with the
# policy, the state layer below it doubles in the test (a zone of a few
# nodes and one route)
$(UNIT)/decision: unit/ngx_stream_redis_master_decision_test.c \
                  $(UNIT_MODULE)_decision.c $(UNIT_MODULE)_decision.h \
                  $(UNIT_SOURCES) $(UNIT_MODULE)_types.h \
                  $(UNIT_MODULE)_policy.h $(UNIT_MODULE)_state.h \
                  $(BUILD)/Makefile
	@mkdir -p $(UNIT)
	$(CC) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	    $(WARN) $(UNIT_INCS) -o $@ $< $(UNIT_SOURCES)

unit: $(UNIT)/policy $(UNIT)/decision $(UNIT)/hold $(UNIT)/link
	$(UNIT)/policy
	$(UNIT)/decision
	$(UNIT)/hold
	$(UNIT)/link

# libFuzzer targets under AddressSanitizer and UBSan, each run FUZZ_RUNS
# times on a copy of its seed corpus (see docs/testing.md)
FUZZ         := $(BUILD)/fuzz
FUZZ_RUNS    ?= 10000000
FUZZ_TARGETS := probe sentinel pubsub
FUZZ_BINS    := $(addprefix $(FUZZ)/,$(FUZZ_TARGETS))
FUZZ_PKGS    := clang libclang-rt-14-dev libhiredis-dev nginx-dev \
                libpcre2-dev libssl-dev zlib1g-dev dpkg-dev make
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined $(WARN)
FUZZ_INCS    := $(addprefix -I$(NGX_SRC)/src/,core event event/modules \
                os/unix stream) -I$(BUILD) \
                -I$(CURDIR)/ngx_stream_redis_master_module -I$(CURDIR)/fuzz
# the module's reply code itself, unchanged, and the test double of the
# nginx core functions it calls
FUZZ_MODULE  := ngx_stream_redis_master_module/ngx_stream_redis_master
FUZZ_SOURCES := $(FUZZ_MODULE)_reply.c fuzz/ngx_stream_redis_master_fuzz.c \
                fuzz/ngx_stub.c
FUZZ_HEADERS := $(FUZZ_MODULE)_types.h $(FUZZ_MODULE)_wire.h \
                fuzz/ngx_stream_redis_master_fuzz.h

fuzz-deps:
	$(call install_missing,$(FUZZ_PKGS))

# hiredis is linked statically, as the module uses it; it is not
# instrumented (Debian's build), but ASan sees its allocations
$(FUZZ_BINS): $(FUZZ)/%: fuzz/ngx_stream_redis_master_fuzz_%.c \
              $(FUZZ_SOURCES) $(FUZZ_HEADERS) $(BUILD)/Makefile
	@mkdir -p $(FUZZ)
	clang $(FUZZ_CFLAGS) $(FUZZ_INCS) -o $@ $< $(FUZZ_SOURCES) \
	    -l:libhiredis.a

fuzz-build: fuzz-deps
	$(MAKE) $(BUILD)/Makefile
	$(MAKE) $(FUZZ_BINS)

fuzz: fuzz-build
	$(MAKE) $(addprefix fuzz-run-,$(FUZZ_TARGETS))

# libFuzzer exits non-zero on a crash, a leak or a timeout; the input is
# left in build/fuzz/artifacts/
fuzz-run-%: $(FUZZ)/%
	rm -rf $(FUZZ)/corpus/$* && mkdir -p $(FUZZ)/corpus $(FUZZ)/artifacts
	cp -r fuzz/corpus/$* $(FUZZ)/corpus/$*
	set -o pipefail; start=$$(date +%s); \
	$(FUZZ)/$* -runs=$(FUZZ_RUNS) -dict=fuzz/$*.dict \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ)/artifacts/$*- \
	    $(FUZZ)/corpus/$* 2>&1 | tee $(FUZZ)/$*.log \
	    | { grep -v -e " NEW " -e " REDUCE " -e "# Uses: " || true; }; \
	echo "fuzz $*: $(FUZZ_RUNS) runs in $$(( $$(date +%s) - start )) s," \
	    "corpus $$(ls $(FUZZ)/corpus/$* | wc -l) files" \
	    | tee -a $(FUZZ)/$*.log

# line and branch coverage of the reply code by the corpus that "make fuzz"
# left in build/fuzz/corpus, or else by the seeds (clang's source-based
# coverage, no sanitizers)
$(FUZZ)/cov-%: fuzz/ngx_stream_redis_master_fuzz_%.c $(FUZZ_SOURCES) \
               $(FUZZ_HEADERS) $(BUILD)/Makefile
	@mkdir -p $(FUZZ)
	clang -g -O0 -fsanitize=fuzzer -fprofile-instr-generate \
	    -fcoverage-mapping $(WARN) $(FUZZ_INCS) -o $@ $< $(FUZZ_SOURCES) \
	    -l:libhiredis.a

fuzz-coverage: fuzz-deps
	$(call install_missing,llvm-14)
	$(MAKE) $(BUILD)/Makefile
	$(MAKE) $(addprefix $(FUZZ)/cov-,$(FUZZ_TARGETS))
	set -e; for t in $(FUZZ_TARGETS); do \
	    corpus=$(FUZZ)/corpus/$$t; \
	    [ -d $$corpus ] || corpus=fuzz/corpus/$$t; \
	    LLVM_PROFILE_FILE=$(FUZZ)/cov-$$t.profraw $(FUZZ)/cov-$$t -runs=0 \
	        $$corpus > $(FUZZ)/cov-$$t.log 2>&1; \
	    llvm-profdata-14 merge -o $(FUZZ)/cov-$$t.profdata \
	        $(FUZZ)/cov-$$t.profraw; \
	    echo "== $$t: $$(ls $$corpus | wc -l) inputs in $$corpus"; \
	    llvm-cov-14 report $(FUZZ)/cov-$$t \
	        -instr-profile=$(FUZZ)/cov-$$t.profdata $(FUZZ_MODULE)_reply.c; \
	done
	llvm-profdata-14 merge -o $(FUZZ)/cov-all.profdata \
	    $(addprefix $(FUZZ)/cov-,$(addsuffix .profraw,$(FUZZ_TARGETS)))
	@echo "== all three targets"
	llvm-cov-14 report -show-functions $(FUZZ)/cov-probe \
	    $(addprefix -object $(FUZZ)/cov-,sentinel pubsub) \
	    -instr-profile=$(FUZZ)/cov-all.profdata $(FUZZ_MODULE)_reply.c

# capture the seed corpus again from a real Redis 7 and Sentinel
fuzz-seeds:
	$(call install_missing,redis-server)
	perl fuzz/capture-seeds fuzz/corpus

# the cost against the number of servers alone (see docs/benchmarks.md);
# bench/scale runs itself in a network namespace of its own (unshare, ip)
bench-scale: deps bench-scale-deps
	$(MAKE) $(MODULE)
	perl bench/scale

bench-scale-deps:
	$(call install_missing,iproute2 util-linux haproxy)

clean:
	rm -rf $(BUILD) t/servroot*
