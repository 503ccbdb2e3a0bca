\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- company.sql: company keys and similarity (src/company.c), the trigram
-- index on cdp.account, match_accounts, lead-to-account matching,
-- duplicates and merges.

CREATE FUNCTION @extschema@.company_key(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_company_key'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.company_key(text) IS 'Canonical company name: normalised (width, case, Traditional to Simplified), bracketed parts, punctuation and trailing legal forms (ISO 20275 ELF list) removed; NULL when nothing identifying is left';

CREATE FUNCTION @extschema@.company_key_similarity(a text, b text) RETURNS real
    AS 'MODULE_PATHNAME', 'cdp_company_key_similarity'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.company_key_similarity(text, text) IS 'cdp.company_similarity on two values already produced by cdp.company_key';

CREATE FUNCTION @extschema@.company_similarity(a text, b text) RETURNS real
    AS 'MODULE_PATHNAME', 'cdp_company_similarity'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
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
