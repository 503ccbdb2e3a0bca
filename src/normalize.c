/*-------------------------------------------------------------------------
 *
 * normalize.c
 *	  Text normalisation for matching, on ICU transliterators.
 *
 * Names arrive in every width, case and script variant: 貴州茅台, 贵州茅台,
 * "ＫＷＥＩＣＨＯＷ", "Kweichow".  Everything that compares names (company.c,
 * city.c) first passes them through one pipeline:
 *
 *	NFKC -> Fullwidth-Halfwidth -> Traditional-Simplified -> NFC -> case fold
 *
 * and, where Latin text must meet Han text, through Han-Latin + Latin-ASCII
 * (toneless pinyin, one syllable per Han character).  ICU carries all of
 * these tables; nothing here is a hand-written character table.
 *
 * Opening a transliterator parses its rules (Han-Latin takes tens of
 * milliseconds), so each one is opened once per backend, on first use, and
 * kept for the life of the process.  utrans_* objects are not shared between
 * threads, and a backend is single-threaded, so reuse is safe.
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

#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>
#include <unicode/uscript.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "cdp.h"

/* the transliterators of this backend, opened on first use */
static UTransliterator *norm_trans = NULL;
static UTransliterator *pinyin_trans = NULL;

#define NORM_TRANS_ID "NFKC; Fullwidth-Halfwidth; Traditional-Simplified; NFC"
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
 * cdp_normalize_uchars: the normalisation pipeline, returning UTF-16 (for
 * company.c, which works on code points).  The result is palloc'd.
 */
UChar *
cdp_normalize_uchars(const char *s, int len, int32 *ulen)
{
	UChar	   *buf;
	UChar	   *folded;
	int32		cap;
	UErrorCode	status = U_ZERO_ERROR;
	int32		flen;

	CheckLength(len, CDP_MAX_TEXT_BYTES, "text to normalise");
	if (norm_trans == NULL)
		norm_trans = OpenTransliterator(NORM_TRANS_ID);

	/* NFKC can expand (e.g. ㈱ to (株)), by at most a small factor */
	buf = Utf8ToUChars(s, len, 4, ulen, &cap);
	Transliterate(norm_trans, buf, ulen, cap);

	folded = palloc(sizeof(UChar) * (*ulen * 3 + 1));
	flen = u_strFoldCase(folded, *ulen * 3 + 1, buf, *ulen, U_FOLD_CASE_DEFAULT, &status);
	if (U_FAILURE(status))
		elog(ERROR, "ICU case folding failed: %s", u_errorName(status));
	pfree(buf);
	*ulen = flen;
	return folded;
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
	UChar	   *buf;
	int32		cap = ulen * 8 + 16;
	int32		i;
	StringInfoData out;
	bool		in_word = false;

	if (pinyin_trans == NULL)
		pinyin_trans = OpenTransliterator(PINYIN_TRANS_ID);

	/*
	 * Han-Latin writes "guì zhōu" for 贵州 but joins a syllable to an
	 * adjacent Latin word; put a space after every Han character first so
	 * each one becomes a word of its own.
	 */
	buf = palloc(sizeof(UChar) * cap);
	{
		int32		j = 0;

		for (i = 0; i < ulen;)
		{
			UChar32		c;
			int32		start = i;
			UErrorCode	st = U_ZERO_ERROR;

			U16_NEXT(norm, i, ulen, c);
			memcpy(buf + j, norm + start, sizeof(UChar) * (i - start));
			j += i - start;
			if (uscript_getScript(c, &st) == USCRIPT_HAN)
				buf[j++] = ' ';
		}
		ulen = j;
	}
	Transliterate(pinyin_trans, buf, &ulen, cap);

	initStringInfo(&out);
	for (i = 0; i < ulen;)
	{
		UChar32		c;

		U16_NEXT(buf, i, ulen, c);
		if (u_isalnum(c))
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

				U8_APPEND(tmp, n, U8_MAX_LENGTH, u_tolower(c), err);
				if (!err)
					appendBinaryStringInfo(&out, tmp, n);
			}
		}
		else
			in_word = false;
	}
	pfree(buf);
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
