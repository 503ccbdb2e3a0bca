\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- funnel.sql, 0.1 -> 0.2: the combine function of window_funnel and
-- funnel_path is no longer STRICT: a NULL state stands for no partial state,
-- so the first partial state of a group is read straight into the
-- aggregate's own state instead of being copied by the executor first.
ALTER FUNCTION @extschema@.funnel_state_combine(@extschema@.funnel_state, @extschema@.funnel_state)
    CALLED ON NULL INPUT;
COMMENT ON FUNCTION @extschema@.funnel_state_combine(@extschema@.funnel_state, @extschema@.funnel_state) IS 'Combine function of cdp.window_funnel and cdp.funnel_path: the events of two partial states of the same funnel (merged when both are in time order); NULL stands for no partial state';
