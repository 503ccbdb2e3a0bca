-- demo/20_reports.sql: lifecycle reports over the demo data.
\set ON_ERROR_STOP 1
\pset footer off

\echo
\echo '== Stage counts per pool (各池阶段分布): where every account, lead and opportunity is now'
SELECT coalesce(s.pool, '(exited)') AS pool,
       t.model,
       s.stage,
       s.label_zh,
       count(*) FILTER (WHERE h.entity = 'cdp.account'::regclass) AS accounts,
       count(*) FILTER (WHERE h.entity = 'cdp.lead'::regclass) AS leads,
       count(*) FILTER (WHERE h.entity = 'cdp.opportunity'::regclass) AS opportunities
  FROM cdp.stage_history h
  JOIN cdp.tracked_table t ON t.tbl = h.entity
  JOIN cdp.lifecycle_stage s ON s.model = t.model AND s.stage = h.stage
 WHERE h.exited_at IS NULL
 GROUP BY s.pool, t.model, s.stage, s.label_zh, s.position
 ORDER BY array_position(ARRAY['marketing', 'sales', 'success'], s.pool) NULLS LAST, t.model, s.position;

\echo
\echo '== Time in stage (阶段停留时间), completed stays, in days'
SELECT t.model,
       h.stage,
       count(*) AS stays,
       round(avg(extract(epoch FROM h.exited_at - h.entered_at) / 86400)::numeric, 1) AS avg_days,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM h.exited_at - h.entered_at)) / 86400)::numeric, 1) AS median_days,
       round((percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM h.exited_at - h.entered_at)) / 86400)::numeric, 1) AS p90_days
  FROM cdp.stage_history h
  JOIN cdp.tracked_table t ON t.tbl = h.entity
  JOIN cdp.lifecycle_stage s ON s.model = t.model AND s.stage = h.stage
 WHERE h.exited_at IS NOT NULL
 GROUP BY t.model, h.stage, s.position
 ORDER BY t.model, s.position;

\echo
\echo '== Stage-to-stage conversion (阶段转化率), b2b model'
\echo '   entered: entities that ever entered the stage; reached_later: of those, how many later'
\echo '   entered a later open stage of the model'
WITH stays AS (
    SELECT h.entity, h.entity_key, s.position, s.is_exit, h.stage, h.entered_at
      FROM cdp.stage_history h
      JOIN cdp.lifecycle_stage s ON s.model = h.model AND s.stage = h.stage
     WHERE h.model = 'b2b'
), firsts AS (
    SELECT entity, entity_key, stage, position, min(entered_at) AS first_in
      FROM stays WHERE NOT is_exit
     GROUP BY entity, entity_key, stage, position
), conv AS (
    SELECT f.*, EXISTS (SELECT 1 FROM stays n
                         WHERE n.entity = f.entity AND n.entity_key = f.entity_key
                           AND NOT n.is_exit AND n.position > f.position
                           AND n.entered_at >= f.first_in) AS converted
      FROM firsts f
)
SELECT replace(entity::text, 'cdp.', '') AS entity, stage,
       count(*) AS entered,
       count(*) FILTER (WHERE converted) AS reached_later,
       round(100.0 * count(*) FILTER (WHERE converted) / count(*), 1) AS conversion_pct
  FROM conv
 GROUP BY entity, stage, position
 ORDER BY entity, position;

\echo
\echo '== Opportunity pipeline (商机管道) by stage'
SELECT o.stage, s.label_zh, count(*) AS opportunities, sum(o.amount) AS amount_cny,
       round(avg(o.amount)) AS avg_amount_cny
  FROM cdp.opportunity o
  JOIN cdp.lifecycle_stage s ON s.model = 'opportunity' AND s.stage = o.stage
 GROUP BY o.stage, s.label_zh, s.position
 ORDER BY s.position;

\echo
\echo '== Velocity and regressions (推进速度与回退): moves by kind, time spent in the stage left'
SELECT model, kind, count(*) AS moves,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM time_in_previous_stage)) / 86400)::numeric, 1) AS median_days_before,
       count(*) FILTER (WHERE reason IS NOT NULL) AS with_reason
  FROM cdp.stage_moves
 GROUP BY model, kind
 ORDER BY model, array_position(ARRAY['entry', 'forward', 'skip', 'backward', 'exit', 'reactivation'], kind);
