-- bant: the cdp.bant type (literals, round trips, binary I/O, constructor,
-- accessors, jsonb casts), bant_qualified, bant_score and its monotonicity.
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;
\set SHOW_CONTEXT never

-- runs a statement and reports its SQLSTATE instead of failing the script
CREATE FUNCTION try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Literals -----------------------------------------------------------------

-- full form, amount and decision date
SELECT '(budget=allocated:50000, authority=decision_maker, need=identified, timeline=within_year:2027-03-31, competition=contested)'::cdp.bant;
-- empty: everything unknown
SELECT '()'::cdp.bant;
-- any order, omitted parts unknown, free whitespace
SELECT '  ( competition = exclusive ,need=critical )  '::cdp.bant;
-- amounts: shortest exact decimal, exponent accepted, zero allowed
SELECT '(budget=approved:1.5e6)'::cdp.bant, '(budget=exploring:0.1)'::cdp.bant, '(budget=unknown:0)'::cdp.bant;
-- the date does not follow DateStyle
SET datestyle = 'SQL, DMY';
SELECT '(timeline=within_quarter:2026-12-01)'::cdp.bant;
RESET datestyle;

-- text round trip is exact over every level of every dimension, with and
-- without amount and date
WITH lv AS (
    SELECT b, a, n, t, c
      FROM unnest(ARRAY['none','unknown','exploring','allocated','approved']) b,
           unnest(ARRAY['none','unknown','user','influencer','decision_maker']) a,
           unnest(ARRAY['none','unknown','latent','identified','critical']) n,
           unnest(ARRAY['none','unknown','long_term','within_year','within_quarter']) t,
           unnest(ARRAY['entrenched','unknown','contested','preferred','exclusive']) c
), v AS (
    SELECT format('(budget=%s%s, authority=%s, need=%s, timeline=%s%s, competition=%s)',
                  b, CASE WHEN b <> 'none' THEN ':' || (length(a) * 1234.5 / length(c))::float8::text ELSE '' END,
                  a, n, t, CASE WHEN t <> 'none' THEN ':' || to_char(date '2027-01-01' + 31 * length(c) + length(n), 'YYYY-MM-DD') ELSE '' END,
                  c) AS lit
      FROM lv
)
SELECT count(*) AS literals, count(*) FILTER (WHERE lit::cdp.bant::text = lit) AS round_trips
  FROM v;

-- Bad literals: 22P02 naming the part, hints listing accepted values
-- not a level of that dimension
SELECT '(budget=lots)'::cdp.bant;
-- a level of another dimension
SELECT '(authority=critical)'::cdp.bant;
-- levels are case-sensitive
SELECT '(need=Critical)'::cdp.bant;
-- unknown part
SELECT '(budgit=none)'::cdp.bant;
-- part given twice
SELECT '(need=latent, need=critical)'::cdp.bant;
-- no parentheses
SELECT 'budget=approved'::cdp.bant;
-- missing "="
SELECT '(budget approved)'::cdp.bant;
-- missing close
SELECT '(budget=approved'::cdp.bant;
-- junk after the close
SELECT '(budget=approved) x'::cdp.bant;
-- bad amounts: negative, not a number, infinite, empty
SELECT '(budget=approved:-5)'::cdp.bant;
SELECT '(budget=approved:lots)'::cdp.bant;
SELECT '(budget=approved:1e999)'::cdp.bant;
SELECT '(budget=approved:)'::cdp.bant;
-- an amount on "none" budget contradicts itself
SELECT '(budget=none:5)'::cdp.bant;
-- bad dates: no such day, not ISO, a date on "none" timeline
SELECT '(timeline=long_term:2027-02-30)'::cdp.bant;
SELECT '(timeline=long_term:31/12/2027)'::cdp.bant;
SELECT '(timeline=none:2027-01-01)'::cdp.bant;
-- only budget and timeline take a ":" value
SELECT '(need=critical:5)'::cdp.bant;
-- empty string
SELECT ''::cdp.bant;

-- Constructor ----------------------------------------------------------------

SELECT cdp.bant(budget => 'approved', authority => 'decision_maker', need => 'critical',
                timeline => 'within_quarter', competition => 'preferred',
                budget_amount => 250000, decision_date => '2027-01-05');
-- omitted and NULL levels are unknown
SELECT cdp.bant(), cdp.bant(need => NULL, budget => 'exploring');
-- bad level name: 22P02 with the accepted values
SELECT cdp.bant(timeline => 'soon');
-- negative amount: 22023 (a bad argument, not a bad literal)
SELECT cdp.bant(budget => 'allocated', budget_amount => -1);
-- infinite amount and date
SELECT cdp.bant(budget => 'allocated', budget_amount => 'infinity');
SELECT cdp.bant(timeline => 'within_year', decision_date => 'infinity');
-- a date the text form could not write (five-digit year): refused, so the
-- text form always round-trips
SELECT cdp.bant(timeline => 'within_year', decision_date => '10000-01-01');

-- Accessors ----------------------------------------------------------------------

SELECT cdp.bant_budget(b), cdp.bant_authority(b), cdp.bant_need(b), cdp.bant_timeline(b),
       cdp.bant_competition(b), cdp.bant_budget_amount(b), cdp.bant_decision_date(b),
       cdp.bant_rank(b, 'need') AS need_rank, cdp.bant_rank(b, 'competition') AS competition_rank
  FROM (SELECT '(budget=allocated:99.5, authority=user, need=critical, timeline=within_year:2027-03-31, competition=entrenched)'::cdp.bant AS b) s;
-- absent amount and date are NULL; NULL in, NULL out
SELECT cdp.bant_budget_amount('()'), cdp.bant_decision_date('()'), cdp.bant_need(NULL);
-- unknown dimension name: 22023
SELECT cdp.bant_rank('()', 'price');

-- jsonb casts ----------------------------------------------------------------------

SELECT '(budget=allocated:50000, timeline=within_year:2027-03-31)'::cdp.bant::jsonb;
SELECT '{"need": "critical", "budget": "approved", "budget_amount": 12.5, "decision_date": "2027-06-30", "timeline": "within_year"}'::jsonb::cdp.bant;
-- round trip through jsonb
SELECT b::jsonb::cdp.bant::text = b::text AS same
  FROM (SELECT '(budget=approved:1e-3, authority=influencer, need=latent, timeline=long_term:2030-01-01, competition=preferred)'::cdp.bant b) s;
-- unknown key: 22P02
SELECT '{"nee": "critical"}'::jsonb::cdp.bant;
-- not an object: 22P02
SELECT '[1]'::jsonb::cdp.bant;
-- bad level inside: 22P02
SELECT '{"need": "desperate"}'::jsonb::cdp.bant;

-- Binary I/O ----------------------------------------------------------------------

CREATE TABLE bt (id int, b cdp.bant);
INSERT INTO bt VALUES
    (1, '(budget=allocated:50000, authority=decision_maker, need=identified, timeline=within_year:2027-03-31, competition=contested)'),
    (2, '()'),
    (3, '(budget=approved:0.1)'),
    (4, '(timeline=within_quarter:1999-12-31)'),
    (5, NULL);
\copy bt TO 'results/bant.bin' (FORMAT binary)
CREATE TABLE bt2 (LIKE bt);
\copy bt2 FROM 'results/bant.bin' (FORMAT binary)
SELECT bt.id, bt.b::text IS NOT DISTINCT FROM bt2.b::text AS same
  FROM bt JOIN bt2 USING (id) ORDER BY id;
-- receive checks what input checks.  recv(bytes) writes a one-row binary
-- COPY file holding the given bytes as the value (server side, relative to
-- the data directory) and loads it, reporting the value or the SQLSTATE.
CREATE TABLE bt3 (b cdp.bant);
CREATE FUNCTION recv(payload bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    o oid;
BEGIN
    o := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                          || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
    PERFORM lo_export(o, 'cdp_recv_test.bin');
    PERFORM lo_unlink(o);
    TRUNCATE bt3;
    COPY bt3 FROM 'cdp_recv_test.bin' (FORMAT binary);
    RETURN (SELECT b::text FROM bt3);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- the bytes as sent: version 1, five levels, flags 3, amount, date
SELECT cdp.bant_send(b) AS sent FROM bt WHERE id = 1 \gset
SELECT :'sent'::bytea;
-- untouched: accepted
SELECT recv(:'sent');
-- version 2
SELECT recv(set_byte(:'sent', 0, 2));
-- level 5 of budget does not exist
SELECT recv(set_byte(:'sent', 1, 5));
-- unknown flag bit
SELECT recv(set_byte(:'sent', 6, 7));
-- flags say no amount and no date, but the bytes are there (trailing bytes)
SELECT recv(set_byte(:'sent', 6, 0));
-- truncated
SELECT recv(substr(:'sent'::bytea, 1, 10));
-- negative amount (sign bit of the float8)
SELECT recv(set_byte(:'sent', 7, get_byte(:'sent', 7) | 128));
-- NaN amount
SELECT recv(overlay(:'sent' placing '\x7ff8000000000000'::bytea from 8 for 8));
-- a decision date on timeline "none"
SELECT recv(set_byte(:'sent', 4, 0));
-- a date past the end of the date range
SELECT recv(overlay(:'sent' placing '\x7fffff00'::bytea from 16 for 4));

-- Qualification and fit score ------------------------------------------------------

-- the rule: need >= identified, two of budget >= allocated, authority >=
-- influencer, timeline >= within_year, and no "none" among B, A, N, T
SELECT b, cdp.bant_qualified(b::cdp.bant)
  FROM (VALUES ('(budget=allocated, authority=influencer, need=identified)'),
               ('(budget=allocated, timeline=within_year, need=critical)'),
               ('(budget=allocated, need=identified)'),
               ('(budget=approved, authority=decision_maker, timeline=within_quarter, need=latent)'),
               ('(budget=approved, authority=decision_maker, need=critical, timeline=none)'),
               ('(budget=approved, authority=decision_maker, need=critical, competition=entrenched)'),
               ('()')) v(b);

-- extremes of the default model, and the all-unknown value
SELECT cdp.bant_score('(budget=approved, authority=decision_maker, need=critical, timeline=within_quarter, competition=exclusive)') AS best,
       cdp.bant_score('(budget=none, authority=none, need=none, timeline=none, competition=entrenched)') AS worst,
       cdp.bant_score('()') AS all_unknown;
-- a model of one's own; weights count relative to their sum
INSERT INTO cdp.scoring_model (model, budget_weight, authority_weight, need_weight, timeline_weight, competition_weight)
VALUES ('need_only', 0, 0, 1, 0, 0);
SELECT cdp.bant_score('(need=critical)', 'need_only') AS critical,
       cdp.bant_score('(need=identified, budget=none)', 'need_only') AS identified;
-- unknown model: 22023
SELECT cdp.bant_score('()', 'nope');
-- NULL model: NULL
SELECT cdp.bant_score('()', NULL);
-- negative weights and all-zero weights are refused by the table (23514)
SELECT try($$INSERT INTO cdp.scoring_model (model, budget_weight) VALUES ('neg', -1)$$);
SELECT try($$INSERT INTO cdp.scoring_model (model, budget_weight, authority_weight, need_weight, timeline_weight, competition_weight) VALUES ('zero', 0, 0, 0, 0, 0)$$);

-- Monotonicity: over every value (5^5 level combinations) and every
-- dimension, raising that dimension by one level never lowers the score nor
-- unqualifies, for the default model and three models with seeded random
-- weights.
SELECT setseed(0.42);
INSERT INTO cdp.scoring_model (model, budget_weight, authority_weight, need_weight, timeline_weight, competition_weight)
SELECT 'random' || i, random() * 50, random() * 50, random() * 50, random() * 50, random() * 50
  FROM generate_series(1, 3) i;
CREATE TABLE lv (dim int, pos int, name text);
INSERT INTO lv
SELECT d, p - 1, (ARRAY[ARRAY['none','unknown','exploring','allocated','approved'],
                        ARRAY['none','unknown','user','influencer','decision_maker'],
                        ARRAY['none','unknown','latent','identified','critical'],
                        ARRAY['none','unknown','long_term','within_year','within_quarter'],
                        ARRAY['entrenched','unknown','contested','preferred','exclusive']])[d][p]
  FROM generate_series(1, 5) d, generate_series(1, 5) p;
CREATE TABLE allb AS
SELECT ARRAY[b.pos, a.pos, n.pos, t.pos, c.pos] AS pos,
       cdp.bant(b.name, a.name, n.name, t.name, c.name) AS v
  FROM lv b, lv a, lv n, lv t, lv c
 WHERE b.dim = 1 AND a.dim = 2 AND n.dim = 3 AND t.dim = 4 AND c.dim = 5;
SELECT count(*) AS values FROM allb;
-- each value paired with the value one level higher in one dimension
CREATE TABLE pairs AS
SELECT lo.v AS lo,
       cdp.bant((SELECT name FROM lv WHERE dim = 1 AND pos = lo.pos[1] + (d = 1)::int),
                (SELECT name FROM lv WHERE dim = 2 AND pos = lo.pos[2] + (d = 2)::int),
                (SELECT name FROM lv WHERE dim = 3 AND pos = lo.pos[3] + (d = 3)::int),
                (SELECT name FROM lv WHERE dim = 4 AND pos = lo.pos[4] + (d = 4)::int),
                (SELECT name FROM lv WHERE dim = 5 AND pos = lo.pos[5] + (d = 5)::int)) AS hi
  FROM allb lo, generate_series(1, 5) d
 WHERE lo.pos[d] < 4;
SELECT m.model, count(*) AS pairs,
       count(*) FILTER (WHERE cdp.bant_score(hi, m.model) < cdp.bant_score(lo, m.model)) AS score_drops,
       count(*) FILTER (WHERE cdp.bant_qualified(lo) AND NOT cdp.bant_qualified(hi)) AS unqualified,
       min(cdp.bant_score(lo, m.model)) AS min_score, max(cdp.bant_score(hi, m.model)) AS max_score
  FROM pairs, cdp.scoring_model m
 WHERE m.model IN ('default', 'random1', 'random2', 'random3')
 GROUP BY m.model ORDER BY m.model;

-- NULL and the lead column ------------------------------------------------------------

SELECT cdp.bant_qualified(NULL), cdp.bant_score(NULL);
SELECT col_description('cdp.lead'::regclass, attnum) IS NOT NULL AS commented
  FROM pg_attribute WHERE attrelid = 'cdp.lead'::regclass AND attname = 'bant';

DROP TABLE bt, bt2, bt3, allb, pairs, lv;
DROP FUNCTION try(text), recv(bytea);
DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
