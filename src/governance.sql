\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- governance.sql: consent, outreach cadence, erasure, validation, roles,
-- privileges and row-level security.
--
-- This piece is loaded last (MODULES_ORDER), so the privilege and policy
-- set-up at its end covers every table, view and function the other modules
-- created, including the ones that land after it was written.
--
-- Personal data is marked in the catalog: every column whose COMMENT
-- contains "(personal data)" holds it.  forget_contact erases those columns,
-- analysts get no privilege on them, and the masked views show them masked.
-- A module that adds a personal column says so in its comment and is
-- covered.

-- Validation and masking (C) ---------------------------------------------------

CREATE FUNCTION @extschema@.validate_email(email text,
    OUT valid boolean, OUT normalized text, OUT problem text)
    AS 'MODULE_PATHNAME', 'cdp_validate_email'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.validate_email(text) IS 'Checks an e-mail address (校验邮箱): valid, the normalized form (domain in lower case) and the problem (empty, missing_at, syntax, local_part, domain, too_long, unsupported_quoted, unsupported_address_literal, fake, disposable); placeholders such as test@test.com are fake';

CREATE FUNCTION @extschema@.validate_phone(phone text, region text DEFAULT 'CN',
    OUT valid boolean, OUT normalized text, OUT kind text, OUT problem text)
    AS 'MODULE_PATHNAME', 'cdp_validate_phone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.validate_phone(text, text) IS 'Checks a phone number (校验电话) for a region (national formats known for CN: mobile 1[3-9]x, landline 0 + area code + 7/8 digits, 400/800 service numbers; E.164 anywhere): valid, E.164 form, kind (mobile, landline, service, international) and the problem (empty, syntax, length, mobile_prefix, landline_format, missing_area_code, e164_format, needs_country_code, too_long, fake); 13800138000 and 12345678901 are fake';

CREATE FUNCTION @extschema@.mask_name(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_mask_name'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mask_name(text) IS 'Masks a person''s name (脱敏): first character of each word kept, the rest stars (张伟 -> 张*)';

CREATE FUNCTION @extschema@.mask_email(email text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_mask_email'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mask_email(text) IS 'Masks an e-mail address, keeping the first character and the company domain (zhang.wei@huaxin.cn -> z***@huaxin.cn)';

CREATE FUNCTION @extschema@.mask_phone(phone text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_mask_phone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mask_phone(text) IS 'Masks a phone number, keeping the first three and last two digits (13812345678 -> 138******78)';

-- Consent: an append-only log ---------------------------------------------------

-- The log proves what a person decided and when; rows are never changed or
-- deleted, a new decision is a new row.  The only exception is
-- cdp.forget_contact, which clears the free-text source of the person's
-- decisions: it runs as the extension owner, and the trigger lets only the
-- owner of cdp.consent through, and only from inside forget_contact.
-- VOLATILE: a trigger.
CREATE FUNCTION @extschema@.consent_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stack text;
BEGIN
    GET DIAGNOSTICS stack = PG_CONTEXT;
    IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE'
       AND CURRENT_USER OPERATOR(pg_catalog.=) (SELECT c.relowner::pg_catalog.regrole::pg_catalog.name
                                                 FROM pg_catalog.pg_class c
                                                WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID)
       AND pg_catalog.strpos(stack, 'function @extschema@.forget_contact(bigint)') OPERATOR(pg_catalog.>) 0
       AND OLD.consent_id OPERATOR(pg_catalog.=) NEW.consent_id
       AND OLD.contact_id OPERATOR(pg_catalog.=) NEW.contact_id
       AND OLD.channel OPERATOR(pg_catalog.=) NEW.channel
       AND OLD.granted OPERATOR(pg_catalog.=) NEW.granted
       AND OLD.recorded_at OPERATOR(pg_catalog.=) NEW.recorded_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'cdp.consent is append-only'
        USING ERRCODE = '42501',
              DETAIL = pg_catalog.format('%s of consent records is not allowed.', TG_OP),
              HINT = 'Record a new decision with INSERT; the latest decision per channel wins. Erase a person with cdp.forget_contact.';
END
$$;
COMMENT ON FUNCTION @extschema@.consent_append_only() IS 'Trigger keeping cdp.consent append-only: UPDATE, DELETE and TRUNCATE are refused (SQLSTATE 42501) except the clearing of free text by cdp.forget_contact';

CREATE TRIGGER consent_append_only
    BEFORE UPDATE OR DELETE ON @extschema@.consent
    FOR EACH ROW EXECUTE FUNCTION @extschema@.consent_append_only();
CREATE TRIGGER consent_no_truncate
    BEFORE TRUNCATE ON @extschema@.consent
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.consent_append_only();

-- Erasure log -------------------------------------------------------------------

CREATE TABLE @extschema@.erasure_log (
    erasure_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id bigint NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    erased_by name NOT NULL DEFAULT SESSION_USER,
    rows_changed jsonb NOT NULL
);
COMMENT ON TABLE @extschema@.erasure_log IS 'Erasure log (删除记录): that a person''s data was erased, when and by whom, with the number of rows changed per table; it holds no personal data';
COMMENT ON COLUMN @extschema@.erasure_log.erasure_id IS 'Erasure identifier';
COMMENT ON COLUMN @extschema@.erasure_log.contact_id IS 'Contact whose personal data was erased (the contact row stays, anonymous)';
COMMENT ON COLUMN @extschema@.erasure_log.erased_at IS 'When the erasure ran';
COMMENT ON COLUMN @extschema@.erasure_log.erased_by IS 'Session role that asked for the erasure';
COMMENT ON COLUMN @extschema@.erasure_log.rows_changed IS 'Rows changed or removed per table, e.g. {"cdp.lead": 2, "cdp.touchpoint": 5}';
CREATE INDEX erasure_log_contact_idx ON @extschema@.erasure_log (contact_id);

-- Outreach cadence ------------------------------------------------------------------

CREATE TABLE @extschema@.outreach_model (
    model text PRIMARY KEY CHECK (model ~ '^[a-z][a-z0-9_]{0,62}$'),
    channels text[] NOT NULL DEFAULT '{phone,email,wechat,sms}'
        CHECK (pg_catalog.cardinality(channels) > 0 AND channels <@ '{phone,email,wechat,sms}'),
    retry_after interval NOT NULL DEFAULT '2 days' CHECK (retry_after >= '0'),
    busy_retry_after interval NOT NULL DEFAULT '2 hours' CHECK (busy_retry_after >= '0'),
    max_unanswered integer NOT NULL DEFAULT 3 CHECK (max_unanswered > 0),
    backoff interval NOT NULL DEFAULT '14 days' CHECK (backoff >= '0'),
    give_up_after integer NOT NULL DEFAULT 8 CHECK (give_up_after > 0),
    follow_up_after interval NOT NULL DEFAULT '7 days' CHECK (follow_up_after >= '0'),
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.outreach_model IS 'Outreach cadences (触达节奏) used by cdp.next_touch: channel order and the limits on unanswered attempts';
COMMENT ON COLUMN @extschema@.outreach_model.model IS 'Cadence name (lower case identifier); default is used when none is given';
COMMENT ON COLUMN @extschema@.outreach_model.channels IS 'Channels to use, in order of preference (phone, email, wechat, sms)';
COMMENT ON COLUMN @extschema@.outreach_model.retry_after IS 'Wait after an unanswered attempt (no_answer, no_reply) before the next one';
COMMENT ON COLUMN @extschema@.outreach_model.busy_retry_after IS 'Wait after a busy line before calling again';
COMMENT ON COLUMN @extschema@.outreach_model.max_unanswered IS 'Unanswered attempts on one channel in a row after which that channel backs off';
COMMENT ON COLUMN @extschema@.outreach_model.backoff IS 'How long a channel rests after max_unanswered unanswered attempts';
COMMENT ON COLUMN @extschema@.outreach_model.give_up_after IS 'Unanswered attempts in a row, all channels together, after which the contact is not tried again until they reach us';
COMMENT ON COLUMN @extschema@.outreach_model.follow_up_after IS 'Wait after a conversation (connected, replied, meeting) before the next touch';
COMMENT ON COLUMN @extschema@.outreach_model.builtin IS 'true for the cadence shipped with cdp; pg_dump keeps only the others';
INSERT INTO @extschema@.outreach_model (model, builtin) VALUES ('default', true);

CREATE TABLE @extschema@.bad_contact_point (
    contact_id bigint NOT NULL REFERENCES @extschema@.contact,
    channel text NOT NULL CHECK (channel IN ('email', 'phone', 'wechat')),
    value text NOT NULL,
    reason text NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (contact_id, channel, value)
);
COMMENT ON TABLE @extschema@.bad_contact_point IS 'Contact points known not to work (无效联系方式): bounced e-mail addresses and wrong numbers, marked from touchpoint outcomes; a changed address or number is usable again';
COMMENT ON COLUMN @extschema@.bad_contact_point.contact_id IS 'Contact the point belongs to';
COMMENT ON COLUMN @extschema@.bad_contact_point.channel IS 'email, phone (also used for sms) or wechat';
COMMENT ON COLUMN @extschema@.bad_contact_point.value IS 'The address or number that failed (personal data)';
COMMENT ON COLUMN @extschema@.bad_contact_point.reason IS 'Outcome that marked it (bounced, wrong_number, invalid_number)';
COMMENT ON COLUMN @extschema@.bad_contact_point.marked_at IS 'When it was marked';

-- SECURITY DEFINER: a rep who records a bounced e-mail marks the address bad
-- without needing write access to cdp.bad_contact_point.
CREATE FUNCTION @extschema@.touchpoint_marks_bad_point() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c @extschema@.contact;
    ch text;
    v text;
BEGIN
    IF NEW.contact_id IS NULL
       OR NEW.outcome IS NULL
       OR NEW.outcome OPERATOR(pg_catalog.<>) ALL ('{bounced,wrong_number,invalid_number}'::text[]) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO c FROM @extschema@.contact ct WHERE ct.contact_id OPERATOR(pg_catalog.=) NEW.contact_id;
    IF NEW.outcome OPERATOR(pg_catalog.=) 'bounced' AND NEW.channel OPERATOR(pg_catalog.=) 'email' THEN
        ch := 'email'; v := c.email;
    ELSIF NEW.outcome OPERATOR(pg_catalog.<>) 'bounced' AND NEW.channel OPERATOR(pg_catalog.=) ANY ('{phone,sms}'::text[]) THEN
        ch := 'phone'; v := c.phone;
    ELSIF NEW.outcome OPERATOR(pg_catalog.<>) 'bounced' AND NEW.channel OPERATOR(pg_catalog.=) 'wechat' THEN
        ch := 'wechat'; v := c.wechat;
    END IF;
    IF v IS NOT NULL THEN
        INSERT INTO @extschema@.bad_contact_point (contact_id, channel, value, reason, marked_at)
        VALUES (NEW.contact_id, ch, v, NEW.outcome, NEW.occurred_at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.touchpoint_marks_bad_point() IS 'Trigger on cdp.touchpoint: a bounced e-mail or a wrong/invalid number marks the contact''s current address or number bad';

CREATE TRIGGER touchpoint_marks_bad_point
    AFTER INSERT OR UPDATE OF outcome ON @extschema@.touchpoint
    FOR EACH ROW EXECUTE FUNCTION @extschema@.touchpoint_marks_bad_point();

-- Consent decisions -------------------------------------------------------------------

-- STABLE: reads tables.
CREATE FUNCTION @extschema@.can_contact(contact_id bigint, channel text)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT c.granted FROM @extschema@.consent c
                      WHERE c.contact_id OPERATOR(pg_catalog.=) $1
                        AND c.channel OPERATOR(pg_catalog.=) pg_catalog.lower($2)
                      ORDER BY c.recorded_at DESC, c.consent_id DESC
                      LIMIT 1), false)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.erasure_log e
                        WHERE e.contact_id OPERATOR(pg_catalog.=) $1)
$$;
COMMENT ON FUNCTION @extschema@.can_contact(bigint, text) IS 'Whether a contact may be reached on a channel (可联系): the latest consent decision for the channel wins, no record means no, an erased person never';

CREATE VIEW @extschema@.consent_status WITH (security_invoker = true) AS
SELECT DISTINCT ON (c.contact_id, c.channel)
       c.contact_id, c.channel, c.granted, c.legal_basis, c.recorded_at
  FROM @extschema@.consent c
 ORDER BY c.contact_id, c.channel, c.recorded_at DESC, c.consent_id DESC;
COMMENT ON VIEW @extschema@.consent_status IS 'Current consent (当前授权状态) per contact and channel: the latest decision of each';
COMMENT ON COLUMN @extschema@.consent_status.contact_id IS 'Contact';
COMMENT ON COLUMN @extschema@.consent_status.channel IS 'Channel';
COMMENT ON COLUMN @extschema@.consent_status.granted IS 'true when the latest decision grants contact';
COMMENT ON COLUMN @extschema@.consent_status.legal_basis IS 'Legal basis of the latest decision';
COMMENT ON COLUMN @extschema@.consent_status.recorded_at IS 'When the latest decision was made';

-- STABLE: reads tables; as_of defaults to now().
CREATE FUNCTION @extschema@.next_touch(contact_id bigint, as_of timestamptz DEFAULT pg_catalog.now(),
                                       model text DEFAULT 'default',
                                       OUT channel text, OUT touch_at timestamptz, OUT reason text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m @extschema@.outreach_model;
    c @extschema@.contact;
    ch text;
    point text;
    point_channel text;
    last_success timestamptz;
    last_any timestamptz;
    streak integer;
    ch_streak integer;
    ch_last timestamptz;
    ch_last_outcome text;
    candidate timestamptz;
    why text;
    blocked text[] := '{}';
BEGIN
    IF contact_id IS NULL OR as_of IS NULL OR model IS NULL THEN
        RAISE EXCEPTION 'next_touch arguments must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO m FROM @extschema@.outreach_model om WHERE om.model OPERATOR(pg_catalog.=) next_touch.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown outreach model "%"', model
            USING ERRCODE = '22023',
                  HINT = 'Outreach models are listed in cdp.outreach_model.';
    END IF;
    SELECT * INTO c FROM @extschema@.contact ct WHERE ct.contact_id OPERATOR(pg_catalog.=) next_touch.contact_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no contact with id %', contact_id USING ERRCODE = 'P0002';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.erasure_log e WHERE e.contact_id OPERATOR(pg_catalog.=) c.contact_id) THEN
        reason := 'erased';
        RETURN;
    END IF;

    -- the latest conversation: an inbound touch or a successful outbound one
    SELECT pg_catalog.max(t.occurred_at) INTO last_success
      FROM @extschema@.touchpoint t
     WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
       AND t.occurred_at OPERATOR(pg_catalog.<=) as_of
       AND (t.direction OPERATOR(pg_catalog.=) 'inbound'
            OR t.outcome OPERATOR(pg_catalog.=) ANY ('{connected,replied,meeting,answered}'::text[]));

    -- unanswered outbound attempts since then, over all channels
    SELECT pg_catalog.count(*), pg_catalog.max(t.occurred_at) INTO streak, last_any
      FROM @extschema@.touchpoint t
     WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
       AND t.direction OPERATOR(pg_catalog.=) 'outbound'
       AND t.occurred_at OPERATOR(pg_catalog.<=) as_of
       AND (last_success IS NULL OR t.occurred_at OPERATOR(pg_catalog.>) last_success);
    IF streak OPERATOR(pg_catalog.>=) m.give_up_after THEN
        reason := pg_catalog.format('gave up after %s unanswered attempts', streak);
        RETURN;
    END IF;

    FOREACH ch IN ARRAY m.channels LOOP
        point_channel := CASE ch WHEN 'sms' THEN 'phone' ELSE ch END;
        point := CASE point_channel WHEN 'phone' THEN c.phone WHEN 'email' THEN c.email
                                    WHEN 'wechat' THEN c.wechat END;
        IF NOT @extschema@.can_contact(c.contact_id, ch) THEN
            blocked := blocked OPERATOR(pg_catalog.||) (ch OPERATOR(pg_catalog.||) ': no consent');
            CONTINUE;
        END IF;
        IF point IS NULL OR pg_catalog.btrim(point) OPERATOR(pg_catalog.=) '' THEN
            blocked := blocked OPERATOR(pg_catalog.||) (ch OPERATOR(pg_catalog.||) ': no ' OPERATOR(pg_catalog.||) point_channel);
            CONTINUE;
        END IF;
        IF EXISTS (SELECT 1 FROM @extschema@.bad_contact_point b
                    WHERE b.contact_id OPERATOR(pg_catalog.=) c.contact_id
                      AND b.channel OPERATOR(pg_catalog.=) point_channel
                      AND b.value OPERATOR(pg_catalog.=) point) THEN
            blocked := blocked OPERATOR(pg_catalog.||) (ch OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) point_channel OPERATOR(pg_catalog.||) ' marked bad');
            CONTINUE;
        END IF;

        -- this channel's unanswered streak and its latest attempt
        SELECT pg_catalog.count(*), pg_catalog.max(t.occurred_at) INTO ch_streak, ch_last
          FROM @extschema@.touchpoint t
         WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
           AND t.direction OPERATOR(pg_catalog.=) 'outbound'
           AND t.channel OPERATOR(pg_catalog.=) ch
           AND t.occurred_at OPERATOR(pg_catalog.<=) as_of
           AND (last_success IS NULL OR t.occurred_at OPERATOR(pg_catalog.>) last_success);
        ch_last_outcome := NULL;
        IF ch_last IS NOT NULL THEN
            SELECT t.outcome INTO ch_last_outcome
              FROM @extschema@.touchpoint t
             WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
               AND t.channel OPERATOR(pg_catalog.=) ch
               AND t.occurred_at OPERATOR(pg_catalog.=) ch_last
             ORDER BY t.touchpoint_id DESC LIMIT 1;
        END IF;

        IF ch_streak OPERATOR(pg_catalog.>=) m.max_unanswered THEN
            candidate := ch_last OPERATOR(pg_catalog.+) m.backoff;
            why := pg_catalog.format('%s unanswered %s attempts: backing off', ch_streak, ch);
        ELSIF last_any IS NOT NULL THEN
            -- spacing counts from the latest attempt on any channel; a busy
            -- line on this channel may be retried sooner
            IF ch_last_outcome OPERATOR(pg_catalog.=) 'busy' AND ch_last OPERATOR(pg_catalog.=) last_any THEN
                candidate := last_any OPERATOR(pg_catalog.+) m.busy_retry_after;
                why := 'line was busy';
            ELSE
                candidate := last_any OPERATOR(pg_catalog.+) m.retry_after;
                why := pg_catalog.format('%s unanswered attempts so far', streak);
            END IF;
        ELSIF last_success IS NOT NULL THEN
            candidate := last_success OPERATOR(pg_catalog.+) m.follow_up_after;
            why := 'follow-up after the last conversation';
        ELSE
            candidate := as_of;
            why := 'first attempt';
        END IF;
        candidate := GREATEST(candidate, as_of);
        IF touch_at IS NULL OR candidate OPERATOR(pg_catalog.<) touch_at THEN
            channel := ch;
            touch_at := candidate;
            reason := why;
        END IF;
    END LOOP;

    IF channel IS NULL THEN
        reason := 'no usable channel (' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(blocked, '; ') OPERATOR(pg_catalog.||) ')';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.next_touch(bigint, timestamptz, text) IS 'When and on which channel to try a contact next (下次触达), from its attempts and their outcomes, consent and bad contact points, under the limits of an outreach model; channel NULL with the reason when nobody should call';

-- SECURITY DEFINER: none.  The queue runs with the caller's rights, so row-
-- level security limits a rep to the contacts they own.
CREATE VIEW @extschema@.outreach_queue WITH (security_invoker = true) AS
SELECT c.contact_id, c.account_id, c.owner, n.channel, n.touch_at, n.reason
  FROM @extschema@.contact c
 CROSS JOIN LATERAL @extschema@.next_touch(c.contact_id) n
 WHERE n.channel IS NOT NULL;
COMMENT ON VIEW @extschema@.outreach_queue IS 'Who to contact and when (待触达名单): every contact with consent and a working contact point, with the channel and time cdp.next_touch picks';
COMMENT ON COLUMN @extschema@.outreach_queue.contact_id IS 'Contact';
COMMENT ON COLUMN @extschema@.outreach_queue.account_id IS 'Account of the contact';
COMMENT ON COLUMN @extschema@.outreach_queue.owner IS 'Rep who owns the contact';
COMMENT ON COLUMN @extschema@.outreach_queue.channel IS 'Channel to use next';
COMMENT ON COLUMN @extschema@.outreach_queue.touch_at IS 'Earliest time for the next touch (now or later)';
COMMENT ON COLUMN @extschema@.outreach_queue.reason IS 'Why this channel and time';

-- Erasure ------------------------------------------------------------------------------

-- Personal-data columns as the catalog marks them (comment contains
-- "(personal data)"), for erasure, analyst privileges and review.
CREATE VIEW @extschema@.personal_data_column AS
SELECT c.oid::pg_catalog.regclass AS tbl, a.attname AS column_name
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
 WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
   AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[])
   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
   AND pg_catalog.col_description(c.oid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%';
COMMENT ON VIEW @extschema@.personal_data_column IS 'Columns of cdp tables that hold personal data (个人信息字段), as marked by "(personal data)" in their comments: erased by forget_contact, hidden from analysts';
COMMENT ON COLUMN @extschema@.personal_data_column.tbl IS 'Table';
COMMENT ON COLUMN @extschema@.personal_data_column.column_name IS 'Column holding personal data';

-- SECURITY DEFINER: an erasure must reach every row of every table, whoever
-- owns them and whatever row-level security would show the caller; EXECUTE
-- is granted to cdp_admin only.
CREATE FUNCTION @extschema@.forget_contact(contact_id bigint)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c @extschema@.contact;
    ids text[];
    email_l text;
    phone_e164 text;
    lead_ids bigint[];
    n bigint;
    total bigint := 0;
    counts jsonb := '{}';
    tb record;
    sets text;
    conds text;
    idents text[];
    ident text;
    col record;
    previous bigint;
    pname text;
    now_ts timestamptz := pg_catalog.now();

BEGIN
    IF contact_id IS NULL THEN
        RAISE EXCEPTION 'forget_contact argument must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO c FROM @extschema@.contact ct
     WHERE ct.contact_id OPERATOR(pg_catalog.=) forget_contact.contact_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no contact with id %', contact_id USING ERRCODE = 'P0002';
    END IF;

    email_l := pg_catalog.lower(pg_catalog.btrim(c.email));
    phone_e164 := (@extschema@.validate_phone(c.phone)).normalized;

    -- the person's leads: linked, or carrying the same address or number
    SELECT pg_catalog.array_agg(l.lead_id) INTO lead_ids
      FROM @extschema@.lead l
     WHERE l.contact_id OPERATOR(pg_catalog.=) c.contact_id
        OR (email_l OPERATOR(pg_catalog.<>) '' AND pg_catalog.lower(pg_catalog.btrim(l.email)) OPERATOR(pg_catalog.=) email_l)
        OR (pg_catalog.btrim(l.phone) OPERATOR(pg_catalog.=) pg_catalog.btrim(c.phone))
        OR (phone_e164 IS NOT NULL AND l.phone IS NOT NULL
            AND (@extschema@.validate_phone(l.phone)).normalized OPERATOR(pg_catalog.=) phone_e164);
    lead_ids := coalesce(lead_ids, '{}');

    UPDATE @extschema@.lead l
       SET contact_name = NULL, email = NULL, phone = NULL, title = NULL
     WHERE l.lead_id OPERATOR(pg_catalog.=) ANY (lead_ids)
       AND (l.contact_name IS NOT NULL OR l.email IS NOT NULL OR l.phone IS NOT NULL OR l.title IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.lead', n); END IF;

    -- reasons given for the person's stage moves may name them
    UPDATE @extschema@.stage_history h
       SET reason = NULL
     WHERE h.reason IS NOT NULL
       AND ((h.entity OPERATOR(pg_catalog.=) '@extschema@.lead'::pg_catalog.regclass
             AND h.entity_key OPERATOR(pg_catalog.=) ANY (lead_ids::text[]))
         OR (h.entity OPERATOR(pg_catalog.=) '@extschema@.contact'::pg_catalog.regclass
             AND h.entity_key OPERATOR(pg_catalog.=) c.contact_id::text));
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.stage_history', n); END IF;

    -- interactions stay for the account's and the campaign's figures, but
    -- no longer point at the person; those tied to nothing else go
    DELETE FROM @extschema@.touchpoint t
     WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
       AND t.lead_id IS NULL AND t.account_id IS NULL AND c.account_id IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE @extschema@.touchpoint t
       SET contact_id = NULL, account_id = coalesce(t.account_id, c.account_id)
     WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id;
    GET DIAGNOSTICS total = ROW_COUNT;
    n := n OPERATOR(pg_catalog.+) total;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.touchpoint', n); END IF;

    -- whom the person knows is personal data
    DELETE FROM @extschema@.relationship r
     WHERE r.from_contact OPERATOR(pg_catalog.=) c.contact_id OR r.to_contact OPERATOR(pg_catalog.=) c.contact_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.relationship', n); END IF;

    DELETE FROM @extschema@.bad_contact_point b WHERE b.contact_id OPERATOR(pg_catalog.=) c.contact_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.bad_contact_point', n); END IF;

    -- consent decisions stay as proof, without free text
    UPDATE @extschema@.consent k SET source = NULL
     WHERE k.contact_id OPERATOR(pg_catalog.=) c.contact_id AND k.source IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.consent', n); END IF;

    UPDATE @extschema@.contact ct
       SET name = NULL, email = NULL, phone = NULL, wechat = NULL, title = NULL,
           department = NULL, reports_to = NULL, verified = false, updated_at = now_ts
     WHERE ct.contact_id OPERATOR(pg_catalog.=) c.contact_id
       AND (ct.name IS NOT NULL OR ct.email IS NOT NULL OR ct.phone IS NOT NULL OR ct.wechat IS NOT NULL
            OR ct.title IS NOT NULL OR ct.department IS NOT NULL OR ct.reports_to IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.contact', n); END IF;

    -- Everywhere else, including tables of modules this function does not
    -- know: a personal-data column equal to one of the person's identifiers
    -- is cleared, and any other text or jsonb column has the identifiers
    -- cut out (the name only in rows of the person's account, since a
    -- two-character name is too common to cut everywhere).
    idents := pg_catalog.array_remove(ARRAY[pg_catalog.btrim(c.email), pg_catalog.btrim(c.phone),
                                            phone_e164, pg_catalog.btrim(c.wechat)], NULL);
    SELECT pg_catalog.array_agg(x) INTO idents FROM pg_catalog.unnest(idents) x
     WHERE pg_catalog.length(x) OPERATOR(pg_catalog.>=) 5;
    idents := coalesce(idents, '{}');
    pname := CASE WHEN pg_catalog.length(pg_catalog.btrim(c.name)) OPERATOR(pg_catalog.>=) 2 THEN pg_catalog.btrim(c.name) END;
    FOR tb IN
        SELECT cl.oid::pg_catalog.regclass AS tbl,
               EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid OPERATOR(pg_catalog.=) cl.oid AND a.attname OPERATOR(pg_catalog.=) 'account_id'
                          AND NOT a.attisdropped) AS has_account
          FROM pg_catalog.pg_class cl
         WHERE cl.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND cl.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[])
           AND NOT cl.relispartition
           AND cl.oid OPERATOR(pg_catalog.<>) ALL (ARRAY['@extschema@.erasure_log'::pg_catalog.regclass,
                                                         '@extschema@.consent'::pg_catalog.regclass]::pg_catalog.oid[])
         ORDER BY cl.oid
    LOOP
        sets := NULL;
        conds := NULL;
        FOR col IN
            SELECT a.attname, a.atttypid,
                   pg_catalog.col_description(a.attrelid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%' AS personal
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid OPERATOR(pg_catalog.=) tb.tbl AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
               AND a.atttypid OPERATOR(pg_catalog.=) ANY (ARRAY['text'::pg_catalog.regtype, 'varchar'::pg_catalog.regtype,
                                                                'jsonb'::pg_catalog.regtype]::pg_catalog.oid[])
               AND a.attgenerated OPERATOR(pg_catalog.=) ''
             ORDER BY a.attnum
        LOOP
            IF col.personal AND col.atttypid OPERATOR(pg_catalog.<>) 'jsonb'::pg_catalog.regtype THEN
                -- exact match of an identifier (e-mail case-insensitively), or the name in the person's account
                sets := concat_ws(', ', sets, pg_catalog.format(
                    '%1$I = CASE WHEN pg_catalog.lower(pg_catalog.btrim(%1$I)) OPERATOR(pg_catalog.=) ANY ($1) %2$s THEN NULL ELSE %1$I END',
                    col.attname,
                    CASE WHEN tb.has_account AND c.account_id IS NOT NULL AND pname IS NOT NULL
                         THEN 'OR (account_id OPERATOR(pg_catalog.=) $3 AND pg_catalog.btrim(' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(col.attname) OPERATOR(pg_catalog.||) ') OPERATOR(pg_catalog.=) $2)'
                         ELSE '' END));
                conds := concat_ws(' OR ', conds, pg_catalog.format(
                    'pg_catalog.lower(pg_catalog.btrim(%1$I)) OPERATOR(pg_catalog.=) ANY ($1)%2$s', col.attname,
                    CASE WHEN tb.has_account AND c.account_id IS NOT NULL AND pname IS NOT NULL
                         THEN ' OR (account_id OPERATOR(pg_catalog.=) $3 AND pg_catalog.btrim(' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(col.attname) OPERATOR(pg_catalog.||) ') OPERATOR(pg_catalog.=) $2)'
                         ELSE '' END));
            ELSIF pg_catalog.cardinality(idents) OPERATOR(pg_catalog.>) 0 OR (tb.has_account AND c.account_id IS NOT NULL AND pname IS NOT NULL) THEN
                -- free text: cut the identifiers out
                IF col.atttypid OPERATOR(pg_catalog.=) 'jsonb'::pg_catalog.regtype THEN
                    sets := concat_ws(', ', sets, pg_catalog.format(
                        '%1$I = @extschema@.erase_identifiers(%1$I::pg_catalog.text, $4, CASE WHEN %2$s THEN $2 END)::pg_catalog.jsonb',
                        col.attname, CASE WHEN tb.has_account AND c.account_id IS NOT NULL THEN 'account_id OPERATOR(pg_catalog.=) $3' ELSE 'false' END));
                ELSE
                    sets := concat_ws(', ', sets, pg_catalog.format(
                        '%1$I = @extschema@.erase_identifiers(%1$I, $4, CASE WHEN %2$s THEN $2 END)',
                        col.attname, CASE WHEN tb.has_account AND c.account_id IS NOT NULL THEN 'account_id OPERATOR(pg_catalog.=) $3' ELSE 'false' END));
                END IF;
                conds := concat_ws(' OR ', conds, pg_catalog.format(
                    '%1$I::pg_catalog.text OPERATOR(pg_catalog.~~) ANY ($5) OR (%2$s AND pg_catalog.strpos(%1$I::pg_catalog.text, $2) OPERATOR(pg_catalog.>) 0)',
                    col.attname, CASE WHEN tb.has_account AND c.account_id IS NOT NULL THEN 'account_id OPERATOR(pg_catalog.=) $3' ELSE 'false' END));
            END IF;
        END LOOP;
        IF sets IS NOT NULL THEN
            EXECUTE pg_catalog.format('UPDATE %s SET %s WHERE %s', tb.tbl, sets, conds)
              USING (SELECT coalesce(pg_catalog.array_agg(pg_catalog.lower(x)), '{}') FROM pg_catalog.unnest(idents) x),
                    pname, c.account_id, idents,
                    (SELECT coalesce(pg_catalog.array_agg('%' OPERATOR(pg_catalog.||)
                                     pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(x, '\', '\\'), '%', '\%'), '_', '\_')
                                     OPERATOR(pg_catalog.||) '%'), '{}')
                       FROM pg_catalog.unnest(idents) x);
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n OPERATOR(pg_catalog.>) 0 THEN
                counts := counts OPERATOR(pg_catalog.||)
                          pg_catalog.jsonb_build_object(tb.tbl::pg_catalog.text,
                              coalesce((counts OPERATOR(pg_catalog.->>) tb.tbl::pg_catalog.text)::bigint, 0) OPERATOR(pg_catalog.+) n);
            END IF;
        END IF;
    END LOOP;

    -- once is enough in the log: a repeated call that changed nothing
    -- returns the first erasure
    SELECT pg_catalog.min(e.erasure_id) INTO previous
      FROM @extschema@.erasure_log e WHERE e.contact_id OPERATOR(pg_catalog.=) c.contact_id;
    IF previous IS NOT NULL AND counts OPERATOR(pg_catalog.=) '{}'::jsonb THEN
        RETURN previous;
    END IF;

    -- no more messages on any channel the person had granted
    INSERT INTO @extschema@.consent (contact_id, channel, granted, legal_basis, source, recorded_at)
    SELECT s.contact_id, s.channel, false, 'erasure', NULL, GREATEST(now_ts, s.recorded_at)
      FROM (SELECT DISTINCT ON (k.channel) k.contact_id, k.channel, k.granted, k.recorded_at
              FROM @extschema@.consent k
             WHERE k.contact_id OPERATOR(pg_catalog.=) c.contact_id
             ORDER BY k.channel, k.recorded_at DESC, k.consent_id DESC) s
     WHERE s.granted;

    INSERT INTO @extschema@.erasure_log (contact_id, erased_at, rows_changed)
    VALUES (c.contact_id, now_ts, counts)
    RETURNING erasure_id INTO previous;
    RETURN previous;
END
$$;
COMMENT ON FUNCTION @extschema@.forget_contact(bigint) IS 'Erases a person''s personal data (被遗忘权) from every cdp table: the contact row is kept anonymous, the person''s leads lose their contact fields, touchpoints are unlinked, relationships removed, stage-history reasons cleared, identifiers cut out of free text anywhere; consent is withdrawn and the erasure logged in cdp.erasure_log (without the data). Idempotent; returns the erasure id';

-- Cuts identifiers out of free text: each of idents (compared as typed) and
-- the name when given become [erased].
CREATE FUNCTION @extschema@.erase_identifiers(value text, idents text[], person_name text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN value IS NULL THEN NULL ELSE
           (WITH RECURSIVE r(i, v) AS (
                SELECT 0, CASE WHEN person_name IS NOT NULL AND pg_catalog.length(person_name) >= 2
                               THEN pg_catalog.replace(value, person_name, '[erased]') ELSE value END
                UNION ALL
                SELECT r.i + 1, pg_catalog.replace(r.v, idents[r.i + 1], '[erased]')
                  FROM r WHERE r.i < coalesce(pg_catalog.cardinality(idents), 0))
            SELECT r.v FROM r ORDER BY r.i DESC LIMIT 1) END;
END;
COMMENT ON FUNCTION @extschema@.erase_identifiers(text, text[], text) IS 'Replaces each identifier (and the person''s name, when given) in a text with [erased]; used by cdp.forget_contact on free-text columns';

-- Masked views for analysts ----------------------------------------------------------------

-- Owner's rights (no security_invoker): analysts have no privilege on the
-- personal columns and read them here, masked, for every row.
CREATE VIEW @extschema@.contact_masked AS
SELECT c.contact_id, c.account_id,
       @extschema@.mask_name(c.name) AS name,
       c.title, c.department,
       @extschema@.mask_email(c.email) AS email,
       @extschema@.mask_phone(c.phone) AS phone,
       (c.wechat IS NOT NULL) AS has_wechat,
       c.decision_role, c.reports_to, c.approval_limit, c.verified, c.owner, c.created_at, c.updated_at
  FROM @extschema@.contact c;
COMMENT ON VIEW @extschema@.contact_masked IS 'Contacts with personal data masked (脱敏联系人), for analysts';
COMMENT ON COLUMN @extschema@.contact_masked.contact_id IS 'Contact identifier';
COMMENT ON COLUMN @extschema@.contact_masked.account_id IS 'Account the person works for';
COMMENT ON COLUMN @extschema@.contact_masked.name IS 'Name, masked (张*)';
COMMENT ON COLUMN @extschema@.contact_masked.title IS 'Job title';
COMMENT ON COLUMN @extschema@.contact_masked.department IS 'Department';
COMMENT ON COLUMN @extschema@.contact_masked.email IS 'E-mail, masked to first character and domain';
COMMENT ON COLUMN @extschema@.contact_masked.phone IS 'Phone, masked to the first three and last two digits';
COMMENT ON COLUMN @extschema@.contact_masked.has_wechat IS 'Whether a WeChat ID is known';
COMMENT ON COLUMN @extschema@.contact_masked.decision_role IS 'Role in the buying decision';
COMMENT ON COLUMN @extschema@.contact_masked.reports_to IS 'Contact this person reports to';
COMMENT ON COLUMN @extschema@.contact_masked.approval_limit IS 'Largest amount this person can approve alone';
COMMENT ON COLUMN @extschema@.contact_masked.verified IS 'Whether the details were confirmed';
COMMENT ON COLUMN @extschema@.contact_masked.owner IS 'Rep who owns the contact';
COMMENT ON COLUMN @extschema@.contact_masked.created_at IS 'When the row was created';
COMMENT ON COLUMN @extschema@.contact_masked.updated_at IS 'When the row was last changed';

CREATE VIEW @extschema@.lead_masked AS
SELECT l.lead_id, l.company_name,
       @extschema@.mask_name(l.contact_name) AS contact_name,
       l.title,
       @extschema@.mask_email(l.email) AS email,
       @extschema@.mask_phone(l.phone) AS phone,
       l.city, l.source, l.channel, l.campaign_id, l.fit_score, l.engagement_score, l.score,
       l.scored_at, l.stage, l.account_id, l.contact_id, l.owner, l.disqualified_reason,
       l.converted_at, l.created_at, l.updated_at
  FROM @extschema@.lead l;
COMMENT ON VIEW @extschema@.lead_masked IS 'Leads with personal data masked (脱敏线索), for analysts';
COMMENT ON COLUMN @extschema@.lead_masked.lead_id IS 'Lead identifier';
COMMENT ON COLUMN @extschema@.lead_masked.company_name IS 'Company name as written';
COMMENT ON COLUMN @extschema@.lead_masked.contact_name IS 'Name, masked';
COMMENT ON COLUMN @extschema@.lead_masked.title IS 'Job title';
COMMENT ON COLUMN @extschema@.lead_masked.email IS 'E-mail, masked to first character and domain';
COMMENT ON COLUMN @extschema@.lead_masked.phone IS 'Phone, masked';
COMMENT ON COLUMN @extschema@.lead_masked.city IS 'City as entered';
COMMENT ON COLUMN @extschema@.lead_masked.source IS 'Where the lead came from';
COMMENT ON COLUMN @extschema@.lead_masked.channel IS 'Marketing channel';
COMMENT ON COLUMN @extschema@.lead_masked.campaign_id IS 'Campaign';
COMMENT ON COLUMN @extschema@.lead_masked.fit_score IS 'Fit score';
COMMENT ON COLUMN @extschema@.lead_masked.engagement_score IS 'Engagement score';
COMMENT ON COLUMN @extschema@.lead_masked.score IS 'Combined score';
COMMENT ON COLUMN @extschema@.lead_masked.scored_at IS 'When scored';
COMMENT ON COLUMN @extschema@.lead_masked.stage IS 'Lifecycle stage';
COMMENT ON COLUMN @extschema@.lead_masked.account_id IS 'Matched account';
COMMENT ON COLUMN @extschema@.lead_masked.contact_id IS 'Matched contact';
COMMENT ON COLUMN @extschema@.lead_masked.owner IS 'Owning rep';
COMMENT ON COLUMN @extschema@.lead_masked.disqualified_reason IS 'Why disqualified';
COMMENT ON COLUMN @extschema@.lead_masked.converted_at IS 'When converted';
COMMENT ON COLUMN @extschema@.lead_masked.created_at IS 'When the lead arrived';
COMMENT ON COLUMN @extschema@.lead_masked.updated_at IS 'When last changed';

-- Roles, privileges, row-level security --------------------------------------------------

-- Roles are cluster-wide and outlive the extension; create them when missing.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['cdp_admin', 'cdp_sales', 'cdp_analyst'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

-- The schema: only the three roles (and what is granted to them) may use it.
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO cdp_admin, cdp_sales, cdp_analyst;

-- Tables and views, every one the modules created (see the comment at the top).
DO $$
DECLARE
    t record;
    personal text;
    open_cols text;
    has_owner boolean;
BEGIN
    FOR t IN
        SELECT c.oid::pg_catalog.regclass AS rel, c.relkind, c.relname,
               coalesce(c.reloptions::text[], '{}') AS opts
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,S}'::"char"[])
           AND NOT c.relispartition
         ORDER BY c.oid
    LOOP
        IF t.relkind OPERATOR(pg_catalog.=) 'S' THEN
            EXECUTE pg_catalog.format('GRANT USAGE, SELECT ON SEQUENCE %s TO cdp_admin', t.rel);
            CONTINUE;
        END IF;
        -- the BI touch rollups (module rollup) count the rows of every
        -- owner: no role reads them, the views read them through
        -- cdp.bi_touch_figures, cdp.bi_last_touch and cdp.bi_account_sheet_figures
        -- (granted below)
        CONTINUE WHEN t.relkind OPERATOR(pg_catalog.=) 'r' AND t.relname OPERATOR(pg_catalog.~~) 'bi\_%'
                  AND t.relname OPERATOR(pg_catalog.<>) 'bi_rollup_state';
        IF t.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[]) THEN
            EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO cdp_admin', t.rel);
        ELSE
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO cdp_admin', t.rel);
        END IF;

        -- analysts: every column that is not personal data
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (
                   WHERE NOT coalesce(pg_catalog.col_description(a.attrelid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%', false)),
               pg_catalog.string_agg(a.attname, ', ') FILTER (
                   WHERE coalesce(pg_catalog.col_description(a.attrelid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%', false))
          INTO open_cols, personal
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) t.rel AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
        IF t.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::"char"[]) AND personal IS NOT NULL THEN
            NULL;       -- a view showing personal data unmasked: not for analysts
        ELSIF personal IS NULL THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO cdp_analyst', t.rel);
        ELSIF open_cols IS NOT NULL THEN
            EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO cdp_analyst', open_cols, t.rel);
        END IF;

        -- sales: views that run with the caller's rights (so row-level
        -- security applies); tables below
        IF t.relkind OPERATOR(pg_catalog.=) 'v'
           AND t.opts && '{security_invoker=true,security_invoker=on,security_invoker=1}'::text[] THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO cdp_sales', t.rel);
        END IF;

        -- every table with an owner column belongs to its owner
        IF t.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[]) THEN
            SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid OPERATOR(pg_catalog.=) t.rel AND a.attname OPERATOR(pg_catalog.=) 'owner'
                              AND a.atttypid OPERATOR(pg_catalog.=) 'name'::pg_catalog.regtype AND NOT a.attisdropped)
              INTO has_owner;
            IF has_owner THEN
                EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t.rel);
                EXECUTE pg_catalog.format('CREATE POLICY cdp_admin_all ON %s TO cdp_admin USING (true) WITH CHECK (true)', t.rel);
                EXECUTE pg_catalog.format('CREATE POLICY cdp_analyst_read ON %s FOR SELECT TO cdp_analyst USING (true)', t.rel);
                EXECUTE pg_catalog.format(
                    'CREATE POLICY cdp_sales_own ON %s TO cdp_sales
                       USING (owner OPERATOR(pg_catalog.=) CURRENT_USER)
                       WITH CHECK (owner OPERATOR(pg_catalog.=) CURRENT_USER)', t.rel);
                EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO cdp_sales', t.rel);
            END IF;
        END IF;
    END LOOP;
END
$$;

-- Tables without an owner column follow the row they belong to.  The helper
-- is dropped once used.
CREATE FUNCTION @extschema@.governance_policies_for(tbl regclass, sales_using text, sales_check text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY cdp_admin_all ON %s TO cdp_admin USING (true) WITH CHECK (true)', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY cdp_analyst_read ON %s FOR SELECT TO cdp_analyst USING (true)', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY cdp_sales_read ON %s FOR SELECT TO cdp_sales USING (%s)', tbl, sales_using);
    IF sales_check IS NOT NULL THEN
        EXECUTE pg_catalog.format('CREATE POLICY cdp_sales_insert ON %s FOR INSERT TO cdp_sales WITH CHECK (%s)', tbl, sales_check);
        EXECUTE pg_catalog.format('CREATE POLICY cdp_sales_update ON %s FOR UPDATE TO cdp_sales USING (%s) WITH CHECK (%s)', tbl, sales_check, sales_check);
        EXECUTE pg_catalog.format('CREATE POLICY cdp_sales_delete ON %s FOR DELETE TO cdp_sales USING (%s)', tbl, sales_check);
    END IF;
END
$$;


SELECT @extschema@.governance_policies_for('@extschema@.consent',
    'EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) consent.contact_id)',
    NULL);
CREATE POLICY cdp_sales_insert ON @extschema@.consent FOR INSERT TO cdp_sales
    WITH CHECK (EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) consent.contact_id));
GRANT SELECT, INSERT ON @extschema@.consent TO cdp_sales;

SELECT @extschema@.governance_policies_for('@extschema@.relationship',
    'EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) relationship.from_contact)
      OR EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) relationship.to_contact)',
    'EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) relationship.from_contact)');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.relationship TO cdp_sales;

SELECT @extschema@.governance_policies_for('@extschema@.account_profile',
    'EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) account_profile.account_id)',
    'EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) account_profile.account_id)');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.account_profile TO cdp_sales;

SELECT @extschema@.governance_policies_for('@extschema@.competitor_order',
    'EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) competitor_order.account_id)',
    'EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) competitor_order.account_id)');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.competitor_order TO cdp_sales;

SELECT @extschema@.governance_policies_for('@extschema@.bad_contact_point',
    'EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) bad_contact_point.contact_id)',
    NULL);
GRANT SELECT ON @extschema@.bad_contact_point TO cdp_sales;

-- Stage history: the moves of entities the rep can see, and the rep's own moves.
SELECT @extschema@.governance_policies_for('@extschema@.stage_history',
    'changed_by OPERATOR(pg_catalog.=) CURRENT_USER
      OR CASE WHEN entity_key OPERATOR(pg_catalog.!~) ''^[0-9]{1,18}$'' THEN false
              WHEN entity OPERATOR(pg_catalog.=) ''@extschema@.account''::pg_catalog.regclass
              THEN EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) stage_history.entity_key::pg_catalog.int8)
              WHEN entity OPERATOR(pg_catalog.=) ''@extschema@.lead''::pg_catalog.regclass
              THEN EXISTS (SELECT 1 FROM @extschema@.lead l WHERE l.lead_id OPERATOR(pg_catalog.=) stage_history.entity_key::pg_catalog.int8)
              WHEN entity OPERATOR(pg_catalog.=) ''@extschema@.opportunity''::pg_catalog.regclass
              THEN EXISTS (SELECT 1 FROM @extschema@.opportunity o WHERE o.opportunity_id OPERATOR(pg_catalog.=) stage_history.entity_key::pg_catalog.int8)
              ELSE false END',
    NULL);
GRANT SELECT ON @extschema@.stage_history TO cdp_sales;
DROP FUNCTION @extschema@.governance_policies_for(regclass, text, text);

-- Lead matching (company module): a lead a rep writes is matched against
-- every account, not only the rep's own, and the outcome is recorded in
-- cdp.lead_match; so the matching trigger runs with the extension owner's
-- rights (its search_path is pinned).  Reps read the matches of their leads.
DO $$
BEGIN
    IF pg_catalog.to_regprocedure('@extschema@.lead_match_trigger()') IS NOT NULL THEN
        ALTER FUNCTION @extschema@.lead_match_trigger() SECURITY DEFINER;
    END IF;
    IF pg_catalog.to_regclass('@extschema@.lead_match') IS NOT NULL THEN
        ALTER TABLE @extschema@.lead_match ENABLE ROW LEVEL SECURITY;
        CREATE POLICY cdp_admin_all ON @extschema@.lead_match TO cdp_admin USING (true) WITH CHECK (true);
        CREATE POLICY cdp_analyst_read ON @extschema@.lead_match FOR SELECT TO cdp_analyst USING (true);
        CREATE POLICY cdp_sales_read ON @extschema@.lead_match FOR SELECT TO cdp_sales
            USING (EXISTS (SELECT 1 FROM @extschema@.lead l WHERE l.lead_id OPERATOR(pg_catalog.=) lead_match.lead_id));
        GRANT SELECT ON @extschema@.lead_match TO cdp_sales;
    END IF;
END
$$;

-- Reference data (cities, models, sheet definitions, ... of every module):
-- a table with no owner column, no personal data, no row-level security
-- and no foreign key to a table reps own rows in is readable by reps.  Logs
-- (name ending in _log) are not.
DO $$
DECLARE
    t pg_catalog.regclass;
BEGIN
    FOR t IN
        SELECT c.oid FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[]) AND NOT c.relispartition
           AND NOT c.relrowsecurity
           AND c.relname OPERATOR(pg_catalog.!~~) '%\_log'
           AND (c.relname OPERATOR(pg_catalog.!~~) 'bi\_%' OR c.relname OPERATOR(pg_catalog.=) 'bi_rollup_state')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
                              AND (a.attname OPERATOR(pg_catalog.=) 'owner'
                                   OR pg_catalog.col_description(c.oid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%'))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                            WHERE k.conrelid OPERATOR(pg_catalog.=) c.oid AND k.contype OPERATOR(pg_catalog.=) 'f'
                              AND k.confrelid IN (SELECT r.oid FROM pg_catalog.pg_class r
                                                   WHERE r.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
                                                     AND r.relrowsecurity))
    LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON %s TO cdp_sales', t);
    END LOOP;
END
$$;

-- Reference data everyone reads.
GRANT SELECT ON @extschema@.city_market, @extschema@.outreach_model TO cdp_sales;
-- the doors to the touch rollups (module rollup): views with their owner's
-- rights that show rows only to a reader who may see every row, read by the
-- BI views whoever reads those
GRANT SELECT ON @extschema@.bi_touch_figures, @extschema@.bi_last_touch, @extschema@.bi_account_sheet_figures,
      @extschema@.bi_contact_figures TO cdp_sales;
-- which contacts were erased (ids and counts only): can_contact and next_touch need it
GRANT SELECT ON @extschema@.erasure_log TO cdp_sales;

-- The lifecycle views read stage_history with the caller's rights, so a rep
-- sees the history row-level security lets them see.
ALTER VIEW @extschema@.time_in_stage SET (security_invoker = true);
ALTER VIEW @extschema@.stage_moves SET (security_invoker = true);
GRANT SELECT ON @extschema@.time_in_stage, @extschema@.stage_moves, @extschema@.consent_status,
                @extschema@.outreach_queue TO cdp_sales;

-- Erasure log and outreach models are kept by pg_dump.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.erasure_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.erasure_log_erasure_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.outreach_model', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bad_contact_point', '');

-- Functions, last so that every function of every module is covered: nothing
-- for PUBLIC; everything for the three roles, erasure for cdp_admin only.
-- Trigger functions need no EXECUTE privilege to fire.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ TO cdp_admin, cdp_sales, cdp_analyst;
REVOKE EXECUTE ON FUNCTION @extschema@.forget_contact(bigint) FROM cdp_sales, cdp_analyst;
-- A SECURITY DEFINER function acts with the extension owner's rights
-- (erasure, snapshot refreshes, guards): administrators only.  Triggers and
-- guards need no EXECUTE privilege to run.
DO $$
DECLARE
    f pg_catalog.regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.pronamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace AND p.prosecdef
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM cdp_sales, cdp_analyst', f);
    END LOOP;
END
$$;
