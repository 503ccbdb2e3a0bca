\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- views.sql, 0.1 -> 0.2: the BI layer.

-- metrics_recognize: duplicates by company domain read from
-- account_email_domain_idx (company piece; the view called email_domain once
-- per shared domain); the domain is now compared as email_domain reads it
-- (scheme, www. and path aside).
--@ src/views.sql: CREATE VIEW @extschema@.metrics_recognize WITH

-- sheet_completeness and sheet_account_profile: the contact counts and the
-- profile's sheet fields from the per-account sheet summary (module rollup,
-- bi_account_sheet) instead of aggregating every contact and testing 15
-- profile fields per account at each question.  Same columns.
--@ src/views.sql: CREATE VIEW @extschema@.sheet_completeness WITH

--@ src/views.sql: CREATE VIEW @extschema@.sheet_account_profile WITH

-- pool_summary: one scan of the open stays, joined to the three tables side
-- by side (0.1 read a materialized CTE three times).  Same columns.
--@ src/views.sql: CREATE VIEW @extschema@.pool_summary WITH

-- Touch rollups (module rollup) ----------------------------------------------
--
-- The figures that come from cdp.touchpoint are read from the touch
-- rollups the module rollup keeps (upgrade/0.2/rollup.sql, which runs
-- before this piece): metrics_reach, the interaction branch of
-- metrics_relationship, the acquisition-cost branch of metrics_return and
-- the tp part of sheet_development_strategy; refresh_bi_snapshots folds the
-- rollups' delta rows.  metrics_relationship also reads decision-chain
-- coverage from the per-account sheet summary.  Same columns, so the views are replaced in place
-- (comments, grants and the snapshots depending on them stay).

--@ src/views.sql: CREATE VIEW @extschema@.sheet_development_strategy WITH

--@ src/views.sql: CREATE VIEW @extschema@.metrics_reach WITH

--@ src/views.sql: CREATE VIEW @extschema@.metrics_relationship WITH

--@ src/views.sql: CREATE VIEW @extschema@.metrics_return WITH

--@ src/views.sql: CREATE FUNCTION @extschema@.refresh_bi_snapshots(
--@ src/views.sql: COMMENT ON FUNCTION @extschema@.refresh_bi_snapshots()
