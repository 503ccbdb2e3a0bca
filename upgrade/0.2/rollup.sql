\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- rollup.sql, 0.1 -> 0.2: the module is new in 0.2 (touch rollups and the
-- per-account sheet summary behind the BI views); its objects as src/rollup.sql creates them, then the privileges
-- governance gives a fresh install, then the rollups computed from the rows
-- already there.
--@ src/rollup.sql

-- Privileges, as src/governance.sql gives them in a fresh install (its loops
-- run at CREATE EXTENSION only): the two doors to the rollups are views
-- read by the three roles; bi_rollup_state is a table without an owner
-- column (administrators write it, everyone reads it); functions are for
-- the three roles, those with the owner's rights (SECURITY DEFINER) for
-- administrators.
GRANT SELECT ON @extschema@.bi_touch_figures, @extschema@.bi_last_touch, @extschema@.bi_account_sheet_figures,
      @extschema@.bi_account_sheet_current, @extschema@.bi_contact_figures TO cdp_admin, cdp_analyst;
GRANT SELECT ON @extschema@.bi_touch_figures, @extschema@.bi_last_touch, @extschema@.bi_account_sheet_figures,
      @extschema@.bi_account_sheet_current, @extschema@.bi_contact_figures TO cdp_sales;
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.bi_rollup_state TO cdp_admin;
GRANT SELECT ON @extschema@.bi_rollup_state TO cdp_analyst;
GRANT SELECT ON @extschema@.bi_rollup_state TO cdp_sales;
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::pg_catalog.regprocedure AS fn, p.prosecdef
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND p.proname OPERATOR(pg_catalog.=) ANY (ARRAY['bi_rollup_time_zone', 'bi_rollups_visible', 'bi_rollups_usable',
                   'bi_touch_fact', 'bi_consent_granted', 'bi_touch_apply', 'bi_last_touch_recompute', 'bi_rollups_truncate',
                   'bi_touchpoint_rollup', 'bi_account_rollup', 'bi_contact_rollup', 'bi_lead_rollup', 'bi_consent_lock',
                   'bi_consent_rollup', 'bi_metrics_reach_live', 'bi_relationship_touches', 'bi_return_touch_costs',
                   'bi_last_touch_live', 'bi_compact_rollups', 'rebuild_bi_rollups', 'sheet_profile_mask',
                   'sheet_account_mask', 'bi_account_duplicates_live', 'bi_account_sheet_live', 'bi_account_sheet_recompute',
                   'bi_account_sheet_duplicates', 'bi_account_sheet_trigger', 'bi_account_sheet_rebuild',
                   'bi_contact_apply', 'bi_contact_fact', 'bi_contact_count'])
         ORDER BY p.oid
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f.fn);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO cdp_admin, cdp_sales, cdp_analyst', f.fn);
        IF f.prosecdef THEN
            EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM cdp_sales, cdp_analyst', f.fn);
        END IF;
    END LOOP;
END
$$;

-- the rollups of the interactions already recorded, months in the zone of
-- the session that runs the update (as CREATE EXTENSION does)
SELECT @extschema@.rebuild_bi_rollups();
