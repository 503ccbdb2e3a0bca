\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- graph: relationships between contacts (人脉与决策链).
--   decision chain coverage per opportunity, and a lifecycle guard that
--   needs an identified decision maker;
--   intro_paths: shortest, then strongest, introduction paths (C);
--   influence_scores: the KOL score of each contact, one pass in C;
--   referrals: funnel of referred versus new business, revenue per referrer,
--   advocates.

-- Decision chain ----------------------------------------------------------------

-- The roles of a complete buying centre: the one who decides, approves and
-- pays, buys, checks the technology, needs and runs the product.
-- Influencer, champion and gatekeeper are useful but not required.
CREATE FUNCTION @extschema@.decision_roles_required()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '{decision_maker,approver,finance,procurement,it,user,executor}'::pg_catalog.text[];
COMMENT ON FUNCTION @extschema@.decision_roles_required() IS
    'Decision roles a complete buying centre (决策链) covers by default: decision_maker, approver, finance, procurement, it, user, executor';

-- STABLE: reads @extschema@.opportunity and @extschema@.contact.
CREATE FUNCTION @extschema@.decision_chain_coverage(
    opportunity_id bigint,
    required_roles text[] DEFAULT @extschema@.decision_roles_required())
RETURNS TABLE (decision_role text, required boolean, covered boolean,
               contact_ids bigint[], max_approval_limit numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    known text[] := '{decision_maker,approver,finance,procurement,it,user,executor,influencer,champion,gatekeeper}';
    acct bigint;
    bad text;
BEGIN
    IF decision_chain_coverage.opportunity_id IS NULL THEN
        RAISE EXCEPTION 'opportunity_id must not be null' USING ERRCODE = '22004';
    END IF;
    IF required_roles IS NULL THEN
        RAISE EXCEPTION 'required_roles must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT r INTO bad FROM unnest(required_roles) r
     WHERE r IS NULL OR NOT r OPERATOR(pg_catalog.=) ANY (known) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown decision role "%"', bad USING ERRCODE = '22023',
            HINT = 'Decision roles: ' || array_to_string(known, ', ') || '.';
    END IF;
    SELECT o.account_id INTO acct FROM @extschema@.opportunity o
     WHERE o.opportunity_id OPERATOR(pg_catalog.=) decision_chain_coverage.opportunity_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'opportunity % does not exist', decision_chain_coverage.opportunity_id
            USING ERRCODE = 'P0002';
    END IF;
    RETURN QUERY
    SELECT k.role,
           k.role OPERATOR(pg_catalog.=) ANY (required_roles),
           count(c.contact_id) OPERATOR(pg_catalog.>) 0,
           coalesce(array_agg(c.contact_id ORDER BY c.contact_id)
                    FILTER (WHERE c.contact_id IS NOT NULL), '{}'),
           max(c.approval_limit)
      FROM unnest(known) WITH ORDINALITY AS k(role, ord)
      LEFT JOIN @extschema@.contact c
        ON c.account_id OPERATOR(pg_catalog.=) acct
       AND c.decision_role OPERATOR(pg_catalog.=) k.role
     GROUP BY k.role, k.ord
     ORDER BY k.ord;
END
$$;
COMMENT ON FUNCTION @extschema@.decision_chain_coverage(bigint, text[]) IS
    'Decision chain (决策链) of an opportunity: per decision role, whether known contacts at its account cover it, which ones, and their largest approval limit';

CREATE VIEW @extschema@.opportunity_decision_chain WITH (security_invoker = true) AS
SELECT o.opportunity_id,
       o.account_id,
       o.stage,
       o.amount,
       pg_catalog.cardinality(@extschema@.decision_roles_required()) AS required_roles,
       cov.covered_roles,
       (cov.covered_roles::real OPERATOR(pg_catalog./)
            pg_catalog.cardinality(@extschema@.decision_roles_required()))::real AS coverage,
       cov.missing_roles,
       cov.known_contacts,
       cov.has_decision_maker,
       (o.amount IS NOT NULL AND cov.max_approval_limit OPERATOR(pg_catalog.>=) o.amount) AS amount_within_approval_limit
  FROM @extschema@.opportunity o
  CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE r.contacts OPERATOR(pg_catalog.>) 0)::integer AS covered_roles,
             coalesce(string_agg(r.role, ', ' ORDER BY r.ord)
                      FILTER (WHERE r.contacts OPERATOR(pg_catalog.=) 0), '') AS missing_roles,
             (SELECT count(*)::integer FROM @extschema@.contact c
               WHERE c.account_id OPERATOR(pg_catalog.=) o.account_id) AS known_contacts,
             EXISTS (SELECT 1 FROM @extschema@.contact c
                      WHERE c.account_id OPERATOR(pg_catalog.=) o.account_id
                        AND c.decision_role OPERATOR(pg_catalog.=) 'decision_maker') AS has_decision_maker,
             (SELECT max(c.approval_limit) FROM @extschema@.contact c
               WHERE c.account_id OPERATOR(pg_catalog.=) o.account_id) AS max_approval_limit
        FROM (SELECT k.role, k.ord,
                     (SELECT count(*) FROM @extschema@.contact c
                       WHERE c.account_id OPERATOR(pg_catalog.=) o.account_id
                         AND c.decision_role OPERATOR(pg_catalog.=) k.role) AS contacts
                FROM unnest(@extschema@.decision_roles_required()) WITH ORDINALITY AS k(role, ord)) r
  ) cov;
COMMENT ON VIEW @extschema@.opportunity_decision_chain IS
    'Decision chain coverage (决策链覆盖) per opportunity, over the roles of @extschema@.decision_roles_required(); for the 4R Relationship metrics';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.opportunity_id IS 'Opportunity';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.account_id IS 'Account of the opportunity';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.stage IS 'Current stage of the opportunity';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.amount IS 'Amount of the opportunity';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.required_roles IS 'Number of decision roles a complete chain covers';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.covered_roles IS 'Required roles covered by at least one known contact at the account';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.coverage IS 'covered_roles / required_roles, 0 to 1 (决策链覆盖率)';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.missing_roles IS 'Required roles no known contact covers, comma separated, in chain order';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.known_contacts IS 'Contacts known at the account';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.has_decision_maker IS 'Whether a contact with role decision_maker (拍板人) is known';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.amount_within_approval_limit IS 'Whether a known contact can approve the amount alone (approval_limit >= amount)';

-- STABLE: reads cdp.contact.  Walks the reporting line (cdp.contact.reports_to)
-- upwards from a contact; a loop in the data ends the walk instead of
-- running forever.
CREATE FUNCTION @extschema@.approval_chain(start_contact bigint, amount numeric DEFAULT NULL)
RETURNS TABLE (level integer, contact_id bigint, name text, decision_role text,
               approval_limit numeric, can_approve boolean)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF approval_chain.start_contact IS NULL THEN
        RAISE EXCEPTION 'start_contact must not be null' USING ERRCODE = '22004';
    END IF;
    IF amount < 0 THEN
        RAISE EXCEPTION 'amount must not be negative' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.contact c
                    WHERE c.contact_id OPERATOR(pg_catalog.=) approval_chain.start_contact) THEN
        RAISE EXCEPTION 'contact % does not exist', approval_chain.start_contact USING ERRCODE = 'P0002';
    END IF;
    RETURN QUERY
    WITH RECURSIVE up(lvl, id, seen) AS (
        SELECT 0, approval_chain.start_contact, ARRAY[approval_chain.start_contact]
      UNION ALL
        SELECT u.lvl OPERATOR(pg_catalog.+) 1, c.reports_to, u.seen OPERATOR(pg_catalog.||) c.reports_to
          FROM up u
          JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) u.id
         WHERE c.reports_to IS NOT NULL
           AND NOT c.reports_to OPERATOR(pg_catalog.=) ANY (u.seen)
           AND NOT coalesce(c.approval_limit OPERATOR(pg_catalog.>=) amount, false)
    )
    SELECT u.lvl, c.contact_id, c.name, c.decision_role, c.approval_limit,
           coalesce(c.approval_limit OPERATOR(pg_catalog.>=) amount, false)
      FROM up u
      JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) u.id
     ORDER BY u.lvl;
END
$$;
COMMENT ON FUNCTION @extschema@.approval_chain(bigint, numeric) IS
    'Reporting line (汇报线) of a contact upwards through cdp.contact.reports_to, up to the first person whose approval_limit covers amount (审批权限); the whole line when amount is NULL';

-- Lifecycle guard: a late stage needs an identified decision maker.  It
-- reads the account's contacts as the extension owner (SECURITY DEFINER):
-- the rule is about the account, not about which contacts the moving user
-- may see, and it answers only true or false.
CREATE FUNCTION @extschema@.require_decision_maker(entity regclass, entity_key text, to_stage text)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    acct bigint;
    amt numeric;
    id bigint;
BEGIN
    IF entity IS NULL OR entity_key IS NULL THEN
        RAISE EXCEPTION 'entity and entity_key must not be null' USING ERRCODE = '22004';
    END IF;
    BEGIN
        id := entity_key::bigint;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
        RAISE EXCEPTION 'invalid key "%" for %', entity_key, entity USING ERRCODE = '22P02';
    END;
    IF entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass THEN
        SELECT o.account_id, o.amount INTO acct, amt FROM @extschema@.opportunity o
         WHERE o.opportunity_id OPERATOR(pg_catalog.=) id;
    ELSIF entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass THEN
        SELECT a.account_id, NULL INTO acct, amt FROM @extschema@.account a
         WHERE a.account_id OPERATOR(pg_catalog.=) id;
    ELSE
        RAISE EXCEPTION 'require_decision_maker does not know table %', entity
            USING ERRCODE = '42809',
                  HINT = 'Attach it to stages of the models of @extschema@.opportunity or @extschema@.account.';
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no row with key "%" in %', entity_key, entity USING ERRCODE = 'P0002';
    END IF;
    RETURN EXISTS (SELECT 1 FROM @extschema@.contact c
                    WHERE c.account_id OPERATOR(pg_catalog.=) acct
                      AND (c.decision_role OPERATOR(pg_catalog.=) 'decision_maker'
                           OR (amt IS NOT NULL AND c.approval_limit OPERATOR(pg_catalog.>=) amt)));
END
$$;
COMMENT ON FUNCTION @extschema@.require_decision_maker(regclass, text, text) IS
    'Lifecycle stage guard: true when the account of the opportunity (or the account) has an identified decision maker (拍板人): a contact with role decision_maker, or one whose approval_limit covers the opportunity amount';

-- Introduction paths -------------------------------------------------------------

-- intro_paths reads the edges of a set of contacts in both directions; with
-- this index and relationship_to_idx, both covering, those reads are
-- index-only scans (one leaf page per contact instead of one heap page per
-- edge), about 2.5 times faster on a large graph.
CREATE INDEX relationship_from_walk_idx ON @extschema@.relationship (from_contact) INCLUDE (to_contact, strength);

-- STABLE: reads the graph; not STRICT so NULL arguments get a clear error.
-- Its queries fetch the edges of a set of contacts: an index scan is always
-- the right plan, but on a freshly loaded table without statistics the
-- planner would pick a sequential scan of every edge, so seq scans are off
-- inside the function.
CREATE FUNCTION @extschema@.intro_paths(from_contact bigint, to_contact bigint, max_hops integer DEFAULT 6)
RETURNS TABLE (path bigint[], hops integer, strength real)
AS 'MODULE_PATHNAME', 'cdp_intro_paths'
LANGUAGE C STABLE PARALLEL SAFE
SET enable_seqscan = off;
COMMENT ON FUNCTION @extschema@.intro_paths(bigint, bigint, integer) IS
    'Shortest introduction paths (引荐路径) between two contacts within max_hops, strongest (product of edge strengths) first; edges are walked both ways, contacts that refused intro consent are not used as intermediaries, row-level security applies';

-- Influence ---------------------------------------------------------------------

-- STABLE: reads @extschema@.relationship and @extschema@.opportunity.
CREATE FUNCTION @extschema@.influence_scores(
    w_followers double precision DEFAULT 1.0,
    w_reports double precision DEFAULT 1.0,
    w_referrals double precision DEFAULT 2.0,
    w_ties double precision DEFAULT 0.5,
    w_second double precision DEFAULT 0.25,
    half_score double precision DEFAULT 5.0)
RETURNS TABLE (contact_id bigint, score real, followers real, direct_reports bigint,
               referrals bigint, ties real, second_degree real)
AS 'MODULE_PATHNAME', 'cdp_influence_scores'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.influence_scores(double precision, double precision, double precision, double precision, double precision, double precision) IS
    'Influence (KOL, 意见领袖) score 0..100 per contact, from one pass over the graph: 100 * raw / (raw + half_score), raw = w_followers*followers + w_reports*direct_reports + w_referrals*referrals + w_ties*ties + w_second*second_degree';

-- Referrals ---------------------------------------------------------------------

CREATE VIEW @extschema@.referral_funnel WITH (security_invoker = true) AS
WITH furthest AS (
    SELECT o.opportunity_id,
           CASE WHEN o.referred_by IS NULL THEN 'new_business' ELSE 'referral' END AS business,
           greatest(
               (SELECT s.position FROM @extschema@.lifecycle_stage s
                 WHERE s.model OPERATOR(pg_catalog.=) 'opportunity'
                   AND s.stage OPERATOR(pg_catalog.=) o.stage AND NOT s.is_exit),
               (SELECT max(s.position)
                  FROM @extschema@.stage_history h
                  JOIN @extschema@.lifecycle_stage s
                    ON s.model OPERATOR(pg_catalog.=) h.model
                   AND s.stage OPERATOR(pg_catalog.=) h.stage AND NOT s.is_exit
                 WHERE h.entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass
                   AND h.entity_key OPERATOR(pg_catalog.=) o.opportunity_id::text
                   AND h.model OPERATOR(pg_catalog.=) 'opportunity')) AS position
      FROM @extschema@.opportunity o
)
SELECT b.business,
       s.stage,
       s.position,
       count(f.opportunity_id) AS reached,
       (count(f.opportunity_id)::double precision OPERATOR(pg_catalog./)
            nullif(lag(count(f.opportunity_id)) OVER (PARTITION BY b.business ORDER BY s.position), 0))::real
           AS conversion_rate
  FROM (VALUES ('referral'), ('new_business')) AS b(business)
  CROSS JOIN @extschema@.lifecycle_stage s
  LEFT JOIN furthest f
    ON f.business OPERATOR(pg_catalog.=) b.business
   AND f.position OPERATOR(pg_catalog.>=) s.position
 WHERE s.model OPERATOR(pg_catalog.=) 'opportunity' AND NOT s.is_exit
 GROUP BY b.business, s.stage, s.position;
COMMENT ON VIEW @extschema@.referral_funnel IS
    'Opportunity funnel of referred business (转介绍) apart from new business: how many opportunities reached each stage (now or in their stage history)';
COMMENT ON COLUMN @extschema@.referral_funnel.business IS 'referral (referred_by set) or new_business';
COMMENT ON COLUMN @extschema@.referral_funnel.stage IS 'Stage of the opportunity model';
COMMENT ON COLUMN @extschema@.referral_funnel.position IS 'Position of the stage in the model';
COMMENT ON COLUMN @extschema@.referral_funnel.reached IS 'Opportunities that reached this stage or a later one';
COMMENT ON COLUMN @extschema@.referral_funnel.conversion_rate IS 'reached / reached at the previous stage; NULL for the first stage';

CREATE VIEW @extschema@.referrer_revenue WITH (security_invoker = true) AS
SELECT c.contact_id AS referrer_id,
       c.name AS referrer_name,
       c.account_id AS referrer_account_id,
       count(*) AS referred_opportunities,
       count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.<>) ALL ('{won,lost}')) AS open_opportunities,
       count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won') AS won_opportunities,
       count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'lost') AS lost_opportunities,
       coalesce(sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.<>) ALL ('{won,lost}')), 0) AS pipeline_amount,
       coalesce(sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'), 0) AS won_amount,
       coalesce(sum((SELECT sum(r.amount) FROM @extschema@."order" r
                      WHERE r.opportunity_id OPERATOR(pg_catalog.=) o.opportunity_id)), 0) AS order_revenue,
       min(o.created_at) AS first_referral_at,
       max(o.created_at) AS last_referral_at
  FROM @extschema@.opportunity o
  JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) o.referred_by
 GROUP BY c.contact_id, c.name, c.account_id;
COMMENT ON VIEW @extschema@.referrer_revenue IS
    'Business traced to each referrer (转介绍人): referred opportunities by outcome, pipeline, won amount and order revenue';
COMMENT ON COLUMN @extschema@.referrer_revenue.referrer_id IS 'Contact who referred the business';
COMMENT ON COLUMN @extschema@.referrer_revenue.referrer_name IS 'Name of the referrer';
COMMENT ON COLUMN @extschema@.referrer_revenue.referrer_account_id IS 'Account the referrer works at';
COMMENT ON COLUMN @extschema@.referrer_revenue.referred_opportunities IS 'Opportunities whose referred_by is this contact';
COMMENT ON COLUMN @extschema@.referrer_revenue.open_opportunities IS 'Referred opportunities neither won nor lost';
COMMENT ON COLUMN @extschema@.referrer_revenue.won_opportunities IS 'Referred opportunities won';
COMMENT ON COLUMN @extschema@.referrer_revenue.lost_opportunities IS 'Referred opportunities lost';
COMMENT ON COLUMN @extschema@.referrer_revenue.pipeline_amount IS 'Amount of the open referred opportunities';
COMMENT ON COLUMN @extschema@.referrer_revenue.won_amount IS 'Amount of the won referred opportunities (转介绍收入)';
COMMENT ON COLUMN @extschema@.referrer_revenue.order_revenue IS 'Amount of the orders placed against the referred opportunities';
COMMENT ON COLUMN @extschema@.referrer_revenue.first_referral_at IS 'When the first referred opportunity was created';
COMMENT ON COLUMN @extschema@.referrer_revenue.last_referral_at IS 'When the latest referred opportunity was created';

CREATE VIEW @extschema@.advocates WITH (security_invoker = true) AS
SELECT r.referrer_id AS contact_id,
       r.referrer_name AS name,
       r.referrer_account_id AS account_id,
       a.stage AS account_stage,
       r.referred_opportunities,
       r.won_opportunities,
       r.won_amount,
       r.order_revenue,
       r.last_referral_at
  FROM @extschema@.referrer_revenue r
  LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) r.referrer_account_id
 WHERE r.won_opportunities OPERATOR(pg_catalog.>) 0;
COMMENT ON VIEW @extschema@.advocates IS
    'Advocates (推荐者): contacts at least one of whose referrals was won; their accounts are candidates for the advocate stage of the b2b model';
COMMENT ON COLUMN @extschema@.advocates.contact_id IS 'The advocate';
COMMENT ON COLUMN @extschema@.advocates.name IS 'Name of the advocate';
COMMENT ON COLUMN @extschema@.advocates.account_id IS 'Account the advocate works at';
COMMENT ON COLUMN @extschema@.advocates.account_stage IS 'Lifecycle stage of that account';
COMMENT ON COLUMN @extschema@.advocates.referred_opportunities IS 'Opportunities the advocate referred';
COMMENT ON COLUMN @extschema@.advocates.won_opportunities IS 'Referred opportunities won';
COMMENT ON COLUMN @extschema@.advocates.won_amount IS 'Amount won through the advocate';
COMMENT ON COLUMN @extschema@.advocates.order_revenue IS 'Order revenue of the referred opportunities';
COMMENT ON COLUMN @extschema@.advocates.last_referral_at IS 'When the latest referral was created';
