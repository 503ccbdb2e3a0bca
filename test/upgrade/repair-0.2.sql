-- repair-0.2.sql: run by test/suites/upgrade.sh at version 0.1, before the
-- update to 0.2.  Makes the stage history 0.1's merge_accounts left: the
-- duplicate's stays that began inside the survivor's open stay became
-- zero-length stays after it, and a later move of the survivor left two
-- stays open.  The update must repair both.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET cdp.stage_time = '2026-01-01 00:00+00';
INSERT INTO cdp.account (name, owner) VALUES ('甲公司', 'rep'), ('乙公司', 'rep');
SET cdp.stage_time = '2026-02-01 00:00+00';
INSERT INTO cdp.account (name, owner) VALUES ('甲公司 (copy)', 'rep'), ('乙公司 (copy)', 'rep');
SET cdp.stage_time = '2026-03-01 00:00+00';
UPDATE cdp.account SET stage = 'lead' WHERE name LIKE '%(copy)';
RESET cdp.stage_time;
SELECT cdp.merge_accounts(a.account_id, d.account_id)
  FROM cdp.account a JOIN cdp.account d ON d.name = a.name || ' (copy)';
-- the first survivor moves on after the merge
SET cdp.stage_time = '2026-04-01 00:00+00';
UPDATE cdp.account SET stage = 'lead' WHERE name = '甲公司';
RESET cdp.stage_time;
