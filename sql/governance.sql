-- governance: validation, consent, outreach cadence, erasure, roles and
-- row-level security
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;

-- the SQLSTATE a statement fails with, or ok
CREATE FUNCTION sqlstate_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
GRANT EXECUTE ON FUNCTION sqlstate_of(text) TO PUBLIC;

-- tables of cdp and how many rows contain a value anywhere in them
CREATE FUNCTION rows_containing(v text) RETURNS TABLE (tbl regclass, n bigint) LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid FROM pg_class c
              WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY c.relname LOOP
        tbl := t;
        EXECUTE format('SELECT count(*) FROM %s x WHERE strpos(lower(x::text), lower($1)) > 0', t) INTO n USING v;
        IF n > 0 THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;

-- Validation ----------------------------------------------------------------

SELECT e AS email, (cdp.validate_email(e)).*
  FROM unnest(ARRAY[
    'zhang.wei@huaxin-machinery.com.cn',
    'Zhang.Wei@HuaXin.CN',          -- domain lower-cased, local part kept
    '  li.na@qq.com  ',             -- white space around is dropped
    '张伟@例子.中国',                -- internationalised address
    'test@test.com',                -- placeholder: fake
    'abc@company.com',              -- placeholder local part: fake
    'aaaa@163.com',                 -- one letter repeated: fake
    'someone@example.org',          -- documentation domain: fake
    'x@server.test',                -- reserved top-level domain: fake
    'john@mailinator.com',          -- throw-away mailbox
    '',                             -- empty
    'zhang.wei.huaxin.cn',          -- no @
    'a@b@c.com',                    -- two @
    'a..b@x.com',                   -- double dot in the local part
    '.a@x.com',                     -- leading dot
    'a b@x.com',                    -- space in the local part
    'a@localhost',                  -- single-label domain
    'a@x-.com',                     -- label ends with a hyphen
    'a@x..com',                     -- empty label
    'a@1.2.3.4',                    -- all-digit top-level label
    '"a b"@x.com',                  -- quoted local part: valid by the RFC, not supported
    'a@[192.0.2.1]',                -- address literal: not supported
    'a＠x.com'                      -- full-width at sign
  ]) AS e;
-- length limits: a 64-byte local part is fine, 65 is not; huge input is cheap
SELECT (cdp.validate_email(repeat('a', 63) || 'b@x.com')).valid AS local_64,
       (cdp.validate_email(repeat('a', 64) || 'b@x.com')).problem AS local_65,
       (cdp.validate_email('a@' || repeat('x', 64) || '.com')).problem AS label_64,
       (cdp.validate_email(repeat('a', 1000000))).problem AS huge;
SELECT cdp.validate_email(NULL) IS NULL AS strict;

SELECT p AS phone, (cdp.validate_phone(p)).*
  FROM unnest(ARRAY[
    '13912345679',                  -- mobile
    '139 1234 5679',                -- with spaces
    '+86 139-1234-5679',            -- E.164 with separators
    '8613912345679',                -- country code without +
    '0086 139 1234 5679',           -- 00 international prefix
    '１３９１２３４５６７９',        -- full-width digits
    '010-62345678',                 -- Beijing landline
    '(021) 6234 5678',              -- Shanghai landline
    '0769-2658431',                 -- Dongguan, 7-digit subscriber
    '+86 10 6234 5678',             -- landline in E.164
    '400-820-8820',                 -- service number
    '+1 415 555 2671',              -- foreign number
    '13800138000',                  -- the stock example number: fake
    '12345678901',                  -- a run of digits: fake
    '13333333333',                  -- one digit repeated: fake
    '0755-88888888',                -- fake subscriber number
    '62345678',                     -- landline without area code
    '12912345670',                  -- no such mobile prefix
    '139123456789',                 -- 12 digits
    '020-1234567',                  -- subscriber numbers do not start with 1
    '+0123456789',                  -- country codes do not start with 0
    '139-1234-5679 ext 8',          -- extensions are not part of the number
    '+86+139',                      -- two plus signs
    ''                              -- empty
  ]) AS p;
SELECT (cdp.validate_phone('+14155552671', 'US')).valid AS us_e164,
       (cdp.validate_phone('4155552671', 'us')).problem AS us_national,
       (cdp.validate_phone(repeat('1', 1000000))).problem AS huge;
-- invalid region: not a two-letter code
SELECT cdp.validate_phone('13912345679', 'CHN');
-- invalid region: not letters
SELECT cdp.validate_phone('13912345679', '8');

SELECT cdp.mask_name('张伟') AS zh, cdp.mask_name('欧阳娜娜') AS zh4, cdp.mask_name('John Smith') AS en,
       cdp.mask_email('zhang.wei@huaxin.cn') AS email, cdp.mask_email('no-at-sign') AS bad_email,
       cdp.mask_phone('139 1234 5679') AS mobile, cdp.mask_phone('+86 10 6234 5678') AS landline,
       cdp.mask_phone('12345') AS short;

-- Data ------------------------------------------------------------------------

CREATE ROLE regress_rep_wang IN ROLE cdp_sales;
CREATE ROLE regress_rep_li IN ROLE cdp_sales;
CREATE ROLE regress_analyst IN ROLE cdp_analyst;
CREATE ROLE regress_admin IN ROLE cdp_admin;
CREATE ROLE regress_nobody;

INSERT INTO cdp.account (name, short_name, city, owner) VALUES
    ('广州华信机械有限公司', '华信机械', '广州', 'regress_rep_wang'),
    ('深圳恒通电子有限公司', '恒通电子', '深圳', 'regress_rep_li');
INSERT INTO cdp.contact (account_id, name, title, email, phone, wechat, decision_role, owner) VALUES
    (1, '张伟', '总经理', 'zhang.wei@huaxin.cn', '139 1234 5679', 'zhangwei_hx', 'decision_maker', 'regress_rep_wang'),
    (1, '王芳', '采购经理', 'wang.fang@huaxin.cn', '13712345670', NULL, 'procurement', 'regress_rep_wang'),
    (2, '李娜', 'CTO', 'li.na@hengtong.cn', '0755-26584312', NULL, 'it', 'regress_rep_li');
UPDATE cdp.contact SET reports_to = 1 WHERE contact_id = 2;
INSERT INTO cdp.lead (company_name, contact_name, title, email, phone, source, contact_id, account_id, owner) VALUES
    ('华信机械', '张伟', '总经理', 'Zhang.Wei@huaxin.cn', NULL, 'web_form', NULL, 1, 'regress_rep_wang'),
    ('华信机械', '张先生', NULL, NULL, '+86 139-1234-5679', 'trade_show', NULL, 1, 'regress_rep_wang'),
    ('华信机械', '王芳', NULL, 'wang.fang@huaxin.cn', NULL, 'web_form', 2, 1, 'regress_rep_wang'),
    ('恒通电子', '李娜', NULL, 'li.na@hengtong.cn', NULL, 'web_form', 3, 2, 'regress_rep_li');
UPDATE cdp.lead SET stage = 'lead';
SET cdp.stage_reason = '张伟 asked to be called back next year';
UPDATE cdp.lead SET stage = 'mql' WHERE lead_id = 1;
RESET cdp.stage_reason;
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength, source) VALUES
    (2, 1, 'reports_to', 0.9, 'org chart'), (1, 3, 'knows', 0.4, '张伟 met 李娜 at a trade show');
INSERT INTO cdp.account_profile (account_id, key_people, notes) VALUES
    (1, '张伟 (总经理) decides; 王芳 runs purchasing', 'call 张伟 on 139 1234 5679 or zhang.wei@huaxin.cn');

-- Consent ---------------------------------------------------------------------

INSERT INTO cdp.consent (contact_id, channel, granted, legal_basis, source, recorded_at) VALUES
    (1, 'phone', true,  'consent', 'web_form 2026-01-05', '2026-01-05'),
    (1, 'email', true,  'consent', 'web_form 2026-01-05', '2026-01-05'),
    (1, 'email', false, 'consent', 'unsubscribe link',    '2026-03-01'),
    (1, 'wechat', true, 'consent', 'scanned QR code',     '2026-02-01'),
    (2, 'email', false, 'consent', 'call',                '2026-01-01'),
    (2, 'email', true,  'consent', 'trade show form',     '2026-02-01'),
    (3, 'phone', true,  'legitimate_interest', 'import',  '2026-01-01');
-- latest decision per channel wins; no record means no
SELECT c.contact_id, ch.channel, cdp.can_contact(c.contact_id, ch.channel)
  FROM cdp.contact c CROSS JOIN (VALUES ('phone'), ('email'), ('wechat'), ('sms'), ('EMAIL')) ch(channel)
 ORDER BY 1, 2;
SELECT cdp.can_contact(99, 'phone') AS unknown_contact, cdp.can_contact(NULL, 'phone') AS null_contact;
SELECT * FROM cdp.consent_status ORDER BY contact_id, channel;

-- the log is append-only, for the extension owner too
SELECT sqlstate_of('UPDATE cdp.consent SET granted = true WHERE consent_id = 3') AS update_refused,
       sqlstate_of('DELETE FROM cdp.consent WHERE consent_id = 3') AS delete_refused,
       sqlstate_of('TRUNCATE cdp.consent') AS truncate_refused;
-- the message says what to do instead
UPDATE cdp.consent SET granted = true WHERE consent_id = 3;
SELECT count(*) AS consent_rows FROM cdp.consent;

-- Outreach cadence --------------------------------------------------------------

-- contact 1: phone and wechat consented, e-mail withdrawn; never tried yet
SELECT * FROM cdp.next_touch(1, '2026-04-01 09:00+08');
INSERT INTO cdp.touchpoint (contact_id, account_id, channel, direction, kind, outcome, occurred_at) VALUES
    (1, 1, 'phone', 'outbound', 'call', 'no_answer', '2026-04-01 09:00+08');
-- one unanswered call: wait retry_after (2 days) from it
SELECT * FROM cdp.next_touch(1, '2026-04-01 10:00+08');
INSERT INTO cdp.touchpoint (contact_id, account_id, channel, direction, kind, outcome, occurred_at) VALUES
    (1, 1, 'phone', 'outbound', 'call', 'busy', '2026-04-03 09:00+08');
-- a busy line may be tried again sooner
SELECT * FROM cdp.next_touch(1, '2026-04-03 09:30+08');
INSERT INTO cdp.touchpoint (contact_id, account_id, channel, direction, kind, outcome, occurred_at) VALUES
    (1, 1, 'phone', 'outbound', 'call', 'no_answer', '2026-04-03 11:00+08');
-- three unanswered calls: the phone backs off 14 days, wechat is next
SELECT * FROM cdp.next_touch(1, '2026-04-03 12:00+08');
INSERT INTO cdp.touchpoint (contact_id, account_id, channel, direction, kind, outcome, occurred_at) VALUES
    (1, 1, 'wechat', 'outbound', 'message', 'replied', '2026-04-05 10:00+08');
-- a conversation resets the counts: next is a follow-up a week later
SELECT * FROM cdp.next_touch(1, '2026-04-05 12:00+08');
-- a stricter cadence gives up sooner
INSERT INTO cdp.outreach_model (model, channels, max_unanswered, give_up_after)
VALUES ('strict', '{phone}', 1, 2);
INSERT INTO cdp.touchpoint (contact_id, account_id, channel, direction, kind, outcome, occurred_at) VALUES
    (1, 1, 'phone', 'outbound', 'call', 'no_answer', '2026-04-12 10:00+08'),
    (1, 1, 'phone', 'outbound', 'call', 'no_answer', '2026-04-13 10:00+08');
SELECT * FROM cdp.next_touch(1, '2026-04-14 10:00+08', 'strict');
-- contact 2: e-mail consented; the address bounces and is marked bad
SELECT * FROM cdp.next_touch(2, '2026-04-01 09:00+08');
INSERT INTO cdp.touchpoint (contact_id, account_id, channel, direction, kind, outcome, occurred_at) VALUES
    (2, 1, 'email', 'outbound', 'email_sent', 'bounced', '2026-04-01 09:00+08');
SELECT contact_id, channel, value, reason FROM cdp.bad_contact_point;
SELECT * FROM cdp.next_touch(2, '2026-04-01 10:00+08');
-- a new address is usable again
UPDATE cdp.contact SET email = 'fang.wang@huaxin.cn' WHERE contact_id = 2;
SELECT channel, reason FROM cdp.next_touch(2, '2026-04-01 10:00+08');
-- contact 3: a wrong number marks the phone bad
INSERT INTO cdp.touchpoint (contact_id, account_id, channel, direction, kind, outcome, occurred_at) VALUES
    (3, 2, 'phone', 'outbound', 'call', 'wrong_number', '2026-04-01 09:00+08');
SELECT * FROM cdp.next_touch(3, '2026-04-02 09:00+08');
-- invalid: unknown contact
SELECT * FROM cdp.next_touch(99);
-- invalid: unknown outreach model
SELECT * FROM cdp.next_touch(1, now(), 'nope');
-- invalid: NULL argument
SELECT * FROM cdp.next_touch(NULL);
-- invalid: channel outside the known ones
INSERT INTO cdp.outreach_model (model, channels) VALUES ('bad', '{fax}');

-- Roles and row-level security -------------------------------------------------------

SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('cdp_admin', 'cdp_sales', 'cdp_analyst') ORDER BY 1;
SET ROLE regress_rep_wang;
SELECT account_id, name FROM cdp.account ORDER BY 1;
SELECT contact_id, name FROM cdp.contact ORDER BY 1;
SELECT lead_id, contact_name FROM cdp.lead ORDER BY 1;
SELECT contact_id, channel FROM cdp.consent_status ORDER BY 1, 2;
SELECT from_contact, to_contact FROM cdp.relationship ORDER BY 1, 2;
SELECT entity_key, stage FROM cdp.stage_history WHERE entity = 'cdp.lead'::regclass AND exited_at IS NULL ORDER BY 1;
SELECT count(*) AS queue FROM cdp.outreach_queue;
-- another rep's rows can be neither seen nor changed
UPDATE cdp.account SET tier = 'key' WHERE account_id = 2;
DELETE FROM cdp.contact WHERE contact_id = 3;
-- invalid: a row for someone else
INSERT INTO cdp.lead (company_name, owner) VALUES ('新公司', 'regress_rep_li');
-- invalid: giving a row away
UPDATE cdp.account SET owner = 'regress_rep_li' WHERE account_id = 1;
-- own rows: fine, and a stage move is recorded without privileges on the history
INSERT INTO cdp.lead (company_name, owner) VALUES ('新公司', 'regress_rep_wang');
UPDATE cdp.lead SET stage = 'mql' WHERE company_name = '新公司';
SELECT stage, changed_by FROM cdp.stage_history h
 WHERE entity = 'cdp.lead'::regclass AND exited_at IS NULL AND entity_key = (SELECT lead_id::text FROM cdp.lead WHERE company_name = '新公司');
-- consent for own contacts only
INSERT INTO cdp.consent (contact_id, channel, granted) VALUES (2, 'sms', true);
-- invalid: consent for another rep's contact
INSERT INTO cdp.consent (contact_id, channel, granted) VALUES (3, 'sms', true);
-- invalid: erasure is for admins
SELECT cdp.forget_contact(1);
-- invalid: the history cannot be written directly
INSERT INTO cdp.stage_history (entity, entity_key, model, stage, entered_at) VALUES ('cdp.lead', '1', 'b2b', 'customer', now());
RESET ROLE;

SET ROLE regress_analyst;
-- every row, but personal columns only masked
SELECT count(*) AS accounts FROM cdp.account;
SELECT contact_id, account_id, decision_role FROM cdp.contact ORDER BY 1;
SELECT contact_id, name, email, phone, has_wechat FROM cdp.contact_masked ORDER BY 1;
SELECT lead_id, contact_name, email, phone FROM cdp.lead_masked ORDER BY 1;
-- invalid: personal columns are not readable
SELECT name FROM cdp.contact;
SELECT * FROM cdp.lead;
-- invalid: analysts only read
UPDATE cdp.account SET tier = 'key';
RESET ROLE;

SET ROLE regress_nobody;
-- invalid: a role outside the cdp roles cannot reach the schema at all
SELECT count(*) FROM cdp.account;
SELECT cdp.can_contact(1, 'phone');
RESET ROLE;

-- nothing in schema cdp is granted to PUBLIC but the lifecycle models
SELECT c.oid::regclass AS public_table
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'cdp'::regnamespace AND a.grantee = 0 ORDER BY 1;
SELECT p.oid::regprocedure AS public_function
  FROM pg_proc p
 WHERE p.pronamespace = 'cdp'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE');
SELECT has_schema_privilege('public', 'cdp', 'USAGE') AS public_usage;
-- SECURITY DEFINER functions are for administrators only
SELECT p.oid::regprocedure AS definer_for_non_admin
  FROM pg_proc p
 WHERE p.pronamespace = 'cdp'::regnamespace AND p.prosecdef
   AND (has_function_privilege('cdp_sales', p.oid, 'EXECUTE') OR has_function_privilege('cdp_analyst', p.oid, 'EXECUTE'));
-- every table with an owner column has row-level security
SELECT c.oid::regclass AS owner_table_without_rls
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'owner'
 WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind = 'r' AND NOT c.relrowsecurity;
-- no SECURITY DEFINER function without a pinned search_path
SELECT p.oid::regprocedure AS definer_unpinned
  FROM pg_proc p WHERE p.pronamespace = 'cdp'::regnamespace AND p.prosecdef
   AND NOT coalesce(p.proconfig, '{}') && ARRAY['search_path=pg_catalog, pg_temp'];

-- Erasure -----------------------------------------------------------------------------

-- where contact 1's data is before
SELECT v, array_agg(tbl::text || ':' || n ORDER BY tbl::text) AS found
  FROM unnest(ARRAY['张伟', 'zhang.wei@huaxin.cn', '139 1234 5679', '+8613912345679', 'zhangwei_hx']) v
  CROSS JOIN LATERAL rows_containing(v)
 GROUP BY v ORDER BY v;
SELECT count(*) AS touchpoints_of_account_1 FROM cdp.touchpoint WHERE account_id = 1;
SET ROLE regress_admin;
SELECT cdp.forget_contact(1) AS erasure_id;
RESET ROLE;
-- and after: nowhere
SELECT v, array_agg(tbl::text || ':' || n ORDER BY tbl::text) AS found
  FROM unnest(ARRAY['张伟', 'zhang.wei@huaxin.cn', '139 1234 5679', '+8613912345679', 'zhangwei_hx']) v
  CROSS JOIN LATERAL rows_containing(v)
 GROUP BY v ORDER BY v;
-- the erasure is logged, without the data
SELECT erasure_id, contact_id, erased_by, rows_changed FROM cdp.erasure_log;
-- non-personal facts stay: the account's interactions, the lead's stage, the
-- contact's place in the decision chain, the consent decisions
SELECT count(*) AS touchpoints_of_account_1, count(contact_id) AS still_linked
  FROM cdp.touchpoint WHERE account_id = 1;
SELECT lead_id, company_name, contact_name, email, phone, stage, source FROM cdp.lead ORDER BY 1;
SELECT contact_id, account_id, name, email, phone, wechat, title, decision_role FROM cdp.contact ORDER BY 1;
SELECT channel, granted, legal_basis, source FROM cdp.consent WHERE contact_id = 1 ORDER BY consent_id;
SELECT account_id, key_people, notes FROM cdp.account_profile;
SELECT from_contact, to_contact, kind FROM cdp.relationship;
SELECT stage, reason FROM cdp.stage_history WHERE entity = 'cdp.lead'::regclass AND entity_key = '1' ORDER BY history_id;
-- other people are untouched
SELECT contact_id, name, email FROM cdp.contact WHERE contact_id IN (2, 3) ORDER BY 1;
-- the person is never contacted again
SELECT cdp.can_contact(1, 'phone') AS phone, cdp.can_contact(1, 'wechat') AS wechat;
SELECT * FROM cdp.next_touch(1, '2026-06-01');
-- idempotent: a second call changes nothing and returns the same erasure
SELECT cdp.forget_contact(1) AS erasure_id_again;
SELECT count(*) AS erasures FROM cdp.erasure_log;
-- invalid: unknown contact
SELECT cdp.forget_contact(99);
-- invalid: NULL
SELECT cdp.forget_contact(NULL);
-- the consent trigger lets forget_contact through, but nobody else, not
-- even inside a function of the same name elsewhere
CREATE FUNCTION public.forget_contact(bigint) RETURNS void LANGUAGE sql
    AS $$ UPDATE cdp.consent SET source = NULL WHERE contact_id = $1 $$;
SELECT sqlstate_of('SELECT public.forget_contact(2)') AS impostor;
DROP FUNCTION public.forget_contact(bigint);

DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
DROP FUNCTION sqlstate_of(text);
DROP FUNCTION rows_containing(text);
DROP ROLE regress_rep_wang, regress_rep_li, regress_analyst, regress_admin, regress_nobody;
