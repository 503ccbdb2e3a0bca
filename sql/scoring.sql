-- scoring: engagement with decay, score_leads (score-driven lifecycle
-- moves), and the naive Bayes win model (nb_train, nb_merge, nb_predict,
-- nb_explain, cdp.nb_model I/O, cdp.win_model).
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET timezone = 'UTC';

-- Engagement with decay ----------------------------------------------------------

-- two events: one half-life ago and two half-lives ago: 10/2 + 4/4 = 6
SELECT cdp.engagement_score(p, t, '1 day', '2026-01-10')
  FROM (VALUES (10.0::float8, '2026-01-09'::timestamptz), (4, '2026-01-08')) v(p, t);
-- an event after as_of has not happened yet; one exactly at as_of counts fully
SELECT cdp.engagement_score(p, t, '1 day', '2026-01-10')
  FROM (VALUES (10.0::float8, '2026-01-10'::timestamptz), (100, '2026-01-11')) v(p, t);
-- no rows, and rows with NULL arguments (skipped): 0
SELECT cdp.engagement_score(p, t, '1 day', '2026-01-10') FROM (SELECT 1.0::float8 p, now() t WHERE false) s;
SELECT cdp.engagement_score(p, t, h, '2026-01-10')
  FROM (VALUES (NULL::float8, '2026-01-09'::timestamptz, '1 day'::interval), (5, NULL, '1 day'), (5, '2026-01-09', NULL)) v(p, t, h);
-- months and years convert as extract(epoch ...) does: a 1-year half-life
-- halves over 365.25 days
SELECT cdp.engagement_score(8, '2025-01-01 00:00', '1 year', '2025-01-01 00:00'::timestamptz + interval '365.25 days');
-- half-life must be positive: 22023
SELECT cdp.engagement_score(1, '2026-01-01', '0 days', '2026-01-02');
SELECT cdp.engagement_score(1, '2026-01-01', '-1 day', '2026-01-02');
-- points must be finite, times finite: 22023
SELECT cdp.engagement_score('NaN', '2026-01-01', '1 day', '2026-01-02');
SELECT cdp.engagement_score(1, '-infinity', '1 day', '2026-01-02');
-- half_life and as_of must not change within a group: 22023
SELECT cdp.engagement_score(1, '2026-01-01', h, '2026-01-02')
  FROM (VALUES ('1 day'::interval), ('2 days')) v(h);
-- a hand-made state is checked: 22023
SELECT cdp.engagement_score_final('{1,2,3}');
SELECT cdp.engagement_score_final('{1,2,3,NaN,5}');

-- against the closed form, 200 000 seeded events over 5 000 entities, serial
-- and in a forced parallel plan: the largest relative difference
SELECT setseed(0.17);
CREATE TABLE ev AS
SELECT (random() * 5000)::int AS entity,
       (random() * 100 - 10)::float8 AS points,
       '2026-06-30'::timestamptz - random() * interval '400 days' AS occurred_at
  FROM generate_series(1, 200000);
ANALYZE ev;
CREATE TABLE closed AS
SELECT entity,
       sum(points * power(0.5, extract(epoch FROM '2026-07-01'::timestamptz - occurred_at) / extract(epoch FROM interval '45 days'))) AS s
  FROM ev GROUP BY entity;
SELECT max(abs(e.s - c.s) / greatest(abs(c.s), 1)) < 1e-12 AS serial_exact
  FROM (SELECT entity, cdp.engagement_score(points, occurred_at, '45 days', '2026-07-01') s FROM ev GROUP BY entity) e
  JOIN closed c USING (entity);
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT cdp.engagement_score(points, occurred_at, '45 days', '2026-07-01') FROM ev;
SELECT abs(cdp.engagement_score(points, occurred_at, '45 days', '2026-07-01') - (SELECT sum(s) FROM closed))
       / (SELECT abs(sum(s)) FROM closed) < 1e-12 AS parallel_exact
  FROM ev;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- score_leads ------------------------------------------------------------------------

-- the history of one lead
CREATE FUNCTION hist(k bigint) RETURNS TABLE (stage text, previous_stage text, reason text)
LANGUAGE sql AS $$
    SELECT h.stage, h.previous_stage, h.reason FROM cdp.stage_history h
     WHERE h.entity = 'cdp.lead'::regclass AND h.entity_key = k::text
     ORDER BY h.entered_at, h.history_id
$$;

INSERT INTO cdp.lead (company_name, bant, owner, stage, converted_at) VALUES
    ('hot, owned',        '(budget=approved, authority=decision_maker, need=critical, timeline=within_quarter)', 'alice', 'lead', NULL),
    ('hot, no owner',     '(budget=approved, authority=decision_maker, need=critical, timeline=within_quarter)', NULL, 'lead', NULL),
    ('warm prospect',     '(budget=allocated, authority=influencer, need=identified)', NULL, 'prospect', NULL),
    ('no bant',           NULL, NULL, 'lead', NULL),
    ('already sql',       '()', 'bob', 'sql', NULL),
    ('hot opportunity',   '(budget=approved, authority=decision_maker, need=critical, timeline=within_quarter)', 'bob', 'opportunity', NULL),
    ('hot disqualified',  '(budget=approved, authority=decision_maker, need=critical, timeline=within_quarter)', 'bob', 'disqualified', NULL),
    ('hot converted',     '(budget=approved, authority=decision_maker, need=critical, timeline=within_quarter)', 'bob', 'lead', now());
-- a demo yesterday and a meeting a month ago for every lead; an unlisted kind
-- is worth 0, the points column wins over the model's weights
INSERT INTO cdp.touchpoint (lead_id, channel, direction, kind, occurred_at)
SELECT lead_id, 'web', 'inbound', 'demo', now() - interval '1 day' FROM cdp.lead;
INSERT INTO cdp.touchpoint (lead_id, channel, direction, kind, occurred_at)
SELECT lead_id, 'visit', 'outbound', 'meeting', now() - interval '30 days' FROM cdp.lead;
INSERT INTO cdp.touchpoint (lead_id, channel, direction, kind, occurred_at)
SELECT lead_id, 'web', 'inbound', 'tweet_like', now() FROM cdp.lead;
INSERT INTO cdp.touchpoint (lead_id, channel, direction, kind, occurred_at, points)
SELECT lead_id, 'web', 'inbound', 'demo', now(), 0 FROM cdp.lead;

SELECT * FROM cdp.score_leads();
-- fit from BANT (NULL scores as all unknown), engagement 30 * 2^(-1/30) +
-- 25 / 2 = 41.815, combined 0.6 * fit + 0.4 * engagement (saturating at 100)
SELECT company_name, stage, fit_score, round(engagement_score::numeric, 3) AS engagement, score, scored_at IS NOT NULL AS scored
  FROM cdp.lead ORDER BY lead_id;
-- every automatic move is in the history with reason "score"
SELECT l.company_name, h.* FROM cdp.lead l, hist(l.lead_id) h
 WHERE h.reason IS NOT NULL ORDER BY l.lead_id;
-- the caller's cdp.stage_reason is left as it was
BEGIN;
SET LOCAL cdp.stage_reason = 'mine';
SELECT * FROM cdp.score_leads();
SELECT current_setting('cdp.stage_reason');
COMMIT;
-- nothing moves twice, nothing moves back when scores fall
UPDATE cdp.lead SET bant = '(budget=none, authority=none, need=none, timeline=none)';
DELETE FROM cdp.touchpoint;
SELECT * FROM cdp.score_leads();
SELECT company_name, stage, score FROM cdp.lead ORDER BY lead_id;
-- an owner arrives: the mql lead moves on to sql once its score is back up
UPDATE cdp.lead SET owner = 'carol',
       bant = '(budget=approved, authority=decision_maker, need=critical, timeline=within_quarter)'
 WHERE company_name = 'hot, no owner';
INSERT INTO cdp.touchpoint (lead_id, channel, direction, kind, occurred_at, points)
SELECT lead_id, 'visit', 'outbound', 'meeting', now(), 100 FROM cdp.lead WHERE company_name = 'hot, no owner';
SELECT * FROM cdp.score_leads(only_changed => true);
SELECT h.* FROM cdp.lead l, hist(l.lead_id) h WHERE l.company_name = 'hot, no owner';
-- a model of one's own with a lower MQL threshold
INSERT INTO cdp.scoring_model (model, mql_threshold, sql_threshold) VALUES ('eager', 1, 90);
SELECT * FROM cdp.score_leads('eager');
SELECT company_name, stage FROM cdp.lead WHERE company_name = 'no bant';
-- unknown model: 22023
SELECT * FROM cdp.score_leads('nope');

-- Naive Bayes ------------------------------------------------------------------------------

-- a seeded training set: source and industry matter, size is numeric
SELECT setseed(0.23);
CREATE TABLE deals AS
SELECT i,
       ARRAY['source=' || src, 'industry=' || ind, 'employees=' || emp::text] AS f,
       random() < 0.1 + 0.5 * (src = 'referral')::int + 0.2 * (ind = 'retail')::int
                      + 0.15 * (emp > 500)::int AS won
  FROM (SELECT i,
               (ARRAY['web', 'event', 'referral', 'ads'])[1 + (random() * 3.999)::int % 4] AS src,
               (ARRAY['retail', 'energy', 'finance'])[1 + (random() * 2.999)::int % 3] AS ind,
               (random() * random() * 3000)::int AS emp
          FROM generate_series(1, 20000) i) s;
ANALYZE deals;
CREATE TABLE m AS SELECT cdp.nb_train(f, won) AS nb FROM deals;
SELECT cdp.nb_model_info(nb) FROM m;

-- predictions follow the data
SELECT round(cdp.nb_predict(nb, ARRAY['source=referral', 'industry=retail', 'employees=900'])::numeric, 3) AS best,
       round(cdp.nb_predict(nb, ARRAY['source=ads', 'industry=energy', 'employees=20'])::numeric, 3) AS worst,
       round(cdp.nb_predict(nb, ARRAY[]::text[])::numeric, 3) AS prior_only,
       round((SELECT avg(won::int) FROM deals)::numeric, 3) AS won_rate
  FROM m;
-- nb_explain: prior first, then one row per element; they add up to the
-- log-odds of nb_predict.  Unseen value: smoothed; unknown feature: 0;
-- NULL element: skipped; bare value: named by position.
SELECT e.feature, round(e.contribution::numeric, 4) AS contribution
  FROM m, cdp.nb_explain(nb, ARRAY['source=referral', 'industry=mining', 'colour=red', NULL, 'x']) e;
SELECT abs(sum(e.contribution) - ln(p / (1 - p))) < 1e-12 AS adds_up
  FROM m, cdp.nb_predict(nb, ARRAY['source=referral', 'industry=mining', 'employees=1e3']) p,
       cdp.nb_explain(nb, ARRAY['source=referral', 'industry=mining', 'employees=1e3']) e
 GROUP BY p;
-- numeric binning: two bins per doubling of 1 + |x|; 900 and 1000 share bin
-- 19, 1e3 is the same number, 2000 is in bin 21, -900 in its own bin
SELECT v, cdp.nb_predict(nb, ARRAY['employees=' || v]) = cdp.nb_predict(nb, ARRAY['employees=900']) AS same_as_900
  FROM m, unnest(ARRAY['900', '1000', '1e3', '1000.0', '2000', '-900', '0900']) v;
-- the AUC on the training data, as a sanity check of the ranking
WITH s AS (SELECT won, cdp.nb_predict(nb, f) p FROM deals, m),
     r AS (SELECT won, rank() OVER (ORDER BY p) AS rk FROM s)
SELECT round(((sum(rk) FILTER (WHERE won) - count(*) FILTER (WHERE won) * (count(*) FILTER (WHERE won) + 1) / 2.0)
       / (count(*) FILTER (WHERE won) * count(*) FILTER (WHERE NOT won)))::numeric, 2) > 0.7 AS auc_above_0_7
  FROM r;

-- NULL handling: NULL label rows skipped, NULL features count for the prior
SELECT cdp.nb_model_info(cdp.nb_train(f, w))
  FROM (VALUES (ARRAY['a=1'], true), (NULL, false), (ARRAY['a=2'], NULL), (ARRAY[NULL, 'b=x'], false)) v(f, w);
-- no rows: NULL
SELECT cdp.nb_train(f, won) IS NULL AS no_model FROM deals WHERE false;
SELECT cdp.nb_predict(NULL, ARRAY['a']), cdp.nb_predict(nb, NULL) FROM m;
-- bad feature arrays: 22023 (feature twice, empty name), 2202E (2-D array)
SELECT cdp.nb_train(ARRAY['a=1', 'a=2'], true);
-- also far apart in a long row
SELECT cdp.nb_train(array_append((SELECT array_agg('f' || i || '=1') FROM generate_series(1, 100) i), 'f90=2'), true);
SELECT cdp.nb_train(ARRAY['=1'], true);
SELECT cdp.nb_train(ARRAY[['a=1'], ['b=2']], true);
SELECT cdp.nb_predict(nb, ARRAY[['a=1'], ['b=2']]) FROM m;

-- parallel training equals serial training, and models merge
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT cdp.nb_train(f, won) FROM deals;
SELECT cdp.nb_train(f, won)::text = (SELECT nb::text FROM m) AS parallel_equals_serial FROM deals;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT cdp.nb_merge(part)::text = (SELECT nb::text FROM m) AS merge_equals_whole
  FROM (SELECT cdp.nb_train(f, won) AS part FROM deals GROUP BY i % 7) s;

-- text and binary I/O
SELECT nb::text::cdp.nb_model::text = nb::text AS text_round_trip FROM m;
CREATE TABLE mt (id int, nb cdp.nb_model);
INSERT INTO mt SELECT 1, nb FROM m;
INSERT INTO mt VALUES (2, NULL);
INSERT INTO mt SELECT 3, cdp.nb_train(ARRAY['city=北京', 'n=5'], true);
\copy mt TO 'results/nb_model.bin' (FORMAT binary)
CREATE TABLE mt2 (LIKE mt);
\copy mt2 FROM 'results/nb_model.bin' (FORMAT binary)
SELECT id, mt.nb::text IS NOT DISTINCT FROM mt2.nb::text AS same FROM mt JOIN mt2 USING (id) ORDER BY id;
-- malformed text: 22P02
SELECT 'xyz'::cdp.nb_model;
SELECT '01'::cdp.nb_model;
SELECT ''::cdp.nb_model;
-- the small model's text, then tampered copies: version, a count, order
SELECT nb::text AS small FROM mt WHERE id = 3 \gset
SELECT :'small';
SELECT ('02' || substr(:'small', 3))::cdp.nb_model;
SELECT (substr(:'small', 1, 8) || '00000009' || substr(:'small', 17))::cdp.nb_model;
SELECT (substr(:'small', 1, 12) || 'ff' || substr(:'small', 15))::cdp.nb_model;
SELECT (:'small' || '00')::cdp.nb_model;
SELECT substr(:'small', 1, length(:'small') - 2)::cdp.nb_model;
-- binary receive checks the same: through a hand-made binary COPY file
CREATE TABLE mt3 (nb cdp.nb_model);
CREATE FUNCTION recv(payload bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    o oid;
    d text;
BEGIN
    o := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                          || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
    PERFORM lo_export(o, 'cdp_recv_test.bin');
    PERFORM lo_unlink(o);
    TRUNCATE mt3;
    COPY mt3 FROM 'cdp_recv_test.bin' (FORMAT binary);
    RETURN (SELECT cdp.nb_model_info(nb)::text FROM mt3);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || ' / ' || d;
END $$;
SELECT recv(decode(:'small', 'hex'));
SELECT recv(set_byte(decode(:'small', 'hex'), 0, 2));
SELECT recv(substr(decode(:'small', 'hex'), 1, 40));
-- rows won set to 0 while a feature still counts one won row (bytes 8..15
-- hold the rows won)
SELECT recv(set_byte(decode(:'small', 'hex'), 15, 0));
-- the last value's won count set to 0 (it ends 8 bytes before the string
-- pool of 14 bytes): a value seen by no row
SELECT recv(set_byte(decode(:'small', 'hex'), length(decode(:'small', 'hex')) - 23, 0));

-- Win model from closed opportunities ----------------------------------------------------

-- no closed opportunity yet: P0002
SELECT cdp.retrain_win_model();
INSERT INTO cdp.account (name, industry, segment, tier, province, employees)
SELECT 'Account ' || i, (ARRAY['retail', 'energy'])[1 + i % 2], 'big_b', 'standard', 'Guangdong', 100 * i
  FROM generate_series(1, 10) i;
INSERT INTO cdp.opportunity (account_id, amount, source, owner, stage, lost_reason)
SELECT a.account_id, 1000 * a.account_id, (ARRAY['referral', 'web'])[1 + a.account_id::int % 2], 'alice',
       'discovery', CASE WHEN a.account_id % 3 = 0 THEN 'price' END
  FROM cdp.account a;
UPDATE cdp.opportunity SET stage = CASE WHEN lost_reason IS NULL THEN 'won' ELSE 'lost' END
 WHERE opportunity_id <= 8;
SELECT model, won, lost FROM cdp.retrain_win_model();
SELECT model, won, lost, cdp.nb_model_info(nb) -> 'features' -> 'source' AS source FROM cdp.win_model;
SELECT opportunity_id, stage, round(cdp.win_probability(opportunity_id)::numeric, 3) AS p
  FROM cdp.opportunity ORDER BY opportunity_id;
-- retraining replaces the model; no such model or opportunity: NULL
SELECT won, lost FROM cdp.retrain_win_model();
SELECT count(*) FROM cdp.win_model;
SELECT cdp.win_probability(1, 'nope'), cdp.win_probability(-1);

DROP TABLE ev, closed, deals, m, mt, mt2, mt3;
DROP FUNCTION hist(bigint), recv(bytea);
DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
