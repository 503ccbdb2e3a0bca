-- funnel: window_funnel and funnel_path semantics on small hand-checked
-- event logs, funnel_counts, retention, the funnel_state type, errors, and
-- the stage_conversion view.
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET timezone = 'UTC';
-- this file's own objects live in a schema of their own, dropped at the end
CREATE SCHEMA funnel_test;
SET search_path = funnel_test, public;

-- runs a statement and reports its SQLSTATE instead of failing the script
CREATE FUNCTION try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- One scenario per id; h is the hour of the event (after 2024-01-01 00:00),
-- steps lists the steps (of 3) the row satisfies.  Window: 10 hours.
CREATE TABLE ev (id int, h int, steps text);
CREATE VIEW evt AS
SELECT id, h, steps, timestamptz '2024-01-01 00:00+00' + h * interval '1 hour' AS ts,
       steps LIKE '%1%' AS s1, steps LIKE '%2%' AS s2, steps LIKE '%3%' AS s3
  FROM ev;
INSERT INTO ev VALUES
    -- 1: the plain funnel: 3, path 0 1 2
    (1, 0, '1'), (1, 1, '2'), (1, 2, '3'),
    -- 2: step 1 never happens: 0
    (2, 0, '2'), (2, 1, '3'),
    -- 3: the window is inclusive: step 3 exactly 10 hours after step 1: 3
    (3, 0, '1'), (3, 5, '2'), (3, 10, '3'),
    -- 4: one hour too late for step 3: 2
    (4, 0, '1'), (4, 5, '2'), (4, 11, '3'),
    -- 5: the chain from hour 0 reaches step 2 but runs out of window; the
    --    chain from hour 12 completes: 3, path 12 13 15
    (5, 0, '1'), (5, 9, '2'), (5, 12, '1'), (5, 13, '2'), (5, 15, '3'),
    -- 6: a step before step 1 does not count: 1
    (6, 0, '2'), (6, 1, '1'), (6, 2, '3'),
    -- 7: the longest prefix: step 3 without step 2 is still level 1
    (7, 0, '1'), (7, 1, '3'),
    -- 8: one row satisfying steps 1 and 2: 3 (strict_increase: 1)
    (8, 0, '12'), (8, 1, '3'),
    -- 9: three rows at the same time form one event with steps 1, 2, 3:
    --    3, path 0 0 0 (strict_increase: 1)
    (9, 0, '1'), (9, 0, '2'), (9, 0, '3'),
    -- 10: strict_increase takes the second step-2 row: 3 in every mode but
    --     strict_deduplication and strict_order (repeated step 2 at hour 1): 2;
    --     paths 0 0 2 (default) and 0 1 2 (strict_increase)
    (10, 0, '1'), (10, 0, '2'), (10, 1, '2'), (10, 2, '3'),
    -- 11: an event matching no step breaks the chain only under strict_order
    (11, 0, '1'), (11, 1, ''), (11, 2, '2'), (11, 3, '3'),
    -- 12: step 1 again at hour 2 breaks the level-2 chain under strict_order
    --     and strict_deduplication; the new chain from hour 2 stays at 1
    --     because step 3 is not step 2: 3 default, 2 strict
    (12, 0, '1'), (12, 1, '2'), (12, 2, '1'), (12, 3, '3'),
    -- 13: an event matching only a later step (3 before 2) breaks nothing:
    --     3 in every mode
    (13, 0, '1'), (13, 1, '3'), (13, 2, '2'), (13, 3, '3'),
    -- 14: a repeated step 1 restarts: strict_deduplication and strict_order
    --     give 3 from the chain of hour 1, path 1 2 3; default takes the
    --     chain that reached level 3 first at hour 3, among those the one
    --     that started last: path 1 2 3 as well
    (14, 0, '1'), (14, 1, '1'), (14, 2, '2'), (14, 3, '3'),
    -- 15: a row that repeats step 1 and satisfies step 2 advances the chain
    --     (advancing wins over breaking): 2 in every mode.  Without
    --     strict_increase that row is also a chain of its own reaching step 2
    --     at the same moment, and it started later: path 1 1; with
    --     strict_increase path 0 1
    (15, 0, '1'), (15, 1, '12'),
    -- 16: step 3 out of the window of the first chain, inside the second's:
    --     3, path 8 9 11
    (16, 0, '1'), (16, 8, '1'), (16, 9, '2'), (16, 11, '3');

SELECT id,
       cdp.window_funnel('10 hours', ts, s1, s2, s3) AS plain,
       cdp.window_funnel('10 hours', 'strict_order', ts, s1, s2, s3) AS ord,
       cdp.window_funnel('10 hours', 'strict_deduplication', ts, s1, s2, s3) AS dedup,
       cdp.window_funnel('10 hours', 'strict_increase', ts, s1, s2, s3) AS incr,
       cdp.window_funnel('10 hours', 'strict_order,strict_increase', ts, s1, s2, s3) AS ord_incr,
       (SELECT array_agg(extract(epoch FROM p - timestamptz '2024-01-01 00:00+00') / 3600 ORDER BY o)
          FROM unnest(cdp.funnel_path('10 hours', ts, s1, s2, s3)) WITH ORDINALITY u(p, o)) AS path_hours,
       (SELECT array_agg(extract(epoch FROM p - timestamptz '2024-01-01 00:00+00') / 3600 ORDER BY o)
          FROM unnest(cdp.funnel_path('10 hours', 'strict_increase', ts, s1, s2, s3)) WITH ORDINALITY u(p, o)) AS incr_path_hours
  FROM evt GROUP BY id ORDER BY id;

-- the answer does not depend on the order the rows arrive in
SELECT bool_and(a = b) AS order_independent
  FROM (SELECT id, cdp.window_funnel('10 hours', 'strict_order', ts, s1, s2, s3 ORDER BY ts) a,
               cdp.window_funnel('10 hours', 'strict_order', ts, s1, s2, s3 ORDER BY ts DESC, s1) b
          FROM evt GROUP BY id) x;

-- the window is a fixed duration: 1 day = 24 hours, 1 month = 30 days
SELECT cdp.window_funnel('1 day', ts, s1, s2, s3) AS day_is_24h,
       cdp.window_funnel('23 hours 59 minutes', ts, s1, s2, s3) AS just_short
  FROM (VALUES (timestamptz '2024-03-30 12:00+00', true, false, false),
               ('2024-03-31 12:00+00', false, true, false)) v(ts, s1, s2, s3);
SELECT cdp.window_funnel('1 month', ts, s1, s2) AS month_is_30_days,
       cdp.window_funnel('29 days', ts, s1, s2) AS shorter
  FROM (VALUES (timestamptz '2024-02-01 00:00+00', true, false),
               ('2024-03-02 00:00+00', false, true)) v(ts, s1, s2);

-- a zero window allows only steps at the same moment
SELECT cdp.window_funnel('0', ts, s1, s2, s3) FROM evt WHERE id IN (1, 9) GROUP BY id ORDER BY id;

-- NULL timestamps are ignored: a step-1 row without a time starts nothing
SELECT cdp.window_funnel('10 hours', ts, s1, s2),
       cdp.funnel_path('10 hours', ts, s1, s2)
  FROM (VALUES (NULL::timestamptz, true, false), ('2024-01-01 01:00+00', false, true)) v(ts, s1, s2);
-- ... and do not count as events under strict_order either: 2
SELECT cdp.window_funnel('10 hours', 'strict_order', ts, s1, s2)
  FROM (VALUES ('2024-01-01 00:00+00'::timestamptz, true, false), (NULL, false, false),
               ('2024-01-01 01:00+00', false, true)) v(ts, s1, s2);
-- NULL conditions count as false: step 2 is unknown, so level 1
SELECT cdp.window_funnel('10 hours', ts, s1, s2)
  FROM (VALUES ('2024-01-01 00:00+00'::timestamptz, true, NULL::boolean),
               ('2024-01-01 01:00+00', NULL, NULL)) v(ts, s1, s2);
-- ... and a row whose conditions are all NULL matches no step, which
-- breaks the chain under strict_order: 1
SELECT cdp.window_funnel('10 hours', 'strict_order', ts, s1, s2)
  FROM (VALUES ('2024-01-01 00:00+00'::timestamptz, true, false), ('2024-01-01 00:30+00', NULL, NULL),
               ('2024-01-01 01:00+00', false, true)) v(ts, s1, s2);

-- infinite timestamps are ordinary extremes
SELECT cdp.window_funnel('10 hours', ts, s1, s2) AS inf_start,
       cdp.window_funnel('10 hours', ts, s2, s1) AS inf_end
  FROM (VALUES ('-infinity'::timestamptz, true, false), ('2024-01-01', false, true),
               ('infinity', false, false)) v(ts, s1, s2);
SELECT cdp.window_funnel('0', ts, s1, s2) AS both_infinite
  FROM (VALUES ('infinity'::timestamptz, true, false), ('infinity', false, true)) v(ts, s1, s2);

-- no rows: level 0, no path
SELECT cdp.window_funnel('10 hours', ts, s1, s2, s3), cdp.funnel_path('10 hours', ts, s1, s2, s3)
  FROM evt WHERE false;
-- rows, none a step: level 0 and a path of NULLs
SELECT cdp.window_funnel('10 hours', ts, s1, s2, s3), cdp.funnel_path('10 hours', ts, s1, s2, s3)
  FROM evt WHERE id = 2;

-- modes: case and spaces do not matter, '' is no mode, repeats are harmless
SELECT cdp.window_funnel('10 hours', ' Strict_Order , STRICT_INCREASE ', ts, s1, s2, s3) AS spaced,
       cdp.window_funnel('10 hours', '', ts, s1, s2, s3) AS none,
       cdp.window_funnel('10 hours', 'strict_order,strict_order', ts, s1, s2, s3) AS repeated
  FROM evt WHERE id = 11;

-- used as a window function: the running level after each event
SELECT h, steps, cdp.window_funnel('10 hours', ts, s1, s2, s3) OVER (ORDER BY ts) AS running
  FROM evt WHERE id = 5 ORDER BY h;

-- 32 steps are allowed
SELECT cdp.window_funnel('1 hour', now(), VARIADIC array_fill(true, ARRAY[32])) AS all_32_at_once,
       cdp.window_funnel('1 hour', 'strict_increase', now(), VARIADIC array_fill(true, ARRAY[32])) AS one_step_per_event;

-- invalid: 33 steps (22023)
SELECT try($$SELECT cdp.window_funnel('1 hour', now(), VARIADIC array_fill(true, ARRAY[33]))$$);
-- invalid: no step (22023)
SELECT try($$SELECT cdp.window_funnel('1 hour', now(), VARIADIC '{}'::boolean[])$$);
-- invalid: a two-dimensional steps array (2202E)
SELECT try($$SELECT cdp.window_funnel('1 hour', now(), VARIADIC '{{t,f},{f,t}}'::boolean[])$$);
-- invalid: a NULL steps array (22004)
SELECT try($$SELECT cdp.window_funnel('1 hour', now(), VARIADIC NULL::boolean[])$$);
-- invalid: a negative window (22023), also when only the months make it so
SELECT try($$SELECT cdp.window_funnel('-1 second', now(), true)$$);
SELECT try($$SELECT cdp.window_funnel('-1 month 20 days', now(), true)$$);
-- invalid: a NULL window (22004), even for rows without a timestamp
SELECT try($$SELECT cdp.window_funnel(NULL, NULL, true)$$);
-- invalid: a window beyond the range of a duration (22015)
SELECT try($$SELECT cdp.window_funnel('178000000 years', now(), true)$$);
-- invalid: a NULL mode (22004)
SELECT try($$SELECT cdp.window_funnel('1 hour', NULL, now(), true)$$);
-- invalid: unknown modes and empty list items (22023)
SELECT try($$SELECT cdp.window_funnel('1 hour', 'strict', now(), true)$$);
SELECT try($$SELECT cdp.window_funnel('1 hour', 'strict_order,', now(), true)$$);
SELECT try($$SELECT cdp.window_funnel('1 hour', ',', now(), true)$$);
-- invalid: the window, mode or number of steps changing within a group (22023)
SELECT try($$SELECT cdp.window_funnel(w, now(), true) FROM (VALUES (interval '1 hour'), ('2 hours')) v(w)$$);
SELECT try($$SELECT cdp.window_funnel('1 hour', m, now(), true) FROM (VALUES ('strict_order'), ('')) v(m)$$);
SELECT try($$SELECT cdp.window_funnel('1 hour', now(), VARIADIC s) FROM (VALUES ('{t}'::boolean[]), ('{t,t}')) v(s)$$);
-- invalid: the transition function outside an aggregate (0A000)
SELECT try($$SELECT cdp.window_funnel_transfn(NULL, '1 hour', now(), '{t}'::boolean[])$$);
SELECT try($$SELECT cdp.window_funnel_transfn(NULL, '1 hour', now(), true, false)$$);

-- funnel_counts: entities reaching at least each step
SELECT cdp.funnel_counts(level, 3) AS counts
  FROM (SELECT id, cdp.window_funnel('10 hours', ts, s1, s2, s3) AS level FROM evt GROUP BY id) f;
-- per mode, by grouping on the mode
SELECT mode, cdp.funnel_counts(level, 3) AS counts
  FROM (SELECT m.mode, id, cdp.window_funnel('10 hours', m.mode, ts, s1, s2, s3) AS level
          FROM evt, (VALUES (''), ('strict_order'), ('strict_increase')) m(mode)
         GROUP BY m.mode, id) f
 GROUP BY mode ORDER BY mode;
-- NULL levels are skipped; no rows gives NULL; level 0 counts nowhere
SELECT cdp.funnel_counts(l, 2) FROM (VALUES (NULL::int), (0), (2)) v(l);
SELECT cdp.funnel_counts(l, 2) FROM (VALUES (1)) v(l) WHERE false;
-- invalid: level above steps or negative (22023)
SELECT try($$SELECT cdp.funnel_counts(4, 3)$$);
SELECT try($$SELECT cdp.funnel_counts(-1, 3)$$);
-- invalid: steps NULL (22004), out of 1 .. 32 (22023), changing (22023)
SELECT try($$SELECT cdp.funnel_counts(1, NULL)$$);
SELECT try($$SELECT cdp.funnel_counts(1, 33)$$);
SELECT try($$SELECT cdp.funnel_counts(1, s) FROM (VALUES (2), (3)) v(s)$$);
-- invalid: malformed partial states given to the combine function (22023)
SELECT try($$SELECT cdp.funnel_counts_combine('{1,2}', '{1,2,3}')$$);
SELECT try($$SELECT cdp.funnel_counts_combine('{1,NULL}', '{1,2}')$$);
SELECT try($$SELECT cdp.funnel_counts_combine('{1,-2}', '{1,2}')$$);
SELECT try($$SELECT cdp.funnel_counts_combine('[0:1]={1,2}', '{1,2}')$$);
SELECT try($$SELECT cdp.funnel_counts_combine('{9223372036854775807}', '{1}')$$);
SELECT cdp.funnel_counts_combine('{1,2}', '{10,20}') AS combined;

-- retention: condition 1 in some row, and each later condition together with it
SELECT id, cdp.retention(s1, s2, s3) FROM evt WHERE id IN (1, 2, 7) GROUP BY id ORDER BY id;
-- NULL conditions are false; no rows gives NULL
SELECT cdp.retention(a, b) FROM (VALUES (true, NULL::boolean), (NULL, false)) v(a, b);
SELECT cdp.retention(true, true) FROM ev WHERE false;
-- invalid: 33 conditions, none, NULL array, changing count
SELECT try($$SELECT cdp.retention(VARIADIC array_fill(true, ARRAY[33]))$$);
SELECT try($$SELECT cdp.retention(VARIADIC '{}'::boolean[])$$);
SELECT try($$SELECT cdp.retention(VARIADIC NULL::boolean[])$$);
SELECT try($$SELECT cdp.retention(VARIADIC s) FROM (VALUES ('{t}'::boolean[]), ('{t,t}')) v(s)$$);
-- invalid: malformed states (22023)
SELECT try($$SELECT cdp.retention_final(0)$$);
SELECT try($$SELECT cdp.retention_final((2::bigint << 32) | 4)$$);
SELECT try($$SELECT cdp.retention_combine((2::bigint << 32), (3::bigint << 32))$$);

-- funnel_state: partial states as text, the way Citus moves them between
-- nodes: a partial aggregate per "shard", combined and finalised
CREATE AGGREGATE funnel_partial(interval, text, timestamptz, VARIADIC boolean[]) (
    SFUNC = cdp.window_funnel_transfn, STYPE = cdp.funnel_state);
CREATE TABLE shard_states AS
SELECT id, id % 2 AS shard, funnel_partial('10 hours', 'strict_order', ts, s1, s2, s3)::text AS state
  FROM evt GROUP BY id, id % 2;
SELECT state FROM shard_states WHERE id = 1;
SELECT bool_and(cdp.window_funnel_final(cdp.funnel_state_combine(a.state::cdp.funnel_state, b.state::cdp.funnel_state))
                = (SELECT cdp.window_funnel('10 hours', 'strict_order', ts, s1, s2, s3) FROM evt WHERE evt.id = a.id))
       AS combined_equals_direct
  FROM shard_states a JOIN shard_states b USING (id);
-- a NULL partial state stands for none: the other one comes back unchanged
SELECT cdp.funnel_state_combine(NULL, state::cdp.funnel_state)::text = state AS null_first,
       cdp.funnel_state_combine(state::cdp.funnel_state, NULL)::text = state AS null_second,
       cdp.funnel_state_combine(NULL, NULL) IS NULL AS both_null
  FROM shard_states WHERE id = 1;
-- the final functions work on states read from text
SELECT cdp.window_funnel_final(state::cdp.funnel_state) AS level,
       cdp.funnel_path_final(state::cdp.funnel_state) AS path
  FROM shard_states WHERE id = 5;

-- binary round trip through COPY
SELECT '/tmp/cdp_funnel_state_' || pg_backend_pid() || '.bin' AS f \gset
CREATE TABLE state_copy (id int, state cdp.funnel_state);
INSERT INTO state_copy SELECT id, state::cdp.funnel_state FROM shard_states;
COPY state_copy TO :'f' (FORMAT binary);
CREATE TABLE state_copy2 (LIKE state_copy);
COPY state_copy2 FROM :'f' (FORMAT binary);
SELECT count(*) AS rows, bool_and(a.state::text = b.state::text) AS identical
  FROM state_copy a JOIN state_copy2 b USING (id);
-- invalid binary input is refused like invalid text (22P03): a state whose
-- event claims step 4 of a 3-step funnel
COPY (SELECT 1, decode('01000300000000000000000000000001000000000000000000000008', 'hex')) TO :'f' (FORMAT binary);
SELECT try(format('COPY state_copy2 FROM %L (FORMAT binary)', :'f'));
-- ... and a truncated one
COPY (SELECT 1, decode('010003000000000000000000000000010000000000000000', 'hex')) TO :'f' (FORMAT binary);
SELECT try(format('COPY state_copy2 FROM %L (FORMAT binary)', :'f'));

-- text input checks every field (22P02); a valid 2-step state: strict_order,
-- window 0, two events at 2000-01-01, one satisfying step 1, one matching none
SELECT cdp.window_funnel_final('01010200000000000000000000000002000000000000000000000001000000000000000000000000') AS valid,
       '01010200000000000000000000000002000000000000000000000001000000000000000000000000'::cdp.funnel_state::text = '01010200000000000000000000000002000000000000000000000001000000000000000000000000' AS round_trip;
-- invalid (22P02):
-- odd number of digits
SELECT try($$SELECT '0'::cdp.funnel_state$$);
-- not hexadecimal
SELECT try($$SELECT 'zz'::cdp.funnel_state$$);
-- empty
SELECT try($$SELECT ''::cdp.funnel_state$$);
-- unknown version
SELECT try($$SELECT '02000200000000000000000000000000'::cdp.funnel_state$$);
-- unknown flag
SELECT try($$SELECT '01080200000000000000000000000000'::cdp.funnel_state$$);
-- reserved byte set
SELECT try($$SELECT '01000201000000000000000000000000'::cdp.funnel_state$$);
-- 33 steps
SELECT try($$SELECT '01002100000000000000000000000000'::cdp.funnel_state$$);
-- 0 steps
SELECT try($$SELECT '01000000000000000000000000000000'::cdp.funnel_state$$);
-- header cut short
SELECT try($$SELECT '010002000000000000000000000000'::cdp.funnel_state$$);
-- negative window
SELECT try($$SELECT '01000200ffffffffffffffff00000000'::cdp.funnel_state$$);
-- one event missing
SELECT try($$SELECT '01000200000000000000000000000002000000000000000000000001'::cdp.funnel_state$$);
-- trailing byte
SELECT try($$SELECT '0100020000000000000000000000000100000000000000000000000100'::cdp.funnel_state$$);
-- negative event count
SELECT try($$SELECT '010002000000000000000000ffffffff'::cdp.funnel_state$$);
-- no-step event without strict_order
SELECT try($$SELECT '01000200000000000000000000000001000000000000000000000000'::cdp.funnel_state$$);
-- timestamp out of range
SELECT try($$SELECT '010002000000000000000000000000017ffffffffffffff000000001'::cdp.funnel_state$$);
-- step 3 of a 2-step funnel
SELECT try($$SELECT '01000200000000000000000000000001000000000000000000000004'::cdp.funnel_state$$);
-- combining states of different funnels is refused (22023)
-- different numbers of steps
SELECT try($$SELECT cdp.funnel_state_combine('01010200000000000000000000000000', '01010300000000000000000000000000')$$);
-- different modes
SELECT try($$SELECT cdp.funnel_state_combine('01010200000000000000000000000000', '01000200000000000000000000000000')$$);
-- different windows
SELECT try($$SELECT cdp.funnel_state_combine('01010200000000000000000000000000', '01010200000000000000000100000000')$$);

-- stage_conversion over the stage history of a few accounts
BEGIN;
SET LOCAL cdp.stage_time = '2025-12-01 00:00+00';
INSERT INTO cdp.account (name, owner) SELECT 'acct ' || i, 'rep' FROM generate_series(1, 4) i;
SET LOCAL cdp.stage_time = '2026-01-01 00:00+00';
UPDATE cdp.account SET stage = 'lead';
SET LOCAL cdp.stage_time = '2026-01-03 00:00+00';
UPDATE cdp.account SET stage = 'mql' WHERE name IN ('acct 1', 'acct 2', 'acct 3');
SET LOCAL cdp.stage_time = '2026-01-05 00:00+00';
UPDATE cdp.account SET stage = 'sql' WHERE name = 'acct 1';
-- acct 2 skips sql: it still converted out of mql, never into sql
UPDATE cdp.account SET stage = 'opportunity' WHERE name = 'acct 2';
SET LOCAL cdp.stage_time = '2026-01-11 00:00+00';
UPDATE cdp.account SET stage = 'disqualified' WHERE name = 'acct 3';
COMMIT;
-- prospect: 4 entered, 4 converted after 31 days; lead: 3 of 4 after 2 days;
-- mql: 2 of 3 (acct 3 left for an exit, which is no conversion) after 2
-- days; sql and opportunity: none yet; customer: nobody entered
SELECT s.stage, next_stage, entered, converted, conversion_rate, median_time_to_convert
  FROM cdp.stage_conversion c JOIN cdp.lifecycle_stage s USING (model, stage)
 WHERE model = 'b2b' ORDER BY s.position;
-- every model's open stages but the last are listed, with next_stage
SELECT model, count(*) AS transitions, count(*) FILTER (WHERE entered = 0 AND conversion_rate IS NULL) AS empty
  FROM cdp.stage_conversion GROUP BY model ORDER BY model;

\setenv CDP_FUNNEL_FILE :f
\! rm -f "$CDP_FUNNEL_FILE"
SET client_min_messages = warning;
DROP SCHEMA funnel_test CASCADE;
RESET client_min_messages;
DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
