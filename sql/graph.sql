-- graph: introduction paths, influence, decision chains and referrals, on
-- small hand-checked graphs.
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;

-- Two accounts; contacts 1..12 (ids are assigned in order).
INSERT INTO cdp.account (name, owner) VALUES ('甲公司', 'rep'), ('乙公司', 'rep');
INSERT INTO cdp.contact (name, account_id, decision_role, approval_limit)
VALUES ('c1', 1, 'champion', NULL), ('c2', 1, 'user', NULL), ('c3', 1, 'decision_maker', 5000000),
       ('c4', 1, 'finance', 200000), ('c5', 2, 'it', NULL), ('c6', 2, 'user', NULL),
       ('c7', 2, NULL, NULL), ('c8', 2, 'approver', 100000), ('c9', 2, 'procurement', NULL),
       ('c10', 2, 'executor', NULL), ('c11', 1, 'influencer', NULL), ('c12', NULL, NULL, NULL);

--        0.9 / 0.95
--    1 ---------- 2 ---0.8--- 3 ---0.6--- 5 ---0.7--- 6
--    |\                     / |
--    | 0.5 -- 4 --1.0------'  |        7 alone
--    0.5                      |
--     \-- 11 ------0.5--------'        8 - 9 - 10 - 8 (a cycle, all 0.5)
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength) VALUES
    (1, 2, 'knows', 0.9), (2, 1, 'influences', 0.95), (2, 3, 'knows', 0.8),
    (1, 4, 'knows', 0.5), (4, 3, 'reports_to', 1.0), (3, 5, 'knows', 0.6),
    (5, 6, 'influences', 0.7), (1, 11, 'knows', 0.5), (11, 3, 'knows', 0.5),
    (8, 9, 'knows', 0.5), (9, 10, 'knows', 0.5), (10, 8, 'knows', 0.5);

-- Introduction paths ------------------------------------------------------------

-- three 2-hop paths; 1-2 counts with its stronger edge (0.95): 0.95*0.8 = 0.76,
-- then 0.5*1.0, then 0.5*0.5
SELECT path, hops, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(1, 3);
-- the same from a parallel worker (PARALLEL SAFE: the search only reads)
SET force_parallel_mode = on;
SELECT path, hops, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(1, 3);
RESET force_parallel_mode;
-- edges are walked both ways: the same paths backwards
SELECT path, hops, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(3, 1);
-- four hops, through the 3-5 bridge: 0.76*0.6*0.7 = 0.3192
SELECT path, hops, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(1, 6);
-- not within 3 hops: no row
SELECT count(*) FROM cdp.intro_paths(1, 6, 3);
-- no path at all: no row
SELECT count(*) FROM cdp.intro_paths(1, 7);
SELECT count(*) FROM cdp.intro_paths(1, 12, 64);
-- neighbours: one hop
SELECT path, hops, strength FROM cdp.intro_paths(4, 3);
-- the cycle 8-9-10-8 is walked without looping: 8-10 is one hop
SELECT path, hops, strength FROM cdp.intro_paths(8, 10);
SELECT path, hops, strength FROM cdp.intro_paths(9, 8, 1);
-- a contact and itself: the empty introduction
SELECT path, hops, strength FROM cdp.intro_paths(5, 5, 0);
-- max_hops 0 between two contacts: no row
SELECT count(*) FROM cdp.intro_paths(1, 2, 0);

-- equally strong paths come out in the order of their ids
-- (11-3 becomes 1.0; the weaker second edge 3-11 does not lower it)
UPDATE cdp.relationship SET strength = 1.0 WHERE from_contact = 11 AND to_contact = 3;
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength) VALUES (3, 11, 'influences', 0.2);
SELECT path, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(1, 3);
DELETE FROM cdp.relationship WHERE from_contact = 3 AND to_contact = 11;
UPDATE cdp.relationship SET strength = 0.5 WHERE from_contact = 11 AND to_contact = 3;

-- cdp.intro_paths_limit keeps the strongest paths only
SET cdp.intro_paths_limit = 1;
SELECT path, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(1, 3);
RESET cdp.intro_paths_limit;
-- invalid: the limit is at least 1
SET cdp.intro_paths_limit = 0;

-- Consent: contact 2 refuses introductions, so paths avoid it ...
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
VALUES (2, 'intro', false, '2026-01-01');
SELECT path, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(1, 3);
-- ... but it can still be introduced to, or be the one asking
SELECT path FROM cdp.intro_paths(1, 2);
SELECT path FROM cdp.intro_paths(2, 3);
-- a later 'any' consent wins over the older refusal
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
VALUES (2, 'any', true, '2026-02-01');
SELECT path FROM cdp.intro_paths(1, 3);
-- other channels do not matter
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
VALUES (3, 'phone', false, '2026-03-01');
SELECT path FROM cdp.intro_paths(1, 5);
-- a refusal on 'any' blocks too; when the only bridge refuses, no path
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
VALUES (3, 'any', false, '2026-03-02');
SELECT count(*) FROM cdp.intro_paths(1, 5);
-- consent is an append-only log: a later grant lifts the refusal
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
VALUES (3, 'any', true, '2026-04-01');

-- Row-level security: a rep who sees only some edges gets paths over those
CREATE ROLE regress_graph_rep;
GRANT USAGE ON SCHEMA cdp TO regress_graph_rep;
GRANT SELECT ON cdp.relationship, cdp.contact, cdp.consent TO regress_graph_rep;
GRANT EXECUTE ON FUNCTION cdp.intro_paths(bigint, bigint, integer) TO regress_graph_rep;
-- governance keeps row-level security on cdp.contact: this role sees every contact
CREATE POLICY graph_rep_all_contacts ON cdp.contact TO regress_graph_rep USING (true);
ALTER TABLE cdp.relationship ENABLE ROW LEVEL SECURITY;
CREATE POLICY graph_rep_edges ON cdp.relationship TO regress_graph_rep
    USING (NOT (from_contact = 2 AND to_contact = 3));
SET ROLE regress_graph_rep;
SELECT path, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(1, 3);
RESET ROLE;
-- contacts hidden from the rep are neither endpoints nor intermediaries
ALTER TABLE cdp.contact ENABLE ROW LEVEL SECURITY;
CREATE POLICY graph_rep_contacts ON cdp.contact AS RESTRICTIVE TO regress_graph_rep USING (contact_id <> 4);
SET ROLE regress_graph_rep;
SELECT path, round(strength::numeric, 4) AS strength FROM cdp.intro_paths(1, 3);
-- invalid: contact 4 is not visible to this role
SELECT * FROM cdp.intro_paths(4, 3);
RESET ROLE;
DROP POLICY graph_rep_contacts ON cdp.contact;
DROP POLICY graph_rep_all_contacts ON cdp.contact;
DROP POLICY graph_rep_edges ON cdp.relationship;
REVOKE ALL ON cdp.relationship, cdp.contact, cdp.consent FROM regress_graph_rep;
REVOKE EXECUTE ON FUNCTION cdp.intro_paths(bigint, bigint, integer) FROM regress_graph_rep;
REVOKE USAGE ON SCHEMA cdp FROM regress_graph_rep;
DROP ROLE regress_graph_rep;

-- invalid: unknown contacts
SELECT * FROM cdp.intro_paths(1, 999);
SELECT * FROM cdp.intro_paths(999, 1);
-- invalid: negative or too many hops
SELECT * FROM cdp.intro_paths(1, 3, -1);
SELECT * FROM cdp.intro_paths(1, 3, 65);
-- invalid: NULL arguments
SELECT * FROM cdp.intro_paths(NULL, 3);
SELECT * FROM cdp.intro_paths(1, NULL);
SELECT * FROM cdp.intro_paths(1, 3, NULL);

-- Influence -------------------------------------------------------------------

-- hand-checked with the default parameters (1, 1, 2, 0.5, half_score 5):
--   c2: followers 0.95 (influences 1), ties 0.9+0.8 = 1.7:
--       raw 0.95 + 0.85 = 1.8, score 100*1.8/6.8 = 26.47
--   c3: 1 direct report (4), ties 0.8+0.6+0.5 = 1.9:
--       raw 1 + 0.95 = 1.95, score 100*1.95/6.95 = 28.06
--   c5: followers 0.7, ties 0.6: raw 1.0, score 16.67
SELECT contact_id, round(score::numeric, 2) AS score, round(followers::numeric, 2) AS followers,
       direct_reports, referrals, round(ties::numeric, 2) AS ties
  FROM cdp.influence_scores() ORDER BY contact_id;
-- a referral is worth w_referrals: c6 referred two contacts and an opportunity
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength) VALUES
    (6, 7, 'referred', 1.0), (6, 12, 'referred', 0.3);
INSERT INTO cdp.opportunity (account_id, name, stage, referred_by, owner, amount)
VALUES (1, 'referred by c6', 'discovery', 6, 'rep', 100000);
-- c6: referrals 3, raw 6, score 100*6/11 = 54.55; only referrals count here
SELECT contact_id, round(score::numeric, 2) AS score, referrals
  FROM cdp.influence_scores(w_followers => 0, w_reports => 0, w_referrals => 2, w_ties => 0)
 WHERE referrals > 0 OR score > 0 ORDER BY contact_id;
-- invalid: negative weights, zero half_score, NULL
SELECT * FROM cdp.influence_scores(w_ties => -1);
SELECT * FROM cdp.influence_scores(w_second => 'Infinity');
SELECT * FROM cdp.influence_scores(half_score => 0);
SELECT * FROM cdp.influence_scores(w_followers => NULL);
SELECT * FROM cdp.influence_scores(w_reports => 'NaN');
DELETE FROM cdp.relationship WHERE kind = 'referred';
-- second degree: 6 gets a follower (7, 0.5), so 5, who influences 6 with
-- 0.7, reaches 0.7*0.5 = 0.35 further; 11 now reports to 4, who reports to
-- 3, so 3 has one indirect report.  Only second_degree counts here:
-- c3 100*1/6 = 16.67, c5 100*0.35/5.35 = 6.54
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength) VALUES
    (6, 7, 'influences', 0.5), (11, 4, 'reports_to', 1.0);
SELECT contact_id, round(score::numeric, 2) AS score, round(second_degree::numeric, 2) AS second_degree
  FROM cdp.influence_scores(w_followers => 0, w_reports => 0, w_referrals => 0, w_ties => 0, w_second => 1)
 WHERE second_degree > 0 ORDER BY contact_id;
DELETE FROM cdp.relationship WHERE (from_contact, to_contact) IN ((6, 7), (11, 4));

-- Decision chain --------------------------------------------------------------

INSERT INTO cdp.opportunity (account_id, name, stage, owner, amount)
VALUES (2, 'no decision maker at 乙公司', 'discovery', 'rep', 150000);
-- opportunity 1 is at 甲公司 (c1..c4, c11), opportunity 2 at 乙公司 (c5..c10)
SELECT * FROM cdp.decision_chain_coverage(1);
SELECT decision_role, required, covered, contact_ids FROM cdp.decision_chain_coverage(2)
 WHERE required;
-- a narrower chain
SELECT decision_role, covered FROM cdp.decision_chain_coverage(2, '{it,user}') WHERE required;
SELECT opportunity_id, required_roles, covered_roles, round(coverage::numeric, 3) AS coverage,
       missing_roles, known_contacts, has_decision_maker, amount_within_approval_limit
  FROM cdp.opportunity_decision_chain ORDER BY opportunity_id;
-- invalid: unknown opportunity, unknown role, NULLs
SELECT * FROM cdp.decision_chain_coverage(999);
SELECT * FROM cdp.decision_chain_coverage(1, '{decision_maker,ceo}');
SELECT * FROM cdp.decision_chain_coverage(NULL);
SELECT * FROM cdp.decision_chain_coverage(1, NULL);

-- the guard: no negotiation or won without an identified decision maker
UPDATE cdp.lifecycle_stage SET guard = 'cdp.require_decision_maker(regclass,text,text)'
 WHERE model = 'opportunity' AND stage IN ('negotiation', 'won');
SELECT cdp.require_decision_maker('cdp.opportunity', '1', 'negotiation') AS opp1,
       cdp.require_decision_maker('cdp.opportunity', '2', 'negotiation') AS opp2;
-- opportunity 1 may move: 甲公司 has c3, a decision maker
UPDATE cdp.opportunity SET stage = 'negotiation', expected_close = '2026-12-31' WHERE opportunity_id = 1;
-- invalid: 乙公司 has no decision maker, and c8's limit (100000) is below the amount
UPDATE cdp.opportunity SET stage = 'negotiation', expected_close = '2026-12-31' WHERE opportunity_id = 2;
SELECT opportunity_id, stage FROM cdp.opportunity ORDER BY opportunity_id;
-- an approver whose limit covers the amount is enough
UPDATE cdp.contact SET approval_limit = 150000 WHERE contact_id = 8;
UPDATE cdp.opportunity SET stage = 'negotiation', expected_close = '2026-12-31' WHERE opportunity_id = 2;
SELECT opportunity_id, stage FROM cdp.opportunity ORDER BY opportunity_id;
-- accounts: a decision maker must be known
SELECT cdp.require_decision_maker('cdp.account', '1', 'customer') AS acct1,
       cdp.require_decision_maker('cdp.account', '2', 'customer') AS acct2;
-- invalid: other tables, bad keys, missing rows, NULLs
SELECT cdp.require_decision_maker('cdp.lead', '1', 'sql');
SELECT cdp.require_decision_maker('cdp.opportunity', 'x', 'won');
SELECT cdp.require_decision_maker('cdp.opportunity', '999', 'won');
SELECT cdp.require_decision_maker('cdp.opportunity', NULL, 'won');
UPDATE cdp.lifecycle_stage SET guard = NULL WHERE model = 'opportunity';

-- approval chain: c1 reports to c2, c2 to c4 (finance, limit 200000), c4 to
-- c3 (decision maker, limit 5000000)
UPDATE cdp.contact SET reports_to = 2 WHERE contact_id = 1;
UPDATE cdp.contact SET reports_to = 4 WHERE contact_id = 2;
UPDATE cdp.contact SET reports_to = 3 WHERE contact_id = 4;
-- 150000 is approved by c4, two levels up; the walk stops there
SELECT * FROM cdp.approval_chain(1, 150000);
-- without an amount, the whole reporting line
SELECT level, contact_id, can_approve FROM cdp.approval_chain(1);
-- nobody can approve 10 million: the whole line, all false
SELECT level, contact_id, can_approve FROM cdp.approval_chain(1, 10000000);
-- c3 can approve 1 million alone
SELECT level, contact_id, can_approve FROM cdp.approval_chain(3, 1000000);
-- a loop in the reporting lines (c3 reports to c1) ends the walk
UPDATE cdp.contact SET reports_to = 1 WHERE contact_id = 3;
SELECT level, contact_id FROM cdp.approval_chain(2);
UPDATE cdp.contact SET reports_to = NULL;
-- invalid: NULL, unknown contact, negative amount
SELECT * FROM cdp.approval_chain(NULL);
SELECT * FROM cdp.approval_chain(999);
SELECT * FROM cdp.approval_chain(1, -1);

-- Referrals -------------------------------------------------------------------

-- c6 referred opportunity 1 (in negotiation); c3 refers two more, one won
-- with two orders and one lost; opportunity 2 is new business
INSERT INTO cdp.opportunity (account_id, name, stage, referred_by, owner, amount, expected_close)
VALUES (2, 'referred by c3, won', 'discovery', 3, 'rep', 300000, '2026-06-30'),
       (2, 'referred by c3, lost', 'discovery', 3, 'rep', 50000, '2026-06-30');
UPDATE cdp.opportunity SET stage = 'proposal' WHERE opportunity_id IN (3, 4);
UPDATE cdp.opportunity SET stage = 'won', closed_at = '2026-05-01' WHERE opportunity_id = 3;
UPDATE cdp.opportunity SET stage = 'lost', lost_reason = 'price' WHERE opportunity_id = 4;
INSERT INTO cdp."order" (account_id, opportunity_id, ordered_at, amount)
VALUES (2, 3, '2026-05-02', 200000), (2, 3, '2026-06-02', 100000);
-- referred (1, 3, 4): all three reached discovery, qualification (skipped,
-- but a later stage was reached) and proposal; negotiation: 1 and 3 (3 went
-- from proposal to won, past negotiation); won: 3.  Lost is an exit and
-- ends no stage.  New business (2): discovery to negotiation.
SELECT business, stage, reached, round(conversion_rate::numeric, 3) AS conversion_rate
  FROM cdp.referral_funnel ORDER BY business, position;
SELECT referrer_id, referrer_name, referred_opportunities, open_opportunities, won_opportunities,
       lost_opportunities, pipeline_amount, won_amount, order_revenue
  FROM cdp.referrer_revenue ORDER BY referrer_id;
SELECT contact_id, name, account_id, account_stage, won_opportunities, won_amount, order_revenue
  FROM cdp.advocates ORDER BY contact_id;

DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
