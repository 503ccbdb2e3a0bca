#!/bin/sh
# assemble-sql.sh [--update FROM TO] EXTENSION PIECE... : print an extension
# script made of the pieces, in the order given.
#
# Without --update: the install script of the version in development.
# With --update FROM TO: the upgrade script cdp--FROM--TO.sql, made of the
# pieces in upgrade/TO/ (a module's changes since FROM).
#
# Every piece starts with the usual psql guard so it cannot be run by hand;
# the assembled script keeps one guard at the top and drops the others.
set -eu
update_from=
update_to=
if [ "${1:-}" = --update ]; then
	update_from=$2
	update_to=$3
	shift 3
fi
ext=$1
shift
if [ -n "$update_from" ]; then
	echo "-- $ext upgrade script $update_from -> $update_to, assembled by tools/assemble-sql.sh from: ${*:-(no pieces)}"
	echo "-- Do not edit: edit the pieces in upgrade/$update_to/ instead."
	echo
	printf '\\echo Use "ALTER EXTENSION %s UPDATE TO '"'"'%s'"'"'" to load this file. \\quit\n' "$ext" "$update_to"
else
	echo "-- $ext install script, assembled by tools/assemble-sql.sh from: $*"
	echo "-- Do not edit: edit the pieces in src/ instead."
	echo
	printf '\\echo Use "CREATE EXTENSION %s" to load this file. \\quit\n' "$ext"
fi
for piece in "$@"; do
	echo
	echo "-- ==== $piece ===="
	grep -v '^\\echo Use "\(CREATE\|ALTER\) EXTENSION' "$piece"
done
