#!/bin/sh
# company benchmark: cdp.match_accounts against a plain pg_trgm
# nearest-neighbour query on the same table, and find_duplicate_accounts at
# one tenth and at the full size (its time should grow about 10x, not 100x).
#
# Accounts are named as Chinese registrations are: city + two-character
# brand + industry word + legal form (北京恒锦科技有限公司), deterministic.
# Queries are short names (brand + industry word, 恒锦科技) of 200 accounts
# picked with a fixed seed.  The baseline is
#   SELECT ... FROM cdp.account ORDER BY name <-> $1 LIMIT 5
# on a GiST gin_trgm-style index (gist_trgm_ops) on the name.  Both are
# timed per call in the same session, alternating; p50 and mean are printed
# with their ratio (target: match_accounts p50 <= 3x the baseline's).
#
# CDP_BENCH_ROWS (default 1000000) sets the full size.
set -eu
db=cdp_bench_company
rows=${CDP_BENCH_ROWS:-1000000}
tenth=$((rows / 10))
psql="psql -X -q -At -v ON_ERROR_STOP=1 -d $db"

"$CDP_BINDIR/dropdb" --if-exists "$db"
"$CDP_BINDIR/createdb" "$db"
$psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
CREATE FUNCTION bench_name(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (SELECT short_name FROM cdp.city ORDER BY city_code OFFSET (i * 7) % 300 LIMIT 1)
        || chr(19968 + (abs(hashint8(i)) % 3500)::int) || chr(19968 + (abs(hashint8(-i)) % 3500)::int)
        || (ARRAY['科技','贸易','电子','医药','建设','物流','食品','咨询','机械','化工',
                  '能源','材料','服装','文化','传媒','投资','环保','汽车','软件','网络'])[1 + (i / 3 % 20)::int]
        || (ARRAY['有限公司','股份有限公司','有限责任公司'])[1 + (i % 3)::int]
$$;
SQL

load()	# load FROM TO: add accounts FROM..TO
{
	$psql -c "INSERT INTO cdp.account (name) SELECT bench_name(i) FROM generate_series($1, $2) i"
	$psql -c "VACUUM ANALYZE cdp.account"
}

dup_seconds()
{
	$psql <<'SQL'
CREATE TEMP TABLE t AS SELECT clock_timestamp() AS t0;
CREATE TEMP TABLE d AS SELECT * FROM cdp.find_duplicate_accounts();
SELECT round(extract(epoch FROM clock_timestamp() - t0)::numeric, 2) FROM t;
SQL
}

start=$(date +%s)
load 1 "$tenth"
d1=$(dup_seconds)
echo "find_duplicate_accounts at $tenth accounts: ${d1}s"
load $((tenth + 1)) "$rows"
echo "loaded $rows accounts in $(( $(date +%s) - start ))s (with both matching indexes)"
d2=$(dup_seconds)
echo "find_duplicate_accounts at $rows accounts: ${d2}s"
echo "find_duplicate_accounts ratio $rows/$tenth accounts: $(echo "$d2 $d1" | awk '{printf "%.1f", $1 / $2}') (10 would be linear)"

$psql -c "CREATE INDEX bench_name_gist ON cdp.account USING gist (name gist_trgm_ops)"
$psql -c "ANALYZE cdp.account"

# the plan match_accounts' probe gets by itself at this size
plan=$($psql <<SQL
SET pg_trgm.similarity_threshold = 0.4;
EXPLAIN (COSTS OFF) SELECT a.account_id FROM cdp.account a
 WHERE cdp.company_search_key(a.name) % cdp.company_search_key('恒锦科技')
    OR cdp.company_search_key('恒锦科技') <% cdp.company_search_key(a.name);
SQL
)
echo "$plan" | sed 's/^/  /'
case "$plan" in
*"Seq Scan"*) echo "match_accounts probe uses the index: false" ;;
*) echo "match_accounts probe uses the index: true" ;;
esac

$psql <<SQL
SELECT setseed(0.42);
CREATE TABLE bench_query AS
SELECT n, substr(bench_name(i), length((SELECT short_name FROM cdp.city ORDER BY city_code OFFSET (i * 7) % 300 LIMIT 1)) + 1, 4) AS q,
       bench_name(i) AS expected
  FROM (SELECT row_number() OVER () AS n, (random() * ($rows - 1))::bigint + 1 AS i
          FROM generate_series(1, 200)) s;
CREATE TABLE bench_time (n int, method text, ms double precision, hit boolean);
DO \$\$
DECLARE
    r record;
    t0 timestamptz;
    top text;
BEGIN
    -- warm both paths
    PERFORM * FROM cdp.match_accounts('恒锦科技');
    PERFORM account_id FROM cdp.account ORDER BY name OPERATOR(public.<->) '恒锦科技' LIMIT 5;
    FOR r IN SELECT * FROM bench_query ORDER BY n LOOP
        t0 := clock_timestamp();
        SELECT account_name INTO top FROM cdp.match_accounts(r.q, k => 5) LIMIT 1;
        INSERT INTO bench_time VALUES (r.n, 'match_accounts',
            extract(epoch FROM clock_timestamp() - t0) * 1000,
            cdp.company_key(top) = cdp.company_key(r.expected) OR cdp.company_match(r.q, top));
        t0 := clock_timestamp();
        SELECT name INTO top FROM (SELECT name FROM cdp.account
                                    ORDER BY name OPERATOR(public.<->) r.q LIMIT 5) x LIMIT 1;
        INSERT INTO bench_time VALUES (r.n, 'pg_trgm knn',
            extract(epoch FROM clock_timestamp() - t0) * 1000,
            cdp.company_match(r.q, top));
    END LOOP;
END
\$\$;
SQL
$psql <<'SQL'
SELECT format('%s: p50 %s ms, mean %s ms, p95 %s ms, top hit is the company for %s of 200',
              method, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
              round(avg(ms)::numeric, 2), round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2),
              count(*) FILTER (WHERE hit))
  FROM bench_time GROUP BY method ORDER BY method;
SELECT format('match_accounts / pg_trgm knn: p50 ratio %s, mean ratio %s (target p50 ratio <= 3)',
              round(((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench_time WHERE method = 'match_accounts')
            / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench_time WHERE method = 'pg_trgm knn'))::numeric, 4),
              round(((SELECT avg(ms) FROM bench_time WHERE method = 'match_accounts')
            / (SELECT avg(ms) FROM bench_time WHERE method = 'pg_trgm knn'))::numeric, 4));
SQL
"$CDP_BINDIR/dropdb" "$db"
