\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- views.sql, 0.1 -> 0.2: the BI layer.

-- metrics_recognize: duplicates by company domain read from
-- account_email_domain_idx (company piece; the view called email_domain once
-- per shared domain); the domain is now compared as email_domain reads it
-- (scheme, www. and path aside).
CREATE OR REPLACE VIEW @extschema@.metrics_recognize WITH (security_invoker = true) AS
WITH key_dup AS (
    -- not the oldest account of its company key
    SELECT k.account_id
      FROM (SELECT a.account_id,
                   pg_catalog.row_number() OVER (PARTITION BY @extschema@.company_key(a.name) ORDER BY a.account_id) AS n
              FROM @extschema@.account a
             WHERE NOT @extschema@.company_key_too_long(a.name)
               AND @extschema@.company_key(a.name) IS NOT NULL) k
     WHERE k.n OPERATOR(pg_catalog.>) 1
), domain_dup AS (
    -- not the oldest account of its company domain (cdp.email_domain: lower
    -- case, no scheme, www. or path; NULL for free mail), read in key and
    -- account_id order from account_email_domain_idx like the company key
    SELECT d.account_id
      FROM (SELECT a.account_id,
                   pg_catalog.row_number() OVER (PARTITION BY @extschema@.email_domain(a.domain) ORDER BY a.account_id) AS n
              FROM @extschema@.account a
             WHERE @extschema@.email_domain(a.domain) IS NOT NULL) d
     WHERE d.n OPERATOR(pg_catalog.>) 1
), acc AS (
    SELECT s.account_id,
           pg_catalog.date_trunc('month', s.account_created_at)::date AS month,
           s.segment,
           s.completeness,
           s.is_complete,
           (kd.account_id IS NOT NULL OR dd.account_id IS NOT NULL) AS is_duplicate
      FROM @extschema@.sheet_completeness s
      LEFT JOIN key_dup kd ON kd.account_id OPERATOR(pg_catalog.=) s.account_id
      LEFT JOIN domain_dup dd ON dd.account_id OPERATOR(pg_catalog.=) s.account_id
), stacked AS (
    SELECT x.month, x.segment,
           pg_catalog.count(*) AS new_accounts,
           pg_catalog.count(*) FILTER (WHERE x.is_duplicate) AS duplicate_accounts,
           pg_catalog.sum(x.completeness) AS completeness_sum,
           pg_catalog.count(*) FILTER (WHERE x.is_complete) AS complete_profiles,
           0::bigint AS new_contacts, 0::bigint AS tagged_contacts, 0::bigint AS verified_contacts
      FROM acc x
     GROUP BY x.month, x.segment
    UNION ALL
    SELECT pg_catalog.date_trunc('month', c.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE c.decision_role IS NOT NULL),
           pg_catalog.count(*) FILTER (WHERE c.verified)
      FROM @extschema@.contact c
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) c.account_id
     GROUP BY 1, 2
), summed AS (
    SELECT month, segment,
           pg_catalog.sum(new_accounts)::bigint AS new_accounts,
           pg_catalog.sum(duplicate_accounts)::bigint AS duplicate_accounts,
           pg_catalog.sum(completeness_sum) AS completeness_sum,
           pg_catalog.sum(complete_profiles)::bigint AS complete_profiles,
           pg_catalog.sum(new_contacts)::bigint AS new_contacts,
           pg_catalog.sum(tagged_contacts)::bigint AS tagged_contacts,
           pg_catalog.sum(verified_contacts)::bigint AS verified_contacts
      FROM stacked
     GROUP BY month, segment
)
SELECT month, segment, new_accounts, duplicate_accounts,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(duplicate_accounts::numeric OPERATOR(pg_catalog./) new_accounts, 3) END AS duplicate_rate,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(completeness_sum OPERATOR(pg_catalog./) new_accounts, 3) END AS avg_profile_completeness,
       complete_profiles,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(complete_profiles::numeric OPERATOR(pg_catalog./) new_accounts, 3) END AS complete_profile_rate,
       new_contacts, tagged_contacts,
       CASE WHEN new_contacts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(tagged_contacts::numeric OPERATOR(pg_catalog./) new_contacts, 3) END AS tagged_contact_rate,
       verified_contacts,
       CASE WHEN new_contacts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(verified_contacts::numeric OPERATOR(pg_catalog./) new_contacts, 3) END AS verified_contact_rate
  FROM summed;

-- pool_summary: one scan of the open stays, joined to the three tables side
-- by side (0.1 read a materialized CTE three times).  Same columns.
CREATE OR REPLACE VIEW @extschema@.pool_summary WITH (security_invoker = true) AS
WITH pipeline AS (
    SELECT o.account_id,
           pg_catalog.sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[])) AS open_amount
      FROM @extschema@.opportunity o
     GROUP BY o.account_id
), revenue AS (
    SELECT o.account_id, pg_catalog.sum(o.amount) AS amount
      FROM @extschema@."order" o
     WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
     GROUP BY o.account_id
), members AS (
    -- the open stay of every account, lead and opportunity: one scan of the
    -- history, each stay joined to the row of its own table (the entity test
    -- is part of each join condition, so the three hash joins run side by
    -- side over that scan)
    SELECT CASE h.entity WHEN '@extschema@.account'::regclass THEN 'account'::text
                         WHEN '@extschema@.lead'::regclass THEN 'lead'::text
                         ELSE 'opportunity'::text END AS entity,
           coalesce(a.owner, l.owner, o.owner) AS owner,
           h.model, h.stage, h.entered_at,
           CASE WHEN a.account_id IS NOT NULL THEN coalesce(p.open_amount, 0)
                WHEN o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[]) THEN coalesce(o.amount, 0)
                ELSE 0 END AS pipeline,
           CASE WHEN a.account_id IS NOT NULL THEN coalesce(r.amount, 0)
                WHEN o.stage OPERATOR(pg_catalog.=) 'won'
                 AND o.closed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
                THEN coalesce(o.amount, 0)
                ELSE 0 END AS revenue
      FROM @extschema@.stage_history h
      LEFT JOIN @extschema@.account a
             ON h.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass
            AND a.account_id OPERATOR(pg_catalog.=) h.entity_key::bigint
      LEFT JOIN @extschema@.lead l
             ON h.entity OPERATOR(pg_catalog.=) '@extschema@.lead'::regclass
            AND l.lead_id OPERATOR(pg_catalog.=) h.entity_key::bigint
      LEFT JOIN @extschema@.opportunity o
             ON h.entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass
            AND o.opportunity_id OPERATOR(pg_catalog.=) h.entity_key::bigint
      LEFT JOIN pipeline p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
      LEFT JOIN revenue r ON r.account_id OPERATOR(pg_catalog.=) a.account_id
     WHERE h.exited_at IS NULL
       AND h.entity OPERATOR(pg_catalog.=) ANY (ARRAY['@extschema@.account'::regclass, '@extschema@.lead'::regclass,
                                                      '@extschema@.opportunity'::regclass])
       AND (a.account_id IS NOT NULL OR l.lead_id IS NOT NULL OR o.opportunity_id IS NOT NULL)
), grouped AS (
    SELECT coalesce(ls.pool, 'exited') AS pool, m.entity, m.owner,
           pg_catalog.count(*) AS members,
           pg_catalog.sum(m.pipeline) AS pipeline,
           pg_catalog.sum(m.revenue) AS revenue,
           pg_catalog.avg(pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) m.entered_at)) AS avg_age_s,
           pg_catalog.max(pg_catalog.now() OPERATOR(pg_catalog.-) m.entered_at) AS max_age,
           pg_catalog.count(*) FILTER (WHERE m.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '30 days'::interval)) AS over_30,
           pg_catalog.count(*) FILTER (WHERE m.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '90 days'::interval)) AS over_90
      FROM members m
      LEFT JOIN @extschema@.lifecycle_stage ls
             ON ls.model OPERATOR(pg_catalog.=) m.model AND ls.stage OPERATOR(pg_catalog.=) m.stage
     GROUP BY 1, 2, 3
)
SELECT g.pool,
       g.entity,
       coalesce(g.owner::text, 'unassigned') AS owner,
       coalesce(team.team, CASE WHEN g.owner IS NULL THEN 'unassigned' ELSE 'no_team' END) AS owner_team,
       g.members,
       g.pipeline AS pipeline_cny,
       g.revenue AS revenue_12m_cny,
       pg_catalog.round((g.avg_age_s OPERATOR(pg_catalog./) 86400)::numeric, 1) AS avg_days_in_stage,
       pg_catalog.round((pg_catalog.date_part('epoch', g.max_age) OPERATOR(pg_catalog./) 86400)::numeric, 1) AS max_days_in_stage,
       g.over_30 AS over_30_days,
       g.over_90 AS over_90_days
  FROM grouped g
  LEFT JOIN LATERAL (
        -- the owner's team: the first role (by name) the owner belongs to
        -- directly, other than the cdp_* roles
        SELECT pg_catalog.min(t.rolname::text) AS team
          FROM pg_catalog.pg_roles r
          JOIN pg_catalog.pg_auth_members am ON am.member OPERATOR(pg_catalog.=) r.oid
          JOIN pg_catalog.pg_roles t ON t.oid OPERATOR(pg_catalog.=) am.roleid
         WHERE r.rolname OPERATOR(pg_catalog.=) g.owner
           AND t.rolname::text OPERATOR(pg_catalog.!~) '^cdp_') team ON true;
