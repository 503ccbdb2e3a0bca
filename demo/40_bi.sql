-- demo/40_bi.sql: the BI layer on the demo data, as a BI user sees it: the
-- 4R metrics, the pools and the CDP sheets with their completeness, plus two
-- pictures written next to the demo cluster (the directory of PGHOST):
-- funnel.svg (the b2b funnel of the accounts) and 4r_overview.svg (one panel
-- per R).
\set ON_ERROR_STOP 1
\pset footer off

-- dashboards read the 4R snapshots; a scheduler refreshes them (here, once)
SELECT cdp.refresh_bi_snapshots() \g /dev/null

\echo
\echo '################################################################################'
\echo '#  4. 4R METRICS (4R 指标): Recognize 识别, Reach 触达, Relationship 关系, Return 回报'
\echo '################################################################################'
\echo '   Recognize: do we know who the customers are; Reach: can we get to them;'
\echo '   Relationship: how deep we are in; Return: what it pays.  From cdp.metrics_*.'
\echo
\echo '== Recognize (识别) by month, last 6 months: new accounts, probable duplicates among them'
\echo '   (same canonical name or domain as an older account: none left after section 1),'
\echo '   how complete their profiles are, new contacts, tagged with a role, verified'
SELECT to_char(month, 'YYYY-MM') AS month, sum(new_accounts) AS new_accounts, sum(duplicate_accounts) AS duplicates,
       round(sum(avg_profile_completeness * new_accounts) / nullif(sum(new_accounts), 0), 2) AS avg_completeness,
       sum(new_contacts) AS new_contacts, sum(tagged_contacts) AS tagged, sum(verified_contacts) AS verified
  FROM cdp.metrics_recognize
 WHERE month > (date_trunc('month', now()) - interval '6 months')::date
 GROUP BY month ORDER BY month;

\echo
\echo '== Reach (触达) by channel, last 6 months'
SELECT channel, sum(touches) AS touches, sum(inbound_touches) AS inbound, sum(outbound_touches) AS outbound,
       sum(connected_touches) AS connected, sum(reached_accounts) AS account_months,
       sum(outbound_without_consent) AS outbound_without_consent, sum(cost_cny) AS cost_cny
  FROM cdp.metrics_reach
 WHERE month > (date_trunc('month', now()) - interval '6 months')::date
 GROUP BY channel ORDER BY touches DESC;

\echo
\echo '== Relationship (关系) by segment (大B/小B/大C/小C), whole year'
SELECT segment, sum(active_accounts) AS active_account_months,
       round(sum(touches)::numeric / nullif(sum(active_accounts), 0), 2) AS touches_per_active_account,
       sum(new_opportunities) AS new_opportunities,
       round(sum(decision_chain_coverage * new_opportunities) / nullif(sum(new_opportunities), 0), 2) AS decision_chain_coverage,
       sum(new_advocates) AS new_advocates, sum(referral_opportunities) AS referrals
  FROM cdp.metrics_relationship
 GROUP BY segment ORDER BY segment;

\echo
\echo '== Return (回报) by month: the funnel moves of the month, deals, revenue (CNY) and cost'
SELECT to_char(month, 'YYYY-MM') AS month, sum(new_leads) AS leads, sum(new_mqls) AS mqls, sum(new_sqls) AS sqls,
       sum(new_opportunities) AS opps, sum(new_customers) AS customers, sum(deals_won) AS won,
       sum(won_revenue_cny) AS won_revenue_cny, sum(order_revenue_cny) AS order_revenue_cny,
       sum(acquisition_cost_cny) AS acquisition_cost_cny, sum(repeat_buyers) AS repeat_buyers
  FROM cdp.metrics_return
 WHERE month > (date_trunc('month', now()) - interval '13 months')::date
 GROUP BY month ORDER BY month;

\echo
\echo '== Return per campaign (活动投资回报): cost, leads, deals, revenue, ROI'
SELECT campaign_name, channel, cost_cny, leads, opportunities, deals_won, won_revenue_cny, cost_per_lead_cny, roi
  FROM cdp.metrics_return_campaign ORDER BY roi DESC NULLS LAST;

\echo
\echo '== Customer lifetime value (客户终身价值) and repeat purchase (复购) by segment, latest month'
SELECT DISTINCT ON (segment) segment, to_char(month, 'YYYY-MM') AS month, customer_lifetime_value_cny, buyers, repeat_purchase_rate
  FROM cdp.metrics_return WHERE customer_lifetime_value_cny IS NOT NULL
 ORDER BY segment, month DESC;

\echo
\echo '################################################################################'
\echo '#  5. POOLS (客户池): who looks after whom'
\echo '################################################################################'
\echo '   marketing pool: prospects, leads, MQLs (marketing nurtures them); sales pool: SQLs,'
\echo '   opportunities; success pool: customers and advocates.  From cdp.pool_summary.'
SELECT pool, entity, sum(members) AS members, sum(pipeline_cny) AS pipeline_cny,
       sum(revenue_12m_cny) AS revenue_12m_cny,
       round(sum(avg_days_in_stage * members) / sum(members), 1) AS avg_days_in_stage,
       sum(over_90_days) AS over_90_days, count(DISTINCT owner) AS owners
  FROM cdp.pool_summary
 GROUP BY pool, entity
 ORDER BY array_position(ARRAY['marketing', 'sales', 'success', 'exited'], pool), entity;

\echo
\echo '== Sales pool per owner (销售池): what each rep carries'
SELECT owner, owner_team, sum(members) FILTER (WHERE entity = 'account') AS accounts,
       sum(members) FILTER (WHERE entity = 'opportunity') AS opportunities,
       sum(pipeline_cny) FILTER (WHERE entity = 'opportunity') AS open_pipeline_cny,
       max(max_days_in_stage) AS oldest_days
  FROM cdp.pool_summary WHERE pool = 'sales'
 GROUP BY owner, owner_team ORDER BY open_pipeline_cny DESC NULLS LAST;

\echo
\echo '################################################################################'
\echo '#  6. CDP SHEETS (客户开发信息表) and their completeness (资料完整度)'
\echo '################################################################################'
\echo '   Every account has a sheet of fields sales must find out; key accounts (重点客户)'
\echo '   need more of them.  From cdp.sheet_completeness.'
\echo
\echo '== Completeness by tier'
SELECT tier, count(*) AS accounts, round(avg(completeness), 2) AS avg_completeness,
       count(*) FILTER (WHERE is_complete) AS complete,
       round(100.0 * count(*) FILTER (WHERE is_complete) / count(*), 1) AS "complete_%",
       round(avg(required_fields), 1) AS fields_required
  FROM cdp.sheet_completeness
 GROUP BY tier
 ORDER BY array_position(ARRAY['key', 'standard', 'long_tail'], tier);

\echo
\echo '== Key accounts: which fields are missing most often'
SELECT f AS missing_field, count(*) AS key_accounts,
       round(100.0 * count(*) / (SELECT count(*) FROM cdp.sheet_completeness WHERE tier = 'key'), 1) AS "of_key_accounts_%"
  FROM cdp.sheet_completeness, unnest(string_to_array(missing_fields, ', ')) f
 WHERE tier = 'key'
 GROUP BY f ORDER BY count(*) DESC, f LIMIT 8;

\echo
\echo '== Key accounts in the sales funnel whose sheet is least complete: what to find out next'
SELECT account_name, stage, owner, filled_fields || '/' || required_fields AS filled, missing_fields
  FROM cdp.sheet_completeness
 WHERE tier = 'key' AND NOT is_complete AND stage IN ('sql', 'opportunity', 'customer')
 ORDER BY completeness, account_id
 LIMIT 5;

\echo
\echo '== City market sheet (城市市场信息表): where we stand in the five best cities'
SELECT city, market_maturity, similar_customers, our_accounts, our_customers,
       customer_penetration, our_revenue_12m_cny, share_of_transactions
  FROM cdp.sheet_city_market
 ORDER BY our_revenue_12m_cny DESC, city
 LIMIT 5;

\echo
\echo '== Order history sheet (历史订单表): accounts where competitors win most'
SELECT account_name, own_amount_12m_cny, competitor_amount_12m_cny, main_competitor, our_share_12m
  FROM cdp.sheet_order_history
 WHERE competitor_amount_12m_cny > 0
 ORDER BY our_share_12m NULLS FIRST, competitor_amount_12m_cny DESC
 LIMIT 5;

-- Pictures ---------------------------------------------------------------------
CREATE FUNCTION pg_temp.x(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT replace(replace(replace(t, '&', '&amp;'), '<', '&lt;'), '>', '&gt;') $$;

-- A bar panel in SVG: one bar per label, the value printed above it, light
-- grid lines, the labels below.
CREATE FUNCTION pg_temp.svg_bars(title text, note text, labels text[], vals numeric[], x int, y int,
                                 w int, h int, color text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(array_length(labels, 1), 0);
    top numeric := greatest(coalesce((SELECT max(v) FROM unnest(vals) v), 0), 1);
    bw numeric;
    out text;
    bh numeric;
    base int := h - 46;          -- y of the axis
    room int := h - 46 - 70;     -- height of the tallest bar
BEGIN
    out := format('<g transform="translate(%s,%s)"><rect width="%s" height="%s" rx="6" fill="#fbfbfb" stroke="#ddd"/>'
                  '<text x="14" y="26" font-size="16" font-weight="bold">%s</text>'
                  '<text x="14" y="45" font-size="11.5" fill="#666">%s</text>',
                  x, y, w, h, pg_temp.x(title), pg_temp.x(note));
    IF n = 0 THEN
        RETURN out || '<text x="14" y="80">(no data)</text></g>';
    END IF;
    FOR g IN 1 .. 3 LOOP
        out := out || format('<line x1="20" x2="%s" y1="%s" y2="%s" stroke="#e6e6e6"/>', w - 20,
                             round(base - room * g / 3.0, 1), round(base - room * g / 3.0, 1));
    END LOOP;
    out := out || format('<line x1="20" x2="%s" y1="%s" y2="%s" stroke="#999"/>', w - 20, base, base);
    bw := (w - 40)::numeric / n;
    FOR i IN 1 .. n LOOP
        bh := room * coalesce(vals[i], 0) / top;
        out := out || format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>',
                             round(20 + (i - 1) * bw + bw * 0.15, 1), round(base - bh, 1), round(bw * 0.7, 1), round(bh, 1), color)
                   || format('<text x="%s" y="%s" font-size="10.5" text-anchor="middle" fill="#333">%s</text>',
                             round(20 + (i - 0.5) * bw, 1), round(base - bh - 4, 1),
                             coalesce(rtrim(rtrim(to_char(vals[i], 'FM999,999,999,990.9'), '0'), '.'), ''))
                   || CASE WHEN bw >= 62
                           THEN format('<text x="%s" y="%s" font-size="10.5" text-anchor="middle" fill="#333">%s</text>',
                                       round(20 + (i - 0.5) * bw, 1), base + 16, pg_temp.x(labels[i]))
                           -- narrow bars: the label slanted, so that neighbours do not overlap
                           ELSE format('<text x="%s" y="%s" font-size="10.5" text-anchor="end" fill="#333" transform="rotate(-30 %s %s)">%s</text>',
                                       round(20 + (i - 0.5) * bw + 4, 1), base + 14, round(20 + (i - 0.5) * bw + 4, 1), base + 14,
                                       pg_temp.x(labels[i])) END;
    END LOOP;
    RETURN out || '</g>';
END
$$;

\getenv demo_dir PGHOST
\pset format unaligned
\pset tuples_only on

-- The b2b funnel: accounts that ever reached each open stage, centred bars,
-- the conversion from the stage above on the right.
\o :demo_dir/funnel.svg
WITH reached AS (
    SELECT s.stage, s.label_zh, s.label_en, s.position, count(DISTINCT h.entity_key) AS n
      FROM cdp.lifecycle_stage s
      LEFT JOIN cdp.stage_history h
             ON h.entity = 'cdp.account'::regclass AND h.model = s.model AND h.stage = s.stage
     WHERE s.model = 'b2b' AND NOT s.is_exit
     GROUP BY s.stage, s.label_zh, s.label_en, s.position
), r AS (
    SELECT *, row_number() OVER (ORDER BY position) AS i, max(n) OVER () AS top,
           lag(n) OVER (ORDER BY position) AS prev, first_value(n) OVER (ORDER BY position) AS first
      FROM reached
), exits AS (
    SELECT string_agg(s.label_en || ' ' || s.label_zh || ': ' || coalesce(a.n, 0), ',  ' ORDER BY s.position) AS t
      FROM cdp.lifecycle_stage s
      LEFT JOIN (SELECT stage, count(*) AS n FROM cdp.account GROUP BY stage) a ON a.stage = s.stage
     WHERE s.model = 'b2b' AND s.is_exit
)
SELECT '<?xml version="1.0" encoding="UTF-8"?>' || chr(10)
       || '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="' || (150 + 62 * count(*)) || '" '
       || 'font-family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif">'
       || '<rect width="100%" height="100%" fill="white"/>'
       || '<text x="450" y="36" font-size="22" font-weight="bold" text-anchor="middle">B2B funnel 客户生命周期漏斗</text>'
       || '<text x="450" y="60" font-size="13" fill="#555" text-anchor="middle">'
       || 'accounts that reached each stage in the last twelve months (cdp.stage_history, after merging duplicates)</text>'
       || '<text x="760" y="88" font-size="12" fill="#555" text-anchor="middle">from the stage above</text>'
       || string_agg(format('<text x="20" y="%s" font-size="15" font-weight="bold">%s</text>'
                            '<text x="20" y="%s" font-size="12" fill="#666">%s</text>'
                            '<rect x="%s" y="%s" width="%s" height="48" rx="5" fill="%s"/>'
                            '<text x="400" y="%s" font-size="16" text-anchor="middle" fill="#111" font-weight="bold">%s</text>'
                            '<text x="760" y="%s" font-size="15" text-anchor="middle" fill="%s">%s</text>',
                            118 + 62 * (i - 1), label_zh, 135 + 62 * (i - 1), label_en,
                            round(400 - greatest(30, 230.0 * n / top), 1), 100 + 62 * (i - 1), round(greatest(60, 460.0 * n / top), 1),
                            (ARRAY['#9ecae1', '#6baed6', '#4292c6', '#fdae6b', '#fd8d3c', '#74c476', '#31a354'])[i],
                            130 + 62 * (i - 1), to_char(n, 'FM999,999'),
                            130 + 62 * (i - 1), CASE WHEN prev > 0 AND 100.0 * n / prev < 50 THEN '#c0392b' ELSE '#222' END,
                            CASE WHEN prev > 0 THEN '↓ ' || round(100.0 * n / prev, 1) || '%' ELSE '' END),
                     '' ORDER BY i)
       || format('<text x="450" y="%s" font-size="13" fill="#555" text-anchor="middle">overall: %s%% of the accounts became customers.   Left the funnel: %s</text>',
                 120 + 62 * count(*), round(100.0 * max(n) FILTER (WHERE stage = 'customer') / max(first), 1), pg_temp.x(max(exits.t)))
       || '</svg>'
  FROM r, exits;
\o

-- The 4R overview: one panel per R, twelve months where it is a time series.
\o :demo_dir/4r_overview.svg
WITH rec AS (
    SELECT array_agg(segment ORDER BY segment) AS l,
           array_agg(round(100.0 * c, 1) ORDER BY segment) AS v
      FROM (SELECT segment, avg(completeness) AS c FROM cdp.sheet_completeness
             WHERE segment IS NOT NULL GROUP BY segment) s
), rea AS (
    SELECT array_agg(channel ORDER BY touches DESC) AS l, array_agg(touches ORDER BY touches DESC) AS v
      FROM (SELECT channel, sum(touches) AS touches FROM cdp.metrics_reach
             WHERE month > (date_trunc('month', now()) - interval '12 months')::date GROUP BY channel) s
), rel AS (
    SELECT array_agg(to_char(month, 'MM') ORDER BY month) AS l, array_agg(f ORDER BY month) AS v
      FROM (SELECT month, round(sum(touches)::numeric / nullif(sum(active_accounts), 0), 1) AS f
              FROM cdp.metrics_relationship
             WHERE month > (date_trunc('month', now()) - interval '12 months')::date GROUP BY month) s
), ret AS (
    SELECT array_agg(to_char(month, 'MM') ORDER BY month) AS l, array_agg(round(won / 10000) ORDER BY month) AS v
      FROM (SELECT month, sum(won_revenue_cny) AS won
              FROM cdp.metrics_return
             WHERE month > (date_trunc('month', now()) - interval '12 months')::date GROUP BY month) s
)
SELECT '<?xml version="1.0" encoding="UTF-8"?>' || chr(10)
       || '<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="760" '
       || 'font-family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif">'
       || '<rect width="100%" height="100%" fill="white"/>'
       || '<text x="550" y="36" font-size="22" font-weight="bold" text-anchor="middle">4R overview 4R 指标总览</text>'
       || '<text x="550" y="60" font-size="13" fill="#555" text-anchor="middle">'
       || 'the last twelve months, from cdp.metrics_recognize, metrics_reach, metrics_relationship, metrics_return and sheet_completeness</text>'
       || pg_temp.svg_bars('Recognize 识别', 'average completeness of the CDP sheet, % by segment (大B/小B/大C/小C; unclassified: no industry)',
                           rec.l, rec.v, 15, 80, 527, 330, '#1f77b4')
       || pg_temp.svg_bars('Reach 触达', 'touches by channel', rea.l, rea.v, 558, 80, 527, 330, '#ff7f0e')
       || pg_temp.svg_bars('Relationship 关系', 'touches per active account, by month (MM)', rel.l, rel.v, 15, 420, 527, 330, '#2ca02c')
       || pg_temp.svg_bars('Return 回报', 'won revenue by month (MM), in 万元 (10,000 CNY)', ret.l, ret.v, 558, 420, 527, 330, '#9467bd')
       || '</svg>'
  FROM rec, rea, rel, ret;
\o
\pset format aligned
\pset tuples_only off
