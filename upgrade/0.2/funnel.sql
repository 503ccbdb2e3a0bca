\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- funnel.sql, 0.1 -> 0.2: the combine function of window_funnel and
-- funnel_path is no longer STRICT: a NULL state stands for no partial state,
-- so the first partial state of a group is read straight into the
-- aggregate's own state instead of being copied by the executor first.
ALTER FUNCTION @extschema@.funnel_state_combine(@extschema@.funnel_state, @extschema@.funnel_state)
    CALLED ON NULL INPUT;
--@ src/funnel.sql: COMMENT ON FUNCTION @extschema@.funnel_state_combine(@extschema@.funnel_state, @extschema@.funnel_state)
