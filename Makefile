# Build ngx_stream_redis_master_module.so against the nginx installed from
# Debian 12 (nginx-dev ships its configure and headers), and run the tests.

SHELL      := /bin/bash
NGX_SRC    ?= /usr/share/nginx/src
BUILD      := $(CURDIR)/build
MODULE     := $(BUILD)/ngx_stream_redis_master_module.so
DEPS       := $(CURDIR)/.deps
TEST_NGINX := $(DEPS)/test-nginx/usr/share/perl5
SOURCES    := config $(wildcard ngx_stream_redis_master_module/*.[ch])

# Debian packages the build, tests and demo need
APT_PKGS := nginx nginx-dev libnginx-mod-stream libnginx-mod-http-lua \
            libhiredis-dev libpcre2-dev libssl-dev zlib1g-dev dpkg-dev gcc \
            make redis-server redis-tools valgrind perl libtest-base-perl \
            libipc-run-perl libtext-diff-perl libtest-longstring-perl \
            liblist-moreutils-perl liburi-perl libwww-perl \
            libhttp-message-perl

# the stream flags must match the installed binary: they change struct
# layouts (see docs/install.md)
STREAM_FLAGS := --with-stream=dynamic --with-stream_ssl_module \
                --with-stream_ssl_preread_module --with-stream_realip_module

WARN := -Wall -Wextra -Werror -Wno-unused-parameter

.PHONY: all deps test demo bench bench-reload bench-scale bench-scale-deps clean

all: $(MODULE)

deps:
	@missing=$$(for p in $(APT_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	        | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@bash scripts/fetch-test-nginx.sh $(DEPS)/test-nginx

$(BUILD)/Makefile: config
	mkdir -p $(BUILD)
	cd $(NGX_SRC) && . ./conf_flags && ./configure \
	    --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC $(WARN)" \
	    --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS)" \
	    "$${NGX_CONF_FLAGS[@]}" $(STREAM_FLAGS) \
	    --add-dynamic-module=$(CURDIR) --builddir=$(BUILD) > $(BUILD)/configure.log

$(MODULE): $(BUILD)/Makefile $(SOURCES)
	$(MAKE) -f $(BUILD)/Makefile -C $(NGX_SRC) $(MODULE)

test: deps
	$(MAKE) $(MODULE)
	PERL5LIB=$(TEST_NGINX):$(CURDIR)/t/lib prove -r t

demo: deps
	$(MAKE) $(MODULE)
	perl -I$(CURDIR)/t/lib scripts/demo.pl

# the failover drill against the HAProxy recipe, how soon sessions to a
# demoted master are closed (see docs/failover.md), reloads and worker
# deaths under load (see docs/testing.md), and the cost against the number
# of servers (see docs/benchmarks.md)
bench: deps bench-scale-deps
	@dpkg-query -W -f='$${Status}\n' haproxy python3-redis 2>/dev/null \
	    | grep -c '^install ok installed' | grep -q 2 \
	    || (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -q --no-install-recommends haproxy python3-redis)
	$(MAKE) $(MODULE)
	perl bench/failover
	perl bench/close
	perl bench/reload
	perl bench/scale

# reloads and worker deaths under redis-benchmark (redis-tools) alone
bench-reload: deps
	$(MAKE) $(MODULE)
	perl bench/reload

# the cost against the number of servers alone (see docs/benchmarks.md);
# bench/scale runs itself in a network namespace of its own (unshare, ip)
bench-scale: deps bench-scale-deps
	$(MAKE) $(MODULE)
	perl bench/scale

bench-scale-deps:
	@dpkg-query -W -f='$${Status}\n' iproute2 util-linux 2>/dev/null \
	    | grep -c '^install ok installed' | grep -q 2 \
	    || (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -q --no-install-recommends iproute2 util-linux)

clean:
	rm -rf $(BUILD) t/servroot*
