#!/usr/bin/env bash
# Fetch openresty's Test::Nginx (Debian package libtest-nginx-perl, only in
# the sid suite) into a project-local directory, without touching the
# machine's apt sources: a private apt configuration with its own lists and
# cache, naming the archive URI the machine already uses.
set -euo pipefail

dest=${1:?usage: fetch-test-nginx.sh DEST}
[ -f "$dest/usr/share/perl5/Test/Nginx/Socket.pm" ] && exit 0

uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
      | grep -oE 'https?://[^ ]*/debian/?( |$)' | awk 'NR == 1 {print $1}' \
      || true)
uri=${uri:-http://deb.debian.org/debian}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" \
         "$work/etc/preferences.d" "$dest"

echo "deb [trusted=yes] $uri sid main" > "$work/etc/sources.list"
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
