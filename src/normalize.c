/*-------------------------------------------------------------------------
 *
 * normalize.c
 *	  Text normalisation for matching, on ICU transliterators.
 *
 * Names arrive in every width, case and script variant: 貴州茅台, 贵州茅台,
 * "ＫＷＥＩＣＨＯＷ", "Kweichow".  Everything that compares names (company.c,
 * city.c) first passes them through one pipeline:
 *
 *	NFKC_Casefold (NFKC, which also maps full-width forms to half-width, plus
 *	case folding) -> Traditional-Simplified
 *
 * and, where Latin text must meet Han text, through Han-Latin + Latin-ASCII
 * (toneless pinyin, one syllable per Han character).  ICU carries all of
 * these tables; nothing here is a hand-written character table.
 *
 * Opening a transliterator parses its rules (Han-Latin takes tens of
 * milliseconds), so each one is opened once per backend, on first use, and
 * kept for the life of the process.  Running a rule-based transliterator
 * over a whole string also costs tens of microseconds, so the answers for
 * single Han characters are cached per backend as well (see Simplified and
 * PinyinOf): names are then normalised in a few microseconds.
 *
 * src/normalize.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>
#include <unicode/uscript.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <ctype.h>

#include "cdp.h"

/* the transliterators of this backend, opened on first use */
static UTransliterator *simp_trans = NULL;
static UTransliterator *pinyin_trans = NULL;

#define SIMP_TRANS_ID "Traditional-Simplified"
#define PINYIN_TRANS_ID "Han-Latin; Latin-ASCII"

/*
 * Open a transliterator by its ICU id, or fail with the ICU error: a server
 * whose ICU lacks the transliteration data cannot match names at all.
 */
static UTransliterator *
OpenTransliterator(const char *id)
{
	UChar		uid[128];
	UErrorCode	status = U_ZERO_ERROR;
	UParseError perr;
	UTransliterator *t;

	u_uastrcpy(uid, id);
	t = utrans_openU(uid, -1, UTRANS_FORWARD, NULL, 0, &perr, &status);
	if (U_FAILURE(status) || t == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not open ICU transliterator \"%s\": %s",
						id, u_errorName(status)),
				 errhint("Install the full ICU data (Debian package libicu72 or newer).")));
	return t;
}

/*
 * UTF-8 (server encoding, already validated) to a palloc'd UTF-16 buffer
 * with room for "room" times the input, so transliteration can grow it in
 * place.
 */
static UChar *
Utf8ToUChars(const char *s, int len, int room, int32 *ulen, int32 *capacity)
{
	UErrorCode	status = U_ZERO_ERROR;
	UChar	   *buf;
	int32		cap = (int32) len * room + 16;

	buf = palloc(sizeof(UChar) * cap);
	u_strFromUTF8(buf, cap, ulen, s, len, &status);
	if (U_FAILURE(status))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid UTF-8 in input: %s", u_errorName(status))));
	*capacity = cap;
	return buf;
}

/*
 * Run transliterator t over buf in place; buf has capacity UChars.
 */
static void
Transliterate(UTransliterator *t, UChar *buf, int32 *ulen, int32 capacity)
{
	UErrorCode	status = U_ZERO_ERROR;
	int32		limit = *ulen;

	utrans_transUChars(t, buf, ulen, capacity, 0, &limit, &status);
	if (U_FAILURE(status))
		elog(ERROR, "ICU transliteration failed: %s", u_errorName(status));
}

/*
 * Refuse inputs beyond the limit before doing any work proportional to them.
 */
static void
CheckLength(int len, int limit, const char *what)
{
	if (len > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s is too long", what),
				 errdetail("The input has %d bytes, the limit is %d.", len, limit)));
}

/*
 * Per-backend caches of ICU's answers for single Han characters of the
 * Basic Multilingual Plane: running a rule-based transliterator over every
 * name costs tens of microseconds, looking a character up costs nothing.
 * ICU's Traditional-Simplified and Han-Latin rules map character by
 * character, so asking once per character gives the same result.  An entry
 * is filled the first time the character is seen.
 */
#define HAN_CACHE_LO 0x3400
#define HAN_CACHE_HI 0xFFFF
#define HAN_CACHE_SIZE (HAN_CACHE_HI - HAN_CACHE_LO + 1)
#define PINYIN_MAX 8

static UChar *simplified_cache = NULL;	/* 0 = not asked yet */
static char (*pinyin_cache)[PINYIN_MAX] = NULL;	/* "" = not asked yet */

/*
 * The Simplified form of Han character c (itself when ICU has none).
 */
static UChar32
Simplified(UChar32 c)
{
	UChar		buf[16];
	int32		ulen = 0;
	UChar32		r;
	int32		i = 0;

	if (c >= HAN_CACHE_LO && c <= HAN_CACHE_HI && simplified_cache &&
		simplified_cache[c - HAN_CACHE_LO] != 0)
		return simplified_cache[c - HAN_CACHE_LO];
	if (simp_trans == NULL)
		simp_trans = OpenTransliterator(SIMP_TRANS_ID);
	U16_APPEND_UNSAFE(buf, ulen, c);
	Transliterate(simp_trans, buf, &ulen, lengthof(buf));
	U16_NEXT(buf, i, ulen, r);
	if (ulen != i)
		r = c;					/* more than one character: keep it as is */
	if (c >= HAN_CACHE_LO && c <= HAN_CACHE_HI && r <= 0xFFFF)
	{
		if (simplified_cache == NULL)
			simplified_cache = MemoryContextAllocZero(TopMemoryContext,
													  sizeof(UChar) * HAN_CACHE_SIZE);
		simplified_cache[c - HAN_CACHE_LO] = (UChar) r;
	}
	return r;
}

/*
 * Toneless lower-case pinyin of Han character c, into out (PINYIN_MAX).
 */
static void
PinyinOf(UChar32 c, char *out)
{
	UChar		buf[64];
	int32		ulen = 0;
	int			n = 0;
	int32		i;

	if (c >= HAN_CACHE_LO && c <= HAN_CACHE_HI && pinyin_cache &&
		pinyin_cache[c - HAN_CACHE_LO][0] != '\0')
	{
		strcpy(out, pinyin_cache[c - HAN_CACHE_LO]);
		return;
	}
	if (pinyin_trans == NULL)
		pinyin_trans = OpenTransliterator(PINYIN_TRANS_ID);
	U16_APPEND_UNSAFE(buf, ulen, c);
	Transliterate(pinyin_trans, buf, &ulen, lengthof(buf));
	for (i = 0; i < ulen && n < PINYIN_MAX - 1; i++)
		if (buf[i] < 128 && isalpha(buf[i]))
			out[n++] = (char) tolower(buf[i]);
	out[n] = '\0';
	if (c >= HAN_CACHE_LO && c <= HAN_CACHE_HI && n > 0)
	{
		if (pinyin_cache == NULL)
			pinyin_cache = MemoryContextAllocZero(TopMemoryContext,
												  (Size) PINYIN_MAX * HAN_CACHE_SIZE);
		strcpy(pinyin_cache[c - HAN_CACHE_LO], out);
	}
}

/*
 * cdp_normalize_uchars: the normalisation pipeline, returning UTF-16 (for
 * company.c, which works on code points).  NFKC with case folding (ICU's
 * NFKC_Casefold normaliser, which also maps full-width forms to half-width
 * ones), then Traditional to Simplified per Han character.  The result is
 * palloc'd.
 */
UChar *
cdp_normalize_uchars(const char *s, int len, int32 *ulen)
{
	UChar	   *buf;
	UChar	   *out;
	int32		cap,
				olen,
				i,
				j;
	UErrorCode	status = U_ZERO_ERROR;
	const UNormalizer2 *nfkc_cf;

	CheckLength(len, CDP_MAX_TEXT_BYTES, "text to normalise");
	buf = Utf8ToUChars(s, len, 1, ulen, &cap);

	nfkc_cf = unorm2_getNFKCCasefoldInstance(&status);
	if (U_FAILURE(status))
		elog(ERROR, "could not get the ICU NFKC_Casefold normaliser: %s", u_errorName(status));
	/* NFKC can expand (e.g. ㈱ to (株), ﷺ to 18 letters) */
	cap = *ulen * 18 + 16;
	out = palloc(sizeof(UChar) * cap);
	olen = unorm2_normalize(nfkc_cf, buf, *ulen, out, cap, &status);
	if (U_FAILURE(status))
		elog(ERROR, "ICU normalisation failed: %s", u_errorName(status));
	pfree(buf);

	/* Traditional to Simplified, in place (a BMP character stays BMP) */
	for (i = 0, j = 0; i < olen;)
	{
		UChar32		c;
		UErrorCode	st = U_ZERO_ERROR;

		U16_NEXT(out, i, olen, c);
		if (c >= 0x2E80 && uscript_getScript(c, &st) == USCRIPT_HAN)
		{
			UChar32		r = Simplified(c);

			if (U16_LENGTH(r) <= U16_LENGTH(c))
				c = r;
		}
		U16_APPEND_UNSAFE(out, j, c);
	}
	*ulen = j;
	return out;
}

/*
 * UTF-16 back to a palloc'd, NUL-terminated UTF-8 string.
 */
char *
cdp_uchars_to_utf8(const UChar *u, int32 ulen, int *len)
{
	UErrorCode	status = U_ZERO_ERROR;
	int32		n;
	char	   *out;

	u_strToUTF8(NULL, 0, &n, u, ulen, &status);
	status = U_ZERO_ERROR;
	out = palloc(n + 1);
	u_strToUTF8(out, n + 1, &n, u, ulen, &status);
	if (U_FAILURE(status))
		elog(ERROR, "ICU conversion to UTF-8 failed: %s", u_errorName(status));
	out[n] = '\0';
	if (len)
		*len = n;
	return out;
}

/*
 * cdp_normalize_cstring: the pipeline from UTF-8 to UTF-8.
 */
char *
cdp_normalize_cstring(const char *s, int len, int *outlen)
{
	int32		ulen;
	UChar	   *u = cdp_normalize_uchars(s, len, &ulen);

	return cdp_uchars_to_utf8(u, ulen, outlen);
}

/*
 * cdp_pinyin_cstring: toneless pinyin of normalised text, one syllable per
 * Han character, syllables and other words separated by single spaces,
 * lower case ASCII where ICU has a Latin form.  With initials, only the
 * first letter of each syllable or word is kept and nothing separates them
 * (广州 -> "gz").
 */
char *
cdp_pinyin_cstring(const char *s, int len, bool initials)
{
	int32		ulen;
	UChar	   *norm = cdp_normalize_uchars(s, len, &ulen);
	int32		i;
	StringInfoData out;
	bool		in_word = false;

	initStringInfo(&out);
	for (i = 0; i < ulen;)
	{
		UChar32		c;
		UErrorCode	st = U_ZERO_ERROR;

		U16_NEXT(norm, i, ulen, c);
		if (c >= 0x2E80 && uscript_getScript(c, &st) == USCRIPT_HAN)
		{
			char		py[PINYIN_MAX];

			PinyinOf(c, py);
			in_word = false;
			if (py[0] == '\0')
				continue;
			if (initials)
				appendStringInfoChar(&out, py[0]);
			else
			{
				if (out.len > 0)
					appendStringInfoChar(&out, ' ');
				appendStringInfoString(&out, py);
			}
		}
		else if (u_isalnum(c))
		{
			if (!in_word)
			{
				if (out.len > 0 && !initials)
					appendStringInfoChar(&out, ' ');
				in_word = true;
			}
			else if (initials)
				continue;
			{
				char		tmp[U8_MAX_LENGTH];
				int32		n = 0;
				UBool		err = false;

				U8_APPEND(tmp, n, U8_MAX_LENGTH, c, err);
				if (!err)
					appendBinaryStringInfo(&out, tmp, n);
			}
		}
		else
			in_word = false;
	}
	pfree(norm);
	return out.data;
}

/*
 * cdp.normalize_text(text): the normalisation pipeline as SQL.
 */
PG_FUNCTION_INFO_V1(cdp_normalize_text);
Datum
cdp_normalize_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int			len;
	char	   *r = cdp_normalize_cstring(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(r, len));
}

/*
 * cdp.pinyin(text): toneless pinyin, syllables separated by spaces.
 */
PG_FUNCTION_INFO_V1(cdp_pinyin);
Datum
cdp_pinyin(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(cdp_pinyin_cstring(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false)));
}

/*
 * cdp.pinyin_initials(text): first letter of every syllable (广州 -> gz).
 */
PG_FUNCTION_INFO_V1(cdp_pinyin_initials);
Datum
cdp_pinyin_initials(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(cdp_pinyin_cstring(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), true)));
}

/*
 * cdp.report_progress(message): show how far a long cdp operation got in
 * pg_stat_activity.query of this backend, where any session can read it at
 * once (it is shared memory, not a table, so no commit is needed).  NULL
 * puts the statement's own text back.
 */
PG_FUNCTION_INFO_V1(cdp_report_progress);
Datum
cdp_report_progress(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		pgstat_report_activity(STATE_RUNNING, debug_query_string);
	else
		pgstat_report_activity(STATE_RUNNING, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
