#!/bin/sh
# governance benchmark, every figure a ratio to a baseline timed in the same
# run on the same rows:
#   - validate_email / validate_phone over CDP_BENCH_ROWS values (default
#     200,000) against a plain regular-expression check of the same values;
#   - can_contact for every contact against the equivalent DISTINCT ON query;
#   - forget_contact of one person against one sequential pass over every
#     cdp table looking for the person's e-mail address (what searching for
#     the person by hand costs), with CDP_BENCH_TOUCHPOINTS touchpoints
#     (default 500,000).
set -eu
db=cdp_bench_governance
rows=${CDP_BENCH_ROWS:-200000}
touchpoints=${CDP_BENCH_TOUCHPOINTS:-500000}
psql="psql -X -q -At -v ON_ERROR_STOP=1 -d $db"

"$CDP_BINDIR/dropdb" --if-exists "$db"
"$CDP_BINDIR/createdb" "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$CDP_TOP/demo/10_data.sql" >/dev/null
$psql <<SQL
CREATE TABLE bench_values AS
SELECT CASE i % 4 WHEN 0 THEN 'user' || i || '@company' || (i % 97) || '.com.cn'
                  WHEN 1 THEN 'Zhang.Wei' || i || '@HuaXin.CN'
                  WHEN 2 THEN 'test@test.com'
                  ELSE 'broken' || i || '@@x' END AS email,
       CASE i % 4 WHEN 0 THEN '139' || lpad(i::text, 8, '0')
                  WHEN 1 THEN '+86 138-' || lpad((i % 10000)::text, 4, '0') || '-' || lpad((i % 7919)::text, 4, '0')
                  WHEN 2 THEN '010-6' || lpad((i % 10000000)::text, 7, '0')
                  ELSE '13800138000' END AS phone
  FROM generate_series(1, $rows) i;
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
SELECT contact_id, 'email', (contact_id + k) % 3 <> 0, '2026-01-01'::timestamptz + k * interval '1 day'
  FROM cdp.contact, generate_series(1, 5) k;
INSERT INTO cdp.touchpoint (account_id, contact_id, channel, direction, kind, outcome, occurred_at)
SELECT 1 + i % 300, CASE WHEN i % 10 = 0 THEN 1 + i % 900 END, 'web', 'inbound', 'site_visit', NULL,
       '2026-01-01'::timestamptz + i * interval '1 s'
  FROM generate_series(1, $touchpoints) i;
VACUUM ANALYZE;
SQL

# best of three, in milliseconds
timed() {
	best=
	for _ in 1 2 3; do
		t=$($psql -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) $1" | sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p')
		if [ -z "$best" ] || awk "BEGIN { exit !($t < $best) }"; then best=$t; fi
	done
	echo "$best"
}
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

a=$(timed "SELECT count(*) FILTER (WHERE (cdp.validate_email(email)).valid) FROM bench_values")
b=$(timed "SELECT count(*) FILTER (WHERE email ~ '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}\$') FROM bench_values")
echo "validate_email, $rows values: ${a} ms; regular expression: ${b} ms; ratio $(ratio "$a" "$b")"
a=$(timed "SELECT count(*) FILTER (WHERE (cdp.validate_phone(phone)).valid) FROM bench_values")
b=$(timed "SELECT count(*) FILTER (WHERE regexp_replace(phone, '[ ()+-]', '', 'g') ~ '^(86)?(1[3-9][0-9]{9}|0[1-9][0-9]{8,10})\$') FROM bench_values")
echo "validate_phone, $rows values: ${a} ms; regular expression: ${b} ms; ratio $(ratio "$a" "$b")"
a=$(timed "SELECT count(*) FILTER (WHERE cdp.can_contact(contact_id, 'email')) FROM cdp.contact")
b=$(timed "SELECT count(*) FILTER (WHERE granted) FROM (SELECT DISTINCT ON (contact_id) granted FROM cdp.consent WHERE channel = 'email' ORDER BY contact_id, recorded_at DESC, consent_id DESC) s")
echo "can_contact for $($psql -c "SELECT count(*) FROM cdp.contact") contacts: ${a} ms; one DISTINCT ON query: ${b} ms; ratio $(ratio "$a" "$b")"

# one erasure (rolled back, so each of the three runs erases the same person)
search="SELECT sum(n) FROM ("
for t in $($psql -c "SELECT c.oid::regclass FROM pg_class c WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind = 'r'"); do
	search="$search SELECT count(*) AS n FROM $t x WHERE strpos(x::text, 'c5.1@') > 0 UNION ALL"
done
search="${search% UNION ALL}) s"
b=$(timed "$search")
best=
for _ in 1 2 3; do
	t=$($psql -c "BEGIN" -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) SELECT cdp.forget_contact(5)" -c "ROLLBACK" | sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p')
	if [ -z "$best" ] || awk "BEGIN { exit !($t < $best) }"; then best=$t; fi
done
echo "forget_contact with $touchpoints touchpoints: ${best} ms; one pass over every cdp table: ${b} ms; ratio $(ratio "$best" "$b")"
"$CDP_BINDIR/dropdb" "$db"
