-- lifecycle: models, tracking, the default policy, required columns, guards,
-- explicit transitions, stage history and time in stage.
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET timezone = 'UTC';

-- runs a statement and reports its SQLSTATE instead of failing the script
CREATE FUNCTION try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- the history of one entity, with times relative to its first stay
CREATE FUNCTION hist(tbl regclass, k text)
RETURNS TABLE (stage text, previous_stage text, entered interval, exited interval, reason text)
LANGUAGE sql AS $$
    SELECT h.stage, h.previous_stage,
           h.entered_at - min(h.entered_at) OVER (),
           h.exited_at - min(h.entered_at) OVER (),
           h.reason
      FROM cdp.stage_history h
     WHERE h.entity = tbl AND h.entity_key = k
     ORDER BY h.entered_at, h.history_id
$$;

-- the built-in models, in order, with their labels
SELECT model, stage, position, pool, is_exit, label_en, label_zh, required_columns
  FROM cdp.lifecycle_stage ORDER BY model, position;

-- the reference tables are tracked out of the box
SELECT tbl, stage_column, key_column, model, builtin FROM cdp.tracked_table ORDER BY tbl::text;

-- A table of our own, with a text primary key ---------------------------------
CREATE TABLE deal (
    code text PRIMARY KEY,
    stage text,
    owner name,
    note text
);
INSERT INTO deal VALUES ('D-1', 'prospect', NULL, 'tracked before the trigger');
SELECT cdp.track_lifecycle('deal');
-- tracking the same way again is a no-op
SELECT cdp.track_lifecycle('deal', 'stage', 'b2b');
-- the existing row got an open stay
SELECT stage, previous_stage, exited, reason FROM hist('deal', 'D-1');

-- forward moves and skips, at explicit times so durations are exact
BEGIN;
SET LOCAL cdp.stage_time = '2026-01-01 00:00+00';
INSERT INTO deal VALUES ('D-2', 'prospect', NULL);
COMMIT;
BEGIN;
SET LOCAL cdp.stage_time = '2026-01-03 00:00+00';
UPDATE deal SET stage = 'lead' WHERE code = 'D-2';
COMMIT;
BEGIN;
SET LOCAL cdp.stage_time = '2026-01-10 00:00+00';
UPDATE deal SET stage = 'mql' WHERE code = 'D-2';        -- forward
COMMIT;
BEGIN;
SET LOCAL cdp.stage_time = '2026-01-20 00:00+00';
UPDATE deal SET stage = 'opportunity', owner = 'alice' WHERE code = 'D-2';  -- skips sql
COMMIT;
SELECT * FROM hist('deal', 'D-2');

-- invalid: a backward move without a reason is refused (23514) ...
UPDATE deal SET stage = 'lead' WHERE code = 'D-2';
SELECT try($$UPDATE deal SET stage = 'mql' WHERE code = 'D-2'$$);
-- ... and leaves row and history exactly as they were
SELECT code, stage, owner FROM deal WHERE code = 'D-2';
SELECT count(*) AS stays, count(*) FILTER (WHERE exited_at IS NULL) AS open
  FROM cdp.stage_history WHERE entity = 'deal'::regclass AND entity_key = 'D-2';

-- with a reason it is allowed: through cdp.set_stage (returns the old stage) ...
BEGIN;
SET LOCAL cdp.stage_time = '2026-02-01 00:00+00';
SELECT cdp.set_stage('deal', 'D-2', 'sql', reason => 'budget frozen until Q3');
-- the reason covered that move only, even within the transaction
SHOW cdp.stage_reason;
SELECT try($$UPDATE deal SET stage = 'lead' WHERE code = 'D-2'$$);
COMMIT;
-- a reason passed to set_stage overrides the caller's cdp.stage_reason for
-- that move, and the caller's comes back; without one, the caller's applies
BEGIN;
SET LOCAL cdp.stage_reason = 'quarterly clean-up';
SELECT cdp.set_stage('deal', 'D-1', 'lead', 'inner reason');
SHOW cdp.stage_reason;
SELECT cdp.set_stage('deal', 'D-1', 'mql');
SELECT stage, reason FROM hist('deal', 'D-1');
ROLLBACK;
-- ... or with SET LOCAL cdp.stage_reason around a plain UPDATE
BEGIN;
SET LOCAL cdp.stage_time = '2026-02-05 00:00+00';
SET LOCAL cdp.stage_reason = 'reopened after review';
UPDATE deal SET stage = 'mql' WHERE code = 'D-2';
COMMIT;
-- the reason does not outlive set_stage: this backward move is refused again
SELECT try($$UPDATE deal SET stage = 'lead' WHERE code = 'D-2'$$);
-- nor the transaction that set it
SHOW cdp.stage_reason;

-- exits are allowed from any open stage without a reason
BEGIN;
SET LOCAL cdp.stage_time = '2026-02-10 00:00+00';
UPDATE deal SET stage = 'disqualified' WHERE code = 'D-2';
COMMIT;
-- invalid: leaving an exit, or moving between exits, needs a reason (23514)
SELECT try($$UPDATE deal SET stage = 'lead' WHERE code = 'D-2'$$);
SELECT try($$UPDATE deal SET stage = 'churned' WHERE code = 'D-2'$$);
BEGIN;
SET LOCAL cdp.stage_time = '2026-03-01 00:00+00';
SELECT cdp.set_stage('deal', 'D-2', 'lead', 'came back with a new project');
COMMIT;
SELECT * FROM hist('deal', 'D-2');

-- time in stage: mql was visited twice (10 + 5 days), lead twice (7 days + still open)
SELECT stage, visits, latest_entered_at, latest_duration, cumulative_duration
  FROM cdp.time_in_stage
 WHERE entity = 'deal'::regclass AND entity_key = 'D-2' AND stage <> 'lead'
 ORDER BY latest_entered_at;
SELECT stage, visits, latest_entered_at FROM cdp.time_in_stage
 WHERE entity = 'deal'::regclass AND entity_key = 'D-2' AND stage = 'lead';

-- every move classified, with the time spent in the stage it left
SELECT from_stage, to_stage, moved_at, kind, stages_skipped, time_in_previous_stage, reason
  FROM cdp.stage_moves
 WHERE entity = 'deal'::regclass AND entity_key = 'D-2'
 ORDER BY moved_at;

-- invalid: cdp.stage_time before the current stay began (22023)
BEGIN;
SET LOCAL cdp.stage_time = '2026-02-15 00:00+00';
SELECT try($$UPDATE deal SET stage = 'mql' WHERE code = 'D-2'$$);
ROLLBACK;

-- Required columns -------------------------------------------------------------
INSERT INTO deal VALUES ('D-3', 'mql', NULL);
-- invalid: sql requires owner, which is NULL (23502) ...
SELECT try($$UPDATE deal SET stage = 'sql' WHERE code = 'D-3'$$);
-- ... or empty (23502)
SELECT try($$UPDATE deal SET stage = 'sql', owner = '' WHERE code = 'D-3'$$);
-- the error names the column and the stage
UPDATE deal SET stage = 'customer' WHERE code = 'D-3';
-- invalid: inserting straight into a stage with requirements follows the same rule
SELECT try($$INSERT INTO deal VALUES ('D-4', 'customer', NULL)$$);
SELECT count(*) AS d4_rows FROM deal WHERE code = 'D-4';
SELECT count(*) AS d4_stays FROM cdp.stage_history WHERE entity = 'deal'::regclass AND entity_key = 'D-4';
-- filling the column in the same UPDATE is enough
UPDATE deal SET stage = 'sql', owner = 'bob' WHERE code = 'D-3';
SELECT stage, previous_stage, reason FROM hist('deal', 'D-3');

-- Unknown stages and NULL ---------------------------------------------------------
-- invalid: a stage the model does not know (22023), on update and insert
SELECT try($$UPDATE deal SET stage = 'won' WHERE code = 'D-3'$$);
SELECT try($$INSERT INTO deal VALUES ('D-5', 'MQL', NULL)$$);
UPDATE deal SET stage = 'closed' WHERE code = 'D-3';
-- invalid: a tracked row cannot drop out of its lifecycle by clearing the stage (23502)
SELECT try($$UPDATE deal SET stage = NULL WHERE code = 'D-3'$$);
-- a row inserted without a stage has no history until it gets one
INSERT INTO deal VALUES ('D-6', NULL, NULL);
SELECT count(*) AS d6_stays FROM cdp.stage_history WHERE entity = 'deal'::regclass AND entity_key = 'D-6';
UPDATE deal SET stage = 'lead' WHERE code = 'D-6';
SELECT stage, previous_stage FROM hist('deal', 'D-6');
-- updates that do not change the stage write no history
UPDATE deal SET note = 'called' WHERE code = 'D-6';
UPDATE deal SET stage = 'lead' WHERE code = 'D-6';
SELECT count(*) AS d6_stays FROM cdp.stage_history WHERE entity = 'deal'::regclass AND entity_key = 'D-6';

-- Several moves in one transaction are recorded in order, without gaps
BEGIN;
UPDATE deal SET stage = 'mql' WHERE code = 'D-6';
UPDATE deal SET stage = 'sql', owner = 'carol' WHERE code = 'D-6';
UPDATE deal SET stage = 'opportunity' WHERE code = 'D-6';
COMMIT;
SELECT stage, previous_stage, exited IS NULL AS open FROM hist('deal', 'D-6');
SELECT bool_and(h.exited_at = n.entered_at) AS contiguous
  FROM cdp.stage_history h
  JOIN cdp.stage_history n ON n.entity = h.entity AND n.entity_key = h.entity_key
                          AND n.previous_stage = h.stage AND n.entered_at >= h.entered_at
                          AND n.history_id > h.history_id
 WHERE h.entity = 'deal'::regclass AND h.entity_key = 'D-6'
   AND NOT EXISTS (SELECT 1 FROM cdp.stage_history m
                    WHERE m.entity = h.entity AND m.entity_key = h.entity_key
                      AND m.history_id > h.history_id AND m.history_id < n.history_id);

-- Key changes, deletes and truncation ---------------------------------------------
UPDATE deal SET code = 'D-6b' WHERE code = 'D-6';
SELECT count(*) FILTER (WHERE entity_key = 'D-6') AS old_key,
       count(*) FILTER (WHERE entity_key = 'D-6b') AS new_key
  FROM cdp.stage_history WHERE entity = 'deal'::regclass;
DELETE FROM deal WHERE code = 'D-6b';
SELECT count(*) AS open_after_delete FROM cdp.stage_history
 WHERE entity = 'deal'::regclass AND entity_key = 'D-6b' AND exited_at IS NULL;
SELECT count(*) AS stays_kept FROM cdp.stage_history
 WHERE entity = 'deal'::regclass AND entity_key = 'D-6b';

-- set_stage errors
-- invalid: no such key (P0002)
SELECT try($$SELECT cdp.set_stage('deal', 'nope', 'lead')$$);
-- invalid: a table that is not tracked (55000)
CREATE TABLE plain (id int PRIMARY KEY, stage text);
SELECT try($$SELECT cdp.set_stage('plain', '1', 'lead')$$);
-- invalid: NULL table or key (22004)
SELECT try($$SELECT cdp.set_stage(NULL, '1', 'lead')$$);

-- track_lifecycle errors ------------------------------------------------------------
-- invalid: unknown model (22023), with the known ones in the hint
SELECT cdp.track_lifecycle('plain', 'stage', 'nosuch');
-- invalid: no primary key, or a composite one (42P16)
CREATE TABLE nokey (stage text);
SELECT try($$SELECT cdp.track_lifecycle('nokey')$$);
CREATE TABLE twokey (a int, b int, stage text, PRIMARY KEY (a, b));
SELECT try($$SELECT cdp.track_lifecycle('twokey')$$);
-- invalid: no such stage column (42703)
SELECT try($$SELECT cdp.track_lifecycle('plain', 'phase')$$);
-- a table without the columns some stages require can be tracked, with a
-- warning: those requirements do not apply to it
SELECT cdp.track_lifecycle('plain', 'stage', 'b2b');
INSERT INTO plain VALUES (1, 'lead');
UPDATE plain SET stage = 'customer' WHERE id = 1;
SELECT stage, previous_stage FROM hist('plain', '1');
SELECT cdp.untrack_lifecycle('plain');
-- invalid: already tracked with another model (42710)
SELECT try($$SELECT cdp.track_lifecycle('deal', 'stage', 'zhuge')$$);
-- invalid: existing rows in stages the model does not know (22023)
CREATE TABLE visitor (id int PRIMARY KEY, stage text);
INSERT INTO visitor VALUES (1, 'visitor'), (2, 'lurker');
SELECT try($$SELECT cdp.track_lifecycle('visitor', 'stage', 'zhuge')$$);
-- invalid: a view is not a table (42809)
CREATE VIEW deal_view AS SELECT * FROM deal;
SELECT try($$SELECT cdp.track_lifecycle('deal_view')$$);
-- invalid: untracking a table that is not tracked (55000)
SELECT try($$SELECT cdp.untrack_lifecycle('plain')$$);
SELECT try($$SELECT cdp.untrack_lifecycle('nokey')$$);
-- invalid: calling the trigger function directly
SELECT try($$SELECT cdp.lifecycle_trigger()$$);
-- nothing was left behind by the failed attempts
SELECT tbl FROM cdp.tracked_table WHERE NOT builtin ORDER BY tbl::text;
SELECT tgname FROM pg_trigger WHERE tgrelid IN ('plain'::regclass, 'visitor'::regclass, 'twokey'::regclass);

-- Untrack and track again: the history catches up with the rows -----------------------
SELECT cdp.untrack_lifecycle('deal');
UPDATE deal SET stage = 'customer' WHERE code = 'D-3';   -- not validated, not recorded
SELECT stage, exited IS NULL AS open FROM hist('deal', 'D-3');
SELECT cdp.track_lifecycle('deal');
SELECT stage, previous_stage, exited IS NULL AS open, reason FROM hist('deal', 'D-3');
SELECT count(*) AS entities_with_two_open_stays FROM (
    SELECT entity_key FROM cdp.stage_history WHERE entity = 'deal'::regclass AND exited_at IS NULL
     GROUP BY entity_key HAVING count(*) > 1) x;

-- The history agrees with the rows: one open stay per live entity, in its
-- row's stage, and no open stay for an entity that is gone
SELECT count(*) AS mismatches FROM deal d
  FULL JOIN (SELECT * FROM cdp.stage_history WHERE entity = 'deal'::regclass AND exited_at IS NULL) h
    ON h.entity_key = d.code
 WHERE h.stage IS DISTINCT FROM d.stage;
SELECT count(*) AS live_rows FROM deal;

TRUNCATE deal;
SELECT count(*) AS open_after_truncate FROM cdp.stage_history
 WHERE entity = 'deal'::regclass AND exited_at IS NULL;

-- An integer primary key, and the zhuge model ---------------------------------------
DELETE FROM visitor WHERE id = 2;
SELECT cdp.track_lifecycle('visitor', 'stage', 'zhuge');
INSERT INTO visitor VALUES (3, 'potential');
UPDATE visitor SET stage = 'customer' WHERE id IN (1, 3);
SELECT entity_key, stage, previous_stage FROM cdp.stage_history
 WHERE entity = 'visitor'::regclass ORDER BY entity_key::int, history_id;
SELECT cdp.set_stage('visitor', '3', 'loyal');

-- A custom model defined by inserting rows, with explicit transitions only -------------
INSERT INTO cdp.lifecycle_model (model, description) VALUES ('tender', 'Public tender (招投标) process');
INSERT INTO cdp.lifecycle_stage (model, stage, position, pool, is_exit, label_en, label_zh, required_columns) VALUES
    ('tender', 'announced', 1, 'marketing', false, 'Announced', '招标公告', '{}'),
    ('tender', 'bid',       2, 'sales',     false, 'Bid submitted', '已投标', '{price}'),
    ('tender', 'shortlist', 3, 'sales',     false, 'Shortlisted', '入围', '{}'),
    ('tender', 'awarded',   4, 'success',   false, 'Awarded', '中标', '{}'),
    ('tender', 'failed',    9, NULL,        true,  'Not awarded', '未中标', '{}');
INSERT INTO cdp.lifecycle_transition (model, from_stage, to_stage, requires_reason) VALUES
    ('tender', 'announced', 'bid', false),
    ('tender', 'bid', 'shortlist', false),
    ('tender', 'shortlist', 'awarded', false),
    ('tender', 'bid', 'failed', false),
    ('tender', 'shortlist', 'failed', false),
    ('tender', 'shortlist', 'bid', true);      -- back to bidding, with a reason

CREATE TABLE tender (id uuid PRIMARY KEY, phase text NOT NULL, price numeric);
SELECT cdp.track_lifecycle('tender', 'phase', 'tender');
INSERT INTO tender VALUES ('00000000-0000-0000-0000-000000000001', 'announced', NULL);
-- invalid: a skip that the model does not list (23514), hint lists the allowed moves
UPDATE tender SET phase = 'shortlist', price = 10 WHERE id = '00000000-0000-0000-0000-000000000001';
-- invalid: bid requires price (23502)
SELECT try($$UPDATE tender SET phase = 'bid' WHERE id = '00000000-0000-0000-0000-000000000001'$$);
UPDATE tender SET phase = 'bid', price = 1200000 WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE tender SET phase = 'shortlist' WHERE id = '00000000-0000-0000-0000-000000000001';
-- invalid: a listed transition that requires a reason, without one (23514)
SELECT try($$UPDATE tender SET phase = 'bid' WHERE id = '00000000-0000-0000-0000-000000000001'$$);
SELECT cdp.set_stage('tender', '00000000-0000-0000-0000-000000000001', 'bid', 'price revision requested');
-- invalid: exits are not implicit under explicit transitions: announced -> failed is not listed
INSERT INTO tender VALUES ('00000000-0000-0000-0000-000000000002', 'announced', NULL);
SELECT try($$UPDATE tender SET phase = 'failed' WHERE id = '00000000-0000-0000-0000-000000000002'$$);
SELECT stage, previous_stage, reason FROM hist('tender', '00000000-0000-0000-0000-000000000001');

-- Model changes take effect at once (the cache is invalidated) ----------------------
INSERT INTO cdp.lifecycle_transition (model, from_stage, to_stage) VALUES ('tender', 'announced', 'failed');
SELECT try($$UPDATE tender SET phase = 'failed' WHERE id = '00000000-0000-0000-0000-000000000002'$$);
INSERT INTO cdp.lifecycle_stage (model, stage, position, pool, label_en, label_zh)
VALUES ('tender', 'signed', 5, 'success', 'Contract signed', '已签约');
INSERT INTO cdp.lifecycle_transition (model, from_stage, to_stage) VALUES ('tender', 'bid', 'signed');
SELECT try($$UPDATE tender SET phase = 'signed' WHERE id = '00000000-0000-0000-0000-000000000001'$$);
-- ... including in a transaction that is rolled back
BEGIN;
DELETE FROM cdp.lifecycle_transition WHERE model = 'tender' AND to_stage = 'signed';
SELECT try($$UPDATE tender SET phase = 'signed' WHERE id = '00000000-0000-0000-0000-000000000002'$$);
ROLLBACK;

-- A guard function gates entry into a stage -------------------------------------------
CREATE FUNCTION has_big_price(entity regclass, entity_key text, to_stage text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT price >= 1000000 FROM tender WHERE id = entity_key::uuid
$$;
UPDATE cdp.lifecycle_stage SET guard = 'has_big_price(regclass,text,text)'
 WHERE model = 'tender' AND stage = 'shortlist';
INSERT INTO tender VALUES ('00000000-0000-0000-0000-000000000003', 'announced', NULL);
UPDATE tender SET phase = 'bid', price = 5000 WHERE id = '00000000-0000-0000-0000-000000000003';
-- invalid: the guard returns false (23514)
UPDATE tender SET phase = 'shortlist' WHERE id = '00000000-0000-0000-0000-000000000003';
UPDATE tender SET price = 2000000 WHERE id = '00000000-0000-0000-0000-000000000003';
UPDATE tender SET phase = 'shortlist' WHERE id = '00000000-0000-0000-0000-000000000003';
SELECT phase FROM tender WHERE id = '00000000-0000-0000-0000-000000000003';

-- The reference tables -------------------------------------------------------------------
INSERT INTO cdp.account (name, owner) VALUES ('广州华信机械有限公司', NULL);
SELECT stage, previous_stage FROM hist('cdp.account', (SELECT max(account_id)::text FROM cdp.account));
-- invalid: an account needs an owner to become a customer (23502)
SELECT try($$UPDATE cdp.account SET stage = 'customer'$$);
UPDATE cdp.account SET stage = 'customer', owner = 'alice';
INSERT INTO cdp.opportunity (account_id, amount) SELECT account_id, 500000 FROM cdp.account;
-- invalid: a lost deal needs a lost reason (23502)
SELECT try($$UPDATE cdp.opportunity SET stage = 'lost'$$);
UPDATE cdp.opportunity SET stage = 'lost', lost_reason = 'price';
SELECT h.entity, h.stage, h.previous_stage FROM cdp.stage_history h
 WHERE h.entity IN ('cdp.account'::regclass, 'cdp.opportunity'::regclass)
 ORDER BY h.entity::text, h.history_id;

-- Many moves: history pages fill up, so closing a stay is no longer a HOT
-- update and needs new index entries; the history stays exact
CREATE TABLE churny (id int PRIMARY KEY, stage text NOT NULL, owner name NOT NULL DEFAULT 'rep');
SELECT cdp.track_lifecycle('churny');
INSERT INTO churny SELECT i, 'lead' FROM generate_series(1, 200) i;
SET cdp.stage_reason = 'back and forth';
DO $$
BEGIN
    FOR r IN 1 .. 20 LOOP
        UPDATE churny SET stage = CASE WHEN stage = 'lead' THEN 'sql' ELSE 'lead' END;
    END LOOP;
END $$;
RESET cdp.stage_reason;
SELECT count(*) AS stays, count(*) FILTER (WHERE exited_at IS NULL) AS open,
       count(DISTINCT entity_key) AS entities
  FROM cdp.stage_history WHERE entity = 'churny'::regclass;
SELECT count(*) AS broken_links FROM (
    SELECT stage, previous_stage, entered_at, lag(stage) OVER w AS prev, lag(exited_at) OVER w AS prev_exit
      FROM cdp.stage_history WHERE entity = 'churny'::regclass
    WINDOW w AS (PARTITION BY entity_key ORDER BY entered_at, history_id)) x
 WHERE prev IS NOT NULL AND (prev_exit <> entered_at OR previous_stage <> prev);
-- the index still finds every entity's open stay
SET enable_seqscan = off;
SELECT count(*) AS open_via_index FROM churny c
  JOIN cdp.stage_history h ON h.entity = 'churny'::regclass AND h.entity_key = c.id::text
 WHERE h.exited_at IS NULL AND h.stage = c.stage;
RESET enable_seqscan;

-- Moving a stage needs privileges on the tracked table only: the history is
-- written by the trigger with the extension's authority
CREATE ROLE regress_cdp_rep;
GRANT USAGE ON SCHEMA cdp TO regress_cdp_rep;
GRANT SELECT, UPDATE ON churny TO regress_cdp_rep;
SET ROLE regress_cdp_rep;
UPDATE churny SET stage = 'opportunity' WHERE id = 1;
SELECT try($$INSERT INTO cdp.stage_history (entity, entity_key, model, stage, entered_at)
             VALUES ('churny', '1', 'b2b', 'customer', now())$$) AS direct_write;
RESET ROLE;
SELECT stage, previous_stage, changed_by FROM cdp.stage_history
 WHERE entity = 'churny'::regclass AND entity_key = '1' AND exited_at IS NULL;
DROP TABLE churny;
REVOKE USAGE ON SCHEMA cdp FROM regress_cdp_rep;
DROP ROLE regress_cdp_rep;

-- A stage column of an enum type, and a bigint key
CREATE TYPE phase AS ENUM ('visitor', 'potential', 'activated', 'customer', 'active', 'loyal');
CREATE TABLE app_user (id bigint PRIMARY KEY, phase phase NOT NULL);
SELECT cdp.track_lifecycle('app_user', 'phase', 'zhuge');
INSERT INTO app_user VALUES (9000000000, 'visitor');
SELECT cdp.set_stage('app_user', '9000000000', 'activated');
-- invalid: backward without a reason (23514)
SELECT try($$SELECT cdp.set_stage('app_user', '9000000000', 'potential')$$);
-- invalid: a value the enum does not have fails in the cast (22P02)
SELECT try($$SELECT cdp.set_stage('app_user', '9000000000', 'churned')$$);
SELECT stage, previous_stage FROM hist('app_user', '9000000000');
DROP TABLE app_user;
DROP TYPE phase;

-- A partitioned table: the triggers fire on partitions, the history is the
-- partitioned table's
CREATE TABLE part_deal (id int PRIMARY KEY, stage text NOT NULL, owner name) PARTITION BY RANGE (id);
CREATE TABLE part_deal_1 PARTITION OF part_deal FOR VALUES FROM (1) TO (100);
CREATE TABLE part_deal_2 PARTITION OF part_deal FOR VALUES FROM (100) TO (200);
SELECT cdp.track_lifecycle('part_deal');
INSERT INTO part_deal VALUES (5, 'lead', NULL), (150, 'prospect', NULL);
UPDATE part_deal SET stage = 'mql';
-- invalid: the policy applies to partitions too (23514)
SELECT try($$UPDATE part_deal_2 SET stage = 'lead' WHERE id = 150$$);
SELECT entity, entity_key, stage, previous_stage FROM cdp.stage_history
 WHERE entity::text LIKE 'part_deal%' ORDER BY entity_key::int, history_id;
DROP TABLE part_deal;

-- Dropping a tracked table forgets its tracking and history ---------------------------
DROP TABLE visitor;
SELECT count(*) AS visitor_rows FROM cdp.tracked_table WHERE tbl::text = 'visitor';
SELECT count(*) AS history_of_dropped FROM cdp.stage_history
 WHERE entity::oid NOT IN (SELECT oid FROM pg_class);


DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
