#!/usr/bin/env bash
# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Fetch openresty's Test::Nginx (Debian package libtest-nginx-perl, only in
# the sid suite) into a project-local directory, without touching the
# machine's apt sources: a private apt configuration with its own lists and
# cache, naming the archive URI the machine already uses, whose downloads
# apt verifies with Debian's archive keyring.
#
# With LUA_DEST, also the Lua and NDK nginx modules the stream test blocks
# need (Test::Nginx::Socket::Lua::Stream drives them through http {} and
# Lua), with lua-resty-core and lua-resty-lrucache, from the machine's own
# apt sources (the build matching the installed nginx), unpacked with
# dpkg -x into LUA_DEST and never installed: nothing is enabled in
# /etc/nginx/modules-enabled.  t/lib/TestRM.pm loads them from there.
set -euo pipefail

dest=${1:?usage: fetch-test-nginx.sh DEST [LUA_DEST]}
lua_dest=${2:-}
apt_etc=${APT_ETC:-/etc/apt}    # another directory only for the tests

lua_modules=usr/lib/nginx/modules
lua_pkgs="libnginx-mod-http-lua libnginx-mod-http-ndk lua-resty-core
          lua-resty-lrucache"

# fetch_lua: the Lua modules of the installed nginx's ABI into $lua_dest
fetch_lua() {
    local work abi deb

    work=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" RETURN

    # shellcheck disable=SC2086
    if ! (cd "$work" && env -u APT_CONFIG apt-get -q -o APT::Sandbox::User=root \
              download $lua_pkgs \
              >/dev/null)
    then
        echo "fetch-test-nginx.sh: apt-get download $lua_pkgs failed" \
             "(run apt-get update?)" >&2
        return 1
    fi

    # the modules must be built for the nginx that runs the tests
    abi=$(dpkg-query -W -f='${Provides}' nginx | tr ',' '\n' \
          | sed -n 's/^ *\(nginx-abi-[^ ]*\).*/\1/p' | head -n 1)
    for deb in "$work"/libnginx-mod-http-*.deb; do
        if ! dpkg-deb -f "$deb" Depends | grep -q -- "$abi"; then
            echo "fetch-test-nginx.sh: $(basename "$deb") is not built for" \
                 "the installed nginx ($abi)" >&2
            return 1
        fi
    done

    mkdir -p "$lua_dest"
    for deb in "$work"/*.deb; do
        dpkg -x "$deb" "$lua_dest"
    done
    echo "Lua modules for $abi unpacked in $lua_dest"
}

if [ -n "$lua_dest" ] \
   && [ ! -f "$lua_dest/$lua_modules/ngx_http_lua_module.so" ]
then
    fetch_lua
fi

[ -f "$dest/usr/share/perl5/Test/Nginx/Socket.pm" ] && exit 0

# the Debian archive this machine already uses: the first "URIs:" of a
# deb822 .sources file, or the first "deb" line of a .list file, whose path
# ends in /debian (not /debian-security)
uri=$(
    {
        sed -n 's/^[[:space:]]*URIs:[[:space:]]*//p' \
            "$apt_etc"/sources.list.d/*.sources 2>/dev/null
        sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//p' \
            "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list \
            2>/dev/null \
            | awk '{ print $1 }'
    } | tr -s ' \t' '\n\n' | grep -E '^https?://[^ ]+/debian/?$' | head -n 1
) || true

if [ -z "$uri" ]; then
    echo "fetch-test-nginx.sh: no Debian archive found in this machine's apt" \
         "sources ($apt_etc/sources.list, $apt_etc/sources.list.d/*.list or" \
         "*.sources); add the Debian archive there, or put openresty's" \
         "Test::Nginx under $dest/usr/share/perl5 by hand" >&2
    exit 1
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg

if [ ! -r "$keyring" ]; then
    echo "fetch-test-nginx.sh: $keyring is missing: install" \
         "debian-archive-keyring, which verifies what is downloaded" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" \
         "$work/etc/preferences.d" "$dest"

echo "deb [signed-by=$keyring] $uri sid main" > "$work/etc/sources.list"
cat > "$work/apt.conf" <<CONF
Dir::Etc::SourceList "$work/etc/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::Etc::Preferences "$work/etc/preferences";
Dir::Etc::PreferencesParts "$work/etc/preferences.d";
Dir::State::Lists "$work/lists";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "$work/cache";
Acquire::Languages "none";
APT::Get::List-Cleanup "false";
APT::Sandbox::User "root";
CONF

export APT_CONFIG="$work/apt.conf"
apt-get -q update >/dev/null
(cd "$work" && apt-get -q download libtest-nginx-perl >/dev/null)
dpkg -x "$work"/libtest-nginx-perl_*.deb "$dest"
echo "Test::Nginx installed in $dest"
