\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- rollup.sql: touch rollups behind the BI views.
--
-- The 4R figures that come from cdp.touchpoint (10M rows and more) are kept
-- by the database itself, so that metrics_reach, the interaction figures of
-- metrics_relationship, the acquisition cost of metrics_return and the
-- latest interaction of sheet_development_strategy read a few thousand rows
-- instead of aggregating every interaction.
--
-- Interaction facts.  Every change is described as facts about interactions:
-- +1 for an interaction as it now is, -1 for one as it was, each with its
-- month (in cdp.bi_rollup_time_zone()), segment and account (the account it
-- is attributed to: coalesce(touchpoint, contact, lead account)), channel,
-- contact, lead and whether the contact's latest consent for the channel is
-- a grant.  Statement-level AFTER triggers (transition tables, static SQL
-- only, so their plans are cached) produce them: on cdp.touchpoint for its
-- own rows; on cdp.account when an account's segment changes, cdp.contact and
-- cdp.lead when the account an interaction is attributed through changes,
-- cdp.consent when a contact's latest decision for a channel changes.
-- Merges (cdp.merge_accounts) and erasure (cdp.forget_contact) are plain
-- UPDATEs and DELETEs of these tables, so they are covered.
--
-- Where the facts go (cdp.bi_touch_apply):
--   - bi_touch_delta, APPEND-ONLY: one row per statement and month, segment
--     and channel with signed additive measures.  Writers only insert, never
--     update, so concurrent writers never wait for each other there;
--   - presence tables bi_reach_account, bi_reach_contact, bi_reach_lead: how
--     many interactions each account, contact or lead has per month,
--     segment and channel, and (overall rows) an account over all channels,
--     a contact's inbound interactions over all channels; keyed by the
--     entity first.  A distinct count (accounts reached, ...) changes
--     exactly when such a row goes from none to some or back: the upsert
--     stores its change in d and returns the new count n and d (n - d was
--     the count before), and the +1 or -1 goes to bi_touch_delta.  Writers upsert in key order
--     and only wait for writers of the same account, contact or lead;
--   - bi_account_last_touch: the latest interaction naming each account.
-- cdp.bi_compact_rollups() folds the delta rows into bi_touch_rollup (one
-- row per month, segment and channel) in one transaction; it runs in
-- cdp.refresh_bi_snapshots() (the scheduled refresh) and in
-- cdp.rebuild_bi_rollups().  Readers add up bi_touch_rollup and the delta
-- rows not folded yet, so the figures are exact at any time; compaction only
-- keeps the delta table short.
--
-- Concurrency (READ COMMITTED writers).  Whoever computes facts holds FOR
-- KEY SHARE locks on the accounts, contacts and leads the interactions are
-- attributed through (on INSERT the foreign keys take them; the other
-- triggers take them).  The rare changes of attribution (a contact or lead
-- moving, a segment changing, a consent decision) lock the rows they change
-- FOR UPDATE before they look at the interactions: they wait for the writers
-- in flight that hold them, and writers that come later wait for them, so
-- each side sees the other's work.  A writer in REPEATABLE READ that races such a
-- change can leave the rollups off; cdp.rebuild_bi_rollups() recomputes them.
--
-- Readers.  The rollups count every row: the views read them only when the
-- session's TimeZone is cdp.bi_rollup_time_zone() and row-level security
-- hides nothing from the reader (cdp.bi_rollups_usable()); otherwise they
-- compute the same figures from the tables (exact, slower).  The rollup
-- tables themselves are granted to no role: the views read them through the
-- security-barrier views bi_touch_figures and bi_last_touch, which return
-- rows only to such readers.

-- State ---------------------------------------------------------------------------

CREATE TABLE @extschema@.bi_rollup_state (
    builtin boolean PRIMARY KEY DEFAULT false,
    time_zone text NOT NULL,
    computed_since timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.bi_rollup_state IS 'State of the BI touch rollups (internal): the time zone their months are cut in and since when the triggers keep them';
COMMENT ON COLUMN @extschema@.bi_rollup_state.builtin IS 'true for the row made by CREATE EXTENSION (the creating session''s TimeZone, not dumped); false for the zone given to cdp.rebuild_bi_rollups, which wins and is dumped';
COMMENT ON COLUMN @extschema@.bi_rollup_state.time_zone IS 'Time zone of the months in the rollups (a TimeZone setting value)';
COMMENT ON COLUMN @extschema@.bi_rollup_state.computed_since IS 'When the rollups were last computed from the tables (cdp.rebuild_bi_rollups, or the creation of the extension); the triggers have kept them since';
INSERT INTO @extschema@.bi_rollup_state (builtin, time_zone) VALUES (true, pg_catalog.current_setting('TimeZone'));

-- Rollup tables -------------------------------------------------------------------

CREATE TABLE @extschema@.bi_touch_rollup (
    month date NOT NULL,
    segment text NOT NULL,
    channel text NOT NULL,
    touches bigint NOT NULL DEFAULT 0,
    inbound_touches bigint NOT NULL DEFAULT 0,
    outbound_touches bigint NOT NULL DEFAULT 0,
    direct_touches bigint NOT NULL DEFAULT 0,
    connected_touches bigint NOT NULL DEFAULT 0,
    outbound_without_consent bigint NOT NULL DEFAULT 0,
    costed_touches bigint NOT NULL DEFAULT 0,
    cost numeric NOT NULL DEFAULT 0,
    touches_with_account bigint NOT NULL DEFAULT 0,
    reached_accounts bigint NOT NULL DEFAULT 0,
    reached_contacts bigint NOT NULL DEFAULT 0,
    reached_contacts_with_consent bigint NOT NULL DEFAULT 0,
    reached_leads bigint NOT NULL DEFAULT 0,
    active_accounts bigint NOT NULL DEFAULT 0,
    active_relationships bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, segment, channel)
);
-- the delta rows: the same columns, no key, written by inserts only
CREATE TABLE @extschema@.bi_touch_delta (LIKE @extschema@.bi_touch_rollup INCLUDING DEFAULTS);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['bi_touch_rollup', 'bi_touch_delta'] LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.month IS %L', t, 'Month of the interactions in cdp.bi_rollup_time_zone(), first day');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.segment IS %L', t, 'Segment of the account the interactions are attributed to, unclassified without one');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.channel IS %L', t, 'Channel; the figures that are not per channel (active_accounts, active_relationships) are on rows with an empty channel');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.touches IS %L', t, 'Interactions');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.inbound_touches IS %L', t, 'Inbound interactions');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.outbound_touches IS %L', t, 'Outbound interactions');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.direct_touches IS %L', t, 'One-to-one interactions (phone, email, wechat, sms, visit, meeting)');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.connected_touches IS %L', t, 'Interactions connected, replied or opened');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.outbound_without_consent IS %L', t, 'Outbound interactions with a contact without granted consent for the channel');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.costed_touches IS %L', t, 'Interactions with a cost above zero');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.cost IS %L', t, 'Cost of the interactions, CNY');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.touches_with_account IS %L', t, 'Interactions attributed to an account');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.reached_accounts IS %L', t, 'Distinct accounts reached (rows of bi_reach_account per channel with interactions)');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.reached_contacts IS %L', t, 'Distinct contacts reached (rows of bi_reach_contact per channel with interactions)');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.reached_contacts_with_consent IS %L', t, 'Of those, contacts whose latest consent for the channel is a grant');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.reached_leads IS %L', t, 'Distinct leads reached (rows of bi_reach_lead with interactions)');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.active_accounts IS %L', t, 'Distinct accounts with an interaction, over all channels (overall rows of bi_reach_account with interactions)');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.active_relationships IS %L', t, 'Distinct contacts with an inbound interaction attributed to an account, over all channels (overall rows of bi_reach_contact with interactions)');
    END LOOP;
END
$$;
COMMENT ON TABLE @extschema@.bi_touch_rollup IS 'Interaction figures per month, segment and channel (internal): the delta rows folded by cdp.bi_compact_rollups(); add bi_touch_delta to get the current figures (view cdp.bi_touch_figures)';
COMMENT ON TABLE @extschema@.bi_touch_delta IS 'Changes of the interaction figures not folded into bi_touch_rollup yet (internal, append-only: the rollup triggers only insert, cdp.bi_compact_rollups() deletes)';

-- The rows of an account (of a contact) for one month and segment are
-- neighbours in the key: the row over all channels (overall) next to the
-- rows per channel, so that a write touches few index pages.  (fillfactor
-- 80: the count of a presence row changes in place, as a HOT update that
-- adds no index entry.)
CREATE TABLE @extschema@.bi_reach_account (
    account_id bigint NOT NULL, month date NOT NULL, segment text NOT NULL,
    overall boolean NOT NULL, channel text NOT NULL,
    n bigint NOT NULL,
    d bigint NOT NULL,
    PRIMARY KEY (account_id, month, segment, overall, channel)
) WITH (fillfactor = 80);
CREATE TABLE @extschema@.bi_reach_contact (
    contact_id bigint NOT NULL, month date NOT NULL, segment text NOT NULL,
    overall boolean NOT NULL, channel text NOT NULL, granted boolean NOT NULL,
    n bigint NOT NULL,
    d bigint NOT NULL,
    PRIMARY KEY (contact_id, month, segment, overall, channel, granted)
) WITH (fillfactor = 80);
CREATE TABLE @extschema@.bi_reach_lead (
    lead_id bigint NOT NULL, month date NOT NULL, segment text NOT NULL, channel text NOT NULL,
    n bigint NOT NULL,
    d bigint NOT NULL,
    PRIMARY KEY (lead_id, month, segment, channel)
) WITH (fillfactor = 80);
DO $$
DECLARE
    t text;
    what text;
BEGIN
    FOREACH t IN ARRAY ARRAY['bi_reach_account', 'bi_reach_contact', 'bi_reach_lead'] LOOP
        what := CASE t WHEN 'bi_reach_account' THEN 'interactions per account, month, segment and channel (accounts reached), and over all channels (active accounts)'
                       WHEN 'bi_reach_contact' THEN 'interactions per contact, month, segment, channel and consent for the channel (contacts reached), and inbound interactions attributed to an account over all channels (active relationships)'
                       ELSE 'interactions per lead, month, segment and channel (leads reached)' END;
        EXECUTE pg_catalog.format('COMMENT ON TABLE @extschema@.%I IS %L', t,
            'Presence rows behind the distinct counts of the BI touch rollups (internal, kept by triggers): ' OPERATOR(pg_catalog.||) what);
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.month IS %L', t, 'Month in cdp.bi_rollup_time_zone(), first day');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.segment IS %L', t, 'Segment of the account the interactions are attributed to');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.channel IS %L', t, 'Channel (empty on an overall row)');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.n IS %L', t, 'Number of interactions (0: none left, the row no longer counts)');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.d IS %L', t, 'Change of n made by the latest write: n - d is the count before it, so the write knows whether the row started or stopped counting');
    END LOOP;
END
$$;
COMMENT ON COLUMN @extschema@.bi_reach_account.account_id IS 'Account';
COMMENT ON COLUMN @extschema@.bi_reach_account.overall IS 'true: the row counts the account''s interactions over all channels (active accounts); false: on its channel (accounts reached)';
COMMENT ON COLUMN @extschema@.bi_reach_contact.contact_id IS 'Contact';
COMMENT ON COLUMN @extschema@.bi_reach_contact.overall IS 'true: the row counts the contact''s inbound interactions attributed to an account, over all channels (active relationships; granted false); false: its interactions on its channel (contacts reached)';
COMMENT ON COLUMN @extschema@.bi_reach_contact.granted IS 'The contact''s latest consent decision for the channel is a grant';
COMMENT ON COLUMN @extschema@.bi_reach_lead.lead_id IS 'Lead';

CREATE TABLE @extschema@.bi_account_last_touch (
    account_id bigint PRIMARY KEY,
    last_touch_at timestamptz NOT NULL
) WITH (fillfactor = 80);
COMMENT ON TABLE @extschema@.bi_account_last_touch IS 'Latest interaction naming each account (internal, kept by triggers), for cdp.sheet_development_strategy';
COMMENT ON COLUMN @extschema@.bi_account_last_touch.account_id IS 'Account (touchpoint.account_id)';
COMMENT ON COLUMN @extschema@.bi_account_last_touch.last_touch_at IS 'Latest occurred_at of its interactions';

-- the interactions of the last days per account (touches_90d of
-- sheet_development_strategy) as an index-only range scan, whatever the
-- physical order of the rows
CREATE INDEX touchpoint_occurred_account_idx ON @extschema@.touchpoint (occurred_at) INCLUDE (account_id);

-- pg_dump keeps the rollups with the rows they count: cdp's tables are
-- restored with session_replication_role = replica (README, Troubleshooting),
-- so no trigger fires and the restored rollups match the restored rows; a
-- zone given to rebuild_bi_rollups is kept too
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_rollup_state', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_touch_rollup', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_touch_delta', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_reach_account', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_reach_contact', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_reach_lead', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_account_last_touch', '');

-- Who may read them -------------------------------------------------------------

-- STABLE: reads bi_rollup_state.
CREATE FUNCTION @extschema@.bi_rollup_time_zone() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.time_zone FROM @extschema@.bi_rollup_state s ORDER BY s.builtin LIMIT 1;
END;
COMMENT ON FUNCTION @extschema@.bi_rollup_time_zone() IS 'Time zone the BI touch rollups cut months in; the rollup-backed views use the rollups when the session''s TimeZone is this one';

-- STABLE: depends on the session (current user) and the catalog.  SECURITY
-- INVOKER on purpose: it answers for the reader.  PL/pgSQL so that it is
-- never inlined: the views test it once, as a one-time filter.
CREATE FUNCTION @extschema@.bi_rollups_visible() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t regclass;
BEGIN
    -- the rollups count every row: usable by a reader row-level security
    -- does not restrict, or restricts with a policy that lets every row
    -- through (cdp_admin, cdp_analyst) and no restrictive policy
    FOREACH t IN ARRAY ARRAY['@extschema@.touchpoint', '@extschema@.account', '@extschema@.contact',
                             '@extschema@.lead', '@extschema@.consent', '@extschema@.account_profile']::regclass[] LOOP
        CONTINUE WHEN NOT pg_catalog.row_security_active(t);
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                        WHERE p.polrelid OPERATOR(pg_catalog.=) t AND p.polpermissive
                          AND p.polcmd OPERATOR(pg_catalog.=) ANY ('{r,*}'::"char"[])
                          AND pg_catalog.pg_get_expr(p.polqual, p.polrelid) OPERATOR(pg_catalog.=) 'true'
                          AND (0::oid OPERATOR(pg_catalog.=) ANY (p.polroles)
                               OR EXISTS (SELECT 1 FROM pg_catalog.unnest(p.polroles) r(oid)
                                           WHERE pg_catalog.pg_has_role(CURRENT_USER, r.oid, 'MEMBER'))))
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                       WHERE p.polrelid OPERATOR(pg_catalog.=) t AND NOT p.polpermissive
                         AND p.polcmd OPERATOR(pg_catalog.=) ANY ('{r,*}'::"char"[])
                         AND pg_catalog.pg_get_expr(p.polqual, p.polrelid) IS DISTINCT FROM 'true'
                         AND (0::oid OPERATOR(pg_catalog.=) ANY (p.polroles)
                              OR EXISTS (SELECT 1 FROM pg_catalog.unnest(p.polroles) r(oid)
                                          WHERE pg_catalog.pg_has_role(CURRENT_USER, r.oid, 'MEMBER')))) THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_rollups_visible() IS 'true when the reader sees every row of touchpoint, account, contact, lead, consent and account_profile (no row-level security, or a policy letting every row through, as for cdp_admin and cdp_analyst), so that rollups over all rows show them nothing more';

-- STABLE: depends on the session and the catalog.  PL/pgSQL: never inlined.
CREATE FUNCTION @extschema@.bi_rollups_usable() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.current_setting('TimeZone') OPERATOR(pg_catalog.=) @extschema@.bi_rollup_time_zone()
       AND @extschema@.bi_rollups_visible();
END
$$;
COMMENT ON FUNCTION @extschema@.bi_rollups_usable() IS 'true when the rollup-backed BI views may read the monthly touch rollups for this session: its TimeZone is cdp.bi_rollup_time_zone() and cdp.bi_rollups_visible(); otherwise the views compute from the tables';

-- The two doors to the rollups: views with the rights of their owner (the
-- rollup tables are granted to no role) behind a security barrier, whose
-- condition, a one-time filter evaluated for the reader, lets rows through
-- only to readers the rollups show nothing more than they may see.
CREATE VIEW @extschema@.bi_touch_figures WITH (security_barrier = true) AS
SELECT x.month, x.segment, x.channel,
       pg_catalog.sum(x.touches)::bigint AS touches,
       pg_catalog.sum(x.inbound_touches)::bigint AS inbound_touches,
       pg_catalog.sum(x.outbound_touches)::bigint AS outbound_touches,
       pg_catalog.sum(x.direct_touches)::bigint AS direct_touches,
       pg_catalog.sum(x.connected_touches)::bigint AS connected_touches,
       pg_catalog.sum(x.outbound_without_consent)::bigint AS outbound_without_consent,
       pg_catalog.sum(x.costed_touches)::bigint AS costed_touches,
       pg_catalog.sum(x.cost) AS cost,
       pg_catalog.sum(x.touches_with_account)::bigint AS touches_with_account,
       pg_catalog.sum(x.reached_accounts)::bigint AS reached_accounts,
       pg_catalog.sum(x.reached_contacts)::bigint AS reached_contacts,
       pg_catalog.sum(x.reached_contacts_with_consent)::bigint AS reached_contacts_with_consent,
       pg_catalog.sum(x.reached_leads)::bigint AS reached_leads,
       pg_catalog.sum(x.active_accounts)::bigint AS active_accounts,
       pg_catalog.sum(x.active_relationships)::bigint AS active_relationships
  FROM (SELECT r.* FROM @extschema@.bi_touch_rollup r
        UNION ALL
        SELECT d.* FROM @extschema@.bi_touch_delta d) x
 WHERE @extschema@.bi_rollups_usable()
 GROUP BY x.month, x.segment, x.channel;
COMMENT ON VIEW @extschema@.bi_touch_figures IS 'Current interaction figures per month, segment and channel (internal): bi_touch_rollup plus the delta rows not folded yet; rows only for a session that may use the rollups (cdp.bi_rollups_usable()), none for others';
COMMENT ON COLUMN @extschema@.bi_touch_figures.month IS 'Month of the interactions in cdp.bi_rollup_time_zone(), first day';
COMMENT ON COLUMN @extschema@.bi_touch_figures.segment IS 'Segment of the account the interactions are attributed to, unclassified without one';
COMMENT ON COLUMN @extschema@.bi_touch_figures.channel IS 'Channel; the figures that are not per channel (active_accounts, active_relationships) are on rows with an empty channel';
COMMENT ON COLUMN @extschema@.bi_touch_figures.touches IS 'Interactions';
COMMENT ON COLUMN @extschema@.bi_touch_figures.inbound_touches IS 'Inbound interactions';
COMMENT ON COLUMN @extschema@.bi_touch_figures.outbound_touches IS 'Outbound interactions';
COMMENT ON COLUMN @extschema@.bi_touch_figures.direct_touches IS 'One-to-one interactions (phone, email, wechat, sms, visit, meeting)';
COMMENT ON COLUMN @extschema@.bi_touch_figures.connected_touches IS 'Interactions connected, replied or opened';
COMMENT ON COLUMN @extschema@.bi_touch_figures.outbound_without_consent IS 'Outbound interactions with a contact without granted consent for the channel';
COMMENT ON COLUMN @extschema@.bi_touch_figures.costed_touches IS 'Interactions with a cost above zero';
COMMENT ON COLUMN @extschema@.bi_touch_figures.cost IS 'Cost of the interactions, CNY';
COMMENT ON COLUMN @extschema@.bi_touch_figures.touches_with_account IS 'Interactions attributed to an account';
COMMENT ON COLUMN @extschema@.bi_touch_figures.reached_accounts IS 'Distinct accounts reached';
COMMENT ON COLUMN @extschema@.bi_touch_figures.reached_contacts IS 'Distinct contacts reached';
COMMENT ON COLUMN @extschema@.bi_touch_figures.reached_contacts_with_consent IS 'Of those, contacts whose latest consent for the channel is a grant';
COMMENT ON COLUMN @extschema@.bi_touch_figures.reached_leads IS 'Distinct leads reached';
COMMENT ON COLUMN @extschema@.bi_touch_figures.active_accounts IS 'Distinct accounts with an interaction, over all channels (on the row with an empty channel)';
COMMENT ON COLUMN @extschema@.bi_touch_figures.active_relationships IS 'Distinct contacts with an inbound interaction attributed to an account, over all channels (on the row with an empty channel)';

CREATE VIEW @extschema@.bi_last_touch WITH (security_barrier = true) AS
SELECT r.account_id, r.last_touch_at
  FROM @extschema@.bi_account_last_touch r
 WHERE @extschema@.bi_rollups_visible();
COMMENT ON VIEW @extschema@.bi_last_touch IS 'Latest interaction naming each account (internal): bi_account_last_touch, for a session that sees every interaction (cdp.bi_rollups_visible()), no rows for others';
COMMENT ON COLUMN @extschema@.bi_last_touch.account_id IS 'Account';
COMMENT ON COLUMN @extschema@.bi_last_touch.last_touch_at IS 'Latest occurred_at of the interactions naming the account';
-- (the views decide for themselves whom they show rows to: governance
-- grants them to the three roles, and bi_rollup_state, which every reader
-- of the BI views consults, like any table without an owner)

-- Writing ------------------------------------------------------------------------

CREATE TYPE @extschema@.bi_touch_fact AS (
    sign integer,
    month date,
    segment text,
    channel text,
    inbound boolean,
    outbound boolean,
    direct boolean,
    connected boolean,
    cost numeric,
    account_id bigint,
    contact_id bigint,
    lead_id bigint,
    granted boolean
);
COMMENT ON TYPE @extschema@.bi_touch_fact IS 'One interaction fact of the BI touch rollups (internal): +1 for an interaction as it now is, -1 for one as it was, with what the rollups count it by';

-- STABLE: date_trunc in a named zone depends on the time zone database.
-- SQL, inlined into the triggers' queries.
CREATE FUNCTION @extschema@.bi_touch_fact(sign integer, occurred_at timestamptz, time_zone text, channel text,
                                          direction text, outcome text, cost numeric, account_id bigint,
                                          segment text, contact_id bigint, lead_id bigint, granted boolean)
RETURNS @extschema@.bi_touch_fact
LANGUAGE sql STABLE PARALLEL SAFE
RETURN ROW(sign,
           pg_catalog.date_trunc('month', occurred_at, time_zone)::date,
           coalesce(segment, 'unclassified'),
           channel,
           direction OPERATOR(pg_catalog.=) 'inbound',
           direction OPERATOR(pg_catalog.=) 'outbound',
           channel OPERATOR(pg_catalog.=) ANY (ARRAY['phone', 'email', 'wechat', 'sms', 'visit', 'meeting']::text[]),
           coalesce(outcome OPERATOR(pg_catalog.=) ANY (ARRAY['connected', 'replied', 'opened']::text[]), false),
           cost,
           account_id,
           contact_id,
           lead_id,
           coalesce(granted, false))::@extschema@.bi_touch_fact;
COMMENT ON FUNCTION @extschema@.bi_touch_fact(integer, timestamptz, text, text, text, text, numeric, bigint, text, bigint, bigint, boolean) IS 'Builds an interaction fact of the BI touch rollups (internal): month in the given zone, direct and connected as cdp.metrics_reach defines them, unclassified without a segment';

-- STABLE: reads consent.  The latest decision of a contact for a channel.
CREATE FUNCTION @extschema@.bi_consent_granted(contact_id bigint, channel text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT k.granted FROM @extschema@.consent k
     WHERE k.contact_id OPERATOR(pg_catalog.=) bi_consent_granted.contact_id
       AND k.channel OPERATOR(pg_catalog.=) bi_consent_granted.channel
     ORDER BY k.recorded_at DESC, k.consent_id DESC
     LIMIT 1;
END;
COMMENT ON FUNCTION @extschema@.bi_consent_granted(bigint, text) IS 'Latest consent decision of a contact for a channel (NULL without one), as cdp.metrics_reach reads it (internal)';

-- VOLATILE: writes the rollups.  Called by the rollup triggers (as the
-- extension owner, who alone may write the rollup tables).  Static SQL,
-- one statement: its plan is prepared once per session.  The presence
-- tables are upserted each in key order (entity first), one after the other
-- in the order the final insert reads them (the same plan for every
-- writer), so that two writers wait for each other only when they write
-- interactions of the same account, contact or lead, and never in a cycle;
-- the delta table only gets inserts.
CREATE FUNCTION @extschema@.bi_touch_apply(facts @extschema@.bi_touch_fact[]) RETURNS void
LANGUAGE plpgsql STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    WITH f AS MATERIALIZED (
        SELECT * FROM pg_catalog.unnest(facts)
    ), u_acc AS (
        -- distinct accounts per month, segment and channel, and over all
        -- channels (active accounts)
        INSERT INTO @extschema@.bi_reach_account AS p (account_id, month, segment, overall, channel, n, d)
        SELECT g.* FROM (
            SELECT f.account_id, f.month, f.segment, false AS overall, f.channel, pg_catalog.sum(f.sign) AS n, pg_catalog.sum(f.sign) AS d
              FROM f WHERE f.account_id IS NOT NULL
             GROUP BY f.account_id, f.month, f.segment, f.channel
            UNION ALL
            SELECT f.account_id, f.month, f.segment, true, '', pg_catalog.sum(f.sign), pg_catalog.sum(f.sign)
              FROM f WHERE f.account_id IS NOT NULL
             GROUP BY f.account_id, f.month, f.segment) g
         WHERE g.n OPERATOR(pg_catalog.<>) 0
         ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (account_id, month, segment, overall, channel) DO UPDATE SET n = p.n OPERATOR(pg_catalog.+) excluded.n, d = excluded.d
        RETURNING p.month, p.segment, p.overall, p.channel, p.n, p.d
    ), u_con AS (
        -- distinct contacts (and those with consent), and contacts engaging
        -- back (inbound, attributed to an account) over all channels
        INSERT INTO @extschema@.bi_reach_contact AS p (contact_id, month, segment, overall, channel, granted, n, d)
        SELECT g.* FROM (
            SELECT f.contact_id, f.month, f.segment, false AS overall, f.channel, f.granted, pg_catalog.sum(f.sign) AS n, pg_catalog.sum(f.sign) AS d
              FROM f WHERE f.contact_id IS NOT NULL
             GROUP BY f.contact_id, f.month, f.segment, f.channel, f.granted
            UNION ALL
            SELECT f.contact_id, f.month, f.segment, true, '', false, pg_catalog.sum(f.sign), pg_catalog.sum(f.sign)
              FROM f WHERE f.inbound AND f.contact_id IS NOT NULL AND f.account_id IS NOT NULL
             GROUP BY f.contact_id, f.month, f.segment) g
         WHERE g.n OPERATOR(pg_catalog.<>) 0
         ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (contact_id, month, segment, overall, channel, granted) DO UPDATE SET n = p.n OPERATOR(pg_catalog.+) excluded.n, d = excluded.d
        RETURNING p.month, p.segment, p.overall, p.channel, p.granted, p.n, p.d
    ), u_lead AS (
        -- distinct leads
        INSERT INTO @extschema@.bi_reach_lead AS p (lead_id, month, segment, channel, n, d)
        SELECT f.lead_id, f.month, f.segment, f.channel, pg_catalog.sum(f.sign), pg_catalog.sum(f.sign)
          FROM f WHERE f.lead_id IS NOT NULL
         GROUP BY 1, 2, 3, 4 HAVING pg_catalog.sum(f.sign) OPERATOR(pg_catalog.<>) 0
         ORDER BY 1, 2, 3, 4
            ON CONFLICT (lead_id, month, segment, channel) DO UPDATE SET n = p.n OPERATOR(pg_catalog.+) excluded.n, d = excluded.d
        RETURNING p.month, p.segment, p.channel, p.n, p.d
    ), x AS (
        -- the additive figures, then a row of a presence table starting
        -- (n - d <= 0 < n) or stopping (n <= 0 < n - d) to count: +1 or -1
        SELECT f.month, f.segment, f.channel,
               f.sign::bigint AS touches,
               CASE WHEN f.inbound THEN f.sign ELSE 0 END::bigint AS inbound_touches,
               CASE WHEN f.outbound THEN f.sign ELSE 0 END::bigint AS outbound_touches,
               CASE WHEN f.direct THEN f.sign ELSE 0 END::bigint AS direct_touches,
               CASE WHEN f.connected THEN f.sign ELSE 0 END::bigint AS connected_touches,
               CASE WHEN f.outbound AND f.contact_id IS NOT NULL AND NOT f.granted THEN f.sign ELSE 0 END::bigint AS outbound_without_consent,
               CASE WHEN f.cost OPERATOR(pg_catalog.>) 0 THEN f.sign ELSE 0 END::bigint AS costed_touches,
               coalesce(f.sign::numeric OPERATOR(pg_catalog.*) f.cost, 0) AS cost,
               CASE WHEN f.account_id IS NOT NULL THEN f.sign ELSE 0 END::bigint AS touches_with_account,
               0::bigint AS reached_accounts, 0::bigint AS reached_contacts, 0::bigint AS reached_contacts_with_consent,
               0::bigint AS reached_leads, 0::bigint AS active_accounts, 0::bigint AS active_relationships
          FROM f
        UNION ALL
        SELECT u.month, u.segment, u.channel, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               CASE WHEN u.overall THEN 0 ELSE t.v END, 0, 0, 0, CASE WHEN u.overall THEN t.v ELSE 0 END, 0
          FROM u_acc u CROSS JOIN LATERAL (SELECT CASE WHEN u.n OPERATOR(pg_catalog.>) 0 AND u.n OPERATOR(pg_catalog.-) u.d OPERATOR(pg_catalog.<=) 0 THEN 1
                 WHEN u.n OPERATOR(pg_catalog.<=) 0 AND u.n OPERATOR(pg_catalog.-) u.d OPERATOR(pg_catalog.>) 0 THEN -1 ELSE 0 END AS v) t
        UNION ALL
        SELECT u.month, u.segment, u.channel, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               0, CASE WHEN u.overall THEN 0 ELSE t.v END, CASE WHEN u.granted AND NOT u.overall THEN t.v ELSE 0 END, 0,
               0, CASE WHEN u.overall THEN t.v ELSE 0 END
          FROM u_con u CROSS JOIN LATERAL (SELECT CASE WHEN u.n OPERATOR(pg_catalog.>) 0 AND u.n OPERATOR(pg_catalog.-) u.d OPERATOR(pg_catalog.<=) 0 THEN 1
                 WHEN u.n OPERATOR(pg_catalog.<=) 0 AND u.n OPERATOR(pg_catalog.-) u.d OPERATOR(pg_catalog.>) 0 THEN -1 ELSE 0 END AS v) t
        UNION ALL
        SELECT u.month, u.segment, u.channel, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               0, 0, 0, CASE WHEN u.n OPERATOR(pg_catalog.>) 0 AND u.n OPERATOR(pg_catalog.-) u.d OPERATOR(pg_catalog.<=) 0 THEN 1
                 WHEN u.n OPERATOR(pg_catalog.<=) 0 AND u.n OPERATOR(pg_catalog.-) u.d OPERATOR(pg_catalog.>) 0 THEN -1 ELSE 0 END, 0, 0
          FROM u_lead u
    )
    INSERT INTO @extschema@.bi_touch_delta
    SELECT g.* FROM (
        SELECT x.month, x.segment, x.channel,
               pg_catalog.sum(x.touches)::bigint AS touches, pg_catalog.sum(x.inbound_touches)::bigint AS inbound_touches,
               pg_catalog.sum(x.outbound_touches)::bigint AS outbound_touches, pg_catalog.sum(x.direct_touches)::bigint AS direct_touches,
               pg_catalog.sum(x.connected_touches)::bigint AS connected_touches,
               pg_catalog.sum(x.outbound_without_consent)::bigint AS outbound_without_consent,
               pg_catalog.sum(x.costed_touches)::bigint AS costed_touches, pg_catalog.sum(x.cost) AS cost,
               pg_catalog.sum(x.touches_with_account)::bigint AS touches_with_account,
               pg_catalog.sum(x.reached_accounts)::bigint AS reached_accounts,
               pg_catalog.sum(x.reached_contacts)::bigint AS reached_contacts,
               pg_catalog.sum(x.reached_contacts_with_consent)::bigint AS reached_contacts_with_consent,
               pg_catalog.sum(x.reached_leads)::bigint AS reached_leads,
               pg_catalog.sum(x.active_accounts)::bigint AS active_accounts,
               pg_catalog.sum(x.active_relationships)::bigint AS active_relationships
          FROM x
         GROUP BY x.month, x.segment, x.channel) g
     WHERE g.touches OPERATOR(pg_catalog.<>) 0 OR g.inbound_touches OPERATOR(pg_catalog.<>) 0
        OR g.outbound_touches OPERATOR(pg_catalog.<>) 0 OR g.direct_touches OPERATOR(pg_catalog.<>) 0
        OR g.connected_touches OPERATOR(pg_catalog.<>) 0 OR g.outbound_without_consent OPERATOR(pg_catalog.<>) 0
        OR g.costed_touches OPERATOR(pg_catalog.<>) 0 OR g.cost OPERATOR(pg_catalog.<>) 0
        OR g.touches_with_account OPERATOR(pg_catalog.<>) 0 OR g.reached_accounts OPERATOR(pg_catalog.<>) 0
        OR g.reached_contacts OPERATOR(pg_catalog.<>) 0 OR g.reached_contacts_with_consent OPERATOR(pg_catalog.<>) 0
        OR g.reached_leads OPERATOR(pg_catalog.<>) 0 OR g.active_accounts OPERATOR(pg_catalog.<>) 0
        OR g.active_relationships OPERATOR(pg_catalog.<>) 0;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_touch_apply(@extschema@.bi_touch_fact[]) IS 'Applies interaction facts to the BI touch rollups (internal, used by the rollup triggers): presence rows upserted in key order, and one delta row per month, segment and channel appended with the additive figures and the distinct counts that changed';

-- VOLATILE: writes bi_account_last_touch.  The latest interaction of each
-- account given is looked up again (touchpoint_account_idx, one backward
-- index probe per account), after deletes and updates.  The rows are locked
-- first, so that a concurrent insert for one of the accounts is either
-- waited for and then seen, or waits and then raises the value.
CREATE FUNCTION @extschema@.bi_last_touch_recompute(accounts bigint[]) RETURNS void
LANGUAGE plpgsql STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.cardinality(accounts) OPERATOR(pg_catalog.=) 0 THEN
        RETURN;
    END IF;
    PERFORM FROM @extschema@.bi_account_last_touch r
      WHERE r.account_id OPERATOR(pg_catalog.=) ANY (accounts) ORDER BY r.account_id FOR UPDATE;
    DELETE FROM @extschema@.bi_account_last_touch r WHERE r.account_id OPERATOR(pg_catalog.=) ANY (accounts);
    INSERT INTO @extschema@.bi_account_last_touch AS r (account_id, last_touch_at)
    SELECT x.a, m.last
      FROM (SELECT DISTINCT u.a FROM pg_catalog.unnest(accounts) u(a) WHERE u.a IS NOT NULL) x
     CROSS JOIN LATERAL (SELECT t.occurred_at AS last FROM @extschema@.touchpoint t
                          WHERE t.account_id OPERATOR(pg_catalog.=) x.a
                          ORDER BY t.occurred_at DESC LIMIT 1) m
     ORDER BY x.a
        ON CONFLICT (account_id) DO UPDATE SET last_touch_at = excluded.last_touch_at
     WHERE r.last_touch_at OPERATOR(pg_catalog.<) excluded.last_touch_at;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_last_touch_recompute(bigint[]) IS 'Looks up again the latest interaction of the given accounts in bi_account_last_touch (internal, used by the touchpoint rollup trigger)';

-- VOLATILE: empties the rollups.
CREATE FUNCTION @extschema@.bi_rollups_truncate() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    TRUNCATE @extschema@.bi_touch_rollup, @extschema@.bi_touch_delta, @extschema@.bi_reach_account,
             @extschema@.bi_reach_contact, @extschema@.bi_reach_lead, @extschema@.bi_account_last_touch;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_rollups_truncate() IS 'Empties every BI touch rollup table (internal: TRUNCATE of cdp.touchpoint, and cdp.rebuild_bi_rollups before it recomputes)';

-- VOLATILE, SECURITY DEFINER: the rollups are internal, written with the
-- extension owner's rights whoever changes the interactions (and computed
-- from every row, whatever row-level security shows the writer).
CREATE FUNCTION @extschema@.bi_touchpoint_rollup() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tz text;
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
        PERFORM @extschema@.bi_rollups_truncate();
        RETURN NULL;
    END IF;
    tz := @extschema@.bi_rollup_time_zone();
    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        -- the foreign keys hold the account, contact and lead (FOR KEY SHARE)
        -- (consent: the latest decisions of the contacts named, joined,
        -- rather than a look-up per row, for large inserts)
        PERFORM @extschema@.bi_touch_apply(ARRAY(
            SELECT @extschema@.bi_touch_fact(1, t.occurred_at, tz, t.channel, t.direction, t.outcome, t.cost, a.account_id,
                                             @extschema@.segment_of(a.segment, a.employees, a.annual_revenue),
                                             t.contact_id, t.lead_id, k.granted)
              FROM bi_new t
              LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
              LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
              LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)
              LEFT JOIN (SELECT DISTINCT ON (k.contact_id, k.channel) k.contact_id, k.channel, k.granted
                           FROM @extschema@.consent k
                          WHERE k.contact_id IN (SELECT n.contact_id FROM bi_new n)
                          ORDER BY k.contact_id, k.channel, k.recorded_at DESC, k.consent_id DESC) k
                     ON k.contact_id OPERATOR(pg_catalog.=) t.contact_id AND k.channel OPERATOR(pg_catalog.=) t.channel));
        -- the latest interaction per account only moves forward
        INSERT INTO @extschema@.bi_account_last_touch AS r (account_id, last_touch_at)
        SELECT n.account_id, pg_catalog.max(n.occurred_at) FROM bi_new n WHERE n.account_id IS NOT NULL
         GROUP BY n.account_id ORDER BY n.account_id
            ON CONFLICT (account_id) DO UPDATE SET last_touch_at = excluded.last_touch_at
         WHERE r.last_touch_at OPERATOR(pg_catalog.<) excluded.last_touch_at;
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        -- what the old rows were attributed through, held as the foreign
        -- keys hold it for an insert: accounts, contacts, leads (the order
        -- a segment change locks them in)
        PERFORM FROM @extschema@.account a WHERE a.account_id IN (SELECT o.account_id FROM bi_old o)
          ORDER BY a.account_id FOR KEY SHARE;
        PERFORM FROM @extschema@.contact c WHERE c.contact_id IN (SELECT o.contact_id FROM bi_old o)
          ORDER BY c.contact_id FOR KEY SHARE;
        PERFORM FROM @extschema@.lead l WHERE l.lead_id IN (SELECT o.lead_id FROM bi_old o)
          ORDER BY l.lead_id FOR KEY SHARE;
        PERFORM @extschema@.bi_touch_apply(ARRAY(
            SELECT @extschema@.bi_touch_fact(-1, t.occurred_at, tz, t.channel, t.direction, t.outcome, t.cost, a.account_id,
                                             @extschema@.segment_of(a.segment, a.employees, a.annual_revenue),
                                             t.contact_id, t.lead_id, @extschema@.bi_consent_granted(t.contact_id, t.channel))
              FROM bi_old t
              LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
              LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
              LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)));
        PERFORM @extschema@.bi_last_touch_recompute(ARRAY(
            SELECT DISTINCT o.account_id FROM bi_old o WHERE o.account_id IS NOT NULL));
    ELSE
        -- UPDATE: only the rows whose counted columns changed
        PERFORM FROM @extschema@.account a WHERE a.account_id IN (SELECT o.account_id FROM bi_old o)
          ORDER BY a.account_id FOR KEY SHARE;
        PERFORM FROM @extschema@.contact c WHERE c.contact_id IN (SELECT o.contact_id FROM bi_old o)
          ORDER BY c.contact_id FOR KEY SHARE;
        PERFORM FROM @extschema@.lead l WHERE l.lead_id IN (SELECT o.lead_id FROM bi_old o)
          ORDER BY l.lead_id FOR KEY SHARE;
        PERFORM @extschema@.bi_touch_apply(ARRAY(
            WITH k AS MATERIALIZED (
                SELECT o.touchpoint_id
                  FROM bi_old o JOIN bi_new n ON n.touchpoint_id OPERATOR(pg_catalog.=) o.touchpoint_id
                 WHERE (o.account_id, o.contact_id, o.lead_id, o.channel, o.direction, o.outcome, o.cost, o.occurred_at)
                       IS DISTINCT FROM (n.account_id, n.contact_id, n.lead_id, n.channel, n.direction, n.outcome, n.cost, n.occurred_at))
            SELECT @extschema@.bi_touch_fact(t.sign, t.occurred_at, tz, t.channel, t.direction, t.outcome, t.cost, a.account_id,
                                             @extschema@.segment_of(a.segment, a.employees, a.annual_revenue),
                                             t.contact_id, t.lead_id, @extschema@.bi_consent_granted(t.contact_id, t.channel))
              FROM (SELECT -1 AS sign, o.* FROM bi_old o WHERE o.touchpoint_id IN (SELECT k.touchpoint_id FROM k)
                    UNION ALL
                    SELECT 1, n.* FROM bi_new n WHERE n.touchpoint_id IN (SELECT k.touchpoint_id FROM k)) t
              LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
              LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
              LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)));
        PERFORM @extschema@.bi_last_touch_recompute(ARRAY(
            SELECT o.account_id FROM bi_old o JOIN bi_new n ON n.touchpoint_id OPERATOR(pg_catalog.=) o.touchpoint_id
             WHERE o.account_id IS NOT NULL
               AND (o.account_id, o.occurred_at) IS DISTINCT FROM (n.account_id, n.occurred_at)
            UNION
            SELECT n.account_id FROM bi_old o JOIN bi_new n ON n.touchpoint_id OPERATOR(pg_catalog.=) o.touchpoint_id
             WHERE n.account_id IS NOT NULL
               AND (o.account_id, o.occurred_at) IS DISTINCT FROM (n.account_id, n.occurred_at)));
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_touchpoint_rollup() IS 'Trigger on cdp.touchpoint (per statement): applies the inserted, deleted or updated interactions to the BI touch rollups; TRUNCATE empties them';

CREATE TRIGGER bi_rollup_insert AFTER INSERT ON @extschema@.touchpoint
    REFERENCING NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_touchpoint_rollup();
CREATE TRIGGER bi_rollup_update AFTER UPDATE ON @extschema@.touchpoint
    REFERENCING OLD TABLE AS bi_old NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_touchpoint_rollup();
CREATE TRIGGER bi_rollup_delete AFTER DELETE ON @extschema@.touchpoint
    REFERENCING OLD TABLE AS bi_old FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_touchpoint_rollup();
CREATE TRIGGER bi_rollup_truncate AFTER TRUNCATE ON @extschema@.touchpoint
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_touchpoint_rollup();

-- VOLATILE, SECURITY DEFINER: as bi_touchpoint_rollup.  An account whose
-- segment changes takes its interactions (direct, through its contacts and
-- through its leads) from the old segment to the new one.  The accounts,
-- then their contacts, then their leads are locked FOR UPDATE first, which
-- waits for the interaction writers in flight that hold them.
CREATE FUNCTION @extschema@.bi_account_rollup() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed bigint[];
    tz text;
BEGIN
    changed := ARRAY(
        SELECT o.account_id FROM bi_old o JOIN bi_new n ON n.account_id OPERATOR(pg_catalog.=) o.account_id
         WHERE @extschema@.segment_of(o.segment, o.employees, o.annual_revenue)
               IS DISTINCT FROM @extschema@.segment_of(n.segment, n.employees, n.annual_revenue)
         ORDER BY 1);
    IF pg_catalog.cardinality(changed) OPERATOR(pg_catalog.=) 0 THEN
        RETURN NULL;
    END IF;
    PERFORM FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) ANY (changed)
      ORDER BY a.account_id FOR UPDATE;
    PERFORM FROM @extschema@.contact c WHERE c.account_id OPERATOR(pg_catalog.=) ANY (changed)
      ORDER BY c.contact_id FOR UPDATE;
    PERFORM FROM @extschema@.lead l WHERE l.account_id OPERATOR(pg_catalog.=) ANY (changed)
      ORDER BY l.lead_id FOR UPDATE;
    tz := @extschema@.bi_rollup_time_zone();
    PERFORM @extschema@.bi_touch_apply(ARRAY(
        SELECT @extschema@.bi_touch_fact(s.sign, t.occurred_at, tz, t.channel, t.direction, t.outcome, t.cost, t.acc,
                                         s.seg, t.contact_id, t.lead_id, @extschema@.bi_consent_granted(t.contact_id, t.channel))
          FROM (SELECT t.*, t.account_id AS acc FROM @extschema@.touchpoint t
                 WHERE t.account_id OPERATOR(pg_catalog.=) ANY (changed)
                UNION ALL
                SELECT t.*, c.account_id FROM @extschema@.touchpoint t
                  JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
                 WHERE t.account_id IS NULL AND c.account_id OPERATOR(pg_catalog.=) ANY (changed)
                UNION ALL
                SELECT t.*, l.account_id FROM @extschema@.touchpoint t
                  JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
                  LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
                 WHERE t.account_id IS NULL AND c.account_id IS NULL
                   AND l.account_id OPERATOR(pg_catalog.=) ANY (changed)) t
          JOIN (SELECT -1 AS sign, o.account_id, @extschema@.segment_of(o.segment, o.employees, o.annual_revenue) AS seg
                  FROM bi_old o WHERE o.account_id OPERATOR(pg_catalog.=) ANY (changed)
                UNION ALL
                SELECT 1, n.account_id, @extschema@.segment_of(n.segment, n.employees, n.annual_revenue)
                  FROM bi_new n WHERE n.account_id OPERATOR(pg_catalog.=) ANY (changed)) s
            ON s.account_id OPERATOR(pg_catalog.=) t.acc));
    -- and its contacts in the contact counts (module section "Contact
    -- counts"), locked above
    PERFORM @extschema@.bi_contact_apply(ARRAY(
        SELECT ROW(s.sign, pg_catalog.date_trunc('month', c.created_at, tz)::date, coalesce(s.seg, 'unclassified'),
                   c.decision_role IS NOT NULL, c.verified)::@extschema@.bi_contact_fact
          FROM @extschema@.contact c
          JOIN (SELECT -1 AS sign, o.account_id, @extschema@.segment_of(o.segment, o.employees, o.annual_revenue) AS seg
                  FROM bi_old o WHERE o.account_id OPERATOR(pg_catalog.=) ANY (changed)
                UNION ALL
                SELECT 1, n.account_id, @extschema@.segment_of(n.segment, n.employees, n.annual_revenue)
                  FROM bi_new n WHERE n.account_id OPERATOR(pg_catalog.=) ANY (changed)) s
            ON s.account_id OPERATOR(pg_catalog.=) c.account_id));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_account_rollup() IS 'Trigger on cdp.account (per UPDATE statement): moves the interactions and the contacts of accounts whose segment changed to the new segment in the BI touch rollups and contact counts';
CREATE TRIGGER bi_rollup_update AFTER UPDATE ON @extschema@.account
    REFERENCING OLD TABLE AS bi_old NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_account_rollup();

-- VOLATILE, SECURITY DEFINER: as bi_touchpoint_rollup.  A contact that moves
-- to another account (or to none) takes along its interactions that name no
-- account themselves.  The contacts are locked FOR UPDATE first: that waits
-- for the interaction writers in flight holding them (FOR KEY SHARE).
CREATE FUNCTION @extschema@.bi_contact_rollup() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    moved bigint[];
    tz text;
BEGIN
    moved := ARRAY(
        SELECT o.contact_id FROM bi_old o JOIN bi_new n ON n.contact_id OPERATOR(pg_catalog.=) o.contact_id
         WHERE o.account_id IS DISTINCT FROM n.account_id ORDER BY 1);
    IF pg_catalog.cardinality(moved) OPERATOR(pg_catalog.=) 0 THEN
        RETURN NULL;
    END IF;
    PERFORM FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) ANY (moved)
      ORDER BY c.contact_id FOR UPDATE;
    -- and the leads the interactions are also attributed through, against
    -- a concurrent move of one of them
    PERFORM FROM @extschema@.lead l
      WHERE l.lead_id IN (SELECT t.lead_id FROM @extschema@.touchpoint t
                           WHERE t.account_id IS NULL AND t.contact_id OPERATOR(pg_catalog.=) ANY (moved))
      ORDER BY l.lead_id FOR KEY SHARE;
    tz := @extschema@.bi_rollup_time_zone();
    PERFORM @extschema@.bi_touch_apply(ARRAY(
        SELECT @extschema@.bi_touch_fact(s.sign, t.occurred_at, tz, t.channel, t.direction, t.outcome, t.cost, a.account_id,
                                         @extschema@.segment_of(a.segment, a.employees, a.annual_revenue),
                                         t.contact_id, t.lead_id, @extschema@.bi_consent_granted(t.contact_id, t.channel))
          FROM @extschema@.touchpoint t
          JOIN (SELECT -1 AS sign, o.contact_id, o.account_id FROM bi_old o WHERE o.contact_id OPERATOR(pg_catalog.=) ANY (moved)
                UNION ALL
                SELECT 1, n.contact_id, n.account_id FROM bi_new n WHERE n.contact_id OPERATOR(pg_catalog.=) ANY (moved)) s
            ON s.contact_id OPERATOR(pg_catalog.=) t.contact_id
          LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
          LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) coalesce(s.account_id, l.account_id)
         WHERE t.account_id IS NULL AND t.contact_id OPERATOR(pg_catalog.=) ANY (moved)));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_contact_rollup() IS 'Trigger on cdp.contact (per UPDATE statement): re-attributes, in the BI touch rollups, the interactions of contacts that moved to another account';
CREATE TRIGGER bi_rollup_update AFTER UPDATE ON @extschema@.contact
    REFERENCING OLD TABLE AS bi_old NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_contact_rollup();

-- VOLATILE, SECURITY DEFINER: as bi_contact_rollup.  A lead matched to
-- another account takes along its interactions attributed through it (no
-- account of their own, no contact with an account).
CREATE FUNCTION @extschema@.bi_lead_rollup() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    moved bigint[];
    tz text;
BEGIN
    moved := ARRAY(
        SELECT o.lead_id FROM bi_old o JOIN bi_new n ON n.lead_id OPERATOR(pg_catalog.=) o.lead_id
         WHERE o.account_id IS DISTINCT FROM n.account_id ORDER BY 1);
    IF pg_catalog.cardinality(moved) OPERATOR(pg_catalog.=) 0 THEN
        RETURN NULL;
    END IF;
    -- the contacts of the interactions first (their account, or none,
    -- decides whether the lead's counts), against a concurrent move of one
    PERFORM FROM @extschema@.contact c
      WHERE c.contact_id IN (SELECT t.contact_id FROM @extschema@.touchpoint t
                              WHERE t.account_id IS NULL AND t.lead_id OPERATOR(pg_catalog.=) ANY (moved))
      ORDER BY c.contact_id FOR KEY SHARE;
    PERFORM FROM @extschema@.lead l WHERE l.lead_id OPERATOR(pg_catalog.=) ANY (moved)
      ORDER BY l.lead_id FOR UPDATE;
    tz := @extschema@.bi_rollup_time_zone();
    PERFORM @extschema@.bi_touch_apply(ARRAY(
        SELECT @extschema@.bi_touch_fact(s.sign, t.occurred_at, tz, t.channel, t.direction, t.outcome, t.cost, a.account_id,
                                         @extschema@.segment_of(a.segment, a.employees, a.annual_revenue),
                                         t.contact_id, t.lead_id, @extschema@.bi_consent_granted(t.contact_id, t.channel))
          FROM @extschema@.touchpoint t
          JOIN (SELECT -1 AS sign, o.lead_id, o.account_id FROM bi_old o WHERE o.lead_id OPERATOR(pg_catalog.=) ANY (moved)
                UNION ALL
                SELECT 1, n.lead_id, n.account_id FROM bi_new n WHERE n.lead_id OPERATOR(pg_catalog.=) ANY (moved)) s
            ON s.lead_id OPERATOR(pg_catalog.=) t.lead_id
          LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
          LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) s.account_id
         WHERE t.account_id IS NULL AND c.account_id IS NULL AND t.lead_id OPERATOR(pg_catalog.=) ANY (moved)));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_lead_rollup() IS 'Trigger on cdp.lead (per UPDATE statement): re-attributes, in the BI touch rollups, the interactions attributed through leads matched to another account';
CREATE TRIGGER bi_rollup_update AFTER UPDATE ON @extschema@.lead
    REFERENCING OLD TABLE AS bi_old NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_lead_rollup();

-- VOLATILE, SECURITY DEFINER: as bi_touchpoint_rollup.  Before a consent
-- decision is written, its contact is locked FOR UPDATE: that waits for the
-- interaction writers in flight holding the contact (FOR KEY SHARE, through
-- touchpoint's foreign key), and makes two decisions about one contact wait
-- for each other instead of deadlocking in the statement trigger.
CREATE FUNCTION @extschema@.bi_consent_lock() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP OPERATOR(pg_catalog.<>) 'INSERT' THEN
        PERFORM FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) OLD.contact_id FOR UPDATE;
    END IF;
    IF TG_OP OPERATOR(pg_catalog.<>) 'DELETE' THEN
        PERFORM FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) NEW.contact_id FOR UPDATE;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_consent_lock() IS 'Trigger on cdp.consent (before each row): locks the contact of the decision against concurrent interaction writers, for the BI touch rollups';
CREATE TRIGGER bi_rollup_lock BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.consent
    FOR EACH ROW EXECUTE FUNCTION @extschema@.bi_consent_lock();

-- VOLATILE, SECURITY DEFINER: as bi_touchpoint_rollup.  A new consent
-- decision can change whether a contact reached on a channel counts as
-- reachable with consent: its interactions on that channel are taken out as
-- they were counted and put back with the latest decision.
CREATE FUNCTION @extschema@.bi_consent_rollup() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    contacts bigint[];
    channels text[];
    befores boolean[];
    tz text;
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
        PERFORM @extschema@.rebuild_bi_rollups();
        RETURN NULL;
    END IF;
    -- the pairs whose latest decision changed, with the decision before the
    -- statement (the log without the new rows, with the old ones)
    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        SELECT pg_catalog.array_agg(p.contact_id), pg_catalog.array_agg(p.channel), pg_catalog.array_agg(p.before)
          INTO contacts, channels, befores
          FROM (SELECT DISTINCT n.contact_id, n.channel FROM bi_new n) q
         CROSS JOIN LATERAL (
               SELECT q.contact_id, q.channel,
                      coalesce((SELECT k.granted FROM @extschema@.consent k
                                 WHERE k.contact_id OPERATOR(pg_catalog.=) q.contact_id AND k.channel OPERATOR(pg_catalog.=) q.channel
                                   AND k.consent_id NOT IN (SELECT n.consent_id FROM bi_new n)
                                 ORDER BY k.recorded_at DESC, k.consent_id DESC LIMIT 1), false) AS before) p
         WHERE p.before IS DISTINCT FROM coalesce(@extschema@.bi_consent_granted(p.contact_id, p.channel), false);
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        SELECT pg_catalog.array_agg(p.contact_id), pg_catalog.array_agg(p.channel), pg_catalog.array_agg(p.before)
          INTO contacts, channels, befores
          FROM (SELECT DISTINCT o.contact_id, o.channel FROM bi_old o) q
         CROSS JOIN LATERAL (
               SELECT q.contact_id, q.channel,
                      coalesce((SELECT k.granted
                                  FROM (SELECT k.granted, k.recorded_at, k.consent_id FROM @extschema@.consent k
                                         WHERE k.contact_id OPERATOR(pg_catalog.=) q.contact_id AND k.channel OPERATOR(pg_catalog.=) q.channel
                                        UNION ALL
                                        SELECT o.granted, o.recorded_at, o.consent_id FROM bi_old o
                                         WHERE o.contact_id OPERATOR(pg_catalog.=) q.contact_id AND o.channel OPERATOR(pg_catalog.=) q.channel) k
                                 ORDER BY k.recorded_at DESC, k.consent_id DESC LIMIT 1), false) AS before) p
         WHERE p.before IS DISTINCT FROM coalesce(@extschema@.bi_consent_granted(p.contact_id, p.channel), false);
    ELSE
        SELECT pg_catalog.array_agg(p.contact_id), pg_catalog.array_agg(p.channel), pg_catalog.array_agg(p.before)
          INTO contacts, channels, befores
          FROM (SELECT o.contact_id, o.channel FROM bi_old o UNION SELECT n.contact_id, n.channel FROM bi_new n) q
         CROSS JOIN LATERAL (
               SELECT q.contact_id, q.channel,
                      coalesce((SELECT k.granted
                                  FROM (SELECT k.granted, k.recorded_at, k.consent_id FROM @extschema@.consent k
                                         WHERE k.contact_id OPERATOR(pg_catalog.=) q.contact_id AND k.channel OPERATOR(pg_catalog.=) q.channel
                                           AND k.consent_id NOT IN (SELECT n.consent_id FROM bi_new n)
                                        UNION ALL
                                        SELECT o.granted, o.recorded_at, o.consent_id FROM bi_old o
                                         WHERE o.contact_id OPERATOR(pg_catalog.=) q.contact_id AND o.channel OPERATOR(pg_catalog.=) q.channel) k
                                 ORDER BY k.recorded_at DESC, k.consent_id DESC LIMIT 1), false) AS before) p
         WHERE p.before IS DISTINCT FROM coalesce(@extschema@.bi_consent_granted(p.contact_id, p.channel), false);
    END IF;
    IF contacts IS NULL THEN
        RETURN NULL;
    END IF;
    -- the accounts and leads the interactions are attributed through (the
    -- contacts are held since the row trigger), against a concurrent
    -- segment change or move
    PERFORM FROM @extschema@.account a
      WHERE a.account_id IN (SELECT t.account_id FROM @extschema@.touchpoint t
                              JOIN ROWS FROM (pg_catalog.unnest(contacts), pg_catalog.unnest(channels)) p(contact_id, channel)
                                ON t.contact_id OPERATOR(pg_catalog.=) p.contact_id AND t.channel OPERATOR(pg_catalog.=) p.channel)
      ORDER BY a.account_id FOR KEY SHARE;
    PERFORM FROM @extschema@.lead l
      WHERE l.lead_id IN (SELECT t.lead_id FROM @extschema@.touchpoint t
                           JOIN ROWS FROM (pg_catalog.unnest(contacts), pg_catalog.unnest(channels)) p(contact_id, channel)
                             ON t.contact_id OPERATOR(pg_catalog.=) p.contact_id AND t.channel OPERATOR(pg_catalog.=) p.channel)
      ORDER BY l.lead_id FOR KEY SHARE;
    tz := @extschema@.bi_rollup_time_zone();
    PERFORM @extschema@.bi_touch_apply(ARRAY(
        SELECT @extschema@.bi_touch_fact(s.sign, t.occurred_at, tz, t.channel, t.direction, t.outcome, t.cost, a.account_id,
                                         @extschema@.segment_of(a.segment, a.employees, a.annual_revenue),
                                         t.contact_id, t.lead_id, s.granted)
          FROM ROWS FROM (pg_catalog.unnest(contacts), pg_catalog.unnest(channels), pg_catalog.unnest(befores)) p(contact_id, channel, before)
          JOIN @extschema@.touchpoint t
            ON t.contact_id OPERATOR(pg_catalog.=) p.contact_id AND t.channel OPERATOR(pg_catalog.=) p.channel
         CROSS JOIN LATERAL (VALUES (-1, p.before), (1, NOT p.before)) s(sign, granted)
          LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
          LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
          LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_consent_rollup() IS 'Trigger on cdp.consent (per statement): recounts, in the BI touch rollups, the interactions of the contacts and channels whose latest consent decision changed; TRUNCATE rebuilds the rollups';
CREATE TRIGGER bi_rollup_insert AFTER INSERT ON @extschema@.consent
    REFERENCING NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_consent_rollup();
CREATE TRIGGER bi_rollup_update AFTER UPDATE ON @extschema@.consent
    REFERENCING OLD TABLE AS bi_old NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_consent_rollup();
CREATE TRIGGER bi_rollup_delete AFTER DELETE ON @extschema@.consent
    REFERENCING OLD TABLE AS bi_old FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_consent_rollup();
CREATE TRIGGER bi_rollup_truncate AFTER TRUNCATE ON @extschema@.consent
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_consent_rollup();

-- Reading -------------------------------------------------------------------------

-- STABLE: reads tables.  SECURITY INVOKER: row-level security applies to the
-- reader.  cdp.metrics_reach computed from the tables, for sessions that
-- cannot read the rollups (rows in key order, like the functions below, so
-- that a result does not depend on the physical order of the rows).  PL/pgSQL, so that the planner neither inlines it
-- nor costs it: the view calls it behind a one-time filter, and a plan whose
-- estimate included a scan of every interaction would be compiled (JIT) and
-- given parallel workers even when the filter skips it.
CREATE FUNCTION @extschema@.bi_metrics_reach_live()
RETURNS TABLE (month date, segment text, channel text, touches bigint, inbound_touches bigint,
               outbound_touches bigint, direct_touches bigint, indirect_touches bigint, connected_touches bigint,
               reached_accounts bigint, reached_contacts bigint, reached_leads bigint,
               reached_contacts_with_consent bigint, outbound_without_consent bigint, cost_cny numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH cons AS (
        -- the latest decision per contact and channel wins
        SELECT DISTINCT ON (k.contact_id, k.channel) k.contact_id, k.channel, k.granted
          FROM @extschema@.consent k
         ORDER BY k.contact_id, k.channel, k.recorded_at DESC, k.consent_id DESC
    ), tp AS (
        SELECT pg_catalog.date_trunc('month', t.occurred_at)::date AS month,
               coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
               t.channel,
               t.direction,
               t.channel OPERATOR(pg_catalog.=) ANY (ARRAY['phone', 'email', 'wechat', 'sms', 'visit', 'meeting']::text[]) AS direct,
               t.outcome OPERATOR(pg_catalog.=) ANY (ARRAY['connected', 'replied', 'opened']::text[]) AS connected,
               a.account_id,
               t.contact_id,
               t.lead_id,
               k.granted,
               t.cost
          FROM @extschema@.touchpoint t
          LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
          LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
          LEFT JOIN @extschema@.account a
                 ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)
          LEFT JOIN cons k ON k.contact_id OPERATOR(pg_catalog.=) t.contact_id AND k.channel OPERATOR(pg_catalog.=) t.channel
    )
    SELECT month, segment, channel,
           pg_catalog.count(*) AS touches,
           pg_catalog.count(*) FILTER (WHERE direction OPERATOR(pg_catalog.=) 'inbound') AS inbound_touches,
           pg_catalog.count(*) FILTER (WHERE direction OPERATOR(pg_catalog.=) 'outbound') AS outbound_touches,
           pg_catalog.count(*) FILTER (WHERE direct) AS direct_touches,
           pg_catalog.count(*) FILTER (WHERE NOT direct) AS indirect_touches,
           pg_catalog.count(*) FILTER (WHERE connected) AS connected_touches,
           pg_catalog.count(DISTINCT account_id) AS reached_accounts,
           pg_catalog.count(DISTINCT contact_id) AS reached_contacts,
           pg_catalog.count(DISTINCT lead_id) AS reached_leads,
           pg_catalog.count(DISTINCT contact_id) FILTER (WHERE granted) AS reached_contacts_with_consent,
           pg_catalog.count(*) FILTER (WHERE direction OPERATOR(pg_catalog.=) 'outbound' AND contact_id IS NOT NULL
                                         AND granted IS NOT TRUE) AS outbound_without_consent,
           coalesce(pg_catalog.sum(cost), 0) AS cost_cny
      FROM tp
     GROUP BY month, segment, channel
     ORDER BY month, segment, channel;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_metrics_reach_live() IS 'cdp.metrics_reach computed from the tables (internal): what the view shows when the session cannot use the rollups (cdp.bi_rollups_usable() is false)';

-- STABLE: reads tables.  SECURITY INVOKER: the rollups through
-- cdp.bi_touch_figures when the session may use them, else the tables as
-- row-level security shows them to the reader.  PL/pgSQL for the reason
-- given at bi_metrics_reach_live.
CREATE FUNCTION @extschema@.bi_relationship_touches()
RETURNS TABLE (month date, segment text, touches bigint, active_accounts bigint, active_relationships bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF @extschema@.bi_rollups_usable() THEN
        RETURN QUERY
        SELECT f.month, f.segment,
               pg_catalog.sum(f.touches_with_account)::bigint,
               pg_catalog.sum(f.active_accounts)::bigint,
               pg_catalog.sum(f.active_relationships)::bigint
          FROM @extschema@.bi_touch_figures f
         GROUP BY f.month, f.segment
        HAVING pg_catalog.sum(f.touches_with_account) OPERATOR(pg_catalog.>) 0
         ORDER BY f.month, f.segment;
    ELSE
        RETURN QUERY
        SELECT pg_catalog.date_trunc('month', t.occurred_at)::date,
               coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
               pg_catalog.count(*),
               pg_catalog.count(DISTINCT a.account_id),
               pg_catalog.count(DISTINCT t.contact_id) FILTER (WHERE t.direction OPERATOR(pg_catalog.=) 'inbound')
          FROM @extschema@.touchpoint t
          LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
          LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
          JOIN @extschema@.account a
            ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)
         GROUP BY 1, 2
         ORDER BY 1, 2;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_relationship_touches() IS 'Interactions attributed to an account per month and segment, with the distinct accounts and the distinct contacts with an inbound interaction (internal, the interaction figures of cdp.metrics_relationship): from the rollups when cdp.bi_rollups_usable(), else from the tables';

-- STABLE, SECURITY INVOKER, PL/pgSQL: as bi_relationship_touches.
CREATE FUNCTION @extschema@.bi_return_touch_costs()
RETURNS TABLE (month date, segment text, cost numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF @extschema@.bi_rollups_usable() THEN
        RETURN QUERY
        SELECT f.month, f.segment, pg_catalog.sum(f.cost)
          FROM @extschema@.bi_touch_figures f
         GROUP BY f.month, f.segment
        HAVING pg_catalog.sum(f.costed_touches) OPERATOR(pg_catalog.>) 0
         ORDER BY f.month, f.segment;
    ELSE
        RETURN QUERY
        SELECT pg_catalog.date_trunc('month', t.occurred_at)::date,
               coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
               pg_catalog.sum(t.cost)
          FROM @extschema@.touchpoint t
          LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
          LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
          LEFT JOIN @extschema@.account a
                 ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)
         WHERE t.cost OPERATOR(pg_catalog.>) 0
         GROUP BY 1, 2
         ORDER BY 1, 2;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_return_touch_costs() IS 'Cost of the interactions with a cost per month and segment (internal, the acquisition cost of cdp.metrics_return): from the rollups when cdp.bi_rollups_usable(), else from the tables';

-- STABLE: reads touchpoint.  SECURITY INVOKER: row-level security applies.
-- The latest interaction naming each account, computed from the interactions
-- the reader sees, for a reader who does not see them all (no rows
-- otherwise: cdp.bi_last_touch has them).  PL/pgSQL with ROWS 1: the
-- planner costs sheet_development_strategy for the readers the rollup
-- serves, and the scan of every interaction is not planned when it is not
-- needed.
CREATE FUNCTION @extschema@.bi_last_touch_live()
RETURNS TABLE (account_id bigint, last_touch_at timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF @extschema@.bi_rollups_visible() THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT t.account_id, pg_catalog.max(t.occurred_at)
      FROM @extschema@.touchpoint t
     WHERE t.account_id IS NOT NULL
     GROUP BY t.account_id;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_last_touch_live() IS 'Latest interaction per account computed from the interactions the reader sees, when cdp.bi_rollups_visible() is false (internal, the fallback of cdp.bi_last_touch in cdp.sheet_development_strategy); no rows otherwise';

-- Compaction and rebuild -------------------------------------------------------------

-- VOLATILE: moves rows.  SECURITY DEFINER: the rollups are the extension
-- owner's; EXECUTE is for administrators.  One statement: the delta rows it
-- deletes are the ones it adds to the rollup, so a reader sees them on one
-- side or the other, never both or neither.  Writers are not blocked (they
-- only insert delta rows, which the next compaction folds).
CREATE FUNCTION @extschema@.bi_compact_rollups() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    WITH d AS (
        DELETE FROM @extschema@.bi_touch_delta RETURNING *
    ), s AS (
        SELECT d.month, d.segment, d.channel,
               pg_catalog.sum(d.touches)::bigint AS touches, pg_catalog.sum(d.inbound_touches)::bigint AS inbound_touches,
               pg_catalog.sum(d.outbound_touches)::bigint AS outbound_touches, pg_catalog.sum(d.direct_touches)::bigint AS direct_touches,
               pg_catalog.sum(d.connected_touches)::bigint AS connected_touches,
               pg_catalog.sum(d.outbound_without_consent)::bigint AS outbound_without_consent,
               pg_catalog.sum(d.costed_touches)::bigint AS costed_touches, pg_catalog.sum(d.cost) AS cost,
               pg_catalog.sum(d.touches_with_account)::bigint AS touches_with_account,
               pg_catalog.sum(d.reached_accounts)::bigint AS reached_accounts, pg_catalog.sum(d.reached_contacts)::bigint AS reached_contacts,
               pg_catalog.sum(d.reached_contacts_with_consent)::bigint AS reached_contacts_with_consent,
               pg_catalog.sum(d.reached_leads)::bigint AS reached_leads, pg_catalog.sum(d.active_accounts)::bigint AS active_accounts,
               pg_catalog.sum(d.active_relationships)::bigint AS active_relationships,
               pg_catalog.count(*) AS rows
          FROM d GROUP BY d.month, d.segment, d.channel
    ), u AS (
        INSERT INTO @extschema@.bi_touch_rollup AS r
        SELECT s.month, s.segment, s.channel, s.touches, s.inbound_touches, s.outbound_touches, s.direct_touches,
               s.connected_touches, s.outbound_without_consent, s.costed_touches, s.cost, s.touches_with_account,
               s.reached_accounts, s.reached_contacts, s.reached_contacts_with_consent, s.reached_leads,
               s.active_accounts, s.active_relationships
          FROM s ORDER BY s.month, s.segment, s.channel
            ON CONFLICT (month, segment, channel) DO UPDATE
           SET touches = r.touches OPERATOR(pg_catalog.+) excluded.touches,
               inbound_touches = r.inbound_touches OPERATOR(pg_catalog.+) excluded.inbound_touches,
               outbound_touches = r.outbound_touches OPERATOR(pg_catalog.+) excluded.outbound_touches,
               direct_touches = r.direct_touches OPERATOR(pg_catalog.+) excluded.direct_touches,
               connected_touches = r.connected_touches OPERATOR(pg_catalog.+) excluded.connected_touches,
               outbound_without_consent = r.outbound_without_consent OPERATOR(pg_catalog.+) excluded.outbound_without_consent,
               costed_touches = r.costed_touches OPERATOR(pg_catalog.+) excluded.costed_touches,
               cost = r.cost OPERATOR(pg_catalog.+) excluded.cost,
               touches_with_account = r.touches_with_account OPERATOR(pg_catalog.+) excluded.touches_with_account,
               reached_accounts = r.reached_accounts OPERATOR(pg_catalog.+) excluded.reached_accounts,
               reached_contacts = r.reached_contacts OPERATOR(pg_catalog.+) excluded.reached_contacts,
               reached_contacts_with_consent = r.reached_contacts_with_consent OPERATOR(pg_catalog.+) excluded.reached_contacts_with_consent,
               reached_leads = r.reached_leads OPERATOR(pg_catalog.+) excluded.reached_leads,
               active_accounts = r.active_accounts OPERATOR(pg_catalog.+) excluded.active_accounts,
               active_relationships = r.active_relationships OPERATOR(pg_catalog.+) excluded.active_relationships
        RETURNING 1
    )
    -- (u runs to completion whatever reads it)
    SELECT coalesce(pg_catalog.sum(s.rows), 0)::bigint INTO n FROM s;
    -- the contact counts the same way
    WITH d AS (
        DELETE FROM @extschema@.bi_contact_delta RETURNING *
    ), s AS (
        SELECT d.month, d.segment, pg_catalog.sum(d.contacts)::bigint AS contacts,
               pg_catalog.sum(d.tagged_contacts)::bigint AS tagged_contacts,
               pg_catalog.sum(d.verified_contacts)::bigint AS verified_contacts, pg_catalog.count(*) AS rows
          FROM d GROUP BY d.month, d.segment
    ), u AS (
        INSERT INTO @extschema@.bi_contact_rollup AS r
        SELECT s.month, s.segment, s.contacts, s.tagged_contacts, s.verified_contacts
          FROM s ORDER BY s.month, s.segment
            ON CONFLICT (month, segment) DO UPDATE
           SET contacts = r.contacts OPERATOR(pg_catalog.+) excluded.contacts,
               tagged_contacts = r.tagged_contacts OPERATOR(pg_catalog.+) excluded.tagged_contacts,
               verified_contacts = r.verified_contacts OPERATOR(pg_catalog.+) excluded.verified_contacts
        RETURNING 1
    )
    SELECT n OPERATOR(pg_catalog.+) coalesce(pg_catalog.sum(s.rows), 0)::bigint INTO n FROM s;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_compact_rollups() IS 'Folds the delta rows of the BI touch rollups and contact counts (bi_touch_delta, bi_contact_delta, appended by every interaction or contact write) into bi_touch_rollup and bi_contact_rollup in one transaction, so readers always see exact figures and the delta table stays short; returns the number of delta rows folded. Runs in cdp.refresh_bi_snapshots() and cdp.rebuild_bi_rollups()';
REVOKE ALL ON FUNCTION @extschema@.bi_compact_rollups() FROM PUBLIC;

-- VOLATILE: rewrites the rollups.  SECURITY DEFINER: the rollups are the
-- extension owner's; EXECUTE is revoked from PUBLIC.
CREATE FUNCTION @extschema@.rebuild_bi_rollups(time_zone text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF time_zone IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name OPERATOR(pg_catalog.=) time_zone)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_abbrevs z WHERE z.abbrev OPERATOR(pg_catalog.=) time_zone) THEN
            RAISE EXCEPTION 'unknown time zone for cdp.rebuild_bi_rollups: "%"', time_zone
                USING ERRCODE = '22023',
                      HINT = 'Give a name of pg_timezone_names, e.g. Asia/Shanghai, as SHOW TimeZone prints it in the BI sessions.';
        END IF;
    END IF;
    -- writers wait while the rollups are rebuilt; readers do not
    LOCK TABLE @extschema@.touchpoint, @extschema@.account, @extschema@.contact, @extschema@.lead, @extschema@.consent,
               @extschema@.account_profile
        IN SHARE MODE;
    IF time_zone IS NOT NULL THEN
        DELETE FROM @extschema@.bi_rollup_state s WHERE NOT s.builtin;
        INSERT INTO @extschema@.bi_rollup_state (builtin, time_zone) VALUES (false, rebuild_bi_rollups.time_zone);
    END IF;
    UPDATE @extschema@.bi_rollup_state SET computed_since = pg_catalog.now();
    PERFORM @extschema@.bi_rollups_truncate();
    INSERT INTO @extschema@.bi_account_last_touch (account_id, last_touch_at)
    SELECT t.account_id, pg_catalog.max(t.occurred_at) FROM @extschema@.touchpoint t
     WHERE t.account_id IS NOT NULL GROUP BY t.account_id ORDER BY t.account_id;
    -- every interaction once, consent by a join on the latest decisions
    -- rather than a look-up per interaction; the tables are empty, so plain
    -- grouped inserts, each distinct count the number of presence rows (as
    -- delta rows, folded below)
    WITH f AS MATERIALIZED (
        SELECT pg_catalog.date_trunc('month', t.occurred_at, s.time_zone)::date AS month,
               coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
               t.channel,
               t.direction OPERATOR(pg_catalog.=) 'inbound' AS inbound,
               t.direction OPERATOR(pg_catalog.=) 'outbound' AS outbound,
               t.channel OPERATOR(pg_catalog.=) ANY (ARRAY['phone', 'email', 'wechat', 'sms', 'visit', 'meeting']::text[]) AS direct,
               coalesce(t.outcome OPERATOR(pg_catalog.=) ANY (ARRAY['connected', 'replied', 'opened']::text[]), false) AS connected,
               t.cost, a.account_id, t.contact_id, t.lead_id, coalesce(k.granted, false) AS granted
          FROM @extschema@.touchpoint t
          LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
          LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
          LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)
          LEFT JOIN (SELECT DISTINCT ON (k.contact_id, k.channel) k.contact_id, k.channel, k.granted
                       FROM @extschema@.consent k
                      ORDER BY k.contact_id, k.channel, k.recorded_at DESC, k.consent_id DESC) k
                 ON k.contact_id OPERATOR(pg_catalog.=) t.contact_id AND k.channel OPERATOR(pg_catalog.=) t.channel
         CROSS JOIN (SELECT @extschema@.bi_rollup_time_zone() AS time_zone) s
    ), i_acc AS (
        INSERT INTO @extschema@.bi_reach_account (account_id, month, segment, overall, channel, n, d)
        SELECT account_id, month, segment, false, channel, pg_catalog.count(*), pg_catalog.count(*) FROM f
         WHERE account_id IS NOT NULL GROUP BY account_id, month, segment, channel
        UNION ALL
        SELECT account_id, month, segment, true, '', pg_catalog.count(*), pg_catalog.count(*) FROM f
         WHERE account_id IS NOT NULL GROUP BY account_id, month, segment
        RETURNING month, segment, overall, channel
    ), i_con AS (
        INSERT INTO @extschema@.bi_reach_contact (contact_id, month, segment, overall, channel, granted, n, d)
        SELECT contact_id, month, segment, false, channel, granted, pg_catalog.count(*), pg_catalog.count(*) FROM f
         WHERE contact_id IS NOT NULL GROUP BY contact_id, month, segment, channel, granted
        UNION ALL
        SELECT contact_id, month, segment, true, '', false, pg_catalog.count(*), pg_catalog.count(*) FROM f
         WHERE inbound AND contact_id IS NOT NULL AND account_id IS NOT NULL GROUP BY contact_id, month, segment
        RETURNING month, segment, overall, channel, granted
    ), i_lead AS (
        INSERT INTO @extschema@.bi_reach_lead (lead_id, month, segment, channel, n, d)
        SELECT lead_id, month, segment, channel, pg_catalog.count(*), pg_catalog.count(*) FROM f
         WHERE lead_id IS NOT NULL GROUP BY lead_id, month, segment, channel
        RETURNING month, segment, channel
    )
    INSERT INTO @extschema@.bi_touch_delta
    SELECT month, segment, channel,
           pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE inbound), pg_catalog.count(*) FILTER (WHERE outbound),
           pg_catalog.count(*) FILTER (WHERE direct), pg_catalog.count(*) FILTER (WHERE connected),
           pg_catalog.count(*) FILTER (WHERE outbound AND contact_id IS NOT NULL AND NOT granted),
           pg_catalog.count(*) FILTER (WHERE cost OPERATOR(pg_catalog.>) 0), coalesce(pg_catalog.sum(cost), 0),
           pg_catalog.count(*) FILTER (WHERE account_id IS NOT NULL), 0, 0, 0, 0, 0, 0
      FROM f GROUP BY 1, 2, 3
    UNION ALL
    SELECT month, segment, channel, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           pg_catalog.count(*) FILTER (WHERE NOT overall), 0, 0, 0, pg_catalog.count(*) FILTER (WHERE overall), 0
      FROM i_acc GROUP BY 1, 2, 3
    UNION ALL
    SELECT month, segment, channel, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           0, pg_catalog.count(*) FILTER (WHERE NOT overall), pg_catalog.count(*) FILTER (WHERE granted AND NOT overall), 0,
           0, pg_catalog.count(*) FILTER (WHERE overall)
      FROM i_con GROUP BY 1, 2, 3
    UNION ALL
    SELECT month, segment, channel, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, pg_catalog.count(*), 0, 0 FROM i_lead GROUP BY 1, 2, 3;
    -- the contact counts: every contact once
    TRUNCATE @extschema@.bi_contact_rollup, @extschema@.bi_contact_delta;
    INSERT INTO @extschema@.bi_contact_delta (month, segment, contacts, tagged_contacts, verified_contacts)
    SELECT pg_catalog.date_trunc('month', c.created_at, z.time_zone)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           pg_catalog.count(*), pg_catalog.count(c.decision_role), pg_catalog.count(*) FILTER (WHERE c.verified)
      FROM @extschema@.contact c
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) c.account_id
     CROSS JOIN (SELECT @extschema@.bi_rollup_time_zone() AS time_zone) z
     GROUP BY 1, 2;
    PERFORM @extschema@.bi_compact_rollups();
    PERFORM @extschema@.bi_account_sheet_rebuild();
    SELECT pg_catalog.count(*) INTO n FROM @extschema@.bi_touch_rollup;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.rebuild_bi_rollups(text) IS 'Recomputes the BI touch rollups and contact counts from the tables (after a load with triggers off, e.g. session_replication_role = replica), optionally cutting months in another time zone from now on (e.g. ''Asia/Shanghai''); and the per-account sheet summary (bi_account_sheet); blocks writers of touchpoint, account, contact, lead, consent and account_profile meanwhile; returns the number of month, segment and channel rows. Unknown zone: 22023';
REVOKE ALL ON FUNCTION @extschema@.rebuild_bi_rollups(text) FROM PUBLIC;

-- Account sheet summary -----------------------------------------------------------
--
-- One row per account with what the CDP sheets and the Recognize and
-- Relationship metrics need from the tables around it, kept by the
-- database so that their questions read one table instead of joining 1M
-- accounts to their aggregated contacts and testing 22 fields per account:
-- the account's segment (cdp.segment_of), tier and creation time, the bits
-- of the CDP sheet fields (cdp.sheet_field) its own row and its profile
-- fill, the counts of its contacts (all, verified, tagged with a decision
-- role, decision makers, required decision roles covered), and whether it
-- is a probable duplicate of an older account (same cdp.company_key, or
-- same company domain as cdp.email_domain reads it).  Completeness itself
-- is not stored: it depends on cdp.sheet_requirement, which the views join.
--
-- Statement-level AFTER triggers on cdp.account, cdp.contact and
-- cdp.account_profile collect the accounts a statement changed and
-- recompute their rows from the tables (cdp.bi_account_sheet_recompute):
-- first the rows are created or locked in account order (waiting for a
-- writer in flight on the same account), then a new statement, with a new
-- snapshot in READ COMMITTED, computes from what is committed now plus the
-- writer's own rows.  An account's name or domain also decides whether
-- other accounts of the same company key or domain are duplicates: the
-- account trigger takes a transaction advisory lock per key and domain
-- concerned (in order) before it looks for them, so that two writers of one
-- key see each other's accounts.  A recomputation is exact whatever happened
-- before, so there is nothing to fold; a REPEATABLE READ writer that races
-- another on the same account gets a serialization failure (40001) instead
-- of a wrong row.  Readers go through the security-barrier view
-- bi_account_sheet_figures (rows only for a session that sees every row,
-- cdp.bi_rollups_visible()); for others the views compute the same columns
-- from the rows the reader sees (cdp.bi_account_sheet_live()).  After a load
-- with triggers off, cdp.rebuild_bi_rollups() recomputes every row.

CREATE TABLE @extschema@.bi_account_sheet (
    account_id bigint PRIMARY KEY,
    created_at timestamptz NOT NULL,
    segment text,
    tier text NOT NULL,
    account_mask integer NOT NULL DEFAULT 0,
    profile_mask integer NOT NULL DEFAULT 0,
    contacts integer NOT NULL DEFAULT 0,
    verified_contacts integer NOT NULL DEFAULT 0,
    tagged_contacts integer NOT NULL DEFAULT 0,
    decision_makers integer NOT NULL DEFAULT 0,
    chain_roles integer NOT NULL DEFAULT 0,
    is_duplicate boolean NOT NULL DEFAULT false
) WITH (fillfactor = 80);
COMMENT ON TABLE @extschema@.bi_account_sheet IS 'Per-account summary behind the CDP sheets and the Recognize and Relationship metrics (internal, kept by triggers on cdp.account, cdp.contact and cdp.account_profile): segment, tier, filled sheet fields, contact counts, duplicate flag';
COMMENT ON COLUMN @extschema@.bi_account_sheet.account_id IS 'Account';
COMMENT ON COLUMN @extschema@.bi_account_sheet.created_at IS 'When the account was created (account.created_at)';
COMMENT ON COLUMN @extschema@.bi_account_sheet.segment IS 'cdp.segment_of the account; NULL when nothing is known (unclassified)';
COMMENT ON COLUMN @extschema@.bi_account_sheet.tier IS 'Account tier (account.tier)';
COMMENT ON COLUMN @extschema@.bi_account_sheet.account_mask IS 'Bits (cdp.sheet_field.bit 15 to 19) of the sheet fields the account row fills: industry, employees, annual_revenue, city, owner';
COMMENT ON COLUMN @extschema@.bi_account_sheet.profile_mask IS 'Bits (cdp.sheet_field.bit 0 to 14) of the CDP sheet fields the account''s profile fills; 0 without a profile';
COMMENT ON COLUMN @extschema@.bi_account_sheet.contacts IS 'Contacts at the account';
COMMENT ON COLUMN @extschema@.bi_account_sheet.verified_contacts IS 'Of those, verified';
COMMENT ON COLUMN @extschema@.bi_account_sheet.tagged_contacts IS 'Of those, with a decision role';
COMMENT ON COLUMN @extschema@.bi_account_sheet.decision_makers IS 'Of those, decision makers';
COMMENT ON COLUMN @extschema@.bi_account_sheet.chain_roles IS 'Roles of cdp.decision_roles_required() the account has a contact for';
COMMENT ON COLUMN @extschema@.bi_account_sheet.is_duplicate IS 'An older account (smaller account_id) has the same cdp.company_key of its name, or the same company domain (cdp.email_domain, free mail never)';
-- kept by pg_dump with the rows it summarises, like the touch rollups
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_account_sheet', '');

-- IMMUTABLE: a function of the values of one profile row.  SQL, inlined.
-- Text fields count when they hold more than blanks.
CREATE FUNCTION @extschema@.sheet_profile_mask(p @extschema@.account_profile) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (CASE WHEN pg_catalog.btrim(p.legal_representative) OPERATOR(pg_catalog.<>) '' THEN 1 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.org_structure) OPERATOR(pg_catalog.<>) '' THEN 2 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.decision_process) OPERATOR(pg_catalog.<>) '' THEN 4 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.scale) OPERATOR(pg_catalog.<>) '' THEN 8 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.development_plan) OPERATOR(pg_catalog.<>) '' THEN 16 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.pain_points) OPERATOR(pg_catalog.<>) '' THEN 32 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.service_fit) OPERATOR(pg_catalog.<>) '' THEN 64 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.key_people) OPERATOR(pg_catalog.<>) '' THEN 128 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.key_person_actions) OPERATOR(pg_catalog.<>) '' THEN 256 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.action_plan) OPERATOR(pg_catalog.<>) '' THEN 512 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN p.profit_level IS NOT NULL THEN 1024 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN p.acquisition_cost IS NOT NULL THEN 2048 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN p.equipment_budget IS NOT NULL THEN 4096 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN p.annual_purchase_volume IS NOT NULL THEN 8192 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.current_supplier) OPERATOR(pg_catalog.<>) '' THEN 16384 ELSE 0 END);
COMMENT ON FUNCTION @extschema@.sheet_profile_mask(@extschema@.account_profile) IS 'Bits (cdp.sheet_field.bit 0 to 14) of the CDP sheet fields a profile row fills: text with more than blanks, numbers and levels not NULL';

-- IMMUTABLE: a function of its arguments.  SQL, inlined.
CREATE FUNCTION @extschema@.sheet_account_mask(industry text, employees integer, annual_revenue numeric, city text, owner name)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (CASE WHEN pg_catalog.btrim(industry) OPERATOR(pg_catalog.<>) '' THEN 32768 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN employees IS NOT NULL THEN 65536 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN annual_revenue IS NOT NULL THEN 131072 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(city) OPERATOR(pg_catalog.<>) '' THEN 262144 ELSE 0 END)
       OPERATOR(pg_catalog.|) (CASE WHEN owner IS NOT NULL THEN 524288 ELSE 0 END);
COMMENT ON FUNCTION @extschema@.sheet_account_mask(text, integer, numeric, text, name) IS 'Bits (cdp.sheet_field.bit 15 to 19) of the sheet fields an account row fills: industry and city with more than blanks, employees, annual revenue and owner not NULL';

-- STABLE, SECURITY INVOKER: the reader's rows.  SQL, inlined.  The
-- duplicates among the accounts the reader sees, found the way the triggers
-- find them among all: not the oldest account of its company key or of its
-- company domain, read in key order from account_company_key_idx and
-- account_email_domain_idx (no function call, no sort).
CREATE FUNCTION @extschema@.bi_account_duplicates_live() RETURNS TABLE (account_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT k.account_id
      FROM (SELECT d.account_id,
                   pg_catalog.row_number() OVER (PARTITION BY @extschema@.company_key(d.name) ORDER BY d.account_id) AS n
              FROM @extschema@.account d
             WHERE NOT @extschema@.company_key_too_long(d.name)
               AND @extschema@.company_key(d.name) IS NOT NULL) k
     WHERE k.n OPERATOR(pg_catalog.>) 1
    UNION
    SELECT k.account_id
      FROM (SELECT d.account_id,
                   pg_catalog.row_number() OVER (PARTITION BY @extschema@.email_domain(d.domain) ORDER BY d.account_id) AS n
              FROM @extschema@.account d
             WHERE @extschema@.email_domain(d.domain) IS NOT NULL) k
     WHERE k.n OPERATOR(pg_catalog.>) 1;
END;
COMMENT ON FUNCTION @extschema@.bi_account_duplicates_live() IS 'Accounts the reader sees that are probable duplicates of an older one they see: same cdp.company_key of the name, or same company domain (cdp.email_domain) (internal: the rebuild of bi_account_sheet, and metrics_recognize for readers row-level security restricts)';

-- STABLE, SECURITY INVOKER: the reader's rows.  SQL, inlined into the views.
-- is_duplicate is left NULL: the sheets do not need it, and
-- metrics_recognize counts such a reader's duplicates itself
-- (cdp.bi_account_duplicates_live()).
CREATE FUNCTION @extschema@.bi_account_sheet_live()
RETURNS TABLE (account_id bigint, created_at timestamptz, segment text, tier text, account_mask integer,
               profile_mask integer, contacts integer, verified_contacts integer, tagged_contacts integer,
               decision_makers integer, chain_roles integer, is_duplicate boolean)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    -- a row per account, so that a condition on the account reaches the
    -- contacts and the profile through the join keys
    SELECT a.account_id, a.created_at, @extschema@.segment_of(a.segment, a.employees, a.annual_revenue), a.tier,
           @extschema@.sheet_account_mask(a.industry, a.employees, a.annual_revenue, a.city, a.owner),
           coalesce(@extschema@.sheet_profile_mask(p.*), 0),
           coalesce(c.contacts, 0), coalesce(c.verified_contacts, 0), coalesce(c.tagged_contacts, 0),
           coalesce(c.decision_makers, 0), coalesce(c.chain_roles, 0),
           NULL::boolean
      FROM @extschema@.account a
      LEFT JOIN (SELECT c.account_id,
                        pg_catalog.count(*)::integer AS contacts,
                        pg_catalog.count(*) FILTER (WHERE c.verified)::integer AS verified_contacts,
                        pg_catalog.count(c.decision_role)::integer AS tagged_contacts,
                        pg_catalog.count(*) FILTER (WHERE c.decision_role OPERATOR(pg_catalog.=) 'decision_maker')::integer AS decision_makers,
                        pg_catalog.count(DISTINCT c.decision_role) FILTER (
                            WHERE c.decision_role OPERATOR(pg_catalog.=) ANY (@extschema@.decision_roles_required()))::integer AS chain_roles
                   FROM @extschema@.contact c
                  GROUP BY c.account_id) c ON c.account_id OPERATOR(pg_catalog.=) a.account_id
      LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) a.account_id;
END;
COMMENT ON FUNCTION @extschema@.bi_account_sheet_live() IS 'The columns of bi_account_sheet but is_duplicate (NULL) computed from the accounts, contacts and profiles the reader sees (internal: the BI views'' path for readers row-level security restricts, and the rebuild)';

CREATE VIEW @extschema@.bi_account_sheet_figures WITH (security_barrier = true) AS
SELECT s.account_id, s.created_at, s.segment, s.tier, s.account_mask, s.profile_mask, s.contacts, s.verified_contacts,
       s.tagged_contacts, s.decision_makers, s.chain_roles, s.is_duplicate
  FROM @extschema@.bi_account_sheet s
 WHERE @extschema@.bi_rollups_visible();
COMMENT ON VIEW @extschema@.bi_account_sheet_figures IS 'Per-account sheet summary (internal): bi_account_sheet for a session that sees every row (cdp.bi_rollups_visible()), no rows for others';

-- What every reader of the sheets reads: the kept summary, or the live one.
-- (Two branches behind one-time filters; exactly one returns rows.)
CREATE VIEW @extschema@.bi_account_sheet_current WITH (security_invoker = true) AS
SELECT f.account_id, f.created_at, f.segment, f.tier, f.account_mask, f.profile_mask, f.contacts, f.verified_contacts,
       f.tagged_contacts, f.decision_makers, f.chain_roles, f.is_duplicate
  FROM @extschema@.bi_account_sheet_figures f
UNION ALL
SELECT l.account_id, l.created_at, l.segment, l.tier, l.account_mask, l.profile_mask, l.contacts, l.verified_contacts,
       l.tagged_contacts, l.decision_makers, l.chain_roles, l.is_duplicate
  FROM @extschema@.bi_account_sheet_live() l
 WHERE NOT @extschema@.bi_rollups_visible();
COMMENT ON VIEW @extschema@.bi_account_sheet_current IS 'Per-account sheet summary as the reader may see it (internal): one row per account, the kept summary when the reader sees every row, else computed from the rows the reader sees';

DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['bi_account_sheet_figures', 'bi_account_sheet_current'] LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.account_id IS %L', v, 'Account');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.created_at IS %L', v, 'When the account was created');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.segment IS %L', v, 'cdp.segment_of the account; NULL when unclassified');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.tier IS %L', v, 'Account tier');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.account_mask IS %L', v, 'Bits of the sheet fields the account row fills');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.profile_mask IS %L', v, 'Bits of the CDP sheet fields the profile fills');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.contacts IS %L', v, 'Contacts at the account');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.verified_contacts IS %L', v, 'Of those, verified');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.tagged_contacts IS %L', v, 'Of those, with a decision role');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.decision_makers IS %L', v, 'Of those, decision makers');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.chain_roles IS %L', v, 'Roles of cdp.decision_roles_required() the account has a contact for');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.is_duplicate IS %L', v, 'An older account has the same company key or company domain');
    END LOOP;
END
$$;

-- VOLATILE: writes bi_account_sheet.  Called by the triggers below (which
-- are SECURITY DEFINER) with the changed accounts in any order; duplicates
-- true also recomputes the duplicate flags (the caller has locked the keys).
CREATE FUNCTION @extschema@.bi_account_sheet_recompute(accounts bigint[], duplicates boolean) RETURNS void
LANGUAGE plpgsql STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keys bigint[];
BEGIN
    keys := ARRAY(SELECT DISTINCT u.a FROM pg_catalog.unnest(accounts) u(a) WHERE u.a IS NOT NULL ORDER BY 1);
    IF pg_catalog.cardinality(keys) OPERATOR(pg_catalog.=) 0 THEN
        RETURN;
    END IF;
    -- create or lock the rows, in account order; an account deleted in the
    -- meantime has nothing to summarise (the account trigger deletes its row)
    INSERT INTO @extschema@.bi_account_sheet AS s (account_id, created_at, tier)
    SELECT a.account_id, a.created_at, a.tier FROM @extschema@.account a
     WHERE a.account_id OPERATOR(pg_catalog.=) ANY (keys)
     ORDER BY a.account_id
        ON CONFLICT (account_id) DO UPDATE SET contacts = s.contacts;
    -- a new statement: computes from what is committed now
    UPDATE @extschema@.bi_account_sheet s
       SET created_at = a.created_at,
           segment = @extschema@.segment_of(a.segment, a.employees, a.annual_revenue),
           tier = a.tier,
           account_mask = @extschema@.sheet_account_mask(a.industry, a.employees, a.annual_revenue, a.city, a.owner),
           profile_mask = coalesce((SELECT @extschema@.sheet_profile_mask(p.*) FROM @extschema@.account_profile p
                                     WHERE p.account_id OPERATOR(pg_catalog.=) a.account_id), 0),
           contacts = x.contacts, verified_contacts = x.verified_contacts, tagged_contacts = x.tagged_contacts,
           decision_makers = x.decision_makers, chain_roles = x.chain_roles,
           is_duplicate = CASE WHEN NOT duplicates THEN s.is_duplicate
                               ELSE (NOT @extschema@.company_key_too_long(a.name)
                                     AND EXISTS (SELECT 1 FROM @extschema@.account b
                                                  WHERE NOT @extschema@.company_key_too_long(b.name)
                                                    AND @extschema@.company_key(b.name) OPERATOR(pg_catalog.=) @extschema@.company_key(a.name)
                                                    AND b.account_id OPERATOR(pg_catalog.<) a.account_id))
                                    OR EXISTS (SELECT 1 FROM @extschema@.account b
                                                WHERE @extschema@.email_domain(b.domain) OPERATOR(pg_catalog.=) @extschema@.email_domain(a.domain)
                                                  AND b.account_id OPERATOR(pg_catalog.<) a.account_id) END
      FROM @extschema@.account a,
           LATERAL (SELECT pg_catalog.count(*)::integer AS contacts,
                           pg_catalog.count(*) FILTER (WHERE c.verified)::integer AS verified_contacts,
                           pg_catalog.count(c.decision_role)::integer AS tagged_contacts,
                           pg_catalog.count(*) FILTER (WHERE c.decision_role OPERATOR(pg_catalog.=) 'decision_maker')::integer AS decision_makers,
                           pg_catalog.count(DISTINCT c.decision_role) FILTER (
                               WHERE c.decision_role OPERATOR(pg_catalog.=) ANY (@extschema@.decision_roles_required()))::integer AS chain_roles
                      FROM @extschema@.contact c
                     WHERE c.account_id OPERATOR(pg_catalog.=) a.account_id) x
     WHERE a.account_id OPERATOR(pg_catalog.=) ANY (keys)
       AND s.account_id OPERATOR(pg_catalog.=) a.account_id;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_account_sheet_recompute(bigint[], boolean) IS 'Recomputes the per-account sheet summary (bi_account_sheet) of the given accounts from the tables, the duplicate flags too when asked (internal, used by the triggers on cdp.account, cdp.contact and cdp.account_profile)';
REVOKE ALL ON FUNCTION @extschema@.bi_account_sheet_recompute(bigint[], boolean) FROM PUBLIC;

-- VOLATILE, SECURITY DEFINER: as bi_account_sheet_trigger.  The accounts
-- whose duplicate flag the given company keys and domains decide, after
-- locking those keys and domains (transaction advisory locks, in order), so
-- that writers of one key take turns and each sees the other's accounts.
CREATE FUNCTION @extschema@.bi_account_sheet_duplicates(names text[], domains text[]) RETURNS bigint[]
LANGUAGE plpgsql STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ks text[];
    ds text[];
    lock_key text;
BEGIN
    ks := ARRAY(SELECT DISTINCT @extschema@.company_key(n.v) FROM pg_catalog.unnest(names) n(v)
                 WHERE NOT @extschema@.company_key_too_long(n.v) AND @extschema@.company_key(n.v) IS NOT NULL);
    ds := ARRAY(SELECT DISTINCT @extschema@.email_domain(d.v) FROM pg_catalog.unnest(domains) d(v)
                 WHERE @extschema@.email_domain(d.v) IS NOT NULL);
    IF pg_catalog.cardinality(ks) OPERATOR(pg_catalog.+) pg_catalog.cardinality(ds) OPERATOR(pg_catalog.>) 64 THEN
        -- a statement of many accounts (an import) takes one lock on all
        -- keys instead of one per key (the lock table holds about 64 per
        -- connection): it waits for the writers of single keys in flight
        -- and they wait for it
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('cdp.bi_account_sheet all keys'), 0);
    ELSE
        PERFORM pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext('cdp.bi_account_sheet all keys'), 0);
        FOR lock_key IN SELECT x FROM (SELECT 'k:' OPERATOR(pg_catalog.||) k AS x FROM pg_catalog.unnest(ks) k
                                       UNION SELECT 'd:' OPERATOR(pg_catalog.||) d FROM pg_catalog.unnest(ds) d) u
                         ORDER BY pg_catalog.hashtext(x), x LOOP
            PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('cdp.bi_account_sheet'), pg_catalog.hashtext(lock_key));
        END LOOP;
    END IF;
    RETURN ARRAY(SELECT a.account_id FROM @extschema@.account a
                  WHERE NOT @extschema@.company_key_too_long(a.name)
                    AND @extschema@.company_key(a.name) OPERATOR(pg_catalog.=) ANY (ks)
                 UNION
                 SELECT a.account_id FROM @extschema@.account a
                  WHERE @extschema@.email_domain(a.domain) OPERATOR(pg_catalog.=) ANY (ds));
END
$$;
COMMENT ON FUNCTION @extschema@.bi_account_sheet_duplicates(text[], text[]) IS 'Locks the company keys of the given names and the company domains of the given domains (transaction advisory locks) and returns the accounts that have one of them (internal, used by the account trigger of the sheet summary)';
REVOKE ALL ON FUNCTION @extschema@.bi_account_sheet_duplicates(text[], text[]) FROM PUBLIC;

-- VOLATILE, SECURITY DEFINER: the summary is the extension owner's and
-- counts every row, whoever writes.  One function for the statement
-- triggers of the three tables; an UPDATE only counts when a column the
-- summary reads changed.
CREATE FUNCTION @extschema@.bi_account_sheet_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'account' THEN
        IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
            PERFORM @extschema@.bi_account_sheet_recompute(
                ARRAY(SELECT n.account_id FROM bi_new n) OPERATOR(pg_catalog.||)
                @extschema@.bi_account_sheet_duplicates(ARRAY(SELECT n.name FROM bi_new n), ARRAY(SELECT n.domain FROM bi_new n)),
                true);
        ELSIF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
            TRUNCATE @extschema@.bi_account_sheet;
        ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
            -- the rows of the deleted accounts go (no foreign key, so that
            -- cdp.merge_accounts, which re-points every reference to an
            -- account, leaves this table to the triggers); the other
            -- accounts of their keys may be first now
            DELETE FROM @extschema@.bi_account_sheet s WHERE s.account_id IN (SELECT o.account_id FROM bi_old o);
            PERFORM @extschema@.bi_account_sheet_recompute(
                @extschema@.bi_account_sheet_duplicates(ARRAY(SELECT o.name FROM bi_old o), ARRAY(SELECT o.domain FROM bi_old o)),
                true);
        ELSE
            -- a new name or domain changes duplicate flags; other columns
            -- only the account's own row
            PERFORM @extschema@.bi_account_sheet_recompute(
                ARRAY(SELECT n.account_id FROM bi_old o JOIN bi_new n ON n.account_id OPERATOR(pg_catalog.=) o.account_id
                       WHERE (o.created_at, o.segment, o.employees, o.annual_revenue, o.tier, o.industry, o.city, o.owner)
                             IS DISTINCT FROM (n.created_at, n.segment, n.employees, n.annual_revenue, n.tier, n.industry, n.city, n.owner))
                OPERATOR(pg_catalog.||)
                @extschema@.bi_account_sheet_duplicates(
                    ARRAY(SELECT u.v FROM bi_old o JOIN bi_new n ON n.account_id OPERATOR(pg_catalog.=) o.account_id
                           CROSS JOIN LATERAL (VALUES (o.name), (n.name)) u(v)
                           WHERE o.name OPERATOR(pg_catalog.<>) n.name),
                    ARRAY(SELECT u.v FROM bi_old o JOIN bi_new n ON n.account_id OPERATOR(pg_catalog.=) o.account_id
                           CROSS JOIN LATERAL (VALUES (o.domain), (n.domain)) u(v)
                           WHERE o.domain IS DISTINCT FROM n.domain)),
                true);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
        IF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'contact' THEN
            UPDATE @extschema@.bi_account_sheet
               SET contacts = 0, verified_contacts = 0, tagged_contacts = 0, decision_makers = 0, chain_roles = 0;
        ELSE
            UPDATE @extschema@.bi_account_sheet SET profile_mask = 0;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        changed := ARRAY(SELECT n.account_id FROM bi_new n);
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        changed := ARRAY(SELECT o.account_id FROM bi_old o);
    ELSIF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'contact' THEN
        changed := ARRAY(SELECT u.a FROM bi_old o JOIN bi_new n ON n.contact_id OPERATOR(pg_catalog.=) o.contact_id
                          CROSS JOIN LATERAL (VALUES (o.account_id), (n.account_id)) u(a)
                          WHERE o.account_id IS DISTINCT FROM n.account_id
                             OR o.decision_role IS DISTINCT FROM n.decision_role
                             OR o.verified IS DISTINCT FROM n.verified);
    ELSE
        changed := ARRAY(SELECT o.account_id FROM bi_old o UNION SELECT n.account_id FROM bi_new n);
    END IF;
    PERFORM @extschema@.bi_account_sheet_recompute(changed, false);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_account_sheet_trigger() IS 'Trigger on cdp.account, cdp.contact and cdp.account_profile (per statement): recomputes the sheet summary of the accounts the statement changed, and the duplicate flags of the company keys and domains a new, renamed or deleted account concerns';
-- The same four triggers on each table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['account', 'contact', 'account_profile'] LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER bi_sheet_insert AFTER INSERT ON @extschema@.%I REFERENCING NEW TABLE AS bi_new
                                   FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_account_sheet_trigger()', t);
        EXECUTE pg_catalog.format('CREATE TRIGGER bi_sheet_update AFTER UPDATE ON @extschema@.%I REFERENCING OLD TABLE AS bi_old NEW TABLE AS bi_new
                                   FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_account_sheet_trigger()', t);
        EXECUTE pg_catalog.format('CREATE TRIGGER bi_sheet_delete AFTER DELETE ON @extschema@.%I REFERENCING OLD TABLE AS bi_old
                                   FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_account_sheet_trigger()', t);
        EXECUTE pg_catalog.format('CREATE TRIGGER bi_sheet_truncate AFTER TRUNCATE ON @extschema@.%I
                                   FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_account_sheet_trigger()', t);
    END LOOP;
END
$$;

-- VOLATILE: rewrites the summary (inside cdp.rebuild_bi_rollups, which
-- holds SHARE locks on the tables and runs as the extension owner, who sees
-- every row).
CREATE FUNCTION @extschema@.bi_account_sheet_rebuild() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    TRUNCATE @extschema@.bi_account_sheet;
    INSERT INTO @extschema@.bi_account_sheet
    SELECT l.account_id, l.created_at, l.segment, l.tier, l.account_mask, l.profile_mask, l.contacts, l.verified_contacts,
           l.tagged_contacts, l.decision_makers, l.chain_roles, d.account_id IS NOT NULL
      FROM @extschema@.bi_account_sheet_live() l
      LEFT JOIN @extschema@.bi_account_duplicates_live() d ON d.account_id OPERATOR(pg_catalog.=) l.account_id
     ORDER BY l.account_id;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_account_sheet_rebuild() IS 'Recomputes the whole per-account sheet summary from the tables (internal, part of cdp.rebuild_bi_rollups)';
REVOKE ALL ON FUNCTION @extschema@.bi_account_sheet_rebuild() FROM PUBLIC;

-- Contact counts ------------------------------------------------------------------
--
-- metrics_recognize counts the contacts created per month and segment (of
-- their account), tagged and verified: kept like the touch figures, as
-- signed facts in an append-only delta (cdp.bi_contact_delta) that
-- cdp.bi_compact_rollups() folds into cdp.bi_contact_rollup, months in
-- cdp.bi_rollup_time_zone().  A statement-level trigger on cdp.contact turns
-- every insert, delete and change of account, decision role, verification
-- or creation time into -1 for the contact as it was and +1 as it is, in
-- the current segment of its account; the account trigger of the touch
-- rollups (cdp.bi_account_rollup) moves an account's contacts when its
-- segment changes, with the same locks (it locks the account and its
-- contacts FOR UPDATE, which waits for the contact writers in flight).
-- Read through cdp.bi_contact_figures when cdp.bi_rollups_usable().

CREATE TABLE @extschema@.bi_contact_rollup (
    month date NOT NULL,
    segment text NOT NULL,
    contacts bigint NOT NULL DEFAULT 0,
    tagged_contacts bigint NOT NULL DEFAULT 0,
    verified_contacts bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, segment)
);
CREATE TABLE @extschema@.bi_contact_delta (LIKE @extschema@.bi_contact_rollup INCLUDING DEFAULTS);
COMMENT ON TABLE @extschema@.bi_contact_rollup IS 'Contacts per month of creation and segment of their account (internal): the delta rows folded by cdp.bi_compact_rollups(); add bi_contact_delta for the current figures (view cdp.bi_contact_figures)';
COMMENT ON TABLE @extschema@.bi_contact_delta IS 'Changes of the contact counts not folded into bi_contact_rollup yet (internal, append-only: the trigger only inserts, cdp.bi_compact_rollups() deletes)';
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['bi_contact_rollup', 'bi_contact_delta'] LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.month IS %L', t, 'Month the contacts were created in cdp.bi_rollup_time_zone(), first day');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.segment IS %L', t, 'Segment of the contacts'' account, unclassified without one');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.contacts IS %L', t, 'Contacts');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.tagged_contacts IS %L', t, 'Of those, with a decision role');
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.verified_contacts IS %L', t, 'Of those, verified');
    END LOOP;
END
$$;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_contact_rollup', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bi_contact_delta', '');

CREATE VIEW @extschema@.bi_contact_figures WITH (security_barrier = true) AS
SELECT x.month, x.segment,
       pg_catalog.sum(x.contacts)::bigint AS contacts,
       pg_catalog.sum(x.tagged_contacts)::bigint AS tagged_contacts,
       pg_catalog.sum(x.verified_contacts)::bigint AS verified_contacts
  FROM (SELECT r.* FROM @extschema@.bi_contact_rollup r
        UNION ALL
        SELECT d.* FROM @extschema@.bi_contact_delta d) x
 WHERE @extschema@.bi_rollups_usable()
 GROUP BY x.month, x.segment;
COMMENT ON VIEW @extschema@.bi_contact_figures IS 'Current contact counts per month of creation and segment (internal): bi_contact_rollup plus the delta rows not folded yet; rows only for a session that may use the rollups (cdp.bi_rollups_usable()), none for others';
COMMENT ON COLUMN @extschema@.bi_contact_figures.month IS 'Month the contacts were created in cdp.bi_rollup_time_zone(), first day';
COMMENT ON COLUMN @extschema@.bi_contact_figures.segment IS 'Segment of the contacts'' account, unclassified without one';
COMMENT ON COLUMN @extschema@.bi_contact_figures.contacts IS 'Contacts';
COMMENT ON COLUMN @extschema@.bi_contact_figures.tagged_contacts IS 'Of those, with a decision role';
COMMENT ON COLUMN @extschema@.bi_contact_figures.verified_contacts IS 'Of those, verified';

CREATE TYPE @extschema@.bi_contact_fact AS (
    sign integer,
    month date,
    segment text,
    tagged boolean,
    verified boolean
);
COMMENT ON TYPE @extschema@.bi_contact_fact IS 'One contact fact of the BI contact counts (internal): +1 for a contact as it now is, -1 for one as it was, with its month of creation, the segment of its account and whether it is tagged and verified';

-- VOLATILE: appends to bi_contact_delta.
CREATE FUNCTION @extschema@.bi_contact_apply(facts @extschema@.bi_contact_fact[]) RETURNS void
LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO @extschema@.bi_contact_delta (month, segment, contacts, tagged_contacts, verified_contacts)
    SELECT f.month, f.segment, pg_catalog.sum(f.sign),
           coalesce(pg_catalog.sum(f.sign) FILTER (WHERE f.tagged), 0),
           coalesce(pg_catalog.sum(f.sign) FILTER (WHERE f.verified), 0)
      FROM pg_catalog.unnest(facts) f
     GROUP BY f.month, f.segment
    HAVING pg_catalog.sum(f.sign) OPERATOR(pg_catalog.<>) 0
        OR pg_catalog.sum(f.sign) FILTER (WHERE f.tagged) OPERATOR(pg_catalog.<>) 0
        OR pg_catalog.sum(f.sign) FILTER (WHERE f.verified) OPERATOR(pg_catalog.<>) 0;
END;
COMMENT ON FUNCTION @extschema@.bi_contact_apply(@extschema@.bi_contact_fact[]) IS 'Appends contact facts to bi_contact_delta, summed per month and segment (internal, used by the contact and account triggers)';

-- STABLE: the contact's month in the rollups' zone, the segment of its
-- account as this statement sees it.  SQL, inlined into the trigger's
-- queries.
CREATE FUNCTION @extschema@.bi_contact_fact(sign integer, account_id bigint, created_at timestamptz, decision_role text,
                                            verified boolean, time_zone text)
RETURNS @extschema@.bi_contact_fact
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT ROW(sign, pg_catalog.date_trunc('month', created_at, time_zone)::date,
               coalesce((SELECT @extschema@.segment_of(a.segment, a.employees, a.annual_revenue)
                           FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) bi_contact_fact.account_id),
                        'unclassified'),
               decision_role IS NOT NULL, verified)::@extschema@.bi_contact_fact;
END;
COMMENT ON FUNCTION @extschema@.bi_contact_fact(integer, bigint, timestamptz, text, boolean, text) IS 'The contact fact of a contact as given (internal): its month of creation in the zone, the current segment of its account';

-- VOLATILE, SECURITY DEFINER: as bi_touchpoint_rollup.  One static
-- statement per event (the transition tables differ).
CREATE FUNCTION @extschema@.bi_contact_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tz text := @extschema@.bi_rollup_time_zone();
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
        TRUNCATE @extschema@.bi_contact_rollup, @extschema@.bi_contact_delta;
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        PERFORM @extschema@.bi_contact_apply(ARRAY(
            SELECT @extschema@.bi_contact_fact(1, n.account_id, n.created_at, n.decision_role, n.verified, tz) FROM bi_new n));
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        PERFORM @extschema@.bi_contact_apply(ARRAY(
            SELECT @extschema@.bi_contact_fact(-1, o.account_id, o.created_at, o.decision_role, o.verified, tz) FROM bi_old o));
    ELSE
        PERFORM @extschema@.bi_contact_apply(ARRAY(
            SELECT f.fact
              FROM bi_old o JOIN bi_new n ON n.contact_id OPERATOR(pg_catalog.=) o.contact_id
             CROSS JOIN LATERAL (VALUES (@extschema@.bi_contact_fact(-1, o.account_id, o.created_at, o.decision_role, o.verified, tz)),
                                        (@extschema@.bi_contact_fact(1, n.account_id, n.created_at, n.decision_role, n.verified, tz))) f(fact)
             WHERE (o.account_id, o.created_at, o.decision_role IS NOT NULL, o.verified)
                   IS DISTINCT FROM (n.account_id, n.created_at, n.decision_role IS NOT NULL, n.verified)));
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.bi_contact_count() IS 'Trigger on cdp.contact (per statement): turns the contacts inserted, deleted or changed (account, decision role set or not, verification, creation time) into contact facts for the BI contact counts';
CREATE TRIGGER bi_count_insert AFTER INSERT ON @extschema@.contact
    REFERENCING NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_contact_count();
CREATE TRIGGER bi_count_update AFTER UPDATE ON @extschema@.contact
    REFERENCING OLD TABLE AS bi_old NEW TABLE AS bi_new FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_contact_count();
CREATE TRIGGER bi_count_delete AFTER DELETE ON @extschema@.contact
    REFERENCING OLD TABLE AS bi_old FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_contact_count();
CREATE TRIGGER bi_count_truncate AFTER TRUNCATE ON @extschema@.contact
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bi_contact_count();
