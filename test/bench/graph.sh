#!/bin/sh
# graph benchmark: cdp.intro_paths against a breadth-first search written as
# a plain-SQL recursive CTE, on a generated graph of 1M contacts and 10M
# edges (targets: p50 under 50 ms up to 6 hops, at least 20x faster).
#
# The graph looks like a contact network: contacts sit in blocks of 50 (one
# company), each knows the next 4 of its block and reports to the next one
# (5 local edges), and has 5 ties to random contacts anywhere (long edges);
# strengths are random in [0.05, 1] in steps of 0.01, and 1% of the contacts
# refused intro consent.  So every contact has about 20 edges, and random
# pairs are 4 to 6 hops apart.
#
# For each of CDP_BENCH_PAIRS random pairs both searches run once, ours
# first; each reports the hop count of the shortest path (the CTE stops at
# the first row that reaches the target, so it does not walk the whole
# graph either).  Answers are checked: same hop count, and our first path is
# a real path whose strength is the product of its edges' strengths.
# Sizes: CDP_BENCH_CONTACTS (default 1000000), CDP_BENCH_PAIRS (15),
# CDP_BENCH_MAX_HOPS (6).
set -eu
db=cdp_bench_graph
contacts=${CDP_BENCH_CONTACTS:-1000000}
pairs=${CDP_BENCH_PAIRS:-15}
maxhops=${CDP_BENCH_MAX_HOPS:-6}
psql="psql -X -q -v ON_ERROR_STOP=1 -d $db"

"$CDP_BINDIR/dropdb" --if-exists "$db" 2>/dev/null
"$CDP_BINDIR/createdb" "$db"
start=$(date +%s)
$psql <<SQL
SET client_min_messages = warning;
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';
CREATE EXTENSION cdp CASCADE;
SELECT setseed(0.42) \g /dev/null

INSERT INTO cdp.contact (name) SELECT 'contact ' || i FROM generate_series(1, $contacts) i;

-- bulk load: foreign-key triggers off (the generator only makes valid ids),
-- indexes built afterwards under their own names
ALTER TABLE cdp.relationship DISABLE TRIGGER ALL;
ALTER TABLE cdp.relationship DROP CONSTRAINT relationship_from_contact_to_contact_kind_key;
CREATE TEMP TABLE saved_index AS
    SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index
     WHERE indrelid = 'cdp.relationship'::regclass AND NOT indisprimary;
SELECT format('DROP INDEX cdp.%I', c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'cdp.relationship'::regclass AND NOT i.indisprimary \gexec
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength, source)
SELECT i,
       CASE WHEN k <= 5
            THEN ((i - 1) / 50) * 50 + ((i - 1) % 50 + k) % 50 + 1
            ELSE 1 + ((i - 1) + 100 + (k - 6) * (($contacts - 200) / 5)
                      + floor(random() * (($contacts - 200) / 5))::bigint) % $contacts
       END,
       CASE WHEN k = 1 THEN 'reports_to' ELSE 'knows' END,
       round((0.05 + random() * 0.95)::numeric, 2)::real,
       'bench'
  FROM generate_series(1, $contacts) i, generate_series(1, 10) k;
ALTER TABLE cdp.relationship ADD CONSTRAINT relationship_from_contact_to_contact_kind_key
    UNIQUE (from_contact, to_contact, kind);
SELECT def FROM saved_index \gexec
ALTER TABLE cdp.relationship ENABLE TRIGGER ALL;

INSERT INTO cdp.consent (contact_id, channel, granted, source)
SELECT i, 'intro', false, 'bench' FROM generate_series(1, $contacts) i WHERE random() < 0.01;
VACUUM ANALYZE cdp.contact, cdp.relationship, cdp.consent;

CREATE TABLE bench_refused AS
    SELECT DISTINCT contact_id FROM cdp.consent WHERE channel = 'intro' AND NOT granted;
CREATE UNIQUE INDEX ON bench_refused (contact_id);

-- the baseline: textbook BFS as a recursive CTE over (contact, depth),
-- edges both ways, refused contacts not expanded beyond the start
CREATE FUNCTION bench_cte_hops(a bigint, b bigint, maxh int) RETURNS int
LANGUAGE sql STABLE AS \$\$
WITH RECURSIVE bfs(node, depth) AS (
    SELECT a, 0
  UNION
    SELECT e.n, f.depth + 1
      FROM bfs f
      CROSS JOIN LATERAL (SELECT r.to_contact AS n FROM cdp.relationship r WHERE r.from_contact = f.node
                          UNION ALL
                          SELECT r.from_contact FROM cdp.relationship r WHERE r.to_contact = f.node) e
     WHERE f.depth < maxh
       AND (f.depth = 0 OR NOT EXISTS (SELECT 1 FROM bench_refused x WHERE x.contact_id = f.node))
)
SELECT depth FROM bfs WHERE node = b LIMIT 1
\$\$;

-- is p a path of the graph whose strength is s?
CREATE FUNCTION bench_path_ok(p bigint[], s real) RETURNS boolean
LANGUAGE sql STABLE AS \$\$
SELECT bool_and(e.best IS NOT NULL)
       AND abs(exp(sum(ln(e.best))) - s) <= 1e-5
  FROM generate_subscripts(p, 1) i
  CROSS JOIN LATERAL (SELECT max(r.strength)::float8 AS best FROM cdp.relationship r
                       WHERE (r.from_contact = p[i] AND r.to_contact = p[i + 1])
                          OR (r.from_contact = p[i + 1] AND r.to_contact = p[i])) e
 WHERE i < cardinality(p)
\$\$;

CREATE TABLE bench_pair (n int PRIMARY KEY, a bigint, b bigint,
                         ours_ms float8, ours_hops int, ours_paths int, ours_ok boolean,
                         cte_ms float8, cte_hops int);
INSERT INTO bench_pair (n, a, b)
SELECT n, 1 + floor(random() * $contacts)::bigint, 1 + floor(random() * $contacts)::bigint
  FROM generate_series(1, $pairs) n;
SQL
echo "  generated $contacts contacts, $($psql -At -c 'SELECT count(*) FROM cdp.relationship') edges in $(($(date +%s) - start)) s"

# one session for all pairs: the first call, off the record, prepares the
# plans and warms the caches
{
	echo "SELECT count(*) FROM cdp.intro_paths(1, $contacts / 2, $maxhops) \\g /dev/null"
	n=1
	while [ "$n" -le "$pairs" ]; do
		cat <<SQL
DO \$\$
DECLARE
    pr bench_pair;
    t timestamptz;
    h int;
    p bigint[];
    s real;
    cnt int;
BEGIN
    SELECT * INTO pr FROM bench_pair WHERE n = $n;
    t := clock_timestamp();
    SELECT min(hops), count(*), (array_agg(path ORDER BY strength DESC, path))[1],
           (array_agg(strength ORDER BY strength DESC, path))[1]
      INTO h, cnt, p, s FROM cdp.intro_paths(pr.a, pr.b, $maxhops);
    UPDATE bench_pair SET ours_ms = 1000 * extract(epoch FROM clock_timestamp() - t),
                          ours_hops = h, ours_paths = cnt,
                          ours_ok = (p IS NULL OR (p[1] = pr.a AND p[cardinality(p)] = pr.b
                                     AND cardinality(p) = h + 1 AND bench_path_ok(p, s)))
     WHERE n = $n;
    t := clock_timestamp();
    h := bench_cte_hops(pr.a, pr.b, $maxhops);
    UPDATE bench_pair SET cte_ms = 1000 * extract(epoch FROM clock_timestamp() - t), cte_hops = h
     WHERE n = $n;
END
\$\$;
SELECT '  pair ' || n || ': ' || a || ' -> ' || b || ', hops ' || coalesce(ours_hops::text, 'none')
       || ' (cte ' || coalesce(cte_hops::text, 'none') || '), ' || ours_paths || ' paths, ours '
       || round(ours_ms::numeric, 1) || ' ms, cte ' || round(cte_ms::numeric, 1) || ' ms'
  FROM bench_pair WHERE n = $n;
SQL
		n=$((n + 1))
	done
} | $psql -At

$psql -At <<SQL
SELECT '  same answers: ' || CASE WHEN bool_and(ours_hops IS NOT DISTINCT FROM cte_hops AND ours_ok)
                                  THEN 'yes' ELSE 'NO' END
       || ' (' || count(*) FILTER (WHERE ours_hops IS NOT DISTINCT FROM cte_hops AND ours_ok)
       || ' of ' || count(*) || ' pairs)'
  FROM bench_pair;
SELECT '  by hops: ' || string_agg(coalesce(h::text, 'none') || ' hops x' || c || ' (p50 ' || round(ours::numeric, 1)
                                    || ' ms, cte ' || round(cte::numeric, 1) || ' ms)', ', ' ORDER BY h)
  FROM (SELECT ours_hops h, count(*) c,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ours_ms) ours,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY cte_ms) cte
          FROM bench_pair GROUP BY 1) x;
WITH q AS (
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ours_ms) AS ours_p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY ours_ms) AS ours_p90,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY cte_ms) AS cte_p50
      FROM bench_pair)
SELECT format('  intro_paths p50 %s ms (p90 %s ms, target p50 < 50 ms: %s); recursive CTE p50 %s ms',
              round(ours_p50::numeric, 1), round(ours_p90::numeric, 1),
              CASE WHEN ours_p50 < 50 THEN 'met' ELSE 'NOT met' END, round(cte_p50::numeric, 1))
       || E'\n' ||
       format('  ratio recursive CTE / intro_paths (p50): %sx (target >= 20x: %s)',
              round((cte_p50 / ours_p50)::numeric, 1),
              CASE WHEN cte_p50 / ours_p50 >= 20 THEN 'met' ELSE 'NOT met' END)
  FROM q;
SQL
if [ "${CDP_BENCH_KEEP:-0}" != 1 ]; then
	"$CDP_BINDIR/dropdb" "$db"
fi
