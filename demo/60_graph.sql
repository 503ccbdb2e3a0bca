-- demo/60_graph.sql: relationships on the demo data set.
--
-- Adds a contact network (reporting lines inside each company, colleagues
-- who know each other, acquaintances across companies,
-- industry opinion leaders) and marks some opportunities as referred by a
-- contact at a customer, then shows decision-chain coverage, an
-- introduction path, the opinion leaders and the referral reports.
\set ON_ERROR_STOP 1
\pset footer off

-- everyone reports to the company's decision maker
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength, source)
SELECT c.contact_id, d.contact_id, 'reports_to', 1.0, 'org_chart'
  FROM cdp.contact c
  JOIN cdp.contact d ON d.account_id = c.account_id AND d.decision_role = 'decision_maker'
 WHERE c.contact_id <> d.contact_id
ON CONFLICT DO NOTHING;

-- colleagues know each other, more or less well
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength, source)
SELECT a.contact_id, b.contact_id, 'knows',
       round((0.3 + ((2147483647 & hashint8(a.contact_id * 7 + b.contact_id)) % 70) / 100.0), 2)::real,
       'sales_note'
  FROM cdp.contact a
  JOIN cdp.contact b ON b.account_id = a.account_id AND b.contact_id > a.contact_id
 WHERE (2147483647 & hashint8(a.contact_id * 11 + b.contact_id)) % 3 = 0
ON CONFLICT DO NOTHING;

-- acquaintances across companies (former colleagues, trade associations):
-- one or two for most people, drawn at random (linear in the data size)
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength, source)
SELECT a.contact_id, b.contact_id, 'knows',
       round((0.1 + ((2147483647 & hashint8(a.contact_id * 13 + b.contact_id)) % 50) / 100.0), 2)::real,
       'wechat'
  FROM cdp.contact a
 CROSS JOIN (SELECT max(contact_id) AS n FROM cdp.contact) m
 CROSS JOIN generate_series(1, 3) k
  JOIN cdp.contact b
    ON b.contact_id = 1 + (2147483647 & hashint8(a.contact_id * 17 + k)) % m.n
   AND b.account_id <> a.account_id
 WHERE (2147483647 & hashint8(a.contact_id * 23 + k)) % 2 = 0
ON CONFLICT DO NOTHING;

-- technical directors of a few companies are opinion leaders in their
-- industry: each influences about twenty people of that industry
WITH ind AS (
    SELECT c.contact_id, c.decision_role, a.industry,
           row_number() OVER (PARTITION BY a.industry ORDER BY c.contact_id) AS rn,
           count(*) OVER (PARTITION BY a.industry) AS n
      FROM cdp.contact c JOIN cdp.account a ON a.account_id = c.account_id
     WHERE a.industry IS NOT NULL
)
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength, source)
SELECT a.contact_id, b.contact_id, 'influences', 0.6, 'industry_forum'
  FROM ind a
 CROSS JOIN generate_series(1, 20) k
  JOIN ind b ON b.industry = a.industry
            AND b.rn = 1 + (2147483647 & hashint8(a.contact_id * 19 + k)) % a.n
 WHERE a.decision_role = 'it' AND a.contact_id % 9 = 0 AND b.contact_id <> a.contact_id
ON CONFLICT DO NOTHING;

-- one opportunity in six was referred by a contact at a customer account
UPDATE cdp.opportunity o
   SET referred_by = r.contact_id, source = 'referral'
  FROM (SELECT c.contact_id, row_number() OVER (ORDER BY c.contact_id) AS rn, count(*) OVER () AS n
          FROM cdp.contact c JOIN cdp.account a ON a.account_id = c.account_id
         WHERE a.stage IN ('customer', 'advocate')) r
 WHERE o.opportunity_id % 6 = 0
   AND r.rn = 1 + (2147483647 & hashint8(o.opportunity_id)) % r.n
   AND NOT EXISTS (SELECT 1 FROM cdp.contact c WHERE c.contact_id = r.contact_id
                                                  AND c.account_id = o.account_id);

\echo
\echo '################################################################################'
\echo '#  8. RELATIONSHIPS (人脉与转介绍): decision chains, introductions, opinion leaders'
\echo '################################################################################'
\echo
\echo '== Relationship graph (人脉关系): reporting lines, colleagues, acquaintances, influence'
SELECT kind, count(*) AS edges, round(avg(strength)::numeric, 2) AS avg_strength
  FROM cdp.relationship GROUP BY kind ORDER BY kind;

\echo
\echo '== Decision chain coverage of open opportunities (决策链覆盖)'
SELECT stage, count(*) AS opportunities,
       round(avg(coverage)::numeric, 2) AS avg_coverage,
       count(*) FILTER (WHERE has_decision_maker) AS with_decision_maker
  FROM cdp.opportunity_decision_chain
 WHERE stage NOT IN ('won', 'lost')
 GROUP BY stage ORDER BY min(opportunity_id);
SELECT role AS most_often_missing, count(*) AS opportunities
  FROM cdp.opportunity_decision_chain, unnest(string_to_array(missing_roles, ', ')) role
 WHERE stage NOT IN ('won', 'lost')
 GROUP BY role ORDER BY count(*) DESC, role LIMIT 3;

\echo
\echo '== Warmest introduction to the decision maker of the largest open deal (引荐路径)'
WITH target AS (
    SELECT d.contact_id, o.opportunity_id
      FROM cdp.opportunity o
      JOIN cdp.contact d ON d.account_id = o.account_id AND d.decision_role = 'decision_maker'
     WHERE o.stage NOT IN ('won', 'lost')
     ORDER BY o.amount DESC NULLS LAST, o.opportunity_id LIMIT 1),
    source AS (
    SELECT c.contact_id
      FROM cdp.contact c JOIN cdp.account a ON a.account_id = c.account_id, target t
     WHERE a.stage IN ('customer', 'advocate') AND c.contact_id <> t.contact_id
       AND EXISTS (SELECT 1 FROM cdp.intro_paths(c.contact_id, t.contact_id, 4))
     ORDER BY c.contact_id LIMIT 1)
SELECT (SELECT string_agg(c.name || '@' || a.short_name, ' → ' ORDER BY k)
          FROM unnest(p.path) WITH ORDINALITY u(id, k)
          JOIN cdp.contact c ON c.contact_id = u.id
          JOIN cdp.account a ON a.account_id = c.account_id) AS introduction,
       p.hops, round(p.strength::numeric, 3) AS strength
  FROM source s, target t, cdp.intro_paths(s.contact_id, t.contact_id, 4) p
 LIMIT 3;

\echo
\echo '== Opinion leaders (意见领袖 / KOL)'
SELECT c.name, a.short_name AS company, c.decision_role, round(i.score::numeric, 1) AS score,
       round(i.followers::numeric, 1) AS followers, i.direct_reports, i.referrals
  FROM cdp.influence_scores() i
  JOIN cdp.contact c ON c.contact_id = i.contact_id
  JOIN cdp.account a ON a.account_id = c.account_id
 ORDER BY i.score DESC, i.contact_id LIMIT 5;

\echo
\echo '== Referral funnel against new business (转介绍漏斗)'
SELECT business, stage, reached, round(conversion_rate::numeric, 2) AS conversion_rate
  FROM cdp.referral_funnel ORDER BY business DESC, position;

\echo
\echo '== Top referrers and advocates (推荐者)'
SELECT r.referrer_name, a.short_name AS company, r.referred_opportunities AS referred,
       r.won_opportunities AS won, r.won_amount, r.order_revenue
  FROM cdp.referrer_revenue r JOIN cdp.account a ON a.account_id = r.referrer_account_id
 ORDER BY r.won_amount DESC, r.referrer_id LIMIT 5;
SELECT count(*) AS advocates, sum(won_amount) AS revenue_through_advocates FROM cdp.advocates;
