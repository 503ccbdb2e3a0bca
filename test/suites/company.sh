#!/bin/sh
# company.sh: what pg_regress cannot show for company matching: the
# cdp_lead_matched notification as a listening client receives it, and the
# progress of a merge and of a duplicate search read from another session.
set -u
db=cdp_company_suite
dropdb --if-exists -q "$db" 2>/dev/null
createdb "$db" || exit 1
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
ok() { if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }

q -c "SET client_min_messages = warning; CREATE EXTENSION cdp CASCADE;" || exit 1
q <<'SQL' || exit 1
INSERT INTO cdp.account (name, domain, owner) VALUES
    ('贵州茅台酒股份有限公司', 'moutaichina.com', 'alice'),
    ('北京百度网讯科技有限公司', 'baidu.com', NULL);
SQL

# 1. a listening session receives the JSON payload for a match to an owned
# account, and nothing for a match to an account without owner
out=$(q <<'SQL' 2>&1
LISTEN cdp_lead_matched;
INSERT INTO cdp.lead (company_name, email) VALUES ('貴州茅台', 'wang@qq.com');
INSERT INTO cdp.lead (company_name) VALUES ('百度');
SELECT 1;
SQL
)
n=$(printf '%s\n' "$out" | grep -c 'Asynchronous notification "cdp_lead_matched"')
ok $([ "$n" = 1 ] && echo 0 || echo 1) "one cdp_lead_matched notification for two matched leads, one with an owner ($n)"
payload=$(printf '%s\n' "$out" | sed -n 's/.*with payload "\(.*\)" received.*/\1/p')
lead=$(q -c "SELECT lead_id FROM cdp.lead WHERE company_name = '貴州茅台'")
acct=$(q -c "SELECT account_id FROM cdp.account WHERE owner = 'alice'")
check=$(q -c "SELECT (p->>'lead_id')::bigint = $lead AND (p->>'account_id')::bigint = $acct
                 AND p->>'owner' = 'alice' AND (p->>'score')::real BETWEEN 0.6 AND 1
                 AND p->>'matched_by' = 'name'
            FROM (SELECT '$payload'::json AS p) x")
ok $([ "$check" = t ] && echo 0 || echo 1) "payload names lead, account, owner, score and how: $payload"

# 2. a merge blocked on a referencing table shows where it is in
# pg_stat_activity, for any session to read
q <<'SQL' || exit 1
CREATE TABLE public.invoice (invoice_id int PRIMARY KEY, account_id bigint REFERENCES cdp.account);
INSERT INTO cdp.account (name) VALUES ('貴州茅台酒股份有限公司');
INSERT INTO public.invoice
SELECT i, (SELECT max(account_id) FROM cdp.account) FROM generate_series(1, 5) i;
SQL
surv=$acct
dup=$(q -c "SELECT max(account_id) FROM cdp.account")
fifo=$(mktemp -u); mkfifo "$fifo"
# holder: locks the invoice table until told to stop
( printf 'BEGIN; LOCK TABLE public.invoice IN EXCLUSIVE MODE; SELECT 1;\n'; cat "$fifo" ) |
	psql -X -q -At -d "$db" >/dev/null 2>&1 &
holder=$!
exec 3>"$fifo"
sleep 1
q -c "SELECT cdp.merge_accounts($surv, $dup)" >/tmp/cdp_company_merge.$$ 2>&1 &
merger=$!
progress=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	sleep 0.5
	progress=$(q -c "SELECT query FROM pg_stat_activity WHERE query LIKE 'cdp.merge_accounts(%' AND pid <> pg_backend_pid()")
	[ -n "$progress" ] && break
done
case "$progress" in
*"public.invoice.account_id"*) ok 0 "merge progress readable from another session: $progress" ;;
*) ok 1 "merge progress readable from another session: '$progress'" ;;
esac
echo 'COMMIT;' >&3
exec 3>&-
wait $merger
wait $holder
rm -f "$fifo"
repointed=$(cat /tmp/cdp_company_merge.$$); rm -f /tmp/cdp_company_merge.$$
left=$(q -c "SELECT count(*) FROM public.invoice WHERE account_id = $surv")
ok $([ "$left" = 5 ] && echo 0 || echo 1) "merge finished after the lock: $repointed rows re-pointed, 5 invoices on the survivor ($left)"
after=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'cdp.merge_accounts(%' AND pid <> pg_backend_pid()")
ok $([ "$after" = 0 ] && echo 0 || echo 1) "no merge progress message left once the merge ended ($after)"

# 3. a long duplicate search reports its batches
q <<'SQL' || exit 1
INSERT INTO cdp.account (name)
SELECT (ARRAY['北京','上海','广州','深圳'])[1 + i % 4]
       || chr(19968 + (i * 7919) % 20000) || chr(19968 + (i * 104729) % 20000)
       || (ARRAY['科技','贸易','电子','医药'])[1 + i / 4 % 4] || '有限公司'
  FROM generate_series(1, 20000) i;
ANALYZE cdp.account;
SQL
q -c "SELECT count(*) FROM cdp.find_duplicate_accounts()" >/dev/null 2>&1 &
finder=$!
seen=""
for i in $(seq 1 300); do
	sleep 0.1
	seen=$(q -c "SELECT query FROM pg_stat_activity WHERE query LIKE 'cdp.find_duplicate_accounts:%'")
	[ -n "$seen" ] && break
done
wait $finder
case "$seen" in
*"accounts compared"*) ok 0 "duplicate search progress readable from another session: $seen" ;;
*) ok 1 "duplicate search progress readable from another session: '$seen'" ;;
esac

dropdb "$db"
