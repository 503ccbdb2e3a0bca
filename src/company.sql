\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- company.sql: company keys and similarity (src/company.c), the trigram
-- index on cdp.account, match_accounts, lead-to-account matching,
-- duplicates and merges.
--
-- The C functions declare COST 100 (ICU normalisation, a few microseconds a
-- call, a hundred times an operator): with the default cost of 1 the planner
-- would rather evaluate them over every row than probe the index.

CREATE FUNCTION @extschema@.company_key(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_company_key'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_key(text) IS 'Canonical company name: normalised (width, case, Traditional to Simplified), bracketed parts, punctuation and trailing legal forms (ISO 20275 ELF list) removed; NULL when nothing identifying is left';

CREATE FUNCTION @extschema@.company_key_similarity(a text, b text) RETURNS real
    AS 'MODULE_PATHNAME', 'cdp_company_key_similarity'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_key_similarity(text, text) IS 'cdp.company_similarity on two values already produced by cdp.company_key';

CREATE FUNCTION @extschema@.company_similarity(a text, b text) RETURNS real
    AS 'MODULE_PATHNAME', 'cdp_company_similarity'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_similarity(text, text) IS 'Similarity of two company names in [0, 1], symmetric: key bigrams, short name (简称) against full name, pinyin against Han';

-- STABLE, not IMMUTABLE: the answer depends on cdp.company_match_threshold
CREATE FUNCTION @extschema@.company_match(a text, b text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_company_match'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.company_match(text, text) IS 'true when cdp.company_similarity(a, b) reaches cdp.company_match_threshold';

-- STABLE: reads the GUC
CREATE FUNCTION @extschema@.company_match_threshold() RETURNS real
    AS 'MODULE_PATHNAME', 'cdp_company_threshold'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.company_match_threshold() IS 'Current value of cdp.company_match_threshold as a real';

CREATE FUNCTION @extschema@.company_search_key(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_company_search_key'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_search_key(text) IS 'Distinctive words of a company name for the trigram index on cdp.account: brand (字号) bigrams and pinyin, non-generic Latin words; region, industry and legal-form words left out';

CREATE FUNCTION @extschema@.company_pinyin_key(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_company_pinyin_key'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_pinyin_key(text) IS 'Toneless pinyin of the brand (字号) of a Han company name as one word (贵州茅台酒股份有限公司 -> maotai); NULL without Han; held by the second trigram index on cdp.account';

-- VOLATILE: it changes what other sessions see in pg_stat_activity
CREATE FUNCTION @extschema@.report_progress(message text) RETURNS void
    AS 'MODULE_PATHNAME', 'cdp_report_progress'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.report_progress(text) IS 'Shows message as this backend''s pg_stat_activity.query (progress of a long cdp operation, readable by any session at once); NULL restores the statement text';

-- Install-time helper: pg_trgm may live in any schema (PostgreSQL 15 has no
-- @extschema:name@), so the statements that name its operators and operator
-- class are written with TRGM_SCHEMA and run through this function, which
-- substitutes pg_trgm's schema once.  Dropped at the end of this script.
CREATE FUNCTION @extschema@.install_with_trgm(body text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE pg_catalog.replace(body, 'TRGM_SCHEMA',
        (SELECT pg_catalog.quote_ident(e.extnamespace::pg_catalog.regnamespace::pg_catalog.text)
           FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_trgm'));
END
$$;

-- The index match_accounts and find_duplicate_accounts probe.  It holds the
-- search key, not the name: region, industry and legal-form words would make
-- every probe visit a large part of the table.  fastupdate is off: with a
-- pending list every probe reads all recently inserted entries one by one
-- (2 ms after a bulk load of 20,000 accounts), and a lookup per incoming
-- lead matters more than bulk-load speed.
SELECT @extschema@.install_with_trgm($sql$
CREATE INDEX account_name_search_idx ON @extschema@.account
    USING gin (@extschema@.company_search_key(name) TRGM_SCHEMA.gin_trgm_ops)
    WITH (fastupdate = off);
CREATE INDEX account_name_pinyin_idx ON @extschema@.account
    USING gin (@extschema@.company_pinyin_key(name) TRGM_SCHEMA.gin_trgm_ops)
    WITH (fastupdate = off)
$sql$);

-- ---------------------------------------------------------------------------
-- match_accounts
-- ---------------------------------------------------------------------------

-- The domain part of a web address or e-mail address, lower case, without
-- scheme, "www.", port and path; NULL for free mail providers, which say
-- nothing about the company.
CREATE FUNCTION @extschema@.email_domain(address text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN d.d OPERATOR(pg_catalog.=) '' OR d.d OPERATOR(pg_catalog.=) ANY (ARRAY[
               'gmail.com', 'googlemail.com', 'hotmail.com', 'outlook.com', 'live.com',
               'yahoo.com', 'icloud.com', 'me.com', 'aol.com', 'qq.com', 'foxmail.com',
               '163.com', '126.com', 'yeah.net', 'sina.com', 'sina.cn', 'sohu.com',
               '139.com', 'aliyun.com', 'tom.com', '21cn.com'])
           THEN NULL ELSE d.d END
      FROM (SELECT pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
                   pg_catalog.lower(pg_catalog.btrim(address)),
                   '^([a-z][a-z0-9+.-]*://)?([^@/]*@)?(www\.)?', ''),
                   '[:/?#].*$', ''), '\.$', '') AS d) d;
END;
COMMENT ON FUNCTION @extschema@.email_domain(text) IS 'Company domain of an e-mail or web address (lower case, no scheme, www., port or path); NULL for free mail providers such as qq.com, 163.com and gmail.com';

-- Accounts by company domain (cdp.email_domain: lower case, no scheme, www.
-- or path; free mail left out), then account_id: what match_accounts probes,
-- what find_duplicate_accounts pairs on, and, index-only (domain INCLUDEd),
-- how metrics_recognize finds the accounts sharing an older one's domain in
-- order without calling email_domain.
CREATE INDEX account_email_domain_idx ON @extschema@.account (@extschema@.email_domain(domain), account_id)
    INCLUDE (domain) WHERE @extschema@.email_domain(domain) IS NOT NULL;

SELECT @extschema@.install_with_trgm($fn$
CREATE FUNCTION @extschema@.match_accounts(name text, domain text DEFAULT NULL, k integer DEFAULT 5)
RETURNS TABLE (account_id bigint, account_name text, score real, matched_by text)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
SET pg_trgm.similarity_threshold = 0.4
SET pg_trgm.word_similarity_threshold = 0.6
AS $body$
-- STABLE: reads cdp.account.  PARALLEL RESTRICTED: its SET clauses cannot
-- be applied in a parallel worker.  The name probe is "search key % query search
-- key" (similar as a whole, threshold 0.4) or "query search key <% search
-- key" (the query is a word of the account's key, 0.6: 百度 in 百度网讯) on
-- account_name_search_idx (GIN, pg_trgm), the same on the English name
-- (account_name_en_search_idx), and for a name without Han also "pinyin
-- key % the name's words" on account_name_pinyin_idx; every candidate is
-- then scored with company_similarity on the keys, against its registered
-- name and its English name, the better of the two.
DECLARE
    d text := @extschema@.email_domain(domain);
    qkey text;
    qsearch text;
    qpinyin text;
BEGIN
    IF k IS NULL OR k < 1 OR k > 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, not %', coalesce(k::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF name IS NOT NULL THEN
        qkey := @extschema@.company_key(name);
        qsearch := @extschema@.company_search_key(name);
        -- a name without Han may be pinyin: probe the pinyin index too
        IF qsearch IS NOT NULL AND @extschema@.company_pinyin_key(name) IS NULL THEN
            qpinyin := pg_catalog.replace(qsearch, ' ', '');
        END IF;
    END IF;
    IF qkey IS NULL AND d IS NULL THEN
        IF name IS NULL AND domain IS NULL THEN
            RAISE EXCEPTION 'match_accounts needs a name or a domain'
                USING ERRCODE = '22004';
        END IF;
        RETURN;             -- nothing identifying: no candidates, not an error
    END IF;
    RETURN QUERY
    SELECT c.account_id, c.name, max(c.score)::real,
           string_agg(DISTINCT c.how, '+' ORDER BY c.how)
      FROM (SELECT a.account_id, a.name, 1.0::real AS score, 'domain'::text AS how
              FROM @extschema@.account a
             WHERE d IS NOT NULL
               AND @extschema@.email_domain(a.domain) OPERATOR(pg_catalog.=) d
            UNION ALL
            SELECT m.account_id, m.name,
                   greatest(@extschema@.company_key_similarity(qkey, m.akey),
                                       @extschema@.company_key_similarity(qkey, m.ekey)),
                   CASE WHEN m.akey OPERATOR(pg_catalog.=) qkey OR m.ekey OPERATOR(pg_catalog.=) qkey
                        THEN 'key' ELSE 'name' END
              FROM (SELECT a.account_id, a.name, @extschema@.company_key(a.name) AS akey,
                           @extschema@.company_key(@extschema@.keyable_name(a.name_en)) AS ekey
                      FROM @extschema@.account a
                     WHERE qsearch IS NOT NULL
                       AND (@extschema@.company_search_key(a.name) OPERATOR(TRGM_SCHEMA.%) qsearch
                            OR qsearch OPERATOR(TRGM_SCHEMA.<%) @extschema@.company_search_key(a.name))
                    UNION
                    SELECT a.account_id, a.name, @extschema@.company_key(a.name),
                           @extschema@.company_key(@extschema@.keyable_name(a.name_en))
                      FROM @extschema@.account a
                     WHERE qsearch IS NOT NULL
                       AND (@extschema@.company_search_key(@extschema@.keyable_name(a.name_en)) OPERATOR(TRGM_SCHEMA.%) qsearch
                            OR qsearch OPERATOR(TRGM_SCHEMA.<%) @extschema@.company_search_key(@extschema@.keyable_name(a.name_en)))
                    UNION
                    SELECT a.account_id, a.name, @extschema@.company_key(a.name),
                           @extschema@.company_key(@extschema@.keyable_name(a.name_en))
                      FROM @extschema@.account a
                     WHERE qpinyin IS NOT NULL
                       AND @extschema@.company_pinyin_key(a.name) OPERATOR(TRGM_SCHEMA.%) qpinyin) m) c
     GROUP BY c.account_id, c.name
     ORDER BY 3 DESC, 1
     LIMIT k;
END;
$body$;
$fn$);
COMMENT ON FUNCTION @extschema@.match_accounts(text, text, integer) IS 'Accounts that may be the company named, by registered or English name (and with the web or e-mail domain given), best first: score in [0, 1], matched_by domain, key (same canonical name) or name (similar name), joined with + when several apply; index-backed, never a scan of all accounts';

-- ---------------------------------------------------------------------------
-- Lead-to-account matching
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.lead_match (
    lead_id bigint PRIMARY KEY
        REFERENCES @extschema@.lead ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    status text NOT NULL CHECK (status IN ('matched', 'review', 'unmatched')),
    account_id bigint REFERENCES @extschema@.account,
    score real CHECK (score BETWEEN 0 AND 1),
    matched_by text,
    runner_up_id bigint REFERENCES @extschema@.account,
    runner_up_score real CHECK (runner_up_score BETWEEN 0 AND 1),
    threshold real NOT NULL,
    matched_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.lead_match IS 'Outcome of matching each lead to an account (线索归属): matched leads got account_id, review leads wait for a person (see cdp.lead_match_review)';
COMMENT ON COLUMN @extschema@.lead_match.lead_id IS 'Lead that was matched';
COMMENT ON COLUMN @extschema@.lead_match.status IS 'matched (account_id set on the lead), review (uncertain: below the threshold but close, or two accounts too close to call) or unmatched';
COMMENT ON COLUMN @extschema@.lead_match.account_id IS 'Best candidate account';
COMMENT ON COLUMN @extschema@.lead_match.score IS 'Score of the best candidate, in [0, 1]';
COMMENT ON COLUMN @extschema@.lead_match.matched_by IS 'How the best candidate was found: domain, key, name, joined with +';
COMMENT ON COLUMN @extschema@.lead_match.runner_up_id IS 'Second-best candidate account, if any';
COMMENT ON COLUMN @extschema@.lead_match.runner_up_score IS 'Score of the second-best candidate';
COMMENT ON COLUMN @extschema@.lead_match.threshold IS 'cdp.company_match_threshold in force when the lead was matched';
COMMENT ON COLUMN @extschema@.lead_match.matched_at IS 'When the lead was last matched';
CREATE INDEX lead_match_account_idx ON @extschema@.lead_match (account_id);
CREATE INDEX lead_match_runner_up_idx ON @extschema@.lead_match (runner_up_id);
CREATE INDEX lead_match_review_idx ON @extschema@.lead_match (matched_at) WHERE status = 'review';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.lead_match', '');

CREATE FUNCTION @extschema@.company_key_too_long(name text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(pg_catalog.octet_length(name) > 1024, false);
END;
COMMENT ON FUNCTION @extschema@.company_key_too_long(text) IS 'true when a name is longer than cdp.company_key accepts (1024 bytes)';

-- The name itself, or NULL when company_key cannot take it: what the English
-- name index and match_accounts key, so that an over-long English name is
-- left out of matching instead of refusing the row.  A one-expression SQL
-- function, inlined by the planner, so the index and the queries that probe
-- it see the same expression.
CREATE FUNCTION @extschema@.keyable_name(name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN @extschema@.company_key_too_long(name) THEN NULL ELSE name END;
COMMENT ON FUNCTION @extschema@.keyable_name(text) IS 'The name, or NULL when it is longer than cdp.company_key accepts (1024 bytes): the English names that cdp.match_accounts and account_name_en_search_idx key';

-- The English name (name_en) is indexed the same way, when company_key
-- accepts it: an over-long English name is left out of matching instead of
-- refusing the row (0.1 accepted any length).
SELECT @extschema@.install_with_trgm($sql$
CREATE INDEX account_name_en_search_idx ON @extschema@.account
    USING gin (@extschema@.company_search_key(@extschema@.keyable_name(name_en)) TRGM_SCHEMA.gin_trgm_ops)
    WITH (fastupdate = off)
$sql$);

CREATE FUNCTION @extschema@.lead_match_payload(lead_id bigint, account_id bigint, owner name, score real, matched_by text)
RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.json_build_object('lead_id', lead_id, 'account_id', account_id,
                                        'owner', owner, 'score', score, 'matched_by', matched_by)::text;
END;
COMMENT ON FUNCTION @extschema@.lead_match_payload(bigint, bigint, name, real, text) IS 'JSON payload of the cdp_lead_matched notification: {"lead_id", "account_id", "owner", "score", "matched_by"}';

CREATE FUNCTION @extschema@.lead_match_trigger() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
-- BEFORE INSERT OR UPDATE OF company_name, email on cdp.lead.  A lead whose
-- account_id the writer set is left alone; on UPDATE, account_id is only
-- replaced when the matcher itself had set it.
DECLARE
    threshold real := @extschema@.company_match_threshold();
    r record;
    best_id bigint;
    best_score real;
    best_by text;
    second_id bigint;
    second_score real;
    second_by text;
    qname text;
    qdomain text;
    present bigint[];
    status text;
    prev_status text;
    prev_account bigint;
    owner_name name;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.company_name IS NOT DISTINCT FROM OLD.company_name
           AND NEW.email IS NOT DISTINCT FROM OLD.email THEN
            RETURN NEW;
        END IF;
        IF NEW.account_id IS DISTINCT FROM OLD.account_id THEN
            RETURN NEW;             -- the writer chose the account
        END IF;
        SELECT m.status, m.account_id INTO prev_status, prev_account
          FROM @extschema@.lead_match m WHERE m.lead_id OPERATOR(pg_catalog.=) NEW.lead_id;
        IF NEW.account_id IS NOT NULL
           AND NOT (prev_status IS NOT DISTINCT FROM 'matched'
                    AND prev_account IS NOT DISTINCT FROM NEW.account_id) THEN
            RETURN NEW;             -- set by someone else earlier
        END IF;
        NEW.account_id := NULL;     -- the matcher's earlier choice is void
    ELSIF NEW.account_id IS NOT NULL THEN
        RETURN NEW;
    END IF;

    -- A name longer than company_key accepts is matched by its e-mail
    -- domain only; the lead is stored either way.
    IF NOT @extschema@.company_key_too_long(NEW.company_name) THEN
        qname := NEW.company_name;
    END IF;
    qdomain := @extschema@.email_domain(NEW.email);

    -- The candidates are locked against a concurrent merge or delete
    -- before they are recorded (cdp.lead_match and the lead reference
    -- them).  One that is gone by then (merged away since the search began)
    -- means the search is repeated: its rows now belong to the survivor.
    FOR attempt IN 1..3 LOOP
        best_id := NULL; best_score := NULL; best_by := NULL;
        second_id := NULL; second_score := NULL; second_by := NULL;
        IF qname IS NOT NULL OR qdomain IS NOT NULL THEN
            FOR r IN SELECT * FROM @extschema@.match_accounts(qname, qdomain, 2)
            LOOP
                IF best_id IS NULL THEN
                    best_id := r.account_id; best_score := r.score; best_by := r.matched_by;
                ELSE
                    second_id := r.account_id; second_score := r.score; second_by := r.matched_by;
                END IF;
            END LOOP;
        END IF;
        SELECT pg_catalog.array_agg(a.account_id) INTO present
          FROM (SELECT a.account_id FROM @extschema@.account a
                 WHERE a.account_id OPERATOR(pg_catalog.=) ANY (ARRAY[best_id, second_id])
                 ORDER BY a.account_id FOR KEY SHARE) a;
        present := coalesce(present, '{}');
        EXIT WHEN (best_id IS NULL OR best_id OPERATOR(pg_catalog.=) ANY (present))
              AND (second_id IS NULL OR second_id OPERATOR(pg_catalog.=) ANY (present));
    END LOOP;
    -- still moving after three searches (merges in a row): keep what is
    -- there (locked), leave out what is not
    IF second_id IS NOT NULL AND NOT second_id OPERATOR(pg_catalog.=) ANY (present) THEN
        second_id := NULL; second_score := NULL; second_by := NULL;
    END IF;
    IF best_id IS NOT NULL AND NOT best_id OPERATOR(pg_catalog.=) ANY (present) THEN
        best_id := second_id; best_score := second_score; best_by := second_by;
        second_id := NULL; second_score := NULL; second_by := NULL;
    END IF;

    -- confident: at or above the threshold and clearly ahead of the
    -- runner-up, or found by the e-mail domain while the runner-up was not
    -- (however well its name scores: 金盛 at jinsheng-textile.com.cn is the
    -- account with that domain, not another 金盛)
    IF best_id IS NULL THEN
        status := 'unmatched';
    ELSIF best_score >= threshold
          AND (second_id IS NULL OR second_score < best_score - 0.05
               OR (best_by LIKE 'domain%' AND second_by NOT LIKE 'domain%')) THEN
        status := 'matched';
    ELSIF best_score >= threshold - 0.15 THEN
        status := 'review';
    ELSE
        status := 'unmatched';
    END IF;

    INSERT INTO @extschema@.lead_match AS m (lead_id, status, account_id, score, matched_by,
                                             runner_up_id, runner_up_score, threshold)
    VALUES (NEW.lead_id, status, best_id, best_score, best_by, second_id, second_score, threshold)
    ON CONFLICT (lead_id) DO UPDATE
       SET status = EXCLUDED.status, account_id = EXCLUDED.account_id,
           score = EXCLUDED.score, matched_by = EXCLUDED.matched_by,
           runner_up_id = EXCLUDED.runner_up_id, runner_up_score = EXCLUDED.runner_up_score,
           threshold = EXCLUDED.threshold, matched_at = pg_catalog.now();

    IF status OPERATOR(pg_catalog.=) 'matched' THEN
        NEW.account_id := best_id;
        SELECT a.owner INTO owner_name
          FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) best_id;
        IF owner_name IS NOT NULL THEN
            PERFORM pg_catalog.pg_notify('cdp_lead_matched',
                @extschema@.lead_match_payload(NEW.lead_id, best_id, owner_name, best_score, best_by));
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION @extschema@.lead_match_trigger() IS 'Trigger on cdp.lead: matches a new lead, or one whose company_name or email changed, to an account (domain first, then name); confident matches set account_id and notify the account owner on channel cdp_lead_matched';

CREATE TRIGGER lead_match BEFORE INSERT OR UPDATE OF company_name, email ON @extschema@.lead
    FOR EACH ROW EXECUTE FUNCTION @extschema@.lead_match_trigger();

CREATE VIEW @extschema@.lead_match_review AS
SELECT m.lead_id, l.company_name, l.email, m.account_id, a.name AS account_name, m.score,
       m.matched_by, m.runner_up_id, r.name AS runner_up_name, m.runner_up_score,
       CASE WHEN m.score >= m.threshold THEN 'ambiguous' ELSE 'below threshold' END AS reason,
       m.matched_at
  FROM @extschema@.lead_match m
  JOIN @extschema@.lead l ON l.lead_id = m.lead_id
  LEFT JOIN @extschema@.account a ON a.account_id = m.account_id
  LEFT JOIN @extschema@.account r ON r.account_id = m.runner_up_id
 WHERE m.status = 'review' AND l.account_id IS NULL;
COMMENT ON VIEW @extschema@.lead_match_review IS 'Leads whose account match is uncertain (待人工确认的线索归属): set cdp.lead.account_id to settle one';
COMMENT ON COLUMN @extschema@.lead_match_review.lead_id IS 'Lead to review';
COMMENT ON COLUMN @extschema@.lead_match_review.company_name IS 'Company name as the lead wrote it';
COMMENT ON COLUMN @extschema@.lead_match_review.email IS 'E-mail of the lead';
COMMENT ON COLUMN @extschema@.lead_match_review.account_id IS 'Best candidate account';
COMMENT ON COLUMN @extschema@.lead_match_review.account_name IS 'Name of the best candidate';
COMMENT ON COLUMN @extschema@.lead_match_review.score IS 'Score of the best candidate';
COMMENT ON COLUMN @extschema@.lead_match_review.matched_by IS 'How the best candidate was found';
COMMENT ON COLUMN @extschema@.lead_match_review.runner_up_id IS 'Second-best candidate account';
COMMENT ON COLUMN @extschema@.lead_match_review.runner_up_name IS 'Name of the second-best candidate';
COMMENT ON COLUMN @extschema@.lead_match_review.runner_up_score IS 'Score of the second-best candidate';
COMMENT ON COLUMN @extschema@.lead_match_review.reason IS 'ambiguous (two candidates too close) or below threshold';
COMMENT ON COLUMN @extschema@.lead_match_review.matched_at IS 'When the lead was matched';

-- ---------------------------------------------------------------------------
-- Duplicates and merges
-- ---------------------------------------------------------------------------

-- IMMUTABLE: compares two company keys (one similarity computed per call).
-- company_key_similarity reads a key without Han as pinyin or English, and
-- so loses what tells homophone brands (华星 and 华兴 are both huaxing) and
-- industries (Restaurant Chain is no brand) apart: across scripts, and for
-- an English name (english_name), different companies score 0.75 to 0.89
-- (demo data: every such pair at 0.9 or more was the same company).  Such a
-- comparison counts from 0.9 only.
CREATE FUNCTION @extschema@.dup_score(key1 text, key2 text, english_name boolean)
RETURNS real
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s real;
BEGIN
    -- company_key makes keys of at most 1024 bytes; longer ones are not keys
    -- (and company_key_similarity takes time quadratic in their length)
    IF octet_length(key1) > 1024 OR octet_length(key2) > 1024 THEN
        RAISE EXCEPTION 'company key is too long'
            USING ERRCODE = '54000',
                  DETAIL = pg_catalog.format('The keys have %s and %s bytes, the limit is 1024.',
                                             octet_length(key1), octet_length(key2)),
                  HINT = 'Pass keys made by cdp.company_key.';
    END IF;
    s := @extschema@.company_key_similarity(key1, key2);
    IF s IS NULL THEN
        RETURN 0;
    ELSIF (NOT english_name AND (key1 ~ '[㐀-䶿一-鿿]') = (key2 ~ '[㐀-䶿一-鿿]')) OR s >= 0.9 THEN
        RETURN s;
    END IF;
    RETURN 0;
END
$$;
COMMENT ON FUNCTION @extschema@.dup_score(text, text, boolean) IS 'Score of two company keys for cdp.find_duplicate_accounts: cdp.company_key_similarity, except that a key with Han against one without, or any comparison with an English name (english_name true), counts only from 0.9 (homophone brands and English industry words score high there for different companies); 0 below that';

SELECT @extschema@.install_with_trgm($fn$
CREATE FUNCTION @extschema@.find_duplicate_accounts(threshold real DEFAULT NULL)
RETURNS TABLE (cluster_id bigint, account_id bigint, account_name text, score real)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pg_trgm.similarity_threshold = 0.4
SET pg_trgm.word_similarity_threshold = 0.6
SET jit = off
AS $body$
-- VOLATILE, PARALLEL UNSAFE: writes temporary tables and reports progress
-- (cdp.report_progress).  jit off: each batch is planned afresh, the
-- planner expects thousands of candidate pairs where there are a few, and
-- compiling the plan took longer than running it (about 0.4 s a batch).
-- Blocking: every account
-- probes account_name_search_idx for the accounts sharing its distinctive
-- trigrams, account_name_en_search_idx for English names like its name, and,
-- when its name has no Han, account_name_pinyin_idx for Han names that read
-- like it; accounts with the same company domain are paired.  Only those
-- pairs are scored, as match_accounts scores (name against name or English
-- name).  Work grows with the number of accounts, not its square.
-- Pairs at or above the threshold are joined into clusters (connected
-- components); cluster_id is the smallest account_id of the cluster, score
-- the best score of the account with another member.
DECLARE
    th real := coalesce(threshold, @extschema@.company_match_threshold());
    total bigint;
    done bigint := 0;
    lo bigint := -9223372036854775808;
    hi bigint;
    n bigint;
    changed boolean := true;
BEGIN
    IF th < 0 OR th > 1 OR th = 'NaN'::real THEN
        RAISE EXCEPTION 'threshold must be between 0 and 1, not %', th USING ERRCODE = '22023';
    END IF;
    SELECT count(*) INTO total FROM @extschema@.account;
    CREATE TEMP TABLE IF NOT EXISTS cdp_dup_pair (a bigint, b bigint, score real) ON COMMIT DROP;
    TRUNCATE cdp_dup_pair;
    -- batches of 1000 accounts, set-based, with progress between batches
    LOOP
        SELECT max(x.account_id), count(*) INTO hi, n
          FROM (SELECT a.account_id FROM @extschema@.account a
                 WHERE a.account_id > lo ORDER BY a.account_id LIMIT 1000) x;
        EXIT WHEN hi IS NULL;
        -- EXECUTE: planned for these bounds every time; a cached generic
        -- plan may pick a join that compares the batch with every account
        EXECUTE $q$
        INSERT INTO cdp_dup_pair
        SELECT c.a, c.b, c.score
          FROM (-- name against name and against the other's English name, as
                -- match_accounts scores; across scripts and with an English
                -- name from 0.9 only (cdp.dup_score).  A pair two probes find
                -- is recorded twice, which the clustering does not mind.
                SELECT least(k.a, k.b) AS a, greatest(k.a, k.b) AS b,
                       greatest(@extschema@.dup_score(k.ka, k.kb, false), @extschema@.dup_score(k.ka, k.ekb, true),
                                @extschema@.dup_score(k.eka, k.kb, true)) AS score
                  FROM (SELECT x.a, x.b, @extschema@.company_key(x.an) AS ka, @extschema@.company_key(x.bn) AS kb,
                               @extschema@.company_key(@extschema@.keyable_name(x.aen)) AS eka,
                               @extschema@.company_key(@extschema@.keyable_name(x.ben)) AS ekb
                          FROM (-- similar registered names
                                SELECT a.account_id AS a, b.account_id AS b, a.name AS an, b.name AS bn, a.name_en AS aen, b.name_en AS ben
                                  FROM @extschema@.account a
                                  JOIN @extschema@.account b
                                    ON (@extschema@.company_search_key(b.name) OPERATOR(TRGM_SCHEMA.%)
                                        @extschema@.company_search_key(a.name)
                                        OR @extschema@.company_search_key(a.name) OPERATOR(TRGM_SCHEMA.<%)
                                           @extschema@.company_search_key(b.name))
                                   AND b.account_id OPERATOR(pg_catalog.+) 0 > a.account_id  -- not an index condition
                                 WHERE a.account_id > $1 AND a.account_id <= $2
                                UNION ALL
                                -- a registered name like another account's English
                                -- name (either may be the older)
                                SELECT a.account_id AS a, b.account_id AS b, a.name AS an, b.name AS bn, a.name_en AS aen, b.name_en AS ben
                                  FROM @extschema@.account a
                                  JOIN @extschema@.account b
                                    ON (@extschema@.company_search_key(@extschema@.keyable_name(b.name_en)) OPERATOR(TRGM_SCHEMA.%)
                                        @extschema@.company_search_key(a.name)
                                        OR @extschema@.company_search_key(a.name) OPERATOR(TRGM_SCHEMA.<%)
                                           @extschema@.company_search_key(@extschema@.keyable_name(b.name_en)))
                                   AND b.account_id OPERATOR(pg_catalog.+) 0 <> a.account_id
                                 WHERE a.account_id > $1 AND a.account_id <= $2
                                UNION ALL
                                -- a name without Han, read as pinyin, against the
                                -- pinyin of Han names (huaxing keji, 广州华星科技有限公司)
                                SELECT a.account_id AS a, b.account_id AS b, a.name AS an, b.name AS bn, a.name_en AS aen, b.name_en AS ben
                                  FROM @extschema@.account a
                                  JOIN @extschema@.account b
                                    ON @extschema@.company_pinyin_key(b.name) OPERATOR(TRGM_SCHEMA.%)
                                       pg_catalog.replace(@extschema@.company_search_key(a.name), ' ', '')
                                   AND b.account_id OPERATOR(pg_catalog.+) 0 <> a.account_id
                                 WHERE a.account_id > $1 AND a.account_id <= $2
                                   AND a.name OPERATOR(pg_catalog.!~) '[㐀-䶿一-鿿]') x) k) c
         WHERE c.score >= $3$q$ USING lo, hi, th;
        done := done + n;
        lo := hi;
        PERFORM @extschema@.report_progress(pg_catalog.format(
            'cdp.find_duplicate_accounts: %s of %s accounts compared', done, total));
    END LOOP;
    -- the same company domain (cdp.email_domain: scheme, www. and path aside),
    -- free mail never: two qq.com accounts are not one company
    INSERT INTO cdp_dup_pair
    SELECT a.account_id, b.account_id, 1.0
      FROM @extschema@.account a
      JOIN @extschema@.account b
        ON @extschema@.email_domain(b.domain) = @extschema@.email_domain(a.domain)
       AND b.account_id > a.account_id
     WHERE @extschema@.email_domain(a.domain) IS NOT NULL;

    -- connected components by label propagation over the pairs
    CREATE TEMP TABLE IF NOT EXISTS cdp_dup_label (id bigint PRIMARY KEY, label bigint) ON COMMIT DROP;
    TRUNCATE cdp_dup_label;
    INSERT INTO cdp_dup_label SELECT x, x FROM (SELECT a AS x FROM cdp_dup_pair UNION SELECT b FROM cdp_dup_pair) v;
    WHILE changed LOOP
        WITH m AS (
            SELECT p.a AS id, min(l2.label) AS label
              FROM cdp_dup_pair p JOIN cdp_dup_label l2 ON l2.id = p.b GROUP BY p.a
            UNION ALL
            SELECT p.b, min(l1.label)
              FROM cdp_dup_pair p JOIN cdp_dup_label l1 ON l1.id = p.a GROUP BY p.b),
        u AS (UPDATE cdp_dup_label l SET label = m2.label
                FROM (SELECT m.id, min(m.label) AS label FROM m GROUP BY m.id) m2
               WHERE l.id = m2.id AND m2.label < l.label RETURNING 1)
        SELECT count(*) > 0 INTO changed FROM u;
    END LOOP;
    PERFORM @extschema@.report_progress(NULL);

    RETURN QUERY
    SELECT l.label, l.id, a.name,
           (SELECT max(p.score) FROM cdp_dup_pair p WHERE p.a = l.id OR p.b = l.id)
      FROM cdp_dup_label l
      JOIN @extschema@.account a ON a.account_id = l.id
     ORDER BY l.label, l.id;
END;
$body$;
$fn$);
COMMENT ON FUNCTION @extschema@.find_duplicate_accounts(real) IS 'Clusters of accounts that look like the same company (重复客户), found by index blocking (trigram indexes on the search key, the English name and the pinyin of Han names; equal company domains, never free mail), never by comparing all pairs; scored by cdp.dup_score; threshold defaults to cdp.company_match_threshold';

CREATE TABLE @extschema@.account_merge_log (
    merge_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survivor_id bigint NOT NULL,
    duplicate_id bigint NOT NULL,
    duplicate_row jsonb NOT NULL,
    repointed jsonb NOT NULL,
    set_aside jsonb NOT NULL DEFAULT '[]',
    history jsonb NOT NULL DEFAULT '[]',
    merged_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    merged_by name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE @extschema@.account_merge_log IS 'One row per account merge (客户合并记录): the merged (deleted) account row and what was re-pointed, so nothing is lost';
COMMENT ON COLUMN @extschema@.account_merge_log.merge_id IS 'Merge identifier';
COMMENT ON COLUMN @extschema@.account_merge_log.survivor_id IS 'Account that was kept';
COMMENT ON COLUMN @extschema@.account_merge_log.duplicate_id IS 'Account that was merged into the survivor and deleted';
COMMENT ON COLUMN @extschema@.account_merge_log.duplicate_row IS 'The deleted account row, as JSON';
COMMENT ON COLUMN @extschema@.account_merge_log.repointed IS 'Rows re-pointed per referencing column, {"table.column": count}, stage history included';
COMMENT ON COLUMN @extschema@.account_merge_log.set_aside IS 'Rows of the duplicate that a unique constraint kept from being re-pointed (the survivor already had one): {table, row} objects; they were deleted after being logged here';
COMMENT ON COLUMN @extschema@.account_merge_log.history IS 'The duplicate''s stage history rows before the merge, as JSON (their stays are re-keyed and clipped)';
COMMENT ON COLUMN @extschema@.account_merge_log.merged_at IS 'When the merge ran';
COMMENT ON COLUMN @extschema@.account_merge_log.merged_by IS 'Role that ran the merge';
CREATE INDEX account_merge_log_survivor_idx ON @extschema@.account_merge_log (survivor_id);
CREATE INDEX account_merge_log_duplicate_idx ON @extschema@.account_merge_log (duplicate_id);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_merge_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_merge_log_merge_id_seq', '');

CREATE FUNCTION @extschema@.merge_accounts(survivor bigint, duplicate bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
-- Re-points every row that references the duplicate to the survivor, in one
-- transaction, and deletes the duplicate after logging it.  The referencing
-- columns are read from the catalog (every single-column foreign key to
-- cdp.account, in any schema), so tables added later are covered.  Returns
-- the number of rows re-pointed.
DECLARE
    fk record;
    n bigint;
    total bigint := 0;
    counts jsonb := '{}';
    aside jsonb := '[]';
    hist jsonb;
    dup_row jsonb;
    surv_parent bigint;
    dup_parent bigint;
    step int := 0;
    steps int;
    r record;
    open_start timestamptz;
    acct regclass := '@extschema@.account'::regclass;
    surv_owner name;
BEGIN
    IF survivor IS NULL OR duplicate IS NULL THEN
        RAISE EXCEPTION 'merge_accounts needs a survivor and a duplicate' USING ERRCODE = '22004';
    END IF;
    IF survivor = duplicate THEN
        RAISE EXCEPTION 'cannot merge account % into itself', survivor USING ERRCODE = '22023';
    END IF;
    -- lock both rows, in key order so that concurrent merges cannot deadlock
    PERFORM 1 FROM @extschema@.account a
      WHERE a.account_id IN (survivor, duplicate) ORDER BY a.account_id FOR UPDATE;
    SELECT to_jsonb(a.*), a.parent_account_id INTO dup_row, dup_parent
      FROM @extschema@.account a WHERE a.account_id = duplicate;
    IF dup_row IS NULL THEN
        RAISE EXCEPTION 'account % does not exist', duplicate USING ERRCODE = 'P0002';
    END IF;
    SELECT a.parent_account_id INTO surv_parent FROM @extschema@.account a WHERE a.account_id = survivor;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', survivor USING ERRCODE = 'P0002';
    END IF;

    SELECT count(*) INTO steps FROM pg_constraint c
     WHERE c.contype = 'f' AND c.confrelid = acct AND array_length(c.conkey, 1) = 1
       AND c.conparentid = 0;

    FOR fk IN
        SELECT c.conrelid::regclass AS tbl, a.attname AS col
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND c.confrelid = acct AND array_length(c.conkey, 1) = 1
           AND c.conparentid = 0       -- a partitioned table's, not each partition's
         ORDER BY c.conrelid::regclass::text, a.attname
    LOOP
        step := step + 1;
        PERFORM @extschema@.report_progress(format(
            'cdp.merge_accounts(%s, %s): step %s of %s, %s.%s', survivor, duplicate,
            step, steps + 1, fk.tbl, fk.col));
        IF fk.tbl = acct AND fk.col = 'parent_account_id' THEN
            -- children of the duplicate become children of the survivor; a
            -- survivor that was the duplicate's child takes its parent
            EXECUTE format('UPDATE %s SET %I = $1 WHERE %I = $2 AND account_id <> $1',
                           fk.tbl, fk.col, fk.col) USING survivor, duplicate;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF surv_parent = duplicate THEN
                UPDATE @extschema@.account a
                   SET parent_account_id = CASE WHEN dup_parent = survivor THEN NULL ELSE dup_parent END
                 WHERE a.account_id = survivor;
                n := n + 1;
            END IF;
        ELSE
            BEGIN
                EXECUTE format('UPDATE %s SET %I = $1 WHERE %I = $2', fk.tbl, fk.col, fk.col)
                  USING survivor, duplicate;
                GET DIAGNOSTICS n = ROW_COUNT;
            EXCEPTION WHEN unique_violation THEN
                -- the survivor already has the row a unique key allows once:
                -- re-point row by row, and log then delete the ones that clash
                n := 0;
                FOR r IN EXECUTE format('SELECT ctid AS tid, to_jsonb(t.*) AS j FROM %s t WHERE %I = $1',
                                        fk.tbl, fk.col) USING duplicate
                LOOP
                    BEGIN
                        EXECUTE format('UPDATE %s SET %I = $1 WHERE ctid = $2', fk.tbl, fk.col)
                          USING survivor, r.tid;
                        n := n + 1;
                    EXCEPTION WHEN unique_violation THEN
                        aside := aside || jsonb_build_object('table', fk.tbl::text, 'column', fk.col::text, 'row', r.j);
                        EXECUTE format('DELETE FROM %s WHERE ctid = $1', fk.tbl) USING r.tid;
                    END;
                END LOOP;
            END;
        END IF;
        IF n > 0 THEN
            counts := counts || jsonb_build_object(fk.tbl::text || '.' || fk.col, n);
            total := total + n;
        END IF;
    END LOOP;

    -- Stage history is keyed by (entity, entity_key), not by a foreign key.
    -- The survivor's stays stand.  The lifecycle trigger finds an entity's
    -- open stay as its latest one, so no stay may begin at or after the
    -- start of the survivor's open stay: the duplicate's stays that do are
    -- not carried over (they are in the merge log's history).  Each other
    -- stay of the duplicate is re-keyed to the survivor and clipped so that
    -- no two stays overlap and only the survivor's stay stays open: it ends
    -- where the survivor's next stay begins (or now, if it was open), and a
    -- stay that began inside one of the survivor's stays becomes a
    -- zero-length stay at its start.
    PERFORM @extschema@.report_progress(format(
        'cdp.merge_accounts(%s, %s): step %s of %s, stage history', survivor, duplicate,
        steps + 1, steps + 1));
    IF to_regclass('@extschema@.stage_history') IS NOT NULL THEN
        SELECT coalesce(jsonb_agg(to_jsonb(h.*) ORDER BY h.entered_at, h.history_id), '[]')
          INTO hist
          FROM @extschema@.stage_history h
         WHERE h.entity = acct AND h.entity_key = duplicate::text;
        SELECT h.entered_at INTO open_start FROM @extschema@.stage_history h
         WHERE h.entity = acct AND h.entity_key = survivor::text AND h.exited_at IS NULL;
        IF open_start IS NOT NULL THEN
            DELETE FROM @extschema@.stage_history h
             WHERE h.entity = acct AND h.entity_key = duplicate::text AND h.entered_at >= open_start;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                counts := counts || jsonb_build_object('@extschema@.stage_history (not carried over)', n);
            END IF;
        END IF;
        WITH s AS (
            SELECT h.entered_at, h.exited_at FROM @extschema@.stage_history h
             WHERE h.entity = acct AND h.entity_key = survivor::text),
        d AS (
            SELECT h.history_id, h.entered_at,
                   CASE WHEN EXISTS (SELECT 1 FROM s
                                      WHERE s.entered_at <= h.entered_at
                                        AND (s.exited_at IS NULL OR s.exited_at > h.entered_at))
                        THEN h.entered_at
                        ELSE least(coalesce(h.exited_at, greatest(now(), h.entered_at)),
                                   coalesce((SELECT min(s.entered_at) FROM s
                                              WHERE s.entered_at > h.entered_at), 'infinity'))
                   END AS new_exit
              FROM @extschema@.stage_history h
             WHERE h.entity = acct AND h.entity_key = duplicate::text)
        UPDATE @extschema@.stage_history h
           SET entity_key = survivor::text, exited_at = d.new_exit
          FROM d
         WHERE h.history_id = d.history_id;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            counts := counts || jsonb_build_object('@extschema@.stage_history.entity_key', n);
            total := total + n;
        END IF;
    ELSE
        hist := '[]';
    END IF;

    -- A lead left in review between the two accounts (too close to call,
    -- each above the threshold) now has one candidate: it is matched to the
    -- survivor, as the matching trigger would match it, owner notified.
    SELECT a.owner INTO surv_owner FROM @extschema@.account a WHERE a.account_id = survivor;
    n := 0;
    FOR r IN
        UPDATE @extschema@.lead_match m
           SET status = 'matched', runner_up_id = NULL, runner_up_score = NULL, matched_at = now()
         WHERE m.status = 'review' AND m.account_id = survivor AND m.runner_up_id = survivor
           AND m.score >= m.threshold
        RETURNING m.lead_id, m.score, m.matched_by
    LOOP
        UPDATE @extschema@.lead l SET account_id = survivor WHERE l.lead_id = r.lead_id;
        IF surv_owner IS NOT NULL THEN
            PERFORM pg_catalog.pg_notify('cdp_lead_matched',
                        @extschema@.lead_match_payload(r.lead_id, survivor, surv_owner, r.score, r.matched_by));
        END IF;
        n := n + 1;
    END LOOP;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('@extschema@.lead_match (settled)', n);
    END IF;

    DELETE FROM @extschema@.account a WHERE a.account_id = duplicate;
    INSERT INTO @extschema@.account_merge_log (survivor_id, duplicate_id, duplicate_row, repointed, set_aside, history)
    VALUES (survivor, duplicate, dup_row, counts, aside, hist);
    PERFORM @extschema@.report_progress(NULL);
    RETURN total;
END;
$$;
COMMENT ON FUNCTION @extschema@.merge_accounts(bigint, bigint) IS 'Merges duplicate into survivor (合并客户) in one transaction: every row referencing the duplicate through a foreign key (found in the catalog, so later tables are covered) and its stage history are re-pointed, the duplicate row is logged in cdp.account_merge_log and deleted; returns the number of rows re-pointed; progress in pg_stat_activity.query';

DROP FUNCTION @extschema@.install_with_trgm(text);
