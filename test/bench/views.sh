#!/bin/sh
# views benchmark: every BI view on 1M accounts and 10M touchpoints (scale
# with CDP_BENCH_ACCOUNTS; touchpoints are ten per account).
#
# Two questions per view, each run twice (the faster run counts):
#   sample:   SELECT * FROM view LIMIT 100, what a BI tool runs to preview a
#             view and fingerprint its columns;
#   question: the whole view aggregated the way a chart asks for it (the
#             metrics views in full; the per-account sheets grouped by
#             segment and tier).
# The four 4R snapshots are refreshed once (timed) and read like the views.
# The baseline, measured in the same run, is one full scan of the touchpoint
# table (SELECT count(*), sum(cost) FROM cdp.touchpoint): each view's time is
# printed as a ratio to it, with the absolute time and the 2 s target for
# information.  Never fails on timing.
#
# The data are loaded with session_replication_role = replica (no triggers,
# no foreign-key checks) and a stage history written directly, so that the
# load takes minutes, not hours; the views only read.  The touch rollups
# (module rollup) are then computed once by cdp.rebuild_bi_rollups()
# (timed, printed as a ratio to the baseline).
#
# Write overhead of the rollup triggers, last: 1000 single-row INSERTs into
# cdp.touchpoint and one INSERT of 100,000 rows, with the trigger disabled
# and enabled in the same run, printed as ratios; then the rollups the
# triggers kept are compared with a rebuild (a difference fails the bench).
set -eu
db=cdp_bench_views
n=${CDP_BENCH_ACCOUNTS:-1000000}
psql="psql -X -q -v ON_ERROR_STOP=1 -d $db"

"$CDP_BINDIR/dropdb" --if-exists "$db" 2>/dev/null
"$CDP_BINDIR/createdb" "$db"
t0=$(date +%s)
$psql -v n="$n" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
SET session_replication_role = replica;
SET maintenance_work_mem = '512MB';
SELECT setseed(0.6) \g /dev/null

INSERT INTO cdp.campaign (name, channel, started_on, cost)
SELECT 'campaign ' || i, (ARRAY['event', 'search_ads', 'wechat', 'content', 'webinar', 'referral'])[1 + i % 6],
       current_date - 400 + i * 10, 10000 * i
  FROM generate_series(1, 40) i;

INSERT INTO cdp.account (name, domain, city, industry, segment, tier, employees, annual_revenue, owner, stage, created_at)
OVERRIDING SYSTEM VALUE
SELECT 'company ' || i || ' 有限公司', 'c' || (i / 3) || '.com.cn',
       (ARRAY['广州', '深圳', '上海', '北京', '杭州', '成都', '武汉', '西安', 'Guangzhou', '广州市'])[1 + i % 10],
       (ARRAY['机械', '电子', '软件', '化工', NULL])[1 + i % 5],
       CASE WHEN i % 20 = 0 THEN 'small_c' END,
       CASE WHEN i % 10 = 0 THEN 'key' WHEN i % 10 < 7 THEN 'standard' ELSE 'long_tail' END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 7919) % 3000 END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE ((i * 104729) % 500) * 1000000 END,
       CASE WHEN i % 4 = 0 THEN NULL ELSE 'rep_' || (i % 50) END,
       (ARRAY['prospect', 'lead', 'mql', 'sql', 'opportunity', 'customer', 'advocate', 'disqualified', 'churned'])[1 + (i * 31) % 9],
       now() - make_interval(days => ((i * 13) % 730)::int)
  FROM generate_series(1::bigint, :n) i;

INSERT INTO cdp.contact (account_id, name, decision_role, verified, created_at)
SELECT 1 + (i * 7) % :n, 'contact ' || i,
       (ARRAY['decision_maker', 'approver', 'finance', 'procurement', 'it', 'user', NULL])[1 + i % 7],
       i % 3 = 0, now() - make_interval(days => ((i * 17) % 730)::int)
  FROM generate_series(1::bigint, :n) i;

INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
SELECT 1 + (i * 3) % :n, (ARRAY['email', 'phone', 'wechat'])[1 + i % 3], i % 5 <> 0,
       now() - make_interval(days => (i % 700)::int)
  FROM generate_series(1::bigint, :n / 2) i;

INSERT INTO cdp.lead (company_name, account_id, campaign_id, channel, owner, stage, created_at)
SELECT 'lead ' || i, CASE WHEN i % 4 <> 0 THEN 1 + (i * 11) % :n END, 1 + i % 40,
       (ARRAY['search_ads', 'wechat', 'event'])[1 + i % 3], 'rep_' || (i % 50),
       (ARRAY['lead', 'mql', 'sql', 'disqualified'])[1 + i % 4], now() - make_interval(days => (i % 730)::int)
  FROM generate_series(1::bigint, :n / 3) i;

INSERT INTO cdp.opportunity (account_id, amount, stage, owner, campaign_id, referred_by, lead_id, closed_at, created_at)
SELECT 1 + (i * 13) % :n, 10000 * (1 + i % 100),
       (ARRAY['discovery', 'qualification', 'proposal', 'negotiation', 'won', 'lost'])[1 + i % 6],
       'rep_' || (i % 50), CASE WHEN i % 2 = 0 THEN 1 + i % 40 END, CASE WHEN i % 10 = 0 THEN 1 + i END, NULL,
       CASE WHEN i % 6 >= 4 THEN now() - make_interval(days => (i % 700)::int) END,
       now() - make_interval(days => (30 + i % 700)::int)
  FROM generate_series(1::bigint, :n / 10) i;

INSERT INTO cdp."order" (account_id, ordered_at, amount, cost)
SELECT 1 + (i * 17) % (:n / 5), now() - make_interval(days => (i % 730)::int), 1000 * (1 + i % 500), 700 * (1 + i % 500)
  FROM generate_series(1::bigint, :n / 5) i;
INSERT INTO cdp.competitor_order (account_id, competitor, ordered_at, amount)
SELECT 1 + (i * 19) % :n, (ARRAY['ABB', '西门子', '汇川'])[1 + i % 3], current_date - (i % 730)::int, 5000 * (1 + i % 100)
  FROM generate_series(1::bigint, :n / 10) i;
INSERT INTO cdp.account_profile (account_id, scale, pain_points, service_fit, key_people, profit_level, equipment_budget)
SELECT i, i || ' 人', CASE WHEN i % 2 = 0 THEN '交期' END, CASE WHEN i % 3 = 0 THEN '匹配' END,
       CASE WHEN i % 5 = 0 THEN '总经理' END, (ARRAY['low', 'medium', 'high'])[1 + i % 3], 100000
  FROM generate_series(1::bigint, :n, 3) i;
INSERT INTO cdp.relationship (from_contact, to_contact, kind)
SELECT i, i + 1, 'knows' FROM generate_series(1::bigint, :n / 10) i;
INSERT INTO cdp.city_market (city, similar_customers, transaction_volume, maturity)
SELECT c, 1000, 1e9, 'growing' FROM unnest(ARRAY['广州', '深圳', '上海', '北京', '杭州', '成都', '武汉', '西安']) c;

-- ten touchpoints per account, a third through a contact only
INSERT INTO cdp.touchpoint (account_id, contact_id, campaign_id, channel, direction, kind, outcome, cost, occurred_at)
SELECT CASE WHEN i % 3 <> 0 THEN 1 + i % :n END, CASE WHEN i % 3 <> 1 THEN 1 + (i * 7) % :n END,
       CASE WHEN i % 5 = 0 THEN 1 + i % 40 END,
       (ARRAY['phone', 'email', 'wechat', 'web', 'visit', 'event', 'sms'])[1 + i % 7],
       CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'kind',
       (ARRAY['connected', 'no_answer', 'replied', NULL])[1 + i % 4],
       CASE WHEN i % 4 = 0 THEN 1 + i % 50 END,
       now() - make_interval(secs => (i * 6007) % (730 * 86400))
  FROM generate_series(1::bigint, :n * 10) i;

-- stage history: two closed stays and the open one per account, one open
-- stay per lead and per opportunity
INSERT INTO cdp.stage_history (entity, entity_key, model, stage, previous_stage, entered_at, exited_at)
SELECT 'cdp.account'::regclass, a.account_id::text, 'b2b', s.stage, s.prev,
       a.created_at + make_interval(days => s.k * 10),
       CASE WHEN s.k < 2 THEN a.created_at + make_interval(days => s.k * 10 + 10) END
  FROM cdp.account a
 CROSS JOIN LATERAL (VALUES (0, 'lead', NULL), (1, 'mql', 'lead'), (2, a.stage, 'mql')) s(k, stage, prev);
INSERT INTO cdp.stage_history (entity, entity_key, model, stage, entered_at)
SELECT 'cdp.lead'::regclass, l.lead_id::text, 'b2b', l.stage, l.created_at FROM cdp.lead l;
INSERT INTO cdp.stage_history (entity, entity_key, model, stage, entered_at)
SELECT 'cdp.opportunity'::regclass, o.opportunity_id::text, 'opportunity', o.stage, o.created_at FROM cdp.opportunity o;
SQL
# the touch rollups (module rollup): the load ran with triggers off, so they
# are computed once from the rows, as after any such load (timed)
r0=$(date +%s%N)
$psql -c "SELECT cdp.rebuild_bi_rollups()" >/dev/null
r1=$(date +%s%N)
rebuild_ms=$(((r1 - r0) / 1000000))
$psql -c "VACUUM ANALYZE"
t1=$(date +%s)
$psql -At -c "SELECT format('  data: %s accounts, %s contacts, %s touchpoints, %s stage history rows, %s in %s s',
                            (SELECT count(*) FROM cdp.account), (SELECT count(*) FROM cdp.contact),
                            (SELECT count(*) FROM cdp.touchpoint), (SELECT count(*) FROM cdp.stage_history),
                            pg_size_pretty(pg_database_size(current_database())), $t1 - $t0)"

script=$(mktemp)
log=$(mktemp)
views="sheet_city_market sheet_account_profile sheet_development_strategy sheet_operating_kpis
	sheet_order_history sheet_completeness metrics_recognize metrics_reach metrics_relationship
	metrics_return metrics_return_campaign pool_summary metrics_recognize_snapshot
	metrics_reach_snapshot metrics_relationship_snapshot metrics_return_snapshot"
question()	# question VIEW: the query a chart asks of it
{
	case $1 in
	sheet_city_market | metrics_* | pool_summary) echo "SELECT * FROM cdp.$1" ;;
	sheet_completeness) echo "SELECT segment, tier, count(*), avg(completeness), count(*) FILTER (WHERE is_complete) FROM cdp.$1 GROUP BY 1, 2" ;;
	sheet_order_history) echo "SELECT segment, tier, count(*), sum(own_amount_12m_cny), sum(competitor_amount_12m_cny) FROM cdp.$1 GROUP BY 1, 2" ;;
	sheet_operating_kpis) echo "SELECT segment, tier, count(*), sum(revenue_12m_cny), avg(share_of_wallet) FROM cdp.$1 GROUP BY 1, 2" ;;
	sheet_development_strategy) echo "SELECT segment, tier, count(*), sum(open_pipeline_cny), sum(touches_90d) FROM cdp.$1 GROUP BY 1, 2" ;;
	*) echo "SELECT segment, tier, count(*), sum(contacts), sum(decision_makers) FROM cdp.$1 GROUP BY 1, 2" ;;
	esac
}
{
	printf '%s\n' '\timing on'
	printf '%s\n' '\echo refresh'
	printf '%s\n' 'SELECT cdp.refresh_bi_snapshots() \g /dev/null'
	for r in 1 2; do
		printf '%s\n' "\\echo baseline"
		printf '%s\n' "SELECT count(*), sum(cost) FROM cdp.touchpoint \\g /dev/null"
		for v in $views; do
			printf '%s\n' "\\echo $v sample" "SELECT * FROM cdp.$v LIMIT 100 \\g /dev/null"
			printf '%s\n' "\\echo $v question" "$(question "$v") \\g /dev/null"
		done
		# the questions again with JIT off, as the README advises for a BI
		# tool's role
		printf '%s\n' 'SET jit = off;'
		for v in $views; do
			printf '%s\n' "\\echo $v nojit" "$(question "$v") \\g /dev/null"
		done
		printf '%s\n' 'RESET jit;'
	done
} >"$script"
$psql -f "$script" >"$log" 2>&1 || { cat "$log"; exit 1; }
# pair each label with the "Time:" line after it; keep the faster of two runs
awk -v rebuild="$rebuild_ms" '
	/^Time: / { if (label != "") { ms = $2 + 0; if (!(label in best) || ms < best[label]) best[label] = ms; order[label] = ++seq } label = ""; next }
	{ label = $0 }
	END {
		base = best["baseline"]
		printf "  baseline: full scan of cdp.touchpoint %.0f ms\n", base
		printf "  cdp.refresh_bi_snapshots(): %.0f ms (ratio %.1f)\n", best["refresh"], best["refresh"] / base
		printf "  cdp.rebuild_bi_rollups() after the load: %.0f ms (ratio %.1f)\n", rebuild, rebuild / base
		printf "  %-28s %10s %8s %10s %8s %10s  %s\n", "view", "sample ms", "ratio", "question", "ratio", "no JIT", "under 2 s"
		n = 0
		for (l in best) if (l ~ / sample$/) { v = substr(l, 1, length(l) - 7); names[++n] = v }
		# sort by name
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (names[j] < names[i]) { t = names[i]; names[i] = names[j]; names[j] = t }
		for (i = 1; i <= n; i++) {
			v = names[i]; s = best[v " sample"]; q = best[v " question"]; nj = best[v " nojit"]
			printf "  %-28s %10.1f %8.3f %10.1f %8.2f %10.1f  %s\n", v, s, s / base, q, q / base, nj, (q < 2000 && s < 2000 ? "yes" : (nj < 2000 && s < 2000 ? "no JIT" : "NO"))
		}
	}' "$log"
grep -E 'ERROR' "$log" && status=1 || status=0

# Write overhead of the rollup triggers: 1000 single-row INSERT statements
# (each its own transaction, as an application logs interactions) and one
# INSERT of 100,000 rows, with the rollup trigger of cdp.touchpoint disabled
# and enabled, alternately, twice; the faster run of each counts.
single=$(mktemp)
awk -v n="$n" 'BEGIN {
	split("phone email wechat web visit event sms", ch, " ")
	for (i = 1; i <= 1000; i++) {
		a = 1 + (i * 7919) % n; c = 1 + (i * 104729) % n
		printf "INSERT INTO cdp.touchpoint (account_id, contact_id, channel, direction, kind, outcome, cost, occurred_at) VALUES (%s, %s, \x27%s\x27, \x27%s\x27, \x27bench\x27, \x27connected\x27, %d, now() - interval \x27%d hours\x27);\n",
			(i % 3 ? a : "NULL"), (i % 3 != 1 ? c : "NULL"), ch[1 + i % 7], (i % 2 ? "inbound" : "outbound"), i % 40, i % 2000
	}
}' >"$single"
bulk="INSERT INTO cdp.touchpoint (account_id, contact_id, channel, direction, kind, outcome, cost, occurred_at)
SELECT CASE WHEN i % 3 <> 0 THEN 1 + (i * 13) % $n END, CASE WHEN i % 3 <> 1 THEN 1 + (i * 17) % $n END,
       (ARRAY['phone', 'email', 'wechat', 'web', 'visit', 'event', 'sms'])[1 + i % 7],
       CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'bench', 'connected', i % 40, now() - make_interval(secs => i * 97)
  FROM generate_series(1, 100000) i"
ms_of() { s0=$(date +%s%N); "$@" >/dev/null; s1=$(date +%s%N); echo $(((s1 - s0) / 1000000)); }
best_single_off=0 best_single_on=0 best_bulk_off=0 best_bulk_on=0
keep_best() { eval "cur=\$$1"; if [ "$cur" -eq 0 ] || [ "$2" -lt "$cur" ]; then eval "$1=$2"; fi; }
# (the rows written without the triggers are deleted without them too, so
# that the rollups are compared below with the rows they were told about)
single_off=$(mktemp)
sed "s/'bench'/'bench_untracked'/" "$single" >"$single_off"
bulk_off=$(echo "$bulk" | sed "s/'bench'/'bench_untracked'/")
for r in 1 2; do
	$psql -c "ALTER TABLE cdp.touchpoint DISABLE TRIGGER bi_rollup_insert"
	keep_best best_single_off "$(ms_of $psql -f "$single_off")"
	keep_best best_bulk_off "$(ms_of $psql -c "$bulk_off")"
	$psql -c "ALTER TABLE cdp.touchpoint DISABLE TRIGGER bi_rollup_delete" \
		-c "DELETE FROM cdp.touchpoint WHERE kind = 'bench_untracked'" \
		-c "ALTER TABLE cdp.touchpoint ENABLE TRIGGER bi_rollup_delete" \
		-c "ALTER TABLE cdp.touchpoint ENABLE TRIGGER bi_rollup_insert"
	keep_best best_single_on "$(ms_of $psql -f "$single")"
	keep_best best_bulk_on "$(ms_of $psql -c "$bulk")"
done
echo "  write overhead of the rollup triggers (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
awk -v so="$best_single_off" -v sn="$best_single_on" -v bo="$best_bulk_off" -v bn="$best_bulk_on" 'BEGIN {
	printf "    1000 single-row INSERTs: %d ms without, %d ms with the triggers (ratio %.2f)\n", so, sn, sn / so
	printf "    one INSERT of 100000 rows: %d ms without, %d ms with the triggers (ratio %.2f)\n", bo, bn, bn / bo
}'

# The same for the sheet summary (triggers bi_sheet_insert on cdp.contact
# and cdp.account): 1000 single-row INSERTs of contacts (each its own
# transaction) and one of 100,000 contacts, 1000 single-row INSERTs of
# accounts (a third of them namesakes of existing accounts, whose
# duplicate flags the trigger works out) and one of 10,000 accounts.
sheet_overhead()	# sheet_overhead TABLE LABEL SINGLE_SQL BULK_SQL UNTRACKED_WHERE
{
	t=$1 label=$2 one=$3 many=$4 untracked=$5
	s_file=$(mktemp) s_off=$(mktemp)
	awk -v n="$n" -v sql="$one" 'BEGIN { for (i = 1; i <= 1000; i++) { q = sql; gsub(/@I@/, i, q); gsub(/@A@/, 1 + (i * 7919) % n, q); print q ";" } }' >"$s_file"
	sed "s/'bench/'untracked/" "$s_file" >"$s_off"
	m_off=$(echo "$many" | sed "s/'bench/'untracked/")
	so=0 sn=0 bo=0 bn=0
	for r in 1 2; do
		$psql -c "ALTER TABLE cdp.$t DISABLE TRIGGER bi_sheet_insert"
		keep_best so "$(ms_of $psql -f "$s_off")"
		keep_best bo "$(ms_of $psql -c "$m_off")"
		$psql -c "ALTER TABLE cdp.$t DISABLE TRIGGER bi_sheet_delete" \
			-c "DELETE FROM cdp.$t WHERE $untracked" \
			-c "ALTER TABLE cdp.$t ENABLE TRIGGER bi_sheet_delete" \
			-c "ALTER TABLE cdp.$t ENABLE TRIGGER bi_sheet_insert"
		keep_best sn "$(ms_of $psql -f "$s_file")"
		keep_best bn "$(ms_of $psql -c "$many")"
	done
	awk -v l="$label" -v so="$so" -v sn="$sn" -v bo="$bo" -v bn="$bn" 'BEGIN {
		printf "    1000 single-row INSERTs of %s: %d ms without, %d ms with the triggers (ratio %.2f)\n", l, so, sn, sn / so
		printf "    one bulk INSERT of %s: %d ms without, %d ms with the triggers (ratio %.2f)\n", l, bo, bn, bn / bo
	}'
	rm -f "$s_file" "$s_off"
}
echo "  write overhead of the sheet summary triggers (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
sheet_overhead contact contacts \
	"INSERT INTO cdp.contact (account_id, name, decision_role, verified) VALUES (@A@, 'bench contact @I@', (ARRAY['decision_maker', 'it', NULL])[1 + @I@ % 3], @I@ % 2 = 0)" \
	"INSERT INTO cdp.contact (account_id, name, decision_role) SELECT 1 + (i * 13) % $n, 'bench bulk ' || i, (ARRAY['finance', 'user', NULL])[1 + i % 3] FROM generate_series(1, 100000) i" \
	"name LIKE 'untracked%'"
sheet_overhead account accounts \
	"INSERT INTO cdp.account (name, domain, employees) VALUES (CASE WHEN @I@ % 3 = 0 THEN 'company ' || @A@ || ' 有限公司' ELSE 'bench account @I@ 有限公司' END, 'bench@I@.cn', @I@ % 500)" \
	"INSERT INTO cdp.account (name, domain, employees) SELECT 'bench bulk ' || i || ' 有限公司', 'bench-bulk' || i || '.cn', i % 500 FROM generate_series(1, 10000) i" \
	"domain LIKE 'untracked%'"

# the rollups and the sheet summary kept by the triggers equal a rebuild
kept=$($psql -At -c "CREATE TEMP TABLE k AS SELECT * FROM cdp.metrics_reach;
                     CREATE TEMP TABLE ks AS SELECT * FROM cdp.bi_account_sheet_current;
                     SELECT cdp.rebuild_bi_rollups() > 0;
                     SELECT (SELECT count(*) FROM ((TABLE k EXCEPT ALL TABLE cdp.metrics_reach) UNION ALL (TABLE cdp.metrics_reach EXCEPT ALL TABLE k)) d)
                            + (SELECT count(*) FROM ((TABLE ks EXCEPT ALL TABLE cdp.bi_account_sheet_current)
                                                     UNION ALL (TABLE cdp.bi_account_sheet_current EXCEPT ALL TABLE ks)) d)" | tail -1)
[ "$kept" = 0 ] && echo "  rollups and sheet summary kept by the triggers through these inserts equal a rebuild" ||
	{ echo "  rollups and sheet summary kept by the triggers differ from a rebuild in $kept rows"; status=1; }
rm -f "$single" "$single_off"
rm -f "$script" "$log"
"$CDP_BINDIR/dropdb" "$db"
exit $status
