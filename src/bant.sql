\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- bant.sql: the cdp.bant type (Budget, Authority, Need, Timeline,
-- Competition), its constructor, accessors, jsonb casts, the qualification
-- rule, and the lead column that holds it.  The fit score (bant_score) and
-- its weights live in scoring.sql.

CREATE TYPE @extschema@.bant;

CREATE FUNCTION @extschema@.bant_in(cstring) RETURNS @extschema@.bant
    AS 'MODULE_PATHNAME', 'cdp_bant_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_in(cstring) IS 'Text input of cdp.bant; malformed literals raise 22P02 naming the part at fault';
CREATE FUNCTION @extschema@.bant_out(@extschema@.bant) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_bant_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_out(@extschema@.bant) IS 'Text output of cdp.bant: every part, in order; reads back to the same value';
CREATE FUNCTION @extschema@.bant_recv(internal) RETURNS @extschema@.bant
    AS 'MODULE_PATHNAME', 'cdp_bant_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_recv(internal) IS 'Binary input of cdp.bant, validated as strictly as text input';
CREATE FUNCTION @extschema@.bant_send(@extschema@.bant) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_bant_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_send(@extschema@.bant) IS 'Binary output of cdp.bant';

CREATE TYPE @extschema@.bant (
    INPUT = @extschema@.bant_in,
    OUTPUT = @extschema@.bant_out,
    RECEIVE = @extschema@.bant_recv,
    SEND = @extschema@.bant_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE @extschema@.bant IS 'BANT qualification (Budget, Authority, Need, Timeline, Competition), e.g. (budget=allocated:50000, authority=decision_maker, need=identified, timeline=within_year:2027-03-31, competition=contested)';

-- Not STRICT: a NULL level is unknown, a NULL amount or date is absent.
CREATE FUNCTION @extschema@.bant(
    budget text DEFAULT 'unknown',
    authority text DEFAULT 'unknown',
    need text DEFAULT 'unknown',
    timeline text DEFAULT 'unknown',
    competition text DEFAULT 'unknown',
    budget_amount double precision DEFAULT NULL,
    decision_date date DEFAULT NULL)
RETURNS @extschema@.bant
    AS 'MODULE_PATHNAME', 'cdp_bant_make' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant(text, text, text, text, text, double precision, date) IS 'Builds a cdp.bant from level names (NULL or omitted = unknown), an optional budget amount and an optional expected decision date';

-- internal helper of the accessors: level name by dimension number
CREATE FUNCTION @extschema@.bant_level(@extschema@.bant, integer) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_bant_level' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_level(@extschema@.bant, integer) IS 'Level name of dimension 0..4 (budget, authority, need, timeline, competition); the named accessors are easier to read';

CREATE FUNCTION @extschema@.bant_budget(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 0);
COMMENT ON FUNCTION @extschema@.bant_budget(@extschema@.bant) IS 'Budget level: none, unknown, exploring, allocated, approved';
CREATE FUNCTION @extschema@.bant_authority(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 1);
COMMENT ON FUNCTION @extschema@.bant_authority(@extschema@.bant) IS 'Authority level: none, unknown, user, influencer, decision_maker';
CREATE FUNCTION @extschema@.bant_need(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 2);
COMMENT ON FUNCTION @extschema@.bant_need(@extschema@.bant) IS 'Need level: none, unknown, latent, identified, critical';
CREATE FUNCTION @extschema@.bant_timeline(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 3);
COMMENT ON FUNCTION @extschema@.bant_timeline(@extschema@.bant) IS 'Timeline level: none, unknown, long_term, within_year, within_quarter';
CREATE FUNCTION @extschema@.bant_competition(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 4);
COMMENT ON FUNCTION @extschema@.bant_competition(@extschema@.bant) IS 'Competition level: entrenched, unknown, contested, preferred, exclusive';

CREATE FUNCTION @extschema@.bant_rank(@extschema@.bant, dimension text) RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_bant_rank' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_rank(@extschema@.bant, text) IS 'Position of a dimension''s level in its ordered set: 0 worst known answer, 1 unknown, 4 best';
CREATE FUNCTION @extschema@.bant_budget_amount(@extschema@.bant) RETURNS double precision
    AS 'MODULE_PATHNAME', 'cdp_bant_budget_amount' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_budget_amount(@extschema@.bant) IS 'Budget amount, NULL when none was given';
CREATE FUNCTION @extschema@.bant_decision_date(@extschema@.bant) RETURNS date
    AS 'MODULE_PATHNAME', 'cdp_bant_decision_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_decision_date(@extschema@.bant) IS 'Expected decision date, NULL when none was given';

CREATE FUNCTION @extschema@.bant_qualified(@extschema@.bant) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_bant_qualified' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_qualified(@extschema@.bant) IS 'Qualified (合格) when need is identified or critical, at least two of budget >= allocated, authority >= influencer, timeline >= within_year hold, and none of budget, authority, need, timeline is "none"';

-- jsonb casts --------------------------------------------------------------

CREATE FUNCTION @extschema@.bant_to_jsonb(b @extschema@.bant) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'budget', @extschema@.bant_level(b, 0),
        'budget_amount', @extschema@.bant_budget_amount(b),
        'authority', @extschema@.bant_level(b, 1),
        'need', @extschema@.bant_level(b, 2),
        'timeline', @extschema@.bant_level(b, 3),
        'decision_date', @extschema@.bant_decision_date(b),
        'competition', @extschema@.bant_level(b, 4)));
COMMENT ON FUNCTION @extschema@.bant_to_jsonb(@extschema@.bant) IS 'cdp.bant as a jsonb object with keys budget, budget_amount, authority, need, timeline, decision_date, competition (absent amount and date left out)';

CREATE FUNCTION @extschema@.bant_from_jsonb(j jsonb) RETURNS @extschema@.bant
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
BEGIN
    IF pg_catalog.jsonb_typeof(j) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'invalid input syntax for type cdp.bant: %', j
            USING ERRCODE = '22P02',
                  DETAIL = 'A cdp.bant in jsonb is an object.',
                  HINT = 'Keys: budget, budget_amount, authority, need, timeline, decision_date, competition.';
    END IF;
    SELECT k INTO bad FROM pg_catalog.jsonb_object_keys(j) AS k
     WHERE k OPERATOR(pg_catalog.<>) ALL (ARRAY['budget', 'budget_amount', 'authority', 'need',
                                              'timeline', 'decision_date', 'competition'])
     ORDER BY k LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'invalid input syntax for type cdp.bant: %', j
            USING ERRCODE = '22P02',
                  DETAIL = pg_catalog.format('Unknown key "%s".', bad),
                  HINT = 'Keys: budget, budget_amount, authority, need, timeline, decision_date, competition.';
    END IF;
    RETURN @extschema@.bant(
        budget => j OPERATOR(pg_catalog.->>) 'budget',
        authority => j OPERATOR(pg_catalog.->>) 'authority',
        need => j OPERATOR(pg_catalog.->>) 'need',
        timeline => j OPERATOR(pg_catalog.->>) 'timeline',
        competition => j OPERATOR(pg_catalog.->>) 'competition',
        budget_amount => (j OPERATOR(pg_catalog.->>) 'budget_amount')::double precision,
        decision_date => (j OPERATOR(pg_catalog.->>) 'decision_date')::date);
END
$$;
COMMENT ON FUNCTION @extschema@.bant_from_jsonb(jsonb) IS 'cdp.bant from a jsonb object as bant_to_jsonb writes it; missing keys mean unknown, unknown keys raise 22P02';

CREATE CAST (@extschema@.bant AS jsonb) WITH FUNCTION @extschema@.bant_to_jsonb(@extschema@.bant);
CREATE CAST (jsonb AS @extschema@.bant) WITH FUNCTION @extschema@.bant_from_jsonb(jsonb);

-- the lead's qualification -------------------------------------------------

ALTER TABLE @extschema@.lead ADD COLUMN bant @extschema@.bant;
COMMENT ON COLUMN @extschema@.lead.bant IS 'BANT qualification (预算/决策权/需求/时间/竞争) as sales recorded it; NULL scores as all unknown';
