#!/bin/sh
# graph suite: cdp.intro_paths checked against a plain-SQL enumeration of
# every simple path on generated graphs, the way it is checked from outside.
#
# The reference enumerates all simple paths of up to max_hops edges with a
# recursive CTE, keeps those reaching the target with the fewest hops, never
# passes through a contact that refused intro consent, scores each path by
# the product of its pairs' strongest edges, and orders them strongest
# first, then by contact ids.  intro_paths must return exactly those rows,
# in that order, for every sampled pair: with and without consent
# refusals, for short and long max_hops, and cut to the strongest few by
# cdp.intro_paths_limit.
set -eu
db=cdp_suite_graph
psql="psql -X -q -v ON_ERROR_STOP=1 -d $db"

"$CDP_BINDIR/dropdb" --if-exists "$db" 2>/dev/null
"$CDP_BINDIR/createdb" "$db"
$psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
SELECT setseed(0.17) \g /dev/null

-- 400 contacts, about 1,200 edges: clusters of 20 with local ties and
-- random long ties; strengths in steps of 0.1 so that many paths tie
INSERT INTO cdp.contact (name) SELECT 'p' || i FROM generate_series(1, 400) i;
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength)
SELECT DISTINCT ON (f, t, k) f, t, k, s
  FROM (SELECT i AS f,
               CASE WHEN j = 1 THEN ((i - 1) / 20) * 20 + (i % 20) + 1
                    ELSE 1 + floor(random() * 400)::int END AS t,
               (ARRAY['knows', 'reports_to', 'influences', 'referred'])[1 + floor(random() * 4)::int] AS k,
               round((0.1 + random() * 0.9)::numeric, 1)::real AS s
          FROM generate_series(1, 400) i, generate_series(1, 3) j) x
 WHERE f <> t;

-- the reference
CREATE TABLE pair_strength AS
SELECT least(from_contact, to_contact) AS a, greatest(from_contact, to_contact) AS b,
       max(strength)::float8 AS s
  FROM cdp.relationship GROUP BY 1, 2;
CREATE VIEW adj AS SELECT a AS u, b AS v, s FROM pair_strength
                   UNION ALL SELECT b, a, s FROM pair_strength;
CREATE VIEW refused AS
SELECT contact_id FROM (
    SELECT DISTINCT ON (contact_id) contact_id, granted FROM cdp.consent
     WHERE channel IN ('intro', 'any')
     ORDER BY contact_id, recorded_at DESC, consent_id DESC) d
 WHERE NOT granted;

CREATE FUNCTION reference_paths(x bigint, y bigint, maxh int)
RETURNS TABLE (path bigint[], hops int, strength real) LANGUAGE sql AS $$
WITH RECURSIVE walk(path, node, prod) AS (
    SELECT ARRAY[x], x, 1.0::float8
  UNION ALL
    SELECT w.path || e.v, e.v, w.prod * e.s
      FROM walk w JOIN adj e ON e.u = w.node
     WHERE cardinality(w.path) <= maxh
       AND w.node <> y
       AND NOT e.v = ANY (w.path)
       AND (cardinality(w.path) = 1 OR w.node NOT IN (SELECT contact_id FROM refused))
), done AS (
    SELECT path, cardinality(path) - 1 AS hops, prod::real AS strength FROM walk WHERE node = y
)
SELECT path, hops, strength FROM done
 WHERE hops = (SELECT min(hops) FROM done)
 ORDER BY strength DESC, path
$$;

CREATE FUNCTION as_text(p bigint[], h int, s real) RETURNS text LANGUAGE sql IMMUTABLE
RETURN p::text || '/' || h || '/' || s::text;

CREATE TABLE pair AS
SELECT n, 1 + floor(random() * 400)::bigint AS a, 1 + floor(random() * 400)::bigint AS b
  FROM generate_series(1, 150) n;
INSERT INTO pair SELECT 1000, 7, 7;

-- mismatching pairs for a max_hops and a row limit
CREATE FUNCTION mismatches(maxh int, lim int DEFAULT 1000000) RETURNS TABLE (n int, ours text, theirs text)
LANGUAGE sql AS $$
SELECT p.n, o.t, r.t
  FROM pair p
  CROSS JOIN LATERAL (SELECT coalesce(string_agg(as_text(i.path, i.hops, i.strength), ' ' ORDER BY i.ord), '') AS t
                        FROM cdp.intro_paths(p.a, p.b, maxh) WITH ORDINALITY i(path, hops, strength, ord)) o
  CROSS JOIN LATERAL (SELECT coalesce(string_agg(as_text(f.path, f.hops, f.strength), ' ' ORDER BY f.ord), '') AS t
                        FROM (SELECT *, row_number() OVER () AS ord FROM reference_paths(p.a, p.b, maxh)) f
                       WHERE f.ord <= lim) r
 WHERE o.t IS DISTINCT FROM r.t
$$;
SQL

check()	# check DESCRIPTION SQL: ok when the query prints 0
{
	got=$($psql -At -c "$2" 2>&1) || true
	if [ "$got" = 0 ]; then
		echo "ok - $1"
	else
		echo "not ok - $1 (got: $(echo "$got" | head -5))"
	fi
}

check "graph generated (about 1,200 edges)" \
	"SELECT CASE WHEN count(*) BETWEEN 1000 AND 1250 THEN 0 ELSE count(*) END FROM cdp.relationship"
check "reference finds paths of several lengths" \
	"SELECT CASE WHEN count(DISTINCT h) >= 3 THEN 0 ELSE 1 END FROM (SELECT (SELECT min(hops) FROM reference_paths(a, b, 5)) h FROM pair) x"
for h in 1 2 3 5; do
	check "intro_paths = plain enumeration on 151 pairs, max_hops $h" "SELECT count(*) FROM mismatches($h)"
done
check "some pairs have no path within 2 hops, and both agree" \
	"SELECT CASE WHEN count(*) > 0 THEN 0 ELSE 1 END FROM pair p WHERE NOT EXISTS (SELECT 1 FROM cdp.intro_paths(p.a, p.b, 2))"
check "pairs with several shortest paths exist" \
	"SELECT CASE WHEN count(*) > 10 THEN 0 ELSE 1 END FROM pair p WHERE (SELECT count(*) FROM cdp.intro_paths(p.a, p.b, 5)) > 1"

# consent: 10% of the contacts refuse intro (some later re-grant on 'any')
$psql <<'SQL'
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
SELECT contact_id, 'intro', false, '2026-01-01' FROM cdp.contact WHERE contact_id % 10 = 3;
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
SELECT contact_id, 'any', true, '2026-02-01' FROM cdp.contact WHERE contact_id % 30 = 3;
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
SELECT contact_id, 'email', false, '2026-02-01' FROM cdp.contact WHERE contact_id % 10 = 5;
SQL
check "consent: 26 contacts refuse (40 refused, 14 of them re-granted)" "SELECT count(*) - 26 FROM refused"
for h in 3 5; do
	check "with refusals, intro_paths = plain enumeration, max_hops $h" "SELECT count(*) FROM mismatches($h)"
done
check "no returned path goes through a refusing contact" \
	"SELECT count(*) FROM pair p, cdp.intro_paths(p.a, p.b, 5) i, generate_subscripts(i.path, 1) k
	  WHERE k > 1 AND k < cardinality(i.path) AND i.path[k] IN (SELECT contact_id FROM refused)"

for lim in 1 2; do
	check "cdp.intro_paths_limit = $lim keeps the $lim strongest (ties by ids)" \
		"SET cdp.intro_paths_limit = $lim; SELECT count(*) FROM mismatches(5, $lim)"
done

# bad input from a client
check "negative max_hops is 22023" \
	"DO \$\$ BEGIN PERFORM cdp.intro_paths(1, 2, -1); RAISE 'no error'; EXCEPTION WHEN invalid_parameter_value THEN NULL; END \$\$; SELECT 0"
check "unknown contact is P0002" \
	"DO \$\$ BEGIN PERFORM cdp.intro_paths(1, 100000, 3); RAISE 'no error'; EXCEPTION WHEN no_data_found THEN NULL; END \$\$; SELECT 0"
check "NULL contact is 22004" \
	"DO \$\$ BEGIN PERFORM cdp.intro_paths(NULL, 2, 3); RAISE 'no error'; EXCEPTION WHEN null_value_not_allowed THEN NULL; END \$\$; SELECT 0"

"$CDP_BINDIR/dropdb" "$db"
