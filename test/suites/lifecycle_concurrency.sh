#!/bin/sh
# lifecycle_concurrency: many sessions moving the same and different rows at
# once, through cdp.set_stage and plain UPDATEs, with refused moves, deadlock
# retries, inserts and deletes.  Afterwards the stage history must have no
# entity with two open stays, no gaps or overlaps, and agree with the rows.
set -eu
db=cdp_lifecycle_concurrency
scripts=$CDP_TOP/test/pgbench
psql="psql -X -q -v ON_ERROR_STOP=1 -d $db"

"$CDP_BINDIR/dropdb" --if-exists "$db"
"$CDP_BINDIR/createdb" "$db"
$psql -f "$scripts/lifecycle_setup.sql"

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; }
check() {	# check "description" "SQL returning one boolean"
	got=$($psql -At -c "$2")
	if [ "$got" = t ]; then ok "$1"; else notok "$1 (got '$got')"; fi
}

log=$(mktemp)
# 8 clients on 50 hot entities; --max-tries retries the deadlocks that the
# two-row transactions can cause (the loser's changes are all rolled back)
if "$CDP_BINDIR/pgbench" -n -c 8 -j 2 -t 600 --max-tries=20 \
	-f "$scripts/lifecycle_move.pgbench@6" \
	-f "$scripts/lifecycle_pair.pgbench@2" \
	-f "$scripts/lifecycle_cycle.pgbench@1" \
	-f "$scripts/lifecycle_update.pgbench@2" \
	"$db" >"$log" 2>&1; then
	ok "pgbench ran 8 clients x 600 transactions without a client aborting"
else
	notok "pgbench failed"
	cat "$log"
fi
grep -E "^number of (transactions actually processed|failed transactions|transactions retried)" "$log" | sed 's/^/# /'
rm -f "$log"

$psql -At -c "SELECT '# ' || count(*) || ' successful moves, ' || (SELECT count(*) FROM attempts) || ' attempts' FROM moves"
check "thousands of stage changes happened" \
	"SELECT count(*) >= 2000 FROM moves"
check "some moves were refused (backward without a reason)" \
	"SELECT count(*) > 0 FROM attempts WHERE NOT succeeded"
check "no entity has two open stays" \
	"SELECT NOT EXISTS (SELECT 1 FROM cdp.stage_history WHERE entity = 'ent'::regclass AND exited_at IS NULL
	                      GROUP BY entity_key HAVING count(*) > 1)"
check "every live row has exactly one open stay, in the row's stage" \
	"SELECT NOT EXISTS (SELECT 1 FROM ent e
	                     LEFT JOIN cdp.stage_history h ON h.entity = 'ent'::regclass AND h.entity_key = e.id AND h.exited_at IS NULL
	                     WHERE h.stage IS DISTINCT FROM e.stage)"
check "deleted entities have no open stay" \
	"SELECT NOT EXISTS (SELECT 1 FROM cdp.stage_history h WHERE h.entity = 'ent'::regclass AND h.exited_at IS NULL
	                     AND NOT EXISTS (SELECT 1 FROM ent e WHERE e.id = h.entity_key))"
check "consecutive stays of an entity touch: no gap, no overlap, previous_stage matches" \
	"SELECT NOT EXISTS (
	   SELECT 1 FROM (
	     SELECT h.*, lag(stage) OVER w AS prev_stage, lag(exited_at) OVER w AS prev_exit,
	            lag(history_id) OVER w AS prev_id
	       FROM cdp.stage_history h WHERE entity = 'ent'::regclass
	     WINDOW w AS (PARTITION BY entity_key ORDER BY entered_at, history_id)) x
	    WHERE prev_id IS NOT NULL
	      AND (prev_exit IS NULL
	           OR (previous_stage IS NOT NULL AND (prev_exit <> entered_at OR previous_stage <> prev_stage))
	           OR (previous_stage IS NULL AND prev_exit > entered_at)))"
check "every stay is closed no earlier than it began" \
	"SELECT bool_and(exited_at IS NULL OR exited_at >= entered_at) FROM cdp.stage_history"
check "history has one stay per initial row plus one per successful move into a stage" \
	"SELECT (SELECT count(*) FROM cdp.stage_history WHERE entity = 'ent'::regclass)
	        = 100 + (SELECT count(*) FROM moves WHERE to_stage IS NOT NULL)"
check "per entity, the sequence of stages in the history is the sequence of successful moves" \
	"SELECT NOT EXISTS (
	   SELECT 1 FROM (
	     SELECT entity_key AS k, array_agg(stage ORDER BY entered_at, history_id) AS stages
	       FROM cdp.stage_history WHERE entity = 'ent'::regclass GROUP BY 1) h
	   FULL JOIN (
	     SELECT key AS k, array_agg(to_stage ORDER BY move_id) FILTER (WHERE to_stage IS NOT NULL) AS stages
	       FROM moves GROUP BY 1) m USING (k)
	   WHERE coalesce(h.stages, '{}') IS DISTINCT FROM
	         coalesce(CASE WHEN k LIKE 'E%' THEN ARRAY['prospect'] ELSE '{}' END || m.stages, '{}'))"
check "backward moves in the history all carry a reason" \
	"SELECT NOT EXISTS (
	   SELECT 1 FROM cdp.stage_history h
	     JOIN cdp.lifecycle_stage f ON f.model = 'b2b' AND f.stage = h.previous_stage
	     JOIN cdp.lifecycle_stage t ON t.model = 'b2b' AND t.stage = h.stage
	    WHERE h.entity = 'ent'::regclass AND h.reason IS NULL
	      AND (f.is_exit OR (NOT t.is_exit AND t.position < f.position)))"

[ -n "${CDP_KEEP_DB:-}" ] || "$CDP_BINDIR/dropdb" "$db"
