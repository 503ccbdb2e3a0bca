-- demo/50_scoring.sql: qualification and scoring on the demo data set.
--
-- Records BANT answers for the demo leads (as sales would after a first
-- call), gives some of them recent web activity, runs cdp.score_leads() and
-- shows the moves it made; then trains the win model on the closed
-- opportunities and lists the open ones by predicted win probability, with
-- the explanation of the top one.
\set ON_ERROR_STOP 1
\pset footer off

-- BANT answers, deterministic per lead
UPDATE cdp.lead l
   SET bant = cdp.bant(
       budget => (ARRAY['none', 'unknown', 'exploring', 'allocated', 'approved'])[1 + (2147483647 & hashint8(l.lead_id * 3)) % 5],
       authority => (ARRAY['none', 'unknown', 'user', 'influencer', 'decision_maker'])[1 + (2147483647 & hashint8(l.lead_id * 5)) % 5],
       need => (ARRAY['none', 'unknown', 'latent', 'identified', 'critical'])[1 + (2147483647 & hashint8(l.lead_id * 7)) % 5],
       timeline => (ARRAY['none', 'unknown', 'long_term', 'within_year', 'within_quarter'])[1 + (2147483647 & hashint8(l.lead_id * 11)) % 5],
       competition => (ARRAY['entrenched', 'unknown', 'contested', 'preferred', 'exclusive'])[1 + (2147483647 & hashint8(l.lead_id * 13)) % 5])
 WHERE l.converted_at IS NULL;

-- recent activity of a third of the leads: demos and meetings in the last weeks
INSERT INTO cdp.touchpoint (lead_id, campaign_id, channel, direction, kind, occurred_at)
SELECT l.lead_id, l.campaign_id, 'web', 'inbound', k.kind,
       now() - make_interval(days => (2147483647 & hashint8(l.lead_id * 17 + k.n)) % 40)
  FROM cdp.lead l,
       (VALUES (1, 'demo'), (2, 'meeting'), (3, 'webinar')) k(n, kind)
 WHERE l.lead_id % 3 = 0;

\echo
\echo '################################################################################'
\echo '#  7. QUALIFICATION AND SCORING (线索评分, BANT, 赢单预测)'
\echo '################################################################################'
\echo
\echo '== Leads by stage before scoring'
SELECT stage, count(*) AS leads FROM cdp.lead GROUP BY stage ORDER BY min(lead_id);

\echo
\echo '== cdp.score_leads(): scored, and moved across the MQL (40) / SQL (70) thresholds'
SELECT * FROM cdp.score_leads();

\echo
\echo '== Leads by stage after scoring, with their average scores'
SELECT stage, count(*) AS leads, round(avg(fit_score)) AS avg_fit,
       round(avg(engagement_score)::numeric, 1) AS avg_engagement, round(avg(score)) AS avg_score,
       count(*) FILTER (WHERE cdp.bant_qualified(bant)) AS bant_qualified
  FROM cdp.lead GROUP BY stage ORDER BY min(lead_id);

\echo
\echo '== The moves score_leads made, from the stage history (reason score)'
SELECT h.previous_stage, h.stage, count(*) AS moves
  FROM cdp.stage_history h
 WHERE h.entity = 'cdp.lead'::regclass AND h.reason = 'score'
 GROUP BY 1, 2 ORDER BY 1, 2;

\echo
\echo '== Hot leads held at mql because nobody owns them yet'
SELECT count(*) AS hot_without_owner
  FROM cdp.lead l JOIN cdp.scoring_model m ON m.model = 'default'
 WHERE l.stage = 'mql' AND l.owner IS NULL AND l.score >= m.sql_threshold;

\echo
\echo '== Win model trained on closed opportunities'
SELECT model, won, lost FROM cdp.retrain_win_model();

\echo
\echo '== Open opportunities, most likely to be won first'
SELECT o.opportunity_id, a.short_name, o.stage, o.amount,
       round(cdp.win_probability(o.opportunity_id)::numeric, 3) AS p_win
  FROM cdp.opportunity o JOIN cdp.account a USING (account_id)
 WHERE o.stage NOT IN ('won', 'lost')
 ORDER BY p_win DESC, o.opportunity_id
 LIMIT 8;

\echo
\echo '== Why the top one scores as it does (contributions to the log-odds)'
SELECT e.feature, round(e.contribution::numeric, 3) AS contribution
  FROM (SELECT o.* FROM cdp.opportunity o
         WHERE o.stage NOT IN ('won', 'lost')
         ORDER BY cdp.win_probability(o.opportunity_id) DESC, o.opportunity_id LIMIT 1) o,
       cdp.win_model w,
       cdp.nb_explain(w.nb, cdp.opportunity_features(o)) e
 WHERE w.model = 'default';
