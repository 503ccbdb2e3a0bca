#!/bin/sh
# deps.sh: install the Debian packages cdp needs that are not installed yet.
#
# The package lists are tools/packages/*.txt (one package a line, # comments).
# Runs apt-get only when something is missing, so a second run is a no-op.
# As root it calls apt-get directly; otherwise through sudo when available.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

missing=""
for pkg in $(cat "$here"/packages/*.txt | sed -e 's/#.*//' | tr -s ' \t' '\n' | sort -u); do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: missing packages:$missing; run as root or install them first" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
