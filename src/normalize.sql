\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- normalize.sql: the ICU normalisation pipeline (src/normalize.c) as SQL.
--
-- These functions are IMMUTABLE in the sense PostgreSQL gives ICU collations:
-- their results depend on the ICU version the server runs with (see
-- cdp.build_info()), and an expression index built on them must be
-- reindexed after an ICU upgrade that changes the transliteration data.

CREATE FUNCTION @extschema@.normalize_text(t text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normalize_text(text) IS 'Text in the form cdp compares names in: NFKC, full-width to half-width, Traditional to Simplified Chinese, case folded (ICU transliterators)';

CREATE FUNCTION @extschema@.pinyin(t text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_pinyin'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pinyin(text) IS 'Toneless pinyin of the normalised text, one syllable per Han character, words separated by spaces (贵州茅台 -> gui zhou mao tai)';

CREATE FUNCTION @extschema@.pinyin_initials(t text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_pinyin_initials'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pinyin_initials(text) IS 'First letter of every pinyin syllable and of every other word, without spaces (广州 -> gz)';
