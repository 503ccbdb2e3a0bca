#!/bin/sh
# security_soak: four sales reps (members of cdp_sales, each logged in as
# itself) and an administrator work at once for CDP_SOAK_SECONDS (default
# 40): touches with outcomes, consent decisions, outreach decisions, new
# leads and stage moves, attempts on other reps' rows, and erasures of random
# people (repeated erasures included).  Afterwards:
#   - no rep ever saw a row it does not own, and every row a rep wrote is its own;
#   - the stage history agrees with the rows (one open stay per entity);
#   - no erased person's e-mail address or phone number is left in any cdp
#     table, and erasing them again changes nothing;
#   - the server never restarted.
set -eu
db=cdp_security_soak
seconds=${CDP_SOAK_SECONDS:-40}
scripts=$CDP_TOP/test/pgbench
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
check() {	# check "description" "SQL returning one boolean"
	got=$(q "$2")
	if [ "$got" = t ]; then ok "$1"; else notok "$1 (got '$got')"; fi
}

"$CDP_BINDIR/dropdb" --if-exists "$db"
for r in 1 2 3 4; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS regress_soak_rep$r" 2>/dev/null; done
psql -X -q -d postgres -c "DROP ROLE IF EXISTS regress_soak_admin" 2>/dev/null
"$CDP_BINDIR/createdb" "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$CDP_TOP/demo/10_data.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL' >/dev/null
CREATE ROLE regress_soak_rep1 LOGIN IN ROLE cdp_sales;
CREATE ROLE regress_soak_rep2 LOGIN IN ROLE cdp_sales;
CREATE ROLE regress_soak_rep3 LOGIN IN ROLE cdp_sales;
CREATE ROLE regress_soak_rep4 LOGIN IN ROLE cdp_sales;
CREATE ROLE regress_soak_admin LOGIN IN ROLE cdp_admin;
UPDATE cdp.account SET owner = 'regress_soak_rep' || (1 + account_id % 4);
UPDATE cdp.contact SET owner = 'regress_soak_rep' || (1 + contact_id % 4);
UPDATE cdp.lead SET owner = 'regress_soak_rep' || (1 + lead_id % 4);
UPDATE cdp.touchpoint SET owner = 'regress_soak_rep' || (1 + touchpoint_id % 4);
-- what the reps report, and the people's identifiers before any erasure
-- (outside schema cdp, read only by the check below)
CREATE SCHEMA soak;
CREATE TABLE soak.seen (role name, others bigint);
GRANT USAGE ON SCHEMA soak TO cdp_sales;
GRANT INSERT ON soak.seen TO cdp_sales;
CREATE TABLE soak.person AS SELECT contact_id, email, phone FROM cdp.contact;
CREATE TABLE soak.key_accounts AS SELECT count(*) AS n FROM cdp.account WHERE tier = 'key';
SQL
started=$(q "SELECT pg_postmaster_start_time()")

log=$(mktemp)
for r in 1 2 3 4; do
	PGUSER=regress_soak_rep$r "$CDP_BINDIR/pgbench" -n -c 2 -j 1 -T "$seconds" --max-tries=10 \
		-f "$scripts/governance_rep.pgbench" "$db" >"$log.rep$r" 2>&1 &
	pids="${pids:-} $!"
done
PGUSER=regress_soak_admin "$CDP_BINDIR/pgbench" -n -c 1 -j 1 -T "$seconds" --max-tries=10 \
	-f "$scripts/governance_admin.pgbench" "$db" >"$log.admin" 2>&1 &
pids="$pids $!"
failed=0
for job in $pids; do
	wait "$job" || failed=$((failed + 1))
done
for f in "$log".rep1 "$log".rep2 "$log".rep3 "$log".rep4 "$log".admin; do
	n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$f")
	echo "# $(basename "$f" | sed 's/.*\.//'): ${n:-0} transactions, $(grep -c 'client [0-9]* aborted' "$f" || true) clients aborted"
done
if [ "$failed" -eq 0 ]; then
	ok "5 pgbench runs of ${seconds} s (4 reps, 1 administrator) finished without a client aborting"
else
	notok "$failed pgbench runs failed: $(grep -h -m2 'ERROR\|aborted' "$log".* | head -4)"
fi
rm -f "$log" "$log".*

now=$(q "SELECT pg_postmaster_start_time()")
[ "$now" = "$started" ] && ok "server never restarted" || notok "server restarted"
q "SELECT '# ' || count(*) || ' rep transactions, ' || (SELECT count(*) FROM cdp.erasure_log) || ' erasures, '
          || (SELECT count(*) FROM cdp.lead WHERE source = 'soak') || ' new leads' FROM soak.seen"
check "reps did work" "SELECT count(*) > 100 FROM soak.seen"
check "no rep ever saw a row it does not own" "SELECT coalesce(max(others), 0) = 0 FROM soak.seen"
check "every row a rep wrote is owned by a rep" \
	"SELECT NOT EXISTS (SELECT 1 FROM cdp.lead WHERE source = 'soak' AND owner NOT LIKE 'regress_soak_rep_')
	    AND NOT EXISTS (SELECT 1 FROM cdp.touchpoint WHERE owner IS NULL OR owner NOT LIKE 'regress_soak_rep_')"
check "no rep changed an account it does not own (the attempts found no row)" \
	"SELECT count(*) = (SELECT n FROM soak.key_accounts) FROM cdp.account WHERE tier = 'key'"
check "every live lead has exactly one open stay, in its stage" \
	"SELECT NOT EXISTS (SELECT 1 FROM cdp.lead l
	                     LEFT JOIN cdp.stage_history h ON h.entity = 'cdp.lead'::regclass AND h.entity_key = l.lead_id::text AND h.exited_at IS NULL
	                     GROUP BY l.lead_id, l.stage HAVING count(h.*) <> 1 OR max(h.stage) <> l.stage)"
check "no entity has two open stays" \
	"SELECT NOT EXISTS (SELECT 1 FROM cdp.stage_history WHERE exited_at IS NULL GROUP BY entity, entity_key HAVING count(*) > 1)"
# touches and consent recorded after a person's last erasure are erased
# (and logged) by this first repeat; a second repeat must change nothing
q "SELECT count(DISTINCT cdp.forget_contact(contact_id)) FROM (SELECT DISTINCT contact_id FROM cdp.erasure_log) e" >/dev/null
n1=$(q "SELECT count(*) FROM cdp.erasure_log")
again=$(q "SELECT count(DISTINCT cdp.forget_contact(contact_id)) FROM (SELECT DISTINCT contact_id FROM cdp.erasure_log) e")
n2=$(q "SELECT count(*) FROM cdp.erasure_log")
[ "$n1" = "$n2" ] && [ "$again" -gt 0 ] && ok "erasing all $again erased people again changes nothing and logs nothing" || notok "repeated erasures logged again ($n1 -> $n2)"
# erased identifiers anywhere in cdp, table by table
left=$(q "DO \$\$
DECLARE t regclass; n bigint; total bigint := 0;
BEGIN
    FOR t IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind IN ('r', 'p') LOOP
        EXECUTE format('SELECT count(*) FROM %s x, soak.person p JOIN cdp.erasure_log e USING (contact_id)
                         WHERE (p.email IS NOT NULL AND strpos(x::text, p.email) > 0)
                            OR (p.phone IS NOT NULL AND strpos(x::text, p.phone) > 0)', t) INTO n;
        IF n > 0 THEN RAISE NOTICE '% rows of % hold an erased identifier', n, t; END IF;
        total := total + n;
    END LOOP;
    RAISE NOTICE 'left=%', total;
END
\$\$" 2>&1 | sed -n 's/.*left=\([0-9]*\).*/\1/p')
[ "$left" = 0 ] && ok "no erased person's e-mail address or phone number is left in any cdp table" || notok "erased identifiers left: ${left:-?}"
check "consent of erased people is withdrawn" \
	"SELECT NOT EXISTS (SELECT 1 FROM cdp.erasure_log e WHERE cdp.can_contact(e.contact_id, 'email') OR cdp.can_contact(e.contact_id, 'phone'))"

"$CDP_BINDIR/dropdb" "$db"
for r in 1 2 3 4; do psql -X -q -d postgres -c "DROP ROLE regress_soak_rep$r"; done
psql -X -q -d postgres -c "DROP ROLE regress_soak_admin"
