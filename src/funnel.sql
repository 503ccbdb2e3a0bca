\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- funnel.sql: funnel aggregates (window_funnel, funnel_path, funnel_counts,
-- retention) and the cdp.stage_conversion view.
--
-- window_funnel and funnel_path keep their partial state in the varlena type
-- cdp.funnel_state, not in "internal": PostgreSQL's parallel workers pass it
-- as it is, and Citus ships it between nodes as text through its output and
-- input functions, which reject malformed states.  funnel_counts keeps a
-- bigint[] and retention a bigint for the same reason.  Every function is
-- IMMUTABLE (no time zone or clock is involved: the window is a fixed
-- duration) and PARALLEL SAFE.

CREATE TYPE @extschema@.funnel_state;

CREATE FUNCTION @extschema@.funnel_state_in(cstring) RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_in(cstring) IS 'Text input of cdp.funnel_state (hexadecimal wire format); rejects malformed states';

CREATE FUNCTION @extschema@.funnel_state_out(@extschema@.funnel_state) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_out(@extschema@.funnel_state) IS 'Text output of cdp.funnel_state (hexadecimal wire format)';

CREATE FUNCTION @extschema@.funnel_state_recv(internal) RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_recv(internal) IS 'Binary input of cdp.funnel_state; checks everything the text input checks';

CREATE FUNCTION @extschema@.funnel_state_send(@extschema@.funnel_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_send(@extschema@.funnel_state) IS 'Binary output of cdp.funnel_state';

CREATE TYPE @extschema@.funnel_state (
    INPUT = @extschema@.funnel_state_in,
    OUTPUT = @extschema@.funnel_state_out,
    RECEIVE = @extschema@.funnel_state_recv,
    SEND = @extschema@.funnel_state_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.funnel_state IS 'Partial state of cdp.window_funnel and cdp.funnel_path: the funnel parameters and one (timestamp, step mask) event per row';

-- not STRICT: the first row meets a NULL state, and NULL timestamps and
-- conditions have meanings of their own
CREATE FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, timestamptz, boolean[])
    RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_window_funnel_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, timestamptz, boolean[]) IS 'Transition function of cdp.window_funnel and cdp.funnel_path: adds one event to the state';

CREATE FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[])
    RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_window_funnel_mode_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[]) IS 'Transition function of cdp.window_funnel and cdp.funnel_path with modes: adds one event to the state';

-- not STRICT: a NULL state stands for no partial state, so the first
-- partial state of a group is read straight into the aggregate's own state
-- instead of being copied by the executor first
CREATE FUNCTION @extschema@.funnel_state_combine(@extschema@.funnel_state, @extschema@.funnel_state)
    RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_combine(@extschema@.funnel_state, @extschema@.funnel_state) IS 'Combine function of cdp.window_funnel and cdp.funnel_path: the events of two partial states of the same funnel (merged when both are in time order); NULL stands for no partial state';

CREATE FUNCTION @extschema@.window_funnel_final(@extschema@.funnel_state) RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_window_funnel_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_final(@extschema@.funnel_state) IS 'Final function of cdp.window_funnel: the highest step reached (0 without rows)';

CREATE FUNCTION @extschema@.funnel_path_final(@extschema@.funnel_state) RETURNS timestamptz[]
    AS 'MODULE_PATHNAME', 'cdp_funnel_path_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_path_final(@extschema@.funnel_state) IS 'Final function of cdp.funnel_path: the step times of the best chain';

-- The final functions leave the state alone (READ_ONLY, the default): the
-- two aggregates share one state when called with the same arguments, and
-- they work as window functions.
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.window_funnel_transfn,
    STYPE = @extschema@.funnel_state,
    SSPACE = 400,
    FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.funnel_state_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, VARIADIC boolean[]) IS 'Funnel (漏斗) level of one entity: the longest prefix of steps completed by a chain within the window of its step-1 event';

CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.window_funnel_transfn,
    STYPE = @extschema@.funnel_state,
    SSPACE = 400,
    FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.funnel_state_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, VARIADIC boolean[]) IS 'Funnel (漏斗) level of one entity with modes strict_order, strict_deduplication, strict_increase (comma-separated)';

CREATE AGGREGATE @extschema@.funnel_path("window" interval, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.window_funnel_transfn,
    STYPE = @extschema@.funnel_state,
    SSPACE = 400,
    FINALFUNC = @extschema@.funnel_path_final,
    COMBINEFUNC = @extschema@.funnel_state_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_path(interval, timestamptz, VARIADIC boolean[]) IS 'Times at which the best funnel chain reached each step (NULL beyond the level reached), for time to convert';

CREATE AGGREGATE @extschema@.funnel_path("window" interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.window_funnel_transfn,
    STYPE = @extschema@.funnel_state,
    SSPACE = 400,
    FINALFUNC = @extschema@.funnel_path_final,
    COMBINEFUNC = @extschema@.funnel_state_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_path(interval, text, timestamptz, VARIADIC boolean[]) IS 'Times at which the best funnel chain reached each step, with modes as in cdp.window_funnel';

-- Fixed-arity forms for 1 to 8 steps.  For a call such as
-- window_funnel('7 days', ts, a, b, c, d) PostgreSQL prefers an exact
-- non-VARIADIC match, and these transition functions read the conditions
-- as arguments instead of an array built for every row; same states, same
-- results.  Longer funnels, and calls with VARIADIC ARRAY[...], use the
-- forms above.
DO $$
DECLARE
    n integer;
    steps text;
    named text;
    modes text;
BEGIN
    FOR n IN 1 .. 8 LOOP
        SELECT pg_catalog.string_agg('boolean', ', '), pg_catalog.string_agg('step' || i || ' boolean', ', ')
          INTO steps, named
          FROM pg_catalog.generate_series(1, n) AS i;
        FOREACH modes IN ARRAY ARRAY['', 'text, '] LOOP
            EXECUTE pg_catalog.format(
                'CREATE FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, %stimestamptz, %s)
                     RETURNS @extschema@.funnel_state
                     AS %L, %L
                     LANGUAGE C IMMUTABLE PARALLEL SAFE',
                modes, steps, 'MODULE_PATHNAME',
                CASE modes WHEN '' THEN 'cdp_window_funnel_args_transfn' ELSE 'cdp_window_funnel_mode_args_transfn' END);
            EXECUTE pg_catalog.format(
                'COMMENT ON FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, %stimestamptz, %s) IS %L',
                modes, steps,
                pg_catalog.format('Transition function of cdp.window_funnel and cdp.funnel_path%s with %s step arguments: adds one event to the state',
                                  CASE modes WHEN '' THEN '' ELSE ' with modes' END, n));
            EXECUTE pg_catalog.format(
                'CREATE AGGREGATE @extschema@.window_funnel("window" interval, %sts timestamptz, %s) (
                     SFUNC = @extschema@.window_funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 400,
                     FINALFUNC = @extschema@.window_funnel_final, COMBINEFUNC = @extschema@.funnel_state_combine,
                     PARALLEL = SAFE)',
                CASE modes WHEN '' THEN '' ELSE 'mode text, ' END, named);
            EXECUTE pg_catalog.format(
                'COMMENT ON AGGREGATE @extschema@.window_funnel(interval, %stimestamptz, %s) IS %L',
                modes, steps,
                pg_catalog.format('Funnel (漏斗) level of one entity%s, %s steps given as separate conditions (the same as the VARIADIC form)',
                                  CASE modes WHEN '' THEN '' ELSE ' with modes' END, n));
            EXECUTE pg_catalog.format(
                'CREATE AGGREGATE @extschema@.funnel_path("window" interval, %sts timestamptz, %s) (
                     SFUNC = @extschema@.window_funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 400,
                     FINALFUNC = @extschema@.funnel_path_final, COMBINEFUNC = @extschema@.funnel_state_combine,
                     PARALLEL = SAFE)',
                CASE modes WHEN '' THEN '' ELSE 'mode text, ' END, named);
            EXECUTE pg_catalog.format(
                'COMMENT ON AGGREGATE @extschema@.funnel_path(interval, %stimestamptz, %s) IS %L',
                modes, steps,
                pg_catalog.format('Times at which the best funnel chain reached each step%s, %s steps given as separate conditions (the same as the VARIADIC form)',
                                  CASE modes WHEN '' THEN '' ELSE ' with modes' END, n));
        END LOOP;
    END LOOP;
END
$$;

CREATE FUNCTION @extschema@.funnel_counts_transfn(bigint[], integer, integer) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'cdp_funnel_counts_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_counts_transfn(bigint[], integer, integer) IS 'Transition function of cdp.funnel_counts: counts one entity at every step up to its level';

CREATE FUNCTION @extschema@.funnel_counts_combine(bigint[], bigint[]) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'cdp_funnel_counts_combine'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_counts_combine(bigint[], bigint[]) IS 'Combine function of cdp.funnel_counts: adds the counters of two partial states';

CREATE AGGREGATE @extschema@.funnel_counts(level integer, steps integer) (
    SFUNC = @extschema@.funnel_counts_transfn,
    STYPE = bigint[],
    COMBINEFUNC = @extschema@.funnel_counts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_counts(integer, integer) IS 'Funnel counts (漏斗转化人数): element k is how many entities reached at least step k; level is a window_funnel result';

CREATE FUNCTION @extschema@.retention_transfn(bigint, boolean[]) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cdp_retention_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_transfn(bigint, boolean[]) IS 'Transition function of cdp.retention: records which conditions held';

CREATE FUNCTION @extschema@.retention_combine(bigint, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cdp_retention_combine'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_combine(bigint, bigint) IS 'Combine function of cdp.retention';

CREATE FUNCTION @extschema@.retention_final(bigint) RETURNS boolean[]
    AS 'MODULE_PATHNAME', 'cdp_retention_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_final(bigint) IS 'Final function of cdp.retention';

CREATE AGGREGATE @extschema@.retention(VARIADIC conditions boolean[]) (
    SFUNC = @extschema@.retention_transfn,
    STYPE = bigint,
    FINALFUNC = @extschema@.retention_final,
    COMBINEFUNC = @extschema@.retention_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(VARIADIC boolean[]) IS 'Retention (留存): element 1 is whether condition 1 held in some row, element k whether conditions 1 and k both did';

-- Stage conversion: for each open stage of each model and the open stage
-- after it, how many entities entered the stage and how many of them went on
-- to a later open stage of the same model (the next one, or past it by a
-- skip), counting each entity's first entry into the stage.
CREATE VIEW @extschema@.stage_conversion AS
WITH stages AS (
    SELECT s.model, s.stage, s.position,
           pg_catalog.lead(s.stage) OVER (PARTITION BY s.model ORDER BY s.position) AS next_stage
      FROM @extschema@.lifecycle_stage s
     WHERE NOT s.is_exit
), firsts AS (
    SELECT h.entity, h.entity_key, h.model, h.stage, pg_catalog.min(h.entered_at) AS first_entered_at
      FROM @extschema@.stage_history h
     GROUP BY h.entity, h.entity_key, h.model, h.stage
)
SELECT st.model,
       st.stage,
       st.next_stage,
       pg_catalog.count(f.entity_key) AS entered,
       pg_catalog.count(c.converted_at) AS converted,
       pg_catalog.round(pg_catalog.count(c.converted_at)::numeric
                        OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(f.entity_key), 0)::numeric, 4) AS conversion_rate,
       pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY c.converted_at OPERATOR(pg_catalog.-) f.first_entered_at) AS median_time_to_convert
  FROM stages st
  LEFT JOIN firsts f
         ON f.model OPERATOR(pg_catalog.=) st.model AND f.stage OPERATOR(pg_catalog.=) st.stage
  LEFT JOIN LATERAL (
        SELECT pg_catalog.min(h.entered_at) AS converted_at
          FROM @extschema@.stage_history h
          JOIN @extschema@.lifecycle_stage l
            ON l.model OPERATOR(pg_catalog.=) h.model AND l.stage OPERATOR(pg_catalog.=) h.stage
         WHERE h.entity OPERATOR(pg_catalog.=) f.entity
           AND h.entity_key OPERATOR(pg_catalog.=) f.entity_key
           AND h.model OPERATOR(pg_catalog.=) f.model
           AND NOT l.is_exit
           AND l.position OPERATOR(pg_catalog.>) st.position
           AND h.entered_at OPERATOR(pg_catalog.>) f.first_entered_at) c ON true
 WHERE st.next_stage IS NOT NULL
 GROUP BY st.model, st.stage, st.position, st.next_stage;
COMMENT ON VIEW @extschema@.stage_conversion IS 'Stage conversion (阶段转化率) per model and open stage: entities that entered the stage and how many went on to a later open stage, with the median time it took';
COMMENT ON COLUMN @extschema@.stage_conversion.model IS 'Lifecycle model';
COMMENT ON COLUMN @extschema@.stage_conversion.stage IS 'Stage entered (open stages only)';
COMMENT ON COLUMN @extschema@.stage_conversion.next_stage IS 'The open stage that follows it in the model';
COMMENT ON COLUMN @extschema@.stage_conversion.entered IS 'Entities that entered the stage at least once (进入数)';
COMMENT ON COLUMN @extschema@.stage_conversion.converted IS 'Of those, entities that later entered next_stage or any open stage after it (转化数)';
COMMENT ON COLUMN @extschema@.stage_conversion.conversion_rate IS 'converted / entered, rounded to 4 decimals; NULL when no entity entered (转化率)';
COMMENT ON COLUMN @extschema@.stage_conversion.median_time_to_convert IS 'Median time from the first entry into the stage to the first entry into a later open stage, over converted entities (转化时长中位数)';
