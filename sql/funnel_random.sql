-- funnel_random: window_funnel, funnel_path and funnel_counts against a
-- straightforward PL/pgSQL reference on random event logs, in every mode;
-- then forced parallel plans against serial ones.
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;
SET timezone = 'UTC';
CREATE SCHEMA funnel_random_test;
SET search_path = funnel_random_test, public;

-- The reference follows the definition in README.md word for word: rows
-- with the same timestamp are one event (the union of their steps); every
-- event with step 1 starts a chain, which takes the events after it in time
-- order, within the window of its start: an event with the chain's next step
-- advances it (as many steps as the event has in a row, one step under
-- strict_increase); otherwise, under strict_order an event with no step or
-- with a step already reached breaks the chain, under strict_deduplication
-- an event with a step already reached does.  The level is the best chain's;
-- the best chain is the one that reached that level first, and among those
-- the one that started last.  Quadratic, and obviously so.
CREATE TYPE ref_result AS (level int, path timestamptz[]);
CREATE FUNCTION ref_funnel(win interval, mode text, nsteps int, ts timestamptz[], masks int[])
RETURNS ref_result
LANGUAGE plpgsql AS $$
DECLARE
    level int;
    path timestamptz[];
    so boolean := mode LIKE '%strict_order%';
    sd boolean := mode LIKE '%strict_deduplication%';
    si boolean := mode LIKE '%strict_increase%';
    et timestamptz[];
    em int[];
    n int;
    lvl int;
    m int;
    p timestamptz[];
    reached timestamptz;
    best_reached timestamptz;
    best_start timestamptz;
BEGIN
    SELECT array_agg(t ORDER BY t), array_agg(mm ORDER BY t) INTO et, em
      FROM (SELECT t, bit_or(mk) AS mm FROM unnest(ts, masks) u(t, mk)
             WHERE t IS NOT NULL GROUP BY t) x;
    n := coalesce(array_length(et, 1), 0);
    level := 0;
    path := array_fill(NULL::timestamptz, ARRAY[nsteps]);
    FOR i IN 1 .. n LOOP
        CONTINUE WHEN em[i] & 1 = 0;
        lvl := 0;
        p := array_fill(NULL::timestamptz, ARRAY[nsteps]);
        FOR j IN i .. n LOOP
            EXIT WHEN et[j] - et[i] > win;
            m := em[j];
            IF m & (1 << lvl) <> 0 THEN
                lvl := lvl + 1;
                p[lvl] := et[j];
                WHILE NOT si AND lvl < nsteps AND m & (1 << lvl) <> 0 LOOP
                    lvl := lvl + 1;
                    p[lvl] := et[j];
                END LOOP;
                reached := et[j];
            ELSIF (so AND m = 0) OR ((so OR sd) AND m & ((1 << lvl) - 1) <> 0) THEN
                EXIT;
            END IF;
            EXIT WHEN lvl = nsteps;
        END LOOP;
        IF lvl > level OR (lvl = level AND (reached < best_reached
                                            OR (reached = best_reached AND et[i] > best_start))) THEN
            level := lvl;
            path := p;
            best_reached := reached;
            best_start := et[i];
        END IF;
    END LOOP;
    RETURN ROW(level, path)::ref_result;
END $$;

-- 600 entities with 0 to 14 rows each, over 40 hours in whole hours (so
-- many rows share a timestamp), 4 steps, some rows satisfying several steps,
-- some conditions NULL, some timestamps NULL
SELECT setseed(0.20261123);
CREATE TABLE rev (entity int, ts timestamptz, s1 boolean, s2 boolean, s3 boolean, s4 boolean);
INSERT INTO rev
SELECT e, CASE WHEN random() < 0.03 THEN NULL
               ELSE timestamptz '2024-01-01 00:00+00' + (random() * 40)::int * interval '1 hour' END,
       CASE WHEN r < 0.03 THEN NULL ELSE random() < 0.35 END,
       random() < 0.3, random() < 0.3,
       CASE WHEN r > 0.97 THEN NULL ELSE random() < 0.3 END
  FROM generate_series(1, 600) e,
       LATERAL (SELECT random() AS r FROM generate_series(1, (random() * 14)::int + (e * 0))) g;
SELECT count(*) AS rows, count(DISTINCT entity) AS entities,
       count(*) FILTER (WHERE s1::int + s2::int + s3::int + s4::int >= 2) AS multi_step_rows
  FROM rev;

CREATE TABLE params (win interval, mode text);
INSERT INTO params
SELECT w, m
  FROM unnest(ARRAY[interval '0', '3 hours', '10 hours', '2 days']) w,
       unnest(ARRAY['', 'strict_order', 'strict_deduplication', 'strict_increase',
                    'strict_order,strict_deduplication', 'strict_order,strict_increase',
                    'strict_deduplication,strict_increase',
                    'strict_order,strict_deduplication,strict_increase']) m;

CREATE TABLE got AS
SELECT p.win, p.mode, r.entity,
       cdp.window_funnel(p.win, p.mode, r.ts, r.s1, r.s2, r.s3, r.s4) AS level,
       cdp.funnel_path(p.win, p.mode, r.ts, r.s1, r.s2, r.s3, r.s4) AS path,
       ref_funnel(p.win, p.mode, 4, array_agg(r.ts),
                  array_agg(coalesce(r.s1, false)::int | (coalesce(r.s2, false)::int << 1)
                            | (coalesce(r.s3, false)::int << 2) | (coalesce(r.s4, false)::int << 3))) AS ref
  FROM params p, rev r
 GROUP BY p.win, p.mode, r.entity;

-- every answer equals the reference's
SELECT count(*) AS answers,
       count(*) FILTER (WHERE level <> (ref).level) AS level_mismatches,
       count(*) FILTER (WHERE path IS DISTINCT FROM (ref).path) AS path_mismatches
  FROM got;
-- the levels are spread out, so the comparison means something
SELECT level, count(*) FROM got GROUP BY level ORDER BY level;
-- strict modes do make a difference on this data
SELECT mode, sum(level) AS total_level FROM got WHERE win = '10 hours' GROUP BY mode ORDER BY mode;
-- the mode without strict_increase equals the plain aggregate
SELECT count(*) AS plain_mismatches
  FROM got g JOIN (SELECT p.win, r.entity, cdp.window_funnel(p.win, r.ts, r.s1, r.s2, r.s3, r.s4) AS level
                     FROM (SELECT DISTINCT win FROM params) p, rev r GROUP BY p.win, r.entity) q USING (win, entity)
 WHERE g.mode = '' AND g.level <> q.level;

-- the calls above resolve to the fixed-arity forms (four step arguments);
-- the VARIADIC form, with an explicit array, gives the same answers
SELECT count(*) AS variadic_mismatches
  FROM got g
  JOIN (SELECT p.win, p.mode, r.entity,
               cdp.window_funnel(p.win, p.mode, r.ts, VARIADIC ARRAY[r.s1, r.s2, r.s3, r.s4]) AS level,
               cdp.funnel_path(p.win, p.mode, r.ts, VARIADIC ARRAY[r.s1, r.s2, r.s3, r.s4]) AS path
          FROM params p, rev r
         GROUP BY p.win, p.mode, r.entity) v USING (win, mode, entity)
 WHERE g.level <> v.level OR g.path IS DISTINCT FROM v.path;

-- funnel_counts against counting the reference levels
SELECT count(*) AS counts_mismatches
  FROM (SELECT win, mode, cdp.funnel_counts(level, 4) AS counts,
               ARRAY[count(*) FILTER (WHERE (ref).level >= 1), count(*) FILTER (WHERE (ref).level >= 2),
                     count(*) FILTER (WHERE (ref).level >= 3), count(*) FILTER (WHERE (ref).level >= 4)] AS expected
          FROM got GROUP BY win, mode) c
 WHERE counts <> expected;

-- Forced parallel plans give the answers of serial ones.  The rows of one
-- entity are spread over the whole table, so partial states of one entity
-- from different workers are combined.
CREATE TABLE pev AS
SELECT (random() * 4999)::int AS entity,
       timestamptz '2024-01-01 00:00+00' + (random() * 20 * 24 * 60)::int * interval '1 minute' AS ts,
       floor(random() * 5)::int AS kind
  FROM generate_series(1, 200000) i;
ANALYZE pev;

-- the query compared, as a view so both plans run the same text
CREATE VIEW funnel_query AS
SELECT entity,
       cdp.window_funnel('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS level,
       cdp.window_funnel('3 days', 'strict_order,strict_increase', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS strict_level,
       cdp.funnel_path('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS path,
       cdp.retention(kind = 1, kind = 2, kind = 3) AS retention
  FROM pev GROUP BY entity;
CREATE TEMP TABLE serial_result AS SELECT * FROM funnel_query;
CREATE TEMP TABLE serial_counts AS
SELECT cdp.funnel_counts(level, 4) AS counts FROM serial_result;
CREATE TEMP TABLE serial_kind_counts AS
SELECT cdp.funnel_counts(kind, 4) AS counts FROM pev;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF) SELECT * FROM funnel_query;
CREATE TEMP TABLE parallel_result AS SELECT * FROM funnel_query;

-- the same plan with sorting instead of hashing
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT entity, cdp.window_funnel('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS level
  FROM pev GROUP BY entity;
CREATE TEMP TABLE parallel_sorted AS
SELECT entity, cdp.window_funnel('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS level
  FROM pev GROUP BY entity;
RESET enable_hashagg;

-- The same rows stored in time order, the way an event log is written:
-- every partial state is in time order, and the leader merges the
-- interleaved partial states of the two workers instead of sorting.
CREATE TABLE pev_log AS SELECT * FROM pev ORDER BY ts, entity, kind;
ANALYZE pev_log;
CREATE TEMP TABLE parallel_log AS
SELECT entity,
       cdp.window_funnel('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS level,
       cdp.funnel_path('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS path
  FROM pev_log GROUP BY entity;

-- Partial states of three "shards" (every third row of the log), each in
-- time order and interleaved with the others, merged by an aggregate whose
-- transition function is the combine function, as a coordinator merges
-- what its nodes send: the merge works on the state in place.
CREATE AGGREGATE funnel_partial(interval, timestamptz, boolean, boolean, boolean, boolean) (
    SFUNC = cdp.window_funnel_transfn, STYPE = cdp.funnel_state);
CREATE AGGREGATE funnel_merge(cdp.funnel_state) (
    SFUNC = cdp.funnel_state_combine, STYPE = cdp.funnel_state, FINALFUNC = cdp.window_funnel_final);
CREATE TEMP TABLE shard_merged AS
SELECT entity, funnel_merge(state ORDER BY shard) AS level
  FROM (SELECT entity, shard, funnel_partial('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS state
          FROM (SELECT *, row_number() OVER (ORDER BY ts, entity, kind) % 3 AS shard FROM pev_log) r
         GROUP BY entity, shard) p
 GROUP BY entity;

-- funnel_counts over all rows at once, in parallel
EXPLAIN (COSTS OFF)
SELECT cdp.funnel_counts(kind, 4) FROM pev;
SELECT cdp.funnel_counts(kind, 4) AS counts,
       cdp.funnel_counts(kind, 4) = (SELECT counts FROM serial_kind_counts) AS equals_serial
  FROM pev;

-- a hash aggregate that spills to disk (work_mem far too small for 5000
-- groups) gives the same answers too
SET max_parallel_workers_per_gather = 0;
SET work_mem = '64kB';
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT * FROM funnel_query;
CREATE TEMP TABLE spilled_result AS SELECT * FROM funnel_query;
RESET enable_sort;
RESET work_mem;

-- ROLLUP sorts once and aggregates two grouping sets at a time, each in
-- its own aggregate context: per entity, and over all rows
SET enable_hashagg = off;
CREATE TEMP TABLE rollup_result AS
SELECT entity, cdp.window_funnel('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) AS level
  FROM pev GROUP BY ROLLUP (entity);
RESET enable_hashagg;

RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

SELECT (SELECT count(*) FROM serial_result) AS entities,
       (SELECT count(*) FROM (SELECT * FROM serial_result EXCEPT SELECT * FROM parallel_result) d) AS only_serial,
       (SELECT count(*) FROM (SELECT * FROM parallel_result EXCEPT SELECT * FROM serial_result) d) AS only_parallel,
       (SELECT count(*) FROM parallel_sorted p JOIN serial_result s USING (entity) WHERE p.level <> s.level) AS sorted_mismatches,
       (SELECT count(*) FROM (SELECT * FROM serial_result EXCEPT SELECT * FROM spilled_result) d) AS spilled_mismatches,
       (SELECT count(*) FROM parallel_log p FULL JOIN serial_result s USING (entity)
         WHERE p.level IS DISTINCT FROM s.level OR p.path IS DISTINCT FROM s.path) AS log_order_mismatches,
       (SELECT count(*) FROM shard_merged m FULL JOIN serial_result s USING (entity)
         WHERE m.level IS DISTINCT FROM s.level) AS shard_mismatches,
       (SELECT count(*) FROM rollup_result r FULL JOIN serial_result s USING (entity)
         WHERE r.entity IS NOT NULL AND r.level IS DISTINCT FROM s.level) AS rollup_mismatches,
       (SELECT level FROM rollup_result WHERE entity IS NULL)
         = (SELECT cdp.window_funnel('3 days', ts, kind = 1, kind = 2, kind = 3, kind = 4) FROM pev) AS rollup_total_matches,
       (SELECT counts FROM serial_counts) AS counts;
SELECT level, count(*) FROM serial_result GROUP BY level ORDER BY level;

SET client_min_messages = warning;
DROP SCHEMA funnel_random_test CASCADE;
RESET client_min_messages;
DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
