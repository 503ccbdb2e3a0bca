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
#
# An upgrade piece does not copy a definition that is the same as in src/:
# a line
#   --@ src/MODULE.sql: START
# is replaced by the statement of src/MODULE.sql whose first line starts
# with START (a CREATE FUNCTION, CREATE VIEW or COMMENT ON line, say), up to
# the ';' that ends it outside dollar quotes; a definition wrapped in
# install_with_trgm($fn$ ... $fn$) is taken with its wrapper.  CREATE
# FUNCTION and CREATE VIEW become CREATE OR REPLACE.  A START that matches
# no line, or more than one, is an error.  A line "--@ src/MODULE.sql" alone
# is replaced by the whole file: the upgrade piece of a module new in this
# version.
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
top=$(cd "$(dirname "$0")/.." && pwd)

# statement FILE START: print the statement of FILE that starts with START
statement()
{
	awk -v start="$2" -v file="$1" '
		function close_or_open(line,    rest, tag) {
			rest = line
			while (match(rest, /\$[A-Za-z_]*\$/)) {
				tag = substr(rest, RSTART, RLENGTH)
				if (open == "") open = tag
				else if (tag == open) open = ""
				rest = substr(rest, RSTART + RLENGTH)
			}
		}
		{ lines[NR] = $0 }
		index($0, start) == 1 { hits[++nhits] = NR }
		END {
			if (nhits != 1) {
				printf "assemble-sql.sh: %s: %d statements start with \"%s\"\n", file, nhits, start > "/dev/stderr"
				exit 1
			}
			first = hits[1]
			if (first > 1 && lines[first - 1] ~ /^SELECT @extschema@\.install_with_trgm\(\$[a-z]*\$$/) first--
			open = ""
			for (i = first; i <= NR; i++) {
				line = lines[i]
				if (i == hits[1]) sub(/^CREATE (FUNCTION|VIEW)/, "& OR REPLACE", line)
				sub(/^CREATE FUNCTION OR REPLACE/, "CREATE OR REPLACE FUNCTION", line)
				sub(/^CREATE VIEW OR REPLACE/, "CREATE OR REPLACE VIEW", line)
				print line
				close_or_open(lines[i])
				if (open == "" && lines[i] ~ /;[ \t]*$/) exit 0
			}
			printf "assemble-sql.sh: %s: the statement starting with \"%s\" does not end\n", file, start > "/dev/stderr"
			exit 1
		}' "$1"
}

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
	grep -v '^\\echo Use "\(CREATE\|ALTER\) EXTENSION' "$piece" | while IFS= read -r line; do
		case $line in
		'--@ src/'*.sql)
			file=${line#--@ }
			echo "-- (all of $file)"
			grep -v '^\\echo Use "\(CREATE\|ALTER\) EXTENSION' "$top/$file"
			;;
		'--@ src/'*': '*)
			ref=${line#--@ }
			file=${ref%%: *}
			start=${ref#*: }
			echo "-- (from $file)"
			statement "$top/$file" "$start" || exit 1
			;;
		*) printf '%s\n' "$line" ;;
		esac
	done
done
