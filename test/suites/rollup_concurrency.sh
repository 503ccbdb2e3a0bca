#!/bin/sh
# rollup_concurrency: sessions writing interactions, moving contacts and
# leads, changing segments, recording consent, adding, tagging and removing
# contacts and writing CDP sheets at once, on the same few accounts,
# contacts and leads.  Afterwards the figures the triggers kept (touch
# rollups, delta rows, presence rows, latest touches, per-account sheet
# summary, contact counts) must equal those cdp.rebuild_bi_rollups() computes from the
# tables: no lost or double-counted change.
set -eu
db=cdp_rollup_concurrency
scripts=$CDP_TOP/test/pgbench
psql="psql -X -q -v ON_ERROR_STOP=1 -d $db"

"$CDP_BINDIR/dropdb" --if-exists "$db"
"$CDP_BINDIR/createdb" "$db"
$psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
INSERT INTO cdp.account (name, employees) SELECT 'concurrency ' || i, i * 20 FROM generate_series(1, 30) i;
INSERT INTO cdp.contact (account_id, name) SELECT 1 + i % 30, 'contact ' || i FROM generate_series(1, 40) i;
INSERT INTO cdp.lead (company_name, account_id) SELECT 'lead ' || i, 1 + (i * 7) % 30 FROM generate_series(1, 10) i;
SQL

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; }

log=$(mktemp)
# 6 clients; --max-tries retries the deadlocks two writers of the same rows
# in opposite orders can meet (the application's own, as without rollups)
if "$CDP_BINDIR/pgbench" -n -c 6 -j 2 -t 150 --max-tries=20 \
	-f "$scripts/rollup_touch.pgbench@4" \
	-f "$scripts/rollup_move.pgbench@1" \
	-f "$scripts/rollup_sheet.pgbench@2" \
	"$db" >"$log" 2>&1; then
	ok "pgbench ran 6 clients x 150 transactions without a client aborting"
else
	notok "pgbench failed"
	cat "$log"
fi
grep -E "^number of (transactions actually processed|failed transactions|transactions retried)" "$log" | sed 's/^/# /'
rm -f "$log"

# the figures as the triggers kept them, then as computed from the tables
# (half of the delta rows folded first, so that both are read)
got=$($psql -At <<'SQL'
SET timezone = 'UTC';
SELECT cdp.rebuild_bi_rollups('UTC') IS NULL \g /dev/null
SQL
)
got=$($psql -At <<'SQL'
SELECT cdp.bi_compact_rollups() IS NULL \g /dev/null
SQL
)
"$CDP_BINDIR/pgbench" -n -c 6 -j 2 -t 100 --max-tries=20 \
	-f "$scripts/rollup_touch.pgbench@4" -f "$scripts/rollup_move.pgbench@1" -f "$scripts/rollup_sheet.pgbench@2" \
	"$db" >/dev/null 2>&1 ||
	notok "second pgbench run failed"
got=$($psql -At <<'SQL'
SET timezone = 'UTC';
CREATE TABLE kept_figures AS SELECT * FROM cdp.bi_touch_figures
 WHERE touches <> 0 OR reached_accounts <> 0 OR reached_contacts <> 0 OR reached_leads <> 0
    OR active_accounts <> 0 OR active_relationships <> 0 OR cost <> 0;
CREATE TABLE kept_last AS SELECT * FROM cdp.bi_last_touch;
CREATE TABLE kept_sheet AS SELECT * FROM cdp.bi_account_sheet;
CREATE TABLE kept_contacts AS SELECT * FROM cdp.bi_contact_figures WHERE contacts <> 0 OR tagged_contacts <> 0 OR verified_contacts <> 0;
CREATE TABLE kept_presence AS
SELECT 'account' AS k, account_id AS id, month, segment, overall, channel, NULL::boolean AS granted, n FROM cdp.bi_reach_account WHERE n <> 0
UNION ALL SELECT 'contact', contact_id, month, segment, overall, channel, granted, n FROM cdp.bi_reach_contact WHERE n <> 0
UNION ALL SELECT 'lead', lead_id, month, segment, false, channel, NULL, n FROM cdp.bi_reach_lead WHERE n <> 0;
SELECT cdp.rebuild_bi_rollups() \g /dev/null
CREATE TABLE rebuilt_figures AS SELECT * FROM cdp.bi_touch_figures
 WHERE touches <> 0 OR reached_accounts <> 0 OR reached_contacts <> 0 OR reached_leads <> 0
    OR active_accounts <> 0 OR active_relationships <> 0 OR cost <> 0;
CREATE TABLE rebuilt_contacts AS SELECT * FROM cdp.bi_contact_figures WHERE contacts <> 0 OR tagged_contacts <> 0 OR verified_contacts <> 0;
CREATE TABLE rebuilt_presence AS
SELECT 'account' AS k, account_id AS id, month, segment, overall, channel, NULL::boolean AS granted, n FROM cdp.bi_reach_account WHERE n <> 0
UNION ALL SELECT 'contact', contact_id, month, segment, overall, channel, granted, n FROM cdp.bi_reach_contact WHERE n <> 0
UNION ALL SELECT 'lead', lead_id, month, segment, false, channel, NULL, n FROM cdp.bi_reach_lead WHERE n <> 0;
SELECT (SELECT count(*) FROM cdp.touchpoint) > 500,
       (SELECT count(*) FROM ((TABLE kept_figures EXCEPT ALL TABLE rebuilt_figures)
                              UNION ALL (TABLE rebuilt_figures EXCEPT ALL TABLE kept_figures)) d),
       (SELECT count(*) FROM ((TABLE kept_presence EXCEPT ALL TABLE rebuilt_presence)
                              UNION ALL (TABLE rebuilt_presence EXCEPT ALL TABLE kept_presence)) d),
       (SELECT count(*) FROM ((TABLE kept_last EXCEPT ALL SELECT * FROM cdp.bi_last_touch)
                              UNION ALL (SELECT * FROM cdp.bi_last_touch EXCEPT ALL TABLE kept_last)) d),
       (SELECT count(*) FILTER (WHERE name = 'sheet contact') > 50 AND count(DISTINCT decision_role) > 3 FROM cdp.contact),
       (SELECT count(*) FROM ((TABLE kept_sheet EXCEPT ALL SELECT * FROM cdp.bi_account_sheet)
                              UNION ALL (SELECT * FROM cdp.bi_account_sheet EXCEPT ALL TABLE kept_sheet)) d),
       (SELECT count(*) FILTER (WHERE is_duplicate) > 5 FROM cdp.bi_account_sheet),
       (SELECT count(*) FROM ((TABLE kept_contacts EXCEPT ALL TABLE rebuilt_contacts)
                              UNION ALL (TABLE rebuilt_contacts EXCEPT ALL TABLE kept_contacts)) d);
SQL
)
case "$got" in
t\|0\|0\|0\|t\|0\|t\|0) ok "figures kept by the triggers under concurrency equal those computed from the tables" ;;
*) notok "figures differ after concurrent writes (touches>500|figures|presence|last touch differing rows|sheet contacts written|sheet summary differing rows|duplicates flagged|contact counts differing rows): $got" ;;
esac
"$CDP_BINDIR/dropdb" "$db"
