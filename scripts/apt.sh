#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# apt.sh: the project's own apt configuration, under build/apt/, for every
# Debian suite the kernel matrix takes kernels from, whatever this machine
# runs: bullseye (5.10), bookworm (Debian 12: 6.1, 6.12), trixie (Debian
# 13: 6.12, and trixie-backports' 7.x), sid (mainline) and experimental
# (the next -rc), and bookworm-backports for the guests' QEMU on a host
# whose own QEMU is too old (scripts/qemu.sh).  It never touches
# /etc/apt or /var/lib/apt: sources, lists, cache and dpkg status are all
# under build/apt/, and the archive keys come from debian-archive-keyring.
#
#   apt.sh update [--force]   write the configuration; refresh the lists
#                             when they are older than APT_MAX_AGE hours
#                             (default 6) or missing
#   apt.sh get ARGS...        apt-get with this configuration (download ...)
#   apt.sh cache ARGS...      apt-cache with this configuration
#   apt.sh pkgnames [--prefix P] SUITE...
#                             every package name (starting with P) in those
#                             suites, as the sources list names them:
#                             bullseye, bullseye-security, bookworm,
#                             bookworm-security, bookworm-updates, trixie,
#                             trixie-security, trixie-updates,
#                             trixie-backports, sid, experimental,
#                             bookworm-backports
#   apt.sh conf               print the configuration file's path
#   apt.sh mirror [security]  the Debian mirror the machine's own sources use
#
# get, cache and pkgnames run update first, so the metadata is never stale.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$here/.." && pwd)/build
dir=$build/apt
conf=$dir/apt.conf
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
max_age=${APT_MAX_AGE:-6}

# mirror [security]: the URI the machine's own sources use for Debian (or
# for its security archive), so this configuration goes where the host's
# apt goes; deb.debian.org if the sources name none.
mirror() {
	local want=$1 uri

	uri=$(
		{
			# deb822 .sources: a stanza's URIs and Suites.
			for f in /etc/apt/sources.list.d/*.sources; do
				[ -f "$f" ] || continue
				awk '/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) print u, $i }
				     /^$/ { u = "" }' "$f"
			done
			# one-line format.
			cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
				sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) \([^ ]*\).*/\2 \3/p' || true
		} | awk -v want="$want" '
			want == "security" && $2 ~ /-security$/ { print $1; exit }
			want != "security" && $2 !~ /-(security|updates|backports)$/ &&
			    $1 ~ /debian\/?$/ { print $1; exit }' || true
	)
	uri=${uri%/}
	if [ -z "$uri" ]; then
		if [ "$want" = security ]; then
			uri=http://deb.debian.org/debian-security
		else
			uri=http://deb.debian.org/debian
		fi
	fi
	echo "$uri"
}

write_conf() {
	local main sec

	main=$(mirror main)
	sec=$(mirror security)
	mkdir -p "$dir"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d,apt.conf.d}
	: > "$dir/status.new"
	[ -f "$dir/status" ] || mv "$dir/status.new" "$dir/status"
	rm -f "$dir/status.new"
	# bullseye-security: after bullseye's last point release its (LTS)
	# kernels are published there only.
	cat > "$dir/sources.list.new" <<-EOF
	# Written by scripts/apt.sh: the suites the kernel matrix takes
	# kernels and headers from, whatever the host runs.
	deb [signed-by=$keyring] $main bullseye main
	deb [signed-by=$keyring] $sec bullseye-security main
	deb [signed-by=$keyring] $main bookworm main
	deb [signed-by=$keyring] $main bookworm-updates main
	deb [signed-by=$keyring] $sec bookworm-security main
	deb [signed-by=$keyring] $main trixie main
	deb [signed-by=$keyring] $main trixie-updates main
	deb [signed-by=$keyring] $main trixie-backports main
	deb [signed-by=$keyring] $sec trixie-security main
	deb [signed-by=$keyring] $main sid main
	deb [signed-by=$keyring] $main experimental main
	deb [signed-by=$keyring] $main bookworm-backports main
	EOF
	cat > "$conf.new" <<-EOF
	// Written by scripts/apt.sh: use with apt-get -c $conf
	Dir::Etc::SourceList "$dir/sources.list";
	Dir::Etc::SourceParts "$dir/sources.list.d";
	Dir::Etc::Preferences "$dir/preferences";
	Dir::Etc::PreferencesParts "$dir/preferences.d";
	Dir::State "$dir";
	Dir::State::Lists "$dir/lists";
	Dir::State::status "$dir/status";
	Dir::Cache "$dir/cache";
	Dir::Cache::archives "$dir/cache/archives";
	Dir::Cache::pkgcache "pkgcache.bin";
	Dir::Cache::srcpkgcache "srcpkgcache.bin";
	APT::Architecture "amd64";
	APT::Architectures { "amd64"; };
	Acquire::Languages "none";
	Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
	// sid's and experimental's Release files can be past their
	// Valid-Until on a frozen mirror.
	Acquire::Check-Valid-Until "false";
	Acquire::Check-Date "false";
	Acquire::Retries "3";
	// apt-get download writes into the caller's directory as root.
	APT::Sandbox::User "root";
	EOF
	# Only a changed configuration invalidates the lists.
	if ! cmp -s "$dir/sources.list.new" "$dir/sources.list"; then
		mv "$dir/sources.list.new" "$dir/sources.list"
		rm -f "$dir/.updated"
	else
		rm -f "$dir/sources.list.new"
	fi
	mv "$conf.new" "$conf"
}

update() {
	local force=${1:-}

	[ -r "$keyring" ] || {
		echo "apt.sh: $keyring missing (apt-get install debian-archive-keyring)" >&2
		exit 1
	}
	mkdir -p "$dir"
	# One refresh at a time: make check and make lint may run together.
	exec 9> "$dir/.lock"
	flock 9
	write_conf
	if [ "$force" = --force ] || [ ! -f "$dir/.updated" ] ||
	   [ -n "$(find "$dir/.updated" -mmin +$((max_age * 60)))" ]; then
		echo "apt.sh: refreshing the metadata of bullseye, bookworm, trixie, sid and experimental" >&2
		if ! apt-get -c "$conf" -q update > "$dir/update.log" 2>&1; then
			cat "$dir/update.log" >&2
			echo "apt.sh: apt-get update failed" >&2
			exit 1
		fi
		# A source that failed leaves a warning, not an error: a
		# missing suite would look like a missing kernel later.
		if grep -E '^(W|E): ' "$dir/update.log" | grep -v 'unsandboxed' >&2; then
			echo "apt.sh: apt-get update reported problems" >&2
			exit 1
		fi
		touch "$dir/.updated"
	fi
	exec 9>&-
}

case "${1:-}" in
update)
	update "${2:-}"
	;;
get)
	shift
	update
	exec apt-get -c "$conf" "$@"
	;;
cache)
	shift
	update
	exec apt-cache -c "$conf" "$@"
	;;
pkgnames)
	shift
	prefix=
	if [ "${1:-}" = --prefix ]; then
		prefix=$2
		shift 2
	fi
	update
	for suite in "$@"; do
		files=$(apt-get -c "$conf" indextargets --format '$(FILENAME)' \
			'Identifier: Packages' "Release: $suite")
		if [ -z "$files" ]; then
			echo "apt.sh: no package list for suite $suite" >&2
			exit 1
		fi
		for f in $files; do
			# A suite may have none (trixie-updates): not an error.
			/usr/lib/apt/apt-helper cat-file "$f" |
				{ grep -F "Package: $prefix" || true; } | sed -n 's/^Package: //p'
		done
	done | sort -u
	;;
conf)
	echo "$conf"
	;;
mirror)
	mirror "${2:-main}"
	;;
*)
	echo "usage: apt.sh update [--force] | get ARGS... | cache ARGS... | conf | mirror [security]" >&2
	exit 2
	;;
esac
