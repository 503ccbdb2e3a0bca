\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- scoring.sql: scoring models, the BANT fit score, engagement with decay,
-- score_leads() (score-driven lifecycle moves), and predicted win
-- probability (naive Bayes: cdp.nb_model, nb_train, nb_merge, nb_predict,
-- nb_explain, cdp.win_model).

-- Scoring models ---------------------------------------------------------------

CREATE TABLE @extschema@.scoring_model (
    model text PRIMARY KEY CHECK (model <> ''),
    description text,
    budget_weight real NOT NULL DEFAULT 30 CHECK (budget_weight >= 0),
    authority_weight real NOT NULL DEFAULT 25 CHECK (authority_weight >= 0),
    need_weight real NOT NULL DEFAULT 25 CHECK (need_weight >= 0),
    timeline_weight real NOT NULL DEFAULT 15 CHECK (timeline_weight >= 0),
    competition_weight real NOT NULL DEFAULT 5 CHECK (competition_weight >= 0),
    engagement_weights jsonb NOT NULL DEFAULT '{}' CHECK (pg_catalog.jsonb_typeof(engagement_weights) = 'object'),
    half_life interval NOT NULL DEFAULT '30 days' CHECK (half_life > '0'::interval),
    engagement_saturation double precision NOT NULL DEFAULT 100 CHECK (engagement_saturation > 0),
    fit_share real NOT NULL DEFAULT 0.6 CHECK (fit_share BETWEEN 0 AND 1),
    mql_threshold integer NOT NULL DEFAULT 40 CHECK (mql_threshold BETWEEN 0 AND 100),
    sql_threshold integer NOT NULL DEFAULT 70 CHECK (sql_threshold BETWEEN 0 AND 100),
    builtin boolean NOT NULL DEFAULT false,
    CHECK (budget_weight + authority_weight + need_weight + timeline_weight + competition_weight > 0),
    CHECK (mql_threshold <= sql_threshold)
);
COMMENT ON TABLE @extschema@.scoring_model IS 'Lead scoring models (线索评分模型): BANT weights, engagement points per touchpoint kind, decay half-life, and the MQL/SQL thresholds score_leads uses';
COMMENT ON COLUMN @extschema@.scoring_model.model IS 'Model name; "default" is built in';
COMMENT ON COLUMN @extschema@.scoring_model.description IS 'What the model is for';
COMMENT ON COLUMN @extschema@.scoring_model.budget_weight IS 'Weight of Budget in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.authority_weight IS 'Weight of Authority in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.need_weight IS 'Weight of Need in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.timeline_weight IS 'Weight of Timeline in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.competition_weight IS 'Weight of Competition in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.engagement_weights IS 'Engagement points per touchpoint kind, e.g. {"demo": 30}; a touchpoint''s own points column wins, unlisted kinds are worth 0';
COMMENT ON COLUMN @extschema@.scoring_model.half_life IS 'Engagement half-life: a touchpoint counts half after this long';
COMMENT ON COLUMN @extschema@.scoring_model.engagement_saturation IS 'Decayed engagement points that count as full (100) engagement in the combined score';
COMMENT ON COLUMN @extschema@.scoring_model.fit_share IS 'Share of the fit (BANT) score in the combined lead score; the rest is engagement';
COMMENT ON COLUMN @extschema@.scoring_model.mql_threshold IS 'Combined score at which score_leads moves a lead to mql';
COMMENT ON COLUMN @extschema@.scoring_model.sql_threshold IS 'Combined score at which score_leads moves a lead with an owner to sql';
COMMENT ON COLUMN @extschema@.scoring_model.builtin IS 'true for the "default" model shipped with cdp; pg_dump keeps only the others, so tune a copy rather than the built-in row';

INSERT INTO @extschema@.scoring_model (model, builtin, description, engagement_weights) VALUES
    ('default', true, 'Built-in model: BANT weights 30/25/25/15/5, 30-day half-life, MQL at 40, SQL at 70',
     '{"demo": 30, "meeting": 25, "event": 20, "form_submit": 15, "webinar": 15, "call": 10, "download": 10, "site_visit": 5, "email_click": 5, "email_open": 2}');

SELECT pg_catalog.pg_extension_config_dump('@extschema@.scoring_model', 'WHERE NOT builtin');

-- STABLE, not IMMUTABLE: reads the weights from cdp.scoring_model.
CREATE FUNCTION @extschema@.bant_score(b @extschema@.bant, model text DEFAULT 'default') RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_bant_score' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_score(@extschema@.bant, text) IS 'Fit score 0..100: the weighted mean over the five dimensions of level position / 4 (worst 0, unknown 0.25, best 1), rounded half up; improving a dimension never lowers it';

-- Engagement with decay ----------------------------------------------------

CREATE FUNCTION @extschema@.engagement_score_accum(double precision[], double precision, timestamptz, interval, timestamptz)
RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'cdp_engagement_accum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.engagement_score_accum(double precision[], double precision, timestamptz, interval, timestamptz) IS 'Transition function of engagement_score; the state is {events, sum, compensation, half-life seconds, as_of microseconds}';
CREATE FUNCTION @extschema@.engagement_score_combine(double precision[], double precision[])
RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'cdp_engagement_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.engagement_score_combine(double precision[], double precision[]) IS 'Combine function of engagement_score (parallel query, Citus)';
CREATE FUNCTION @extschema@.engagement_score_final(double precision[])
RETURNS double precision
    AS 'MODULE_PATHNAME', 'cdp_engagement_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.engagement_score_final(double precision[]) IS 'Final function of engagement_score';

CREATE AGGREGATE @extschema@.engagement_score(points double precision, occurred_at timestamptz, half_life interval, as_of timestamptz) (
    SFUNC = @extschema@.engagement_score_accum,
    STYPE = double precision[],
    INITCOND = '{0,0,0,0,0}',
    FINALFUNC = @extschema@.engagement_score_final,
    COMBINEFUNC = @extschema@.engagement_score_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.engagement_score(double precision, timestamptz, interval, timestamptz) IS 'Sum of points * 2^(-(as_of - occurred_at) / half_life) over events at or before as_of (rows with a NULL argument skipped; 0 when none); half_life and as_of must be the same on every row of a group';

-- Score-driven lifecycle moves -----------------------------------------------

-- VOLATILE: updates leads and moves them through the lifecycle engine.
CREATE FUNCTION @extschema@.score_leads(model text DEFAULT 'default', only_changed boolean DEFAULT false)
RETURNS TABLE (scored bigint, moved_to_mql bigint, moved_to_sql bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m @extschema@.scoring_model;
    as_of timestamptz := pg_catalog.now();
    lead_model text;
    mql_pos integer;
    sql_pos integer;
    outer_reason text;
BEGIN
    SELECT * INTO m FROM @extschema@.scoring_model sm WHERE sm.model OPERATOR(pg_catalog.=) score_leads.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'scoring model "%" does not exist', score_leads.model
            USING ERRCODE = '22023',
                  HINT = 'The models are the rows of cdp.scoring_model; "default" is built in.';
    END IF;
    SELECT t.model INTO lead_model FROM @extschema@.tracked_table t
     WHERE t.tbl OPERATOR(pg_catalog.=) '@extschema@.lead'::pg_catalog.regclass;
    lead_model := coalesce(lead_model, 'b2b');
    SELECT s.position INTO mql_pos FROM @extschema@.lifecycle_stage s
     WHERE s.model OPERATOR(pg_catalog.=) lead_model AND s.stage OPERATOR(pg_catalog.=) 'mql';
    SELECT s.position INTO sql_pos FROM @extschema@.lifecycle_stage s
     WHERE s.model OPERATOR(pg_catalog.=) lead_model AND s.stage OPERATOR(pg_catalog.=) 'sql';
    IF mql_pos IS NULL OR sql_pos IS NULL THEN
        RAISE EXCEPTION 'lifecycle model "%" of cdp.lead has no mql and sql stages', lead_model
            USING ERRCODE = '22023';
    END IF;

    -- 1. scores of every open lead: not converted, not in an exit stage
    WITH open_lead AS (
        SELECT l.lead_id, l.bant
          FROM @extschema@.lead l
          LEFT JOIN @extschema@.lifecycle_stage s
            ON s.model OPERATOR(pg_catalog.=) lead_model AND s.stage OPERATOR(pg_catalog.=) l.stage
         WHERE l.converted_at IS NULL
           AND NOT coalesce(s.is_exit, false)
           AND (NOT only_changed OR l.scored_at IS NULL OR l.updated_at OPERATOR(pg_catalog.>) l.scored_at
                OR EXISTS (SELECT FROM @extschema@.touchpoint tp
                            WHERE tp.lead_id OPERATOR(pg_catalog.=) l.lead_id
                              AND tp.created_at OPERATOR(pg_catalog.>) l.scored_at))
    ), eng AS (
        SELECT tp.lead_id,
               @extschema@.engagement_score(
                   coalesce(tp.points, (m.engagement_weights OPERATOR(pg_catalog.->>) tp.kind)::double precision, 0),
                   tp.occurred_at, m.half_life, as_of) AS e
          FROM @extschema@.touchpoint tp
         WHERE tp.lead_id IN (SELECT o.lead_id FROM open_lead o)
         GROUP BY tp.lead_id
    ), s AS (
        SELECT o.lead_id,
               @extschema@.bant_score(coalesce(o.bant, @extschema@.bant()), m.model) AS fit,
               GREATEST(coalesce(eng.e, 0), 0) AS e
          FROM open_lead o LEFT JOIN eng ON eng.lead_id OPERATOR(pg_catalog.=) o.lead_id
    )
    UPDATE @extschema@.lead l
       SET fit_score = s.fit,
           engagement_score = s.e,
           score = pg_catalog.floor(m.fit_share * s.fit
                   + (1 - m.fit_share) * 100 * LEAST(s.e, m.engagement_saturation) / m.engagement_saturation
                   + 0.5)::integer,
           scored_at = as_of
      FROM s
     WHERE l.lead_id OPERATOR(pg_catalog.=) s.lead_id;
    GET DIAGNOSTICS scored = ROW_COUNT;

    -- 2. forward moves across the thresholds, with reason "score"; sql needs
    -- an owner, so a lead without one stops at mql
    outer_reason := pg_catalog.current_setting('cdp.stage_reason', true);
    PERFORM pg_catalog.set_config('cdp.stage_reason', 'score', true);
    WITH target AS (
        SELECT l.lead_id,
               CASE WHEN l.score OPERATOR(pg_catalog.>=) m.sql_threshold AND l.owner IS NOT NULL THEN 'sql'
                    WHEN l.score OPERATOR(pg_catalog.>=) m.mql_threshold THEN 'mql' END AS to_stage,
               CASE WHEN l.score OPERATOR(pg_catalog.>=) m.sql_threshold AND l.owner IS NOT NULL THEN sql_pos
                    WHEN l.score OPERATOR(pg_catalog.>=) m.mql_threshold THEN mql_pos END AS to_pos
          FROM @extschema@.lead l
          JOIN @extschema@.lifecycle_stage cur
            ON cur.model OPERATOR(pg_catalog.=) lead_model AND cur.stage OPERATOR(pg_catalog.=) l.stage
         WHERE l.scored_at OPERATOR(pg_catalog.=) as_of
           AND l.converted_at IS NULL
           AND NOT cur.is_exit
    ), moved AS (
        UPDATE @extschema@.lead l
           SET stage = t.to_stage
          FROM target t
          JOIN @extschema@.lifecycle_stage cur ON cur.model OPERATOR(pg_catalog.=) lead_model
         WHERE l.lead_id OPERATOR(pg_catalog.=) t.lead_id
           AND cur.stage OPERATOR(pg_catalog.=) l.stage
           AND t.to_pos OPERATOR(pg_catalog.>) cur.position
        RETURNING t.to_stage
    )
    SELECT pg_catalog.count(*) FILTER (WHERE to_stage OPERATOR(pg_catalog.=) 'mql'),
           pg_catalog.count(*) FILTER (WHERE to_stage OPERATOR(pg_catalog.=) 'sql')
      INTO moved_to_mql, moved_to_sql
      FROM moved;
    PERFORM pg_catalog.set_config('cdp.stage_reason', coalesce(outer_reason, ''), true);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.score_leads(text, boolean) IS 'Recomputes fit, engagement and combined scores of open leads (not converted, not in an exit stage; all of them, or only_changed ones) and moves them forward to mql / sql (sql only with an owner) with reason "score"; never backwards';

-- Naive Bayes: the model type ------------------------------------------------

CREATE TYPE @extschema@.nb_model;

CREATE FUNCTION @extschema@.nb_model_in(cstring) RETURNS @extschema@.nb_model
    AS 'MODULE_PATHNAME', 'cdp_nb_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_in(cstring) IS 'Text input of cdp.nb_model (hexadecimal), checked as strictly as binary input';
CREATE FUNCTION @extschema@.nb_model_out(@extschema@.nb_model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_nb_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_out(@extschema@.nb_model) IS 'Text output of cdp.nb_model: the portable binary form in hexadecimal';
CREATE FUNCTION @extschema@.nb_model_recv(internal) RETURNS @extschema@.nb_model
    AS 'MODULE_PATHNAME', 'cdp_nb_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_recv(internal) IS 'Binary input of cdp.nb_model; rejects malformed or inconsistent models';
CREATE FUNCTION @extschema@.nb_model_send(@extschema@.nb_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_nb_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_send(@extschema@.nb_model) IS 'Binary output of cdp.nb_model (network byte order)';

CREATE TYPE @extschema@.nb_model (
    INPUT = @extschema@.nb_model_in,
    OUTPUT = @extschema@.nb_model_out,
    RECEIVE = @extschema@.nb_model_recv,
    SEND = @extschema@.nb_model_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.nb_model IS 'Naive Bayes win model: won/lost counts per feature value (frequency tables), from cdp.nb_train; see cdp.nb_model_info for a readable summary';

CREATE FUNCTION @extschema@.nb_model_info(@extschema@.nb_model) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'cdp_nb_model_info' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_info(@extschema@.nb_model) IS 'Readable summary of a model: rows won and lost, and per feature its rows and number of distinct values';

-- Naive Bayes: aggregates ------------------------------------------------------

CREATE FUNCTION @extschema@.nb_train_trans(internal, text[], boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'cdp_nb_train_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_train_trans(internal, text[], boolean) IS 'Transition function of nb_train';
CREATE FUNCTION @extschema@.nb_merge_trans(internal, @extschema@.nb_model) RETURNS internal
    AS 'MODULE_PATHNAME', 'cdp_nb_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_merge_trans(internal, @extschema@.nb_model) IS 'Transition function of nb_merge';
CREATE FUNCTION @extschema@.nb_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'cdp_nb_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_combine(internal, internal) IS 'Combine function of nb_train and nb_merge';
CREATE FUNCTION @extschema@.nb_serial(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_nb_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_serial(internal) IS 'Serial function of nb_train and nb_merge';
CREATE FUNCTION @extschema@.nb_deserial(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'cdp_nb_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_deserial(bytea, internal) IS 'Deserial function of nb_train and nb_merge; rejects malformed states';
CREATE FUNCTION @extschema@.nb_final(internal) RETURNS @extschema@.nb_model
    AS 'MODULE_PATHNAME', 'cdp_nb_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_final(internal) IS 'Final function of nb_train and nb_merge';

CREATE AGGREGATE @extschema@.nb_train(features text[], won boolean) (
    SFUNC = @extschema@.nb_train_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.nb_final,
    COMBINEFUNC = @extschema@.nb_combine,
    SERIALFUNC = @extschema@.nb_serial,
    DESERIALFUNC = @extschema@.nb_deserial,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.nb_train(text[], boolean) IS 'Trains a naive Bayes win model: elements "name=value" (or bare values named f<position>), numbers binned two bins per doubling; rows with a NULL label skipped; NULL when no row';

CREATE AGGREGATE @extschema@.nb_merge(@extschema@.nb_model) (
    SFUNC = @extschema@.nb_merge_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.nb_final,
    COMBINEFUNC = @extschema@.nb_combine,
    SERIALFUNC = @extschema@.nb_serial,
    DESERIALFUNC = @extschema@.nb_deserial,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.nb_merge(@extschema@.nb_model) IS 'Combines models trained on parts of the data (per shard, per month) into the model of the whole';

CREATE FUNCTION @extschema@.nb_predict(@extschema@.nb_model, text[]) RETURNS double precision
    AS 'MODULE_PATHNAME', 'cdp_nb_predict' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_predict(@extschema@.nb_model, text[]) IS 'Predicted probability of winning (0..1): logistic of the prior log-odds plus the smoothed per-feature log-likelihood ratios';

CREATE FUNCTION @extschema@.nb_explain(@extschema@.nb_model, text[])
RETURNS TABLE (feature text, contribution double precision)
    AS 'MODULE_PATHNAME', 'cdp_nb_explain' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION @extschema@.nb_explain(@extschema@.nb_model, text[]) IS 'Per-feature contributions to the log-odds, "(prior)" first; they add up to ln(p / (1 - p)) of nb_predict';

-- Win model from closed opportunities -------------------------------------------

-- STABLE: reads the account of the opportunity.
CREATE FUNCTION @extschema@.opportunity_features(o @extschema@.opportunity) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['source=' OPERATOR(pg_catalog.||) o.source,
                 'industry=' OPERATOR(pg_catalog.||) a.industry,
                 'segment=' OPERATOR(pg_catalog.||) a.segment,
                 'tier=' OPERATOR(pg_catalog.||) a.tier,
                 'province=' OPERATOR(pg_catalog.||) a.province,
                 'employees=' OPERATOR(pg_catalog.||) a.employees::text,
                 'amount=' OPERATOR(pg_catalog.||) o.amount::text,
                 'referred=' OPERATOR(pg_catalog.||) (o.referred_by IS NOT NULL)::text,
                 'competitor=' OPERATOR(pg_catalog.||) (o.competitor IS NOT NULL)::text,
                 'campaign=' OPERATOR(pg_catalog.||) (o.campaign_id IS NOT NULL)::text]
      FROM @extschema@.account a
     WHERE a.account_id OPERATOR(pg_catalog.=) o.account_id
$$;
COMMENT ON FUNCTION @extschema@.opportunity_features(@extschema@.opportunity) IS 'Feature vector of an opportunity for the win model: source, account industry, segment, tier, province, employees and amount (binned), referred, competitor known, campaign attributed';

CREATE TABLE @extschema@.win_model (
    model text PRIMARY KEY CHECK (model <> ''),
    nb @extschema@.nb_model NOT NULL,
    won bigint NOT NULL CHECK (won >= 0),
    lost bigint NOT NULL CHECK (lost >= 0),
    trained_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.win_model IS 'Predicted win probability models (赢单预测模型), retrained from closed opportunities by cdp.retrain_win_model';
COMMENT ON COLUMN @extschema@.win_model.model IS 'Model name; "default" unless you keep several';
COMMENT ON COLUMN @extschema@.win_model.nb IS 'The naive Bayes frequency tables';
COMMENT ON COLUMN @extschema@.win_model.won IS 'Won opportunities it was trained on';
COMMENT ON COLUMN @extschema@.win_model.lost IS 'Lost opportunities it was trained on';
COMMENT ON COLUMN @extschema@.win_model.trained_at IS 'When it was trained';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.win_model', '');

-- VOLATILE: writes cdp.win_model.
CREATE FUNCTION @extschema@.retrain_win_model(model text DEFAULT 'default') RETURNS @extschema@.win_model
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r @extschema@.win_model;
BEGIN
    SELECT retrain_win_model.model,
           @extschema@.nb_train(@extschema@.opportunity_features(o), o.stage OPERATOR(pg_catalog.=) 'won'),
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'),
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'lost'),
           pg_catalog.now()
      INTO r
      FROM @extschema@.opportunity o
     WHERE o.stage OPERATOR(pg_catalog.=) ANY (ARRAY['won', 'lost']);
    IF r.nb IS NULL THEN
        RAISE EXCEPTION 'no closed opportunity to train on'
            USING ERRCODE = 'P0002',
                  HINT = 'The win model learns from opportunities in stage won or lost.';
    END IF;
    INSERT INTO @extschema@.win_model AS w (model, nb, won, lost, trained_at)
    VALUES (r.model, r.nb, r.won, r.lost, r.trained_at)
    ON CONFLICT ON CONSTRAINT win_model_pkey
    DO UPDATE SET nb = excluded.nb, won = excluded.won, lost = excluded.lost, trained_at = excluded.trained_at;
    RETURN r;
END
$$;
COMMENT ON FUNCTION @extschema@.retrain_win_model(text) IS 'Trains the win model from the opportunities in stage won or lost (features from cdp.opportunity_features) and stores it in cdp.win_model';

-- STABLE: reads the model and the opportunity.
CREATE FUNCTION @extschema@.win_probability(opportunity_id bigint, model text DEFAULT 'default') RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT @extschema@.nb_predict(w.nb, @extschema@.opportunity_features(o))
      FROM @extschema@.opportunity o, @extschema@.win_model w
     WHERE o.opportunity_id OPERATOR(pg_catalog.=) win_probability.opportunity_id
       AND w.model OPERATOR(pg_catalog.=) win_probability.model
$$;
COMMENT ON FUNCTION @extschema@.win_probability(bigint, text) IS 'Predicted probability that an opportunity is won, from cdp.win_model; NULL when the opportunity or the model does not exist';
