#!/bin/sh
# assemble-sql.sh EXTENSION PIECE... : print the extension's install script.
#
# Every piece in src/ starts with the usual psql guard so it cannot be run by
# hand; the assembled script keeps one guard at the top and drops the others.
set -eu
ext=$1
shift
echo "-- $ext install script, assembled by tools/assemble-sql.sh from: $*"
echo "-- Do not edit: edit the pieces in src/ instead."
echo
printf '\\echo Use "CREATE EXTENSION %s" to load this file. \\quit\n' "$ext"
for piece in "$@"; do
	echo
	echo "-- ==== $piece ===="
	grep -v '^\\echo Use "CREATE EXTENSION' "$piece"
done
