#!/bin/sh
# lifecycle benchmark: throughput of stage updates on a tracked table against
# the same updates on an untracked table, under pgbench with several clients,
# measured in the same run (target: ratio >= 0.7).
#
# Both tables have 100,000 rows; each transaction moves one random row to a
# random stage (with cdp.stage_reason set, so every move is allowed and the
# tracked table writes a history row for each real change).  The runs
# alternate plain / tracked to spread drift over both.  Two settings: the
# server's default durability (every commit flushed), and
# synchronous_commit = off, where the trigger's own cost shows the most.
set -eu
db=cdp_bench_lifecycle
rows=${CDP_BENCH_ROWS:-100000}
secs=${CDP_BENCH_SECONDS:-15}
clients=${CDP_BENCH_CLIENTS:-4}
psql="psql -X -q -v ON_ERROR_STOP=1 -d $db"

"$CDP_BINDIR/dropdb" --if-exists "$db"
"$CDP_BINDIR/createdb" "$db"
$psql <<SQL
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
CREATE TABLE bench_plain (id int PRIMARY KEY, stage text NOT NULL, owner name NOT NULL);
CREATE TABLE bench_tracked (id int PRIMARY KEY, stage text NOT NULL, owner name NOT NULL);
INSERT INTO bench_plain SELECT i, 'prospect', 'rep' FROM generate_series(1, $rows) i;
INSERT INTO bench_tracked SELECT i, 'prospect', 'rep' FROM generate_series(1, $rows) i;
SELECT cdp.track_lifecycle('bench_tracked');
VACUUM ANALYZE;
SQL

script=$(mktemp)
run()	# run TABLE OPTIONS: print transactions per second
{
	cat >"$script" <<PGB
\set k random(1, $rows)
\set s random(1, 9)
UPDATE $1 SET stage = (ARRAY['prospect', 'lead', 'mql', 'sql', 'opportunity', 'customer', 'advocate', 'disqualified', 'churned'])[:s] WHERE id = :k;
PGB
	PGOPTIONS="-c cdp.stage_reason=bench $2" "$CDP_BINDIR/pgbench" -n -c "$clients" -j 2 -T "$secs" \
		-f "$script" "$db" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

for mode in "default durability|" "synchronous_commit=off|-c synchronous_commit=off"; do
	label=${mode%%|*}
	opts=${mode#*|}
	p1=$(run bench_plain "$opts"); t1=$(run bench_tracked "$opts")
	p2=$(run bench_plain "$opts"); t2=$(run bench_tracked "$opts")
	echo "$label: untracked $p1, $p2 tps; tracked $t1, $t2 tps ($clients clients, ${secs}s runs)" |
		sed 's/^/  /'
	awk -v p1="$p1" -v p2="$p2" -v t1="$t1" -v t2="$t2" -v l="$label" 'BEGIN {
		r = (t1 + t2) / (p1 + p2);
		printf "  ratio tracked/untracked (%s): %.2f (target >= 0.70: %s)\n", l, r, (r >= 0.7 ? "met" : "NOT met") }'
done
$psql -At -c "SELECT '  history rows written: ' || count(*) FROM cdp.stage_history WHERE entity = 'bench_tracked'::regclass"
rm -f "$script"
"$CDP_BINDIR/dropdb" "$db"
