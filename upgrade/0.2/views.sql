\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- views.sql, 0.1 -> 0.2: the BI layer.


-- sheet_completeness, sheet_account_profile and metrics_recognize: segment,
-- tier, filled fields, contact counts and duplicate flag from the
-- per-account sheet summary (module rollup, bi_account_sheet) instead of
-- joining every account to its aggregated contacts, testing 22 fields per
-- account and numbering accounts per company key and domain at each
-- question; bi_account_completeness (new, internal) scores the summary
-- against cdp.sheet_requirement for both.  Same columns.
--@ src/views.sql: CREATE VIEW @extschema@.bi_account_completeness WITH
--@ src/views.sql: COMMENT ON VIEW @extschema@.bi_account_completeness IS
--@ src/views.sql: COMMENT ON COLUMN @extschema@.bi_account_completeness.account_id IS
--@ src/views.sql: COMMENT ON COLUMN @extschema@.bi_account_completeness.created_at IS
--@ src/views.sql: COMMENT ON COLUMN @extschema@.bi_account_completeness.segment IS
--@ src/views.sql: COMMENT ON COLUMN @extschema@.bi_account_completeness.tier IS
--@ src/views.sql: COMMENT ON COLUMN @extschema@.bi_account_completeness.is_duplicate IS
--@ src/views.sql: COMMENT ON COLUMN @extschema@.bi_account_completeness.required IS
--@ src/views.sql: COMMENT ON COLUMN @extschema@.bi_account_completeness.filled IS
--@ src/views.sql: COMMENT ON COLUMN @extschema@.bi_account_completeness.missing_mask IS
GRANT SELECT ON @extschema@.bi_account_completeness TO cdp_admin, cdp_analyst, cdp_sales;

--@ src/views.sql: CREATE VIEW @extschema@.sheet_completeness WITH

--@ src/views.sql: CREATE VIEW @extschema@.sheet_account_profile WITH

-- metrics_recognize: also, duplicates by company domain are compared as
-- email_domain reads the domain (scheme, www. and path aside; 0.1 used
-- lower(domain)).
--@ src/views.sql: CREATE VIEW @extschema@.bi_metrics_recognize WITH
--@ src/views.sql: COMMENT ON VIEW @extschema@.bi_metrics_recognize IS
--@ src/views.sql: CREATE FUNCTION @extschema@.bi_metrics_recognize_rows(
--@ src/views.sql: COMMENT ON FUNCTION @extschema@.bi_metrics_recognize_rows(
--@ src/views.sql: CREATE VIEW @extschema@.metrics_recognize WITH

-- pool_summary: the open stays of each entity joined to its own table only
-- and aggregated per owner, model and stage before the pools and the
-- owners' teams are looked up (0.1 read a materialized CTE three times and
-- sorted every stay).  Same columns.
--@ src/views.sql: CREATE VIEW @extschema@.bi_pool_summary WITH
--@ src/views.sql: COMMENT ON VIEW @extschema@.bi_pool_summary IS
--@ src/views.sql: CREATE FUNCTION @extschema@.bi_pool_summary_rows(
--@ src/views.sql: COMMENT ON FUNCTION @extschema@.bi_pool_summary_rows(
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

--@ src/views.sql: CREATE VIEW @extschema@.bi_metrics_relationship WITH
--@ src/views.sql: COMMENT ON VIEW @extschema@.bi_metrics_relationship IS
--@ src/views.sql: CREATE FUNCTION @extschema@.bi_metrics_relationship_rows(
--@ src/views.sql: COMMENT ON FUNCTION @extschema@.bi_metrics_relationship_rows(
--@ src/views.sql: CREATE VIEW @extschema@.metrics_relationship WITH

-- metrics_return also joins all its other facts (stage entries, leads, closed
-- deals, orders per account and month) to the accounts in one join and one
-- aggregate, instead of a join and a sorted aggregate per kind of fact.
--@ src/views.sql: CREATE VIEW @extschema@.bi_metrics_return WITH
--@ src/views.sql: COMMENT ON VIEW @extschema@.bi_metrics_return IS
--@ src/views.sql: CREATE FUNCTION @extschema@.bi_metrics_return_rows(
--@ src/views.sql: COMMENT ON FUNCTION @extschema@.bi_metrics_return_rows(
--@ src/views.sql: CREATE VIEW @extschema@.metrics_return WITH

-- metrics_recognize, metrics_relationship, metrics_return and pool_summary
-- run their query through a function with jit = off (see "JIT" in
-- src/views.sql): the query moved to the internal view cdp.bi_NAME above,
-- the public view, with the same columns, selects from cdp.bi_NAME_rows().  The internal views carry the public view's
-- column comments and are granted like it.
--@ src/views.sql: DO $internal$
GRANT SELECT ON @extschema@.bi_metrics_recognize, @extschema@.bi_metrics_relationship,
      @extschema@.bi_metrics_return, @extschema@.bi_pool_summary TO cdp_admin, cdp_analyst, cdp_sales;
REVOKE EXECUTE ON FUNCTION @extschema@.bi_metrics_recognize_rows(), @extschema@.bi_metrics_relationship_rows(),
       @extschema@.bi_metrics_return_rows(), @extschema@.bi_pool_summary_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.bi_metrics_recognize_rows(), @extschema@.bi_metrics_relationship_rows(),
      @extschema@.bi_metrics_return_rows(), @extschema@.bi_pool_summary_rows() TO cdp_admin, cdp_sales, cdp_analyst;

--@ src/views.sql: CREATE FUNCTION @extschema@.refresh_bi_snapshots(
--@ src/views.sql: COMMENT ON FUNCTION @extschema@.refresh_bi_snapshots()
