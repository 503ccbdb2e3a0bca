#!/bin/sh
# fuzz: every cdp entry point found in the catalog (functions, procedures,
# aggregates, the input functions of cdp's types, INSERT/UPDATE of every cdp
# table) is fed malformed, huge, NULL, boundary and random arguments, one
# statement per case; those that may change data run in a transaction that
# is rolled back.
# Checks that the server never restarts and that every failure is an ERROR
# whose SQLSTATE the README documents.
#
#   CDP_FUZZ_CASES   number of cases (default 100000)
#   CDP_FUZZ_SEED    seed in [-1, 1] (default: random, printed so a failing
#                    run can be repeated)
#   CDP_FUZZ_TIMEOUT statement_timeout per case (default 5s)
set -eu
db=cdp_fuzz
cases=${CDP_FUZZ_CASES:-100000}
seed=${CDP_FUZZ_SEED:-$(awk 'BEGIN { srand(); printf "%.6f", rand() * 2 - 1 }')}
timeout=${CDP_FUZZ_TIMEOUT:-5s}
dir=$(mktemp -d)
chmod 755 "$dir"
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

echo "# seed $seed, $cases cases"
. "$CDP_TOP/test/fuzz/setup.sh"
# real data for the functions to work on, and a tracked table of our own
fuzz_setup "$db"

entries=$(q "SELECT count(*) FROM fuzz.entry")
echo "# $entries entry points: $(q "SELECT string_agg(label, ' ' ORDER BY label) FROM fuzz.entry")"
started=$(q "SELECT pg_postmaster_start_time()")

t0=$(date +%s)
q "SELECT fuzz.cases($cases, $seed)" >"$dir/cases.sql"
t1=$(date +%s)
echo "# generated $cases cases ($(wc -c <"$dir/cases.sql") bytes of SQL) in $((t1 - t0)) s"

rc=0
PGOPTIONS="-c statement_timeout=$timeout -c client_min_messages=error" \
	psql -X -q -v VERBOSITY=sqlstate -d "$db" -f "$dir/cases.sql" >/dev/null 2>"$dir/errors.log" || rc=$?
t2=$(date +%s)
echo "# ran them in $((t2 - t1)) s"

if [ "$rc" -eq 0 ]; then ok "psql ran every case (exit status 0)"; else notok "psql stopped with status $rc: $(tail -3 "$dir/errors.log")"; fi
# the statement the server died on, and time for it to come back
line=$(sed -n 's/^psql:[^:]*:\([0-9]*\): server closed the connection unexpectedly.*/\1/p' "$dir/errors.log" | head -1)
if [ -n "$line" ]; then
	echo "# the server died on line $line of the cases:"
	awk -v l="$line" 'NR >= l - 2 && NR <= l' "$dir/cases.sql" | cut -c1-400 | sed 's/^/#   /'
	for _ in $(seq 1 60); do "$CDP_BINDIR/pg_isready" -q && break; sleep 1; done
fi
now=$(q "SELECT pg_postmaster_start_time()" 2>&1 || echo down)
if [ "$now" = "$started" ]; then ok "server never restarted"; else notok "server restarted or is down ($started -> $now)"; fi
if grep -q "server closed the connection\|terminating connection\|connection to server was lost" "$dir/errors.log"; then
	notok "a backend died: $(grep -m1 -B1 "server closed the connection\|terminating connection\|connection to server was lost" "$dir/errors.log")"
else
	ok "no backend died"
fi

# SQLSTATEs: every one must be documented in a README table (| XXXXX ...)
grep -E '^\| [0-9A-Z]{5} ' "$CDP_TOP/README.md" | cut -d'|' -f2 | grep -oE '\b[0-9A-Z]{5}\b' | sort -u >"$dir/documented"
grep -oE ': ERROR:  [0-9A-Z]{5}$' "$dir/errors.log" | awk '{ print $3 }' | sort | uniq -c | sort -rn >"$dir/states"
errors=$(awk '{ s += $1 } END { print s + 0 }' "$dir/states")
echo "# $errors cases failed with an ERROR, by SQLSTATE: $(awk '{ printf "%s:%s ", $2, $1 }' "$dir/states")"
other=$(grep -vcE ': ERROR:  [0-9A-Z]{5}$' "$dir/errors.log" || true)
if [ "$other" -eq 0 ]; then ok "every failure is an ERROR with a SQLSTATE"; else notok "$other lines of other output: $(grep -vE ': ERROR:  [0-9A-Z]{5}$' "$dir/errors.log" | head -3)"; fi
undocumented=0
for s in $(awk '{ print $2 }' "$dir/states"); do
	if ! grep -qx "$s" "$dir/documented"; then
		undocumented=$((undocumented + 1))
		line=$(grep -m1 ": ERROR:  $s\$" "$dir/errors.log" | sed -E 's/^psql:[^:]*:([0-9]+):.*/\1/')
		notok "SQLSTATE $s is not documented in the README ($(grep -c ": ERROR:  $s\$" "$dir/errors.log") cases), e.g. $(sed -n "${line}p" "$dir/cases.sql" | cut -c1-300 | tr -d '\n')"
	fi
done
[ "$undocumented" -eq 0 ] && ok "every SQLSTATE raised is documented in the README"
n=$(grep -c ': ERROR:  XX' "$dir/errors.log" || true)
[ "$n" -eq 0 ] && ok "no internal error (class XX)" || notok "$n internal errors (class XX)"

# every entry point was exercised
missed=0
for fn in $(q "SELECT DISTINCT split_part(label, '(', 1) FROM fuzz.entry"); do
	grep -qF "$fn(" "$dir/cases.sql" || { missed=$((missed + 1)); echo "# never called: $fn"; }
done
[ "$missed" -eq 0 ] && ok "every entry point was called" || notok "$missed entry points never called"

# the data is what it was: every case was rolled back
n=$(q "SELECT count(*) FROM cdp.stage_history WHERE entity = 'public.fuzz_target'::regclass AND exited_at IS NULL")
[ "$n" = 50 ] && ok "data unchanged after the run" || notok "fuzz_target has $n open stays, expected 50"

rm -rf "$dir"
"$CDP_BINDIR/dropdb" "$db"
