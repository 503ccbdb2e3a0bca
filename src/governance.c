/*-------------------------------------------------------------------------
 *
 * governance.c
 *	  Contact-data checks and masking for the governance module: e-mail and
 *	  phone validation (mainland China mobile and landline, E.164) with
 *	  obvious fakes flagged, and the masks analysts see instead of names,
 *	  e-mail addresses and phone numbers.
 *
 * Everything here is a pure function of its arguments, runs in time linear
 * in the input and never raises an error for bad data: a malformed address
 * is an answer (valid = false, with the problem named), not an exception.
 * Only a bad region argument is an error.  Inputs longer than CDP_MAX_CONTACT_INPUT
 * bytes are rejected up front, so a huge value costs nothing.
 *
 * Consent, erasure, outreach cadence, roles and row-level security are SQL
 * (src/governance.sql).
 *
 * src/governance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "cdp.h"

/* longer inputs are not addresses or numbers anyone typed */
#define CDP_MAX_CONTACT_INPUT 512
/* RFC 5321 limits */
#define MAX_LOCAL 64
#define MAX_DOMAIN 253
#define MAX_LABEL 63

/* the answer of the validators: (valid, normalized, kind, problem) */
typedef struct Verdict
{
	bool		valid;
	char	   *normalized;		/* NULL when the input has no usable form */
	const char *kind;			/* phone: mobile, landline, service,
								 * international; e-mail: NULL */
	const char *problem;		/* NULL when valid */
} Verdict;

/*
 * Domains and local parts that stand for "no real address": placeholders
 * typed into forms, documentation domains (RFC 2606) and throw-away
 * mailboxes.  Compared in lower case.
 */
static const char *const fake_domains[] = {
	"test.com", "test.cn", "example.com", "example.org", "example.net", "example.cn",
	"domain.com", "email.test", "xxx.com", "abc.com", "aaa.com", "asdf.com", "qwe.com",
	"123.com", "localhost", "localdomain", NULL
};
static const char *const fake_tlds[] = {
	"test", "example", "invalid", "localhost", "local", NULL
};
static const char *const disposable_domains[] = {
	"mailinator.com", "10minutemail.com", "guerrillamail.com", "yopmail.com",
	"temp-mail.org", "trashmail.com", "sharklasers.com", "getnada.com",
	"dispostable.com", "maildrop.cc", NULL
};
static const char *const fake_locals[] = {
	"test", "tester", "testing", "asdf", "qwer", "abc", "abcd", "xxx", "xx", "x",
	"aaa", "fake", "none", "null", "nobody", "noemail", "no-email", "noreply",
	"no-reply", "sample", "example", "123", "1234", "12345", "123456", "foo", "bar",
	"foobar", "user", "email", "mail", NULL
};

/*
 * Is s one of the strings in list?
 */
static bool
InList(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/*
 * Build the composite result from a verdict.  Phone results have four
 * columns (valid, normalized, kind, problem), e-mail results three.
 */
static Datum
VerdictDatum(FunctionCallInfo fcinfo, Verdict *v, bool with_kind)
{
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			i = 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "cdp: return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[i++] = BoolGetDatum(v->valid);
	if (v->normalized != NULL)
		values[i] = CStringGetTextDatum(v->normalized);
	else
		nulls[i] = true;
	i++;
	if (with_kind)
	{
		if (v->kind != NULL)
			values[i] = CStringGetTextDatum(v->kind);
		else
			nulls[i] = true;
		i++;
	}
	if (v->problem != NULL)
		values[i] = CStringGetTextDatum(v->problem);
	else
		nulls[i] = true;
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * Copy of s[0..len) without the white space around it.
 */
static char *
Trimmed(const char *s, int len)
{
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	return pnstrdup(s, len);
}

/*
 * Characters RFC 5322 allows unquoted in a local part (dot-atom text).
 */
static bool
IsAtext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80;
}

/*
 * Is every character of s the same (aaaa, 1111)?
 */
static bool
AllSame(const char *s)
{
	const char *p;

	if (*s == '\0')
		return false;
	for (p = s + 1; *p; p++)
		if (*p != *s)
			return false;
	return true;
}

/*
 * The e-mail rules: one @, a dot-atom local part of at most 64 bytes, a
 * domain of at most 253 bytes made of labels (letters, digits, hyphens, or
 * any non-ASCII for internationalised names; no hyphen at either end) with
 * at least two labels and a top-level label that is not all digits.  Quoted
 * local parts and address literals ([192.0.2.1]) are valid by the RFC but
 * never seen on a business card, so they are reported as unsupported.
 */
static void
CheckEmail(const char *in, int inlen, Verdict *v)
{
	char	   *s;
	char	   *at;
	char	   *domain;
	char	   *p;
	char	   *lower_domain;
	char	   *lower_local;
	int			local_len;
	int			domain_len;
	int			label_len = 0;
	int			labels = 0;
	char	   *last_label;
	bool		tld_digits = true;

	memset(v, 0, sizeof(*v));
	if (inlen > CDP_MAX_CONTACT_INPUT)
	{
		v->problem = "too_long";
		return;
	}
	s = Trimmed(in, inlen);
	if (*s == '\0')
	{
		v->problem = "empty";
		return;
	}
	at = strrchr(s, '@');
	if (at == NULL)
	{
		v->problem = "missing_at";
		return;
	}
	if (strchr(s, '@') != at)
	{
		v->problem = (s[0] == '"') ? "unsupported_quoted" : "syntax";
		return;
	}
	*at = '\0';
	domain = at + 1;
	local_len = strlen(s);
	domain_len = strlen(domain);

	/* local part */
	if (local_len == 0 || local_len > MAX_LOCAL)
	{
		v->problem = "local_part";
		return;
	}
	if (s[0] == '"')
	{
		v->problem = "unsupported_quoted";
		return;
	}
	if (s[0] == '.' || s[local_len - 1] == '.' || strstr(s, "..") != NULL)
	{
		v->problem = "local_part";
		return;
	}
	for (p = s; *p; p++)
		if (*p != '.' && !IsAtext((unsigned char) *p))
		{
			v->problem = "local_part";
			return;
		}

	/* domain */
	if (domain_len == 0 || domain_len > MAX_DOMAIN)
	{
		v->problem = "domain";
		return;
	}
	if (domain[0] == '[')
	{
		v->problem = "unsupported_address_literal";
		return;
	}
	last_label = domain;
	for (p = domain;; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '.' || c == '\0')
		{
			if (label_len == 0 || label_len > MAX_LABEL || p[-1] == '-' || *last_label == '-')
			{
				v->problem = "domain";
				return;
			}
			labels++;
			if (c == '\0')
				break;
			last_label = p + 1;
			label_len = 0;
			tld_digits = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c >= 0x80))
		{
			v->problem = "domain";
			return;
		}
		if (!(c >= '0' && c <= '9'))
			tld_digits = false;
		label_len++;
	}
	if (labels < 2 || tld_digits)
	{
		v->problem = "domain";
		return;
	}

	/* domains compare case-insensitively: keep the local part as typed */
	lower_domain = pstrdup(domain);
	for (p = lower_domain; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	v->normalized = psprintf("%s@%s", s, lower_domain);

	lower_local = pstrdup(s);
	for (p = lower_local; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	last_label = strrchr(lower_domain, '.') + 1;
	if (InList(lower_domain, disposable_domains))
		v->problem = "disposable";
	else if (InList(lower_domain, fake_domains) || InList(last_label, fake_tlds) ||
			 InList(lower_local, fake_locals) || (local_len > 1 && AllSame(lower_local)))
		v->problem = "fake";
	else
		v->valid = true;
}

/*
 * Digits of a phone number as typed: separators (space, hyphen, dot,
 * parentheses, slash) are dropped, full-width digits and plus sign are
 * read as ASCII, a leading + or 00 marks an international number.  Returns
 * false when anything else is in the way (letters, an extension, a second +).
 */
static bool
PhoneDigits(const char *s, int len, char *digits, int *ndigits, bool *plus)
{
	int			i = 0;
	int			n = 0;

	*plus = false;
	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];

		/* U+FF10..U+FF19 full-width digits, U+FF0B full-width plus */
		if (c == 0xEF && i + 2 < len && (unsigned char) s[i + 1] == 0xBC &&
			(unsigned char) s[i + 2] >= 0x90 && (unsigned char) s[i + 2] <= 0x99)
		{
			c = '0' + ((unsigned char) s[i + 2] - 0x90);
			i += 2;
		}
		else if (c == 0xEF && i + 2 < len && (unsigned char) s[i + 1] == 0xBC &&
				 (unsigned char) s[i + 2] == 0x8B)
		{
			c = '+';
			i += 2;
		}
		i++;
		if (c >= '0' && c <= '9')
		{
			if (n >= 20)
				return false;
			digits[n++] = c;
		}
		else if (c == '+')
		{
			if (n > 0 || *plus)
				return false;
			*plus = true;
		}
		else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' || c == '\t')
			continue;
		else
			return false;
	}
	digits[n] = '\0';
	*ndigits = n;
	if (!*plus && n > 2 && digits[0] == '0' && digits[1] == '0')
	{
		memmove(digits, digits + 2, n - 1);
		*ndigits = n - 2;
		*plus = true;
	}
	return true;
}

/*
 * Numbers people type when they do not want to give theirs: one digit
 * repeated, a run up or down, the famous 13800138000 (China Mobile's
 * service number, the stock example in Chinese forms), 12345678901.
 * sub is the subscriber part (national number without its prefix).
 */
static bool
FakeNumber(const char *national, const char *sub)
{
	static const char *const known[] = {"13800138000", "12345678901", "13888888888",
	"13000000000", "18888888888", NULL};
	int			i;
	int			len = strlen(sub);
	bool		up = true;
	bool		down = true;

	if (InList(national, known) || AllSame(sub) || AllSame(national + 1))
		return true;
	if (len < 6)
		return false;
	for (i = 1; i < len; i++)
	{
		if (sub[i] != sub[i - 1] + 1 && !(sub[i - 1] == '9' && sub[i] == '0'))
			up = false;
		if (sub[i] != sub[i - 1] - 1)
			down = false;
	}
	return up || down;
}

/*
 * Mainland China area codes: 010 and 020-029 have two digits after the
 * trunk 0, the others three.  Returns the length of the area code without
 * the trunk 0, or 0 when the digits cannot start one.
 */
static int
CnAreaLength(const char *d)
{
	if (d[0] == '1')
		return d[1] == '0' ? 2 : 0;
	if (d[0] == '2')
		return 2;
	if (d[0] >= '3' && d[0] <= '9')
		return 3;
	return 0;
}

/*
 * A Chinese national number (no country code), in digits.
 */
static void
CheckCnNational(const char *d, int n, Verdict *v)
{
	/* mobile: 1[3-9]x xxxx xxxx */
	if (n == 11 && d[0] == '1')
	{
		if (d[1] < '3' || d[1] > '9')
		{
			v->problem = FakeNumber(d, d + 3) ? "fake" : "mobile_prefix";
			return;
		}
		v->normalized = psprintf("+86%s", d);
		v->kind = "mobile";
		if (FakeNumber(d, d + 3))
			v->problem = "fake";
		else
			v->valid = true;
		return;
	}
	/* 400 / 800 service numbers: 400 xxx xxxx */
	if (n == 10 && (strncmp(d, "400", 3) == 0 || strncmp(d, "800", 3) == 0))
	{
		v->normalized = psprintf("+86%s", d);
		v->kind = "service";
		if (FakeNumber(d, d + 3))
			v->problem = "fake";
		else
			v->valid = true;
		return;
	}
	/* landline: trunk 0, area code, 7 or 8 digit subscriber number */
	if (d[0] == '0' && n >= 10 && n <= 12)
	{
		int			area = CnAreaLength(d + 1);
		int			sub = n - 1 - area;
		const char *subscriber = d + 1 + area;

		if (area == 0 || sub < 7 || sub > 8 || subscriber[0] == '0' || subscriber[0] == '1')
		{
			v->problem = "landline_format";
			return;
		}
		v->normalized = psprintf("+86%s", d + 1);
		v->kind = "landline";
		if (FakeNumber(d, subscriber))
			v->problem = "fake";
		else
			v->valid = true;
		return;
	}
	if (n == 7 || n == 8)
		v->problem = "missing_area_code";
	else if (FakeNumber(d, d))
		v->problem = "fake";
	else
		v->problem = "length";
}

/*
 * A number with its country code (E.164: at most 15 digits, country code
 * not starting with 0).  Chinese numbers get the national checks.
 */
static void
CheckInternational(const char *d, int n, Verdict *v)
{
	if (n >= 3 && d[0] == '8' && d[1] == '6')
	{
		char		national[24];

		/*
		 * +86 then the national number without its trunk 0: a mobile (11
		 * digits from 1), a service number (400/800), else a landline, whose
		 * trunk 0 we put back.  A trunk 0 after +86 is a typo we forgive.
		 */
		const char *rest = d + 2;
		int			restlen = n - 2;

		if (rest[0] == '0' ||
			(rest[0] == '1' && restlen == 11 && rest[1] != '0') ||
			(restlen == 10 && (strncmp(rest, "400", 3) == 0 || strncmp(rest, "800", 3) == 0)))
			snprintf(national, sizeof(national), "%s", rest);
		else
			snprintf(national, sizeof(national), "0%s", rest);
		CheckCnNational(national, strlen(national), v);
		return;
	}
	if (n < 8 || n > 15 || d[0] == '0')
	{
		v->problem = "e164_format";
		return;
	}
	v->normalized = psprintf("+%s", d);
	v->kind = "international";
	if (FakeNumber(d, d + 3))
		v->problem = "fake";
	else
		v->valid = true;
}

/*
 * Validate a phone number for a region (ISO 3166 alpha-2; national formats
 * are known for CN, anything else must carry its country code).
 */
static void
CheckPhone(const char *in, int inlen, const char *region, Verdict *v)
{
	char		digits[24];
	int			n;
	bool		plus;
	char	   *s;

	memset(v, 0, sizeof(*v));
	if (inlen > CDP_MAX_CONTACT_INPUT)
	{
		v->problem = "too_long";
		return;
	}
	s = Trimmed(in, inlen);
	if (*s == '\0')
	{
		v->problem = "empty";
		return;
	}
	if (!PhoneDigits(s, strlen(s), digits, &n, &plus))
	{
		v->problem = "syntax";
		return;
	}
	if (n == 0)
	{
		v->problem = "syntax";
		return;
	}
	if (plus)
		CheckInternational(digits, n, v);
	else if (strcmp(region, "CN") == 0)
	{
		/* 86 13x xxxx xxxx written without the plus */
		if (n == 13 && digits[0] == '8' && digits[1] == '6' && digits[2] == '1')
			CheckInternational(digits, n, v);
		else
			CheckCnNational(digits, n, v);
	}
	else
		v->problem = "needs_country_code";
}

/*
 * The region argument: two ASCII letters, upper-cased.
 */
static void
RegionCode(text *t, char *out)
{
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len != 2 || !isalpha((unsigned char) s[0]) || !isalpha((unsigned char) s[1]) ||
		(unsigned char) s[0] >= 0x80 || (unsigned char) s[1] >= 0x80)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid region \"%s\"", text_to_cstring(t)),
				 errdetail("A region is an ISO 3166-1 alpha-2 country code such as CN."),
				 errhint("National number formats are known for CN; for other regions pass numbers in E.164 form (+country code).")));
	out[0] = pg_ascii_toupper((unsigned char) s[0]);
	out[1] = pg_ascii_toupper((unsigned char) s[1]);
	out[2] = '\0';
}

/*
 * cdp.validate_email(email text) -> (valid, normalized, problem)
 */
PG_FUNCTION_INFO_V1(cdp_validate_email);
Datum
cdp_validate_email(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Verdict		v;

	CheckEmail(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &v);
	return VerdictDatum(fcinfo, &v, false);
}

/*
 * cdp.validate_phone(phone text, region text) -> (valid, normalized, kind, problem)
 */
PG_FUNCTION_INFO_V1(cdp_validate_phone);
Datum
cdp_validate_phone(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char		region[3];
	Verdict		v;

	RegionCode(PG_GETARG_TEXT_PP(1), region);
	CheckPhone(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), region, &v);
	return VerdictDatum(fcinfo, &v, true);
}

/*
 * Append `count` copies of '*' to buf.
 */
static void
Stars(StringInfo buf, int count)
{
	while (count-- > 0)
		appendStringInfoChar(buf, '*');
}

/*
 * cdp.mask_name(text): the first character of each word, the rest as one
 * star per character (张伟 -> 张*, John Smith -> J*** S****).  Characters,
 * not bytes, in the database encoding.
 */
PG_FUNCTION_INFO_V1(cdp_mask_name);
Datum
cdp_mask_name(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	StringInfoData buf;
	bool		word_start = true;
	int			i = 0;

	initStringInfo(&buf);
	while (i < len)
	{
		int			l = pg_mblen(s + i);

		if (l > len - i)
			l = len - i;
		if (s[i] == ' ')
		{
			appendStringInfoChar(&buf, ' ');
			word_start = true;
		}
		else if (word_start)
		{
			appendBinaryStringInfo(&buf, s + i, l);
			word_start = false;
		}
		else
			Stars(&buf, 1);
		i += l;
		CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/*
 * cdp.mask_email(text): first character of the local part and the domain
 * (zhang.wei@huaxin.cn -> z***@huaxin.cn): analysts keep the company
 * domain, which is not personal data, and lose the person.
 */
PG_FUNCTION_INFO_V1(cdp_mask_email);
Datum
cdp_mask_email(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	const char *at = memchr(s, '@', len);
	StringInfoData buf;

	initStringInfo(&buf);
	if (at == NULL || at == s)
		appendStringInfoString(&buf, "***");
	else
	{
		appendBinaryStringInfo(&buf, s, Min(pg_mblen(s), at - s));
		appendStringInfoString(&buf, "***");
		appendBinaryStringInfo(&buf, at, len - (at - s));
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/*
 * cdp.mask_phone(text): keep the first three and the last two digits,
 * every other digit a star (138 1234 5678 -> 138******78), separators
 * dropped.  Fewer than eight digits: all stars.
 */
PG_FUNCTION_INFO_V1(cdp_mask_phone);
Datum
cdp_mask_phone(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	int			ndigits = 0;
	int			seen = 0;
	int			i;
	StringInfoData buf;

	for (i = 0; i < len; i++)
		if (s[i] >= '0' && s[i] <= '9')
			ndigits++;
	initStringInfo(&buf);
	for (i = 0; i < len; i++)
	{
		if (s[i] == '+' && seen == 0)
			appendStringInfoChar(&buf, '+');
		if (s[i] < '0' || s[i] > '9')
			continue;
		if (ndigits >= 8 && (seen < 3 || seen >= ndigits - 2))
			appendStringInfoChar(&buf, s[i]);
		else
			Stars(&buf, 1);
		seen++;
	}
	if (ndigits == 0)
		appendStringInfoString(&buf, "***");
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
