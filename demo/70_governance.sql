-- demo/70_governance.sql: consent, outreach, validation, masking and erasure
-- on the demo data set.
--
-- Records consent decisions for the demo contacts (most granted by a web
-- form, some withdrawn later), then shows the quality of the stored e-mail
-- addresses and phone numbers, the outreach queue, what an analyst sees, and
-- one erasure.
\set ON_ERROR_STOP 1
\pset footer off

-- consent: e-mail and phone granted at first contact, every fifth person
-- unsubscribes from e-mail a month later, WeChat for those who scanned a code
INSERT INTO cdp.consent (contact_id, channel, granted, legal_basis, source, recorded_at)
SELECT c.contact_id, ch.channel, true, 'consent', 'web_form', c.created_at
  FROM cdp.contact c CROSS JOIN (VALUES ('email'), ('phone')) ch(channel)
 WHERE c.contact_id % 7 <> 0;
INSERT INTO cdp.consent (contact_id, channel, granted, legal_basis, source, recorded_at)
SELECT c.contact_id, 'email', false, 'consent', 'unsubscribe_link', c.created_at + interval '30 days'
  FROM cdp.contact c WHERE c.contact_id % 5 = 0;
INSERT INTO cdp.consent (contact_id, channel, granted, legal_basis, source, recorded_at)
SELECT c.contact_id, 'wechat', true, 'consent', 'qr_code', c.created_at
  FROM cdp.contact c WHERE c.contact_id % 3 = 0;

\echo
\echo '################################################################################'
\echo '#  9. GOVERNANCE (数据治理): contact quality, consent, outreach, masking, erasure'
\echo '################################################################################'
\echo
\echo '== Contact data quality (校验联系方式)'
SELECT 'email' AS field, coalesce(v.problem, 'valid') AS result, count(*) AS contacts
  FROM cdp.contact c CROSS JOIN LATERAL cdp.validate_email(c.email) v
 WHERE c.email IS NOT NULL GROUP BY 2
UNION ALL
SELECT 'phone', coalesce(v.kind || ' ', '') || coalesce(v.problem, 'valid'), count(*)
  FROM cdp.contact c CROSS JOIN LATERAL cdp.validate_phone(c.phone) v
 WHERE c.phone IS NOT NULL GROUP BY 2
ORDER BY 1, 3 DESC;

\echo
\echo '== Consent (授权) per channel'
SELECT channel, count(*) FILTER (WHERE granted) AS granted, count(*) FILTER (WHERE NOT granted) AS withdrawn
  FROM cdp.consent_status GROUP BY channel ORDER BY channel;

\echo
\echo '== Bad contact points (bounced e-mails, wrong numbers)'
SELECT channel, reason, count(*) FROM cdp.bad_contact_point GROUP BY 1, 2 ORDER BY 1, 2;

\echo
\echo '== Outreach queue (待触达): channel chosen per contact'
SELECT channel, count(*) AS contacts, min(touch_at)::date AS earliest
  FROM cdp.outreach_queue GROUP BY channel ORDER BY contacts DESC;
SELECT c.contact_id, n.channel, n.touch_at::date, n.reason
  FROM cdp.contact c CROSS JOIN LATERAL cdp.next_touch(c.contact_id) n
 ORDER BY c.contact_id LIMIT 8;

\echo
\echo '== What an analyst sees (cdp.contact_masked)'
SELECT contact_id, name, email, phone, decision_role FROM cdp.contact_masked ORDER BY contact_id LIMIT 5;

\echo
\echo '== Erasure (被遗忘权) of contact 2'
SELECT name, email, phone FROM cdp.contact WHERE contact_id = 2;
SELECT cdp.forget_contact(2) AS erasure_id;
SELECT contact_id, name, email, phone, decision_role FROM cdp.contact WHERE contact_id = 2;
SELECT contact_id, rows_changed FROM cdp.erasure_log;
SELECT cdp.can_contact(2, 'email') AS may_email, (cdp.next_touch(2)).reason AS next_touch;
