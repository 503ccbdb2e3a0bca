/*-------------------------------------------------------------------------
 *
 * bant.c
 *	  The cdp.bant type: what sales knows about a lead's Budget, Authority,
 *	  Need, Timeline and Competition, and the fit score computed from it.
 *
 * Each dimension takes one level from a fixed, ordered set, worst first;
 * "unknown" (not asked yet) sits just above the worst known answer, so that
 * learning a good answer always raises the score and learning a bad one
 * lowers it.  Budget may carry an amount and Timeline an expected decision
 * date.
 *
 * Text form, always written in full and in this order (input accepts the
 * parts in any order, omitted ones meaning unknown):
 *
 *	 (budget=allocated:50000, authority=decision_maker, need=identified,
 *	  timeline=within_year:2027-03-31, competition=contested)
 *
 * The amount is written as the shortest decimal that reads back to the same
 * double, the date as ISO YYYY-MM-DD whatever DateStyle says, so the text
 * form round-trips exactly.
 *
 * Stored format: a fixed 24-byte varlena with a version byte (1) and a
 * reserved byte that must be zero, so a later format can be told apart.
 * Storage is plain, so the value keeps its 4-byte header and alignment and
 * is read in place.  bant_recv checks everything bant_in checks.
 *
 * src/bant.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "common/shortest_dec.h"
#include "catalog/pg_type.h"
#include "utils/memutils.h"

#include "cdp.h"

#define BANT_DIMENSIONS		5
#define BANT_LEVELS			5
#define BANT_VERSION		1
#define BANT_HAS_AMOUNT		0x01
#define BANT_HAS_DATE		0x02
#define BANT_KNOWN_FLAGS	(BANT_HAS_AMOUNT | BANT_HAS_DATE)

/* On-disk and in-memory form; 24 bytes, double aligned */
typedef struct Bant
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* BANT_VERSION */
	uint8		level[BANT_DIMENSIONS]; /* index into the dimension's level set */
	uint8		flags;			/* BANT_HAS_AMOUNT, BANT_HAS_DATE */
	uint8		reserved;		/* must be zero */
	DateADT		decision_date;	/* valid when BANT_HAS_DATE, else 0 */
	float8		amount;			/* valid when BANT_HAS_AMOUNT, else 0 */
} Bant;

StaticAssertDecl(sizeof(Bant) == 24, "cdp.bant is 24 bytes");

#define DatumGetBantP(X)	((Bant *) PG_DETOAST_DATUM(X))
#define PG_GETARG_BANT_P(n) DatumGetBantP(PG_GETARG_DATUM(n))

/* The level sets, worst first; the order is the scoring order */
static const char *const bant_dimension_names[BANT_DIMENSIONS] = {
	"budget", "authority", "need", "timeline", "competition"
};

static const char *const bant_levels[BANT_DIMENSIONS][BANT_LEVELS] = {
	{"none", "unknown", "exploring", "allocated", "approved"},
	{"none", "unknown", "user", "influencer", "decision_maker"},
	{"none", "unknown", "latent", "identified", "critical"},
	{"none", "unknown", "long_term", "within_year", "within_quarter"},
	{"entrenched", "unknown", "contested", "preferred", "exclusive"},
};

#define LEVEL_UNKNOWN 1

/*
 * The accepted levels of one dimension, for error hints.
 */
static char *
LevelList(int dim)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < BANT_LEVELS; i++)
		appendStringInfo(&s, "%s%s", i ? ", " : "", bant_levels[dim][i]);
	return s.data;
}

/*
 * Level index of a name in one dimension, or -1.  Exact, case-sensitive
 * match: the text form is canonical.
 */
static int
bant_level_index(int dim, const char *name, int len)
{
	for (int i = 0; i < BANT_LEVELS; i++)
		if (strlen(bant_levels[dim][i]) == len &&
			strncmp(bant_levels[dim][i], name, len) == 0)
			return i;
	return -1;
}

/*
 * Level of a dimension given by name (constructor, jsonb): 22P02 naming the
 * dimension and listing the accepted levels when the name is not one.
 */
static int
LevelOrError(int dim, const char *name)
{
	int			i = bant_level_index(dim, name, strlen(name));

	if (i < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid %s level \"%s\" for type cdp.bant",
						bant_dimension_names[dim], name),
				 errhint("Accepted %s levels, worst first: %s.",
						 bant_dimension_names[dim], LevelList(dim))));
	return i;
}

/*
 * Everything a stored value must satisfy, checked by input, receive and the
 * constructor alike, each raising its own SQLSTATE: 22P02 for text input,
 * 22P03 for binary input, 22023 for constructor arguments.
 */
static void
BantValidate(const Bant *b, int code)
{
	if (b->version != BANT_VERSION)
		ereport(ERROR,
				(errcode(code),
				 errmsg("unsupported cdp.bant format version %d", b->version),
				 errdetail("This build reads version %d.", BANT_VERSION)));
	for (int d = 0; d < BANT_DIMENSIONS; d++)
		if (b->level[d] >= BANT_LEVELS)
			ereport(ERROR,
					(errcode(code),
					 errmsg("invalid %s level %d in cdp.bant",
							bant_dimension_names[d], b->level[d]),
					 errhint("Accepted %s levels, worst first: %s.",
							 bant_dimension_names[d], LevelList(d))));
	if ((b->flags & ~BANT_KNOWN_FLAGS) != 0 || b->reserved != 0)
		ereport(ERROR,
				(errcode(code),
				 errmsg("invalid flags in cdp.bant"),
				 errdetail("Reserved bits are set: flags %d, reserved %d.", b->flags, b->reserved)));
	if (b->flags & BANT_HAS_AMOUNT)
	{
		if (isnan(b->amount) || isinf(b->amount) || b->amount < 0)
			ereport(ERROR,
					(errcode(code),
					 errmsg("invalid budget amount %g in cdp.bant", b->amount),
					 errhint("The budget amount is a finite number, zero or more.")));
		if (b->level[0] == 0)
			ereport(ERROR,
					(errcode(code),
					 errmsg("budget \"none\" cannot carry an amount in cdp.bant"),
					 errhint("Drop the amount or give another budget level.")));
	}
	else if (b->amount != 0)
		ereport(ERROR,
				(errcode(code),
				 errmsg("invalid cdp.bant: amount set without its flag")));
	if (b->flags & BANT_HAS_DATE)
	{
		/* years 1 to 9999, the ones the text form can write */
		if (b->decision_date < date2j(1, 1, 1) - POSTGRES_EPOCH_JDATE ||
			b->decision_date > date2j(9999, 12, 31) - POSTGRES_EPOCH_JDATE)
			ereport(ERROR,
					(errcode(code),
					 errmsg("invalid decision date in cdp.bant"),
					 errhint("The decision date lies between 0001-01-01 and 9999-12-31.")));
		if (b->level[3] == 0)
			ereport(ERROR,
					(errcode(code),
					 errmsg("timeline \"none\" cannot carry a decision date in cdp.bant"),
					 errhint("Drop the date or give another timeline level.")));
	}
	else if (b->decision_date != 0)
		ereport(ERROR,
				(errcode(code),
				 errmsg("invalid cdp.bant: decision date set without its flag")));
}

/* A fresh value with every dimension unknown */
static Bant *
BantNew(void)
{
	Bant	   *b = palloc0(sizeof(Bant));

	SET_VARSIZE(b, sizeof(Bant));
	b->version = BANT_VERSION;
	memset(b->level, LEVEL_UNKNOWN, BANT_DIMENSIONS);
	return b;
}

/* 22P02 for a malformed literal, naming the part at fault */
static void
pg_attribute_noreturn()
BadLiteral(const char *str, const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type cdp.bant: \"%s\"", str),
			 errdetail("%s", detail),
			 hint ? errhint("%s", hint) : 0));
}

/*
 * Strict YYYY-MM-DD, so the text form never depends on DateStyle.
 */
static bool
ParseIsoDate(const char *s, int len, DateADT *result)
{
	int			y,
				m,
				d;
	int			j;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char) s[i]))
			return false;
	y = atoi(pnstrdup(s, 4));
	m = atoi(pnstrdup(s + 5, 2));
	d = atoi(pnstrdup(s + 8, 2));
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > day_tab[isleap(y)][m - 1])
		return false;
	j = date2j(y, m, d);
	*result = j - POSTGRES_EPOCH_JDATE;
	return true;
}

/*
 * Parses a text literal.  Parts are "dimension=level", budget and timeline
 * optionally followed by ":amount" and ":YYYY-MM-DD", separated by commas,
 * inside parentheses, whitespace allowed around tokens.
 */
static Bant *
BantParse(const char *str)
{
	Bant	   *b = BantNew();
	bool		seen[BANT_DIMENSIONS] = {false};
	const char *p = str;

	while (isspace((unsigned char) *p))
		p++;
	if (*p != '(')
		BadLiteral(str, "A cdp.bant literal starts with \"(\".",
				   "Write for example (budget=allocated, authority=decision_maker, need=identified, timeline=within_year, competition=unknown).");
	p++;
	while (isspace((unsigned char) *p))
		p++;
	if (*p == ')')
		p++;
	else
	{
		for (;;)
		{
			const char *name = p;
			int			namelen;
			const char *val;
			int			vallen;
			const char *extra = NULL;
			int			extralen = 0;
			int			dim = -1;
			int			lvl;

			while (isalpha((unsigned char) *p) || *p == '_')
				p++;
			namelen = p - name;
			for (int d = 0; d < BANT_DIMENSIONS; d++)
				if (strlen(bant_dimension_names[d]) == namelen &&
					strncmp(bant_dimension_names[d], name, namelen) == 0)
					dim = d;
			if (dim < 0)
				BadLiteral(str, psprintf("Unknown part \"%.*s\".", namelen > 0 ? namelen : 1, name),
						   "The parts are budget, authority, need, timeline and competition.");
			if (seen[dim])
				BadLiteral(str, psprintf("Part \"%s\" is given twice.", bant_dimension_names[dim]), NULL);
			seen[dim] = true;
			while (isspace((unsigned char) *p))
				p++;
			if (*p != '=')
				BadLiteral(str, psprintf("Part \"%s\" needs \"=\" and a level.", bant_dimension_names[dim]),
						   psprintf("Accepted %s levels, worst first: %s.", bant_dimension_names[dim], LevelList(dim)));
			p++;
			while (isspace((unsigned char) *p))
				p++;
			val = p;
			while (isalnum((unsigned char) *p) || *p == '_')
				p++;
			vallen = p - val;
			lvl = bant_level_index(dim, val, vallen);
			if (lvl < 0)
			{
				const char *end = val;

				while (*end && *end != ',' && *end != ')' && *end != ':' && !isspace((unsigned char) *end))
					end++;
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type cdp.bant: \"%s\"", str),
						 errdetail("Invalid %s level \"%.*s\".", bant_dimension_names[dim], (int) (end - val), val),
						 errhint("Accepted %s levels, worst first: %s.",
								 bant_dimension_names[dim], LevelList(dim))));
			}
			b->level[dim] = lvl;
			if (*p == ':')
			{
				p++;
				extra = p;
				while (*p && *p != ',' && *p != ')' && !isspace((unsigned char) *p))
					p++;
				extralen = p - extra;
				if (dim == 0)
				{
					char	   *num = pnstrdup(extra, extralen);
					char	   *endp;
					double		v;

					errno = 0;
					v = strtod(num, &endp);
					if (extralen == 0 || *endp != '\0' || errno != 0 || isnan(v) || isinf(v) || v < 0 ||
						!(isdigit((unsigned char) num[0]) || num[0] == '.'))
						BadLiteral(str, psprintf("Invalid budget amount \"%s\".", num),
								   "The budget amount is a finite number, zero or more, such as 50000 or 1.5e6.");
					b->amount = v + 0.0; /* no negative zero */
					b->flags |= BANT_HAS_AMOUNT;
				}
				else if (dim == 3)
				{
					if (!ParseIsoDate(extra, extralen, &b->decision_date))
						BadLiteral(str, psprintf("Invalid decision date \"%.*s\".", extralen, extra),
								   "The decision date is a date written YYYY-MM-DD.");
					b->flags |= BANT_HAS_DATE;
				}
				else
					BadLiteral(str, psprintf("Part \"%s\" takes no \":\" value.", bant_dimension_names[dim]),
							   "Only budget (an amount) and timeline (a decision date) take one.");
			}
			while (isspace((unsigned char) *p))
				p++;
			if (*p == ',')
			{
				p++;
				while (isspace((unsigned char) *p))
					p++;
				continue;
			}
			if (*p == ')')
			{
				p++;
				break;
			}
			BadLiteral(str, psprintf("Unexpected \"%.*s\" after part \"%s\".",
									 *p ? pg_mbcliplen(p, strlen(p), 20) : 12,
									 *p ? p : "end of input", bant_dimension_names[dim]),
					   "Separate parts with commas and close with \")\".");
		}
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		BadLiteral(str, psprintf("Junk after \")\": \"%.*s\".", pg_mbcliplen(p, strlen(p), 20), p), NULL);
	BantValidate(b, ERRCODE_INVALID_TEXT_REPRESENTATION);
	return b;
}

PG_FUNCTION_INFO_V1(cdp_bant_in);
Datum
cdp_bant_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(BantParse(PG_GETARG_CSTRING(0)));
}

/*
 * Canonical text form: every part, in dimension order.
 */
PG_FUNCTION_INFO_V1(cdp_bant_out);
Datum
cdp_bant_out(PG_FUNCTION_ARGS)
{
	Bant	   *b = PG_GETARG_BANT_P(0);
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '(');
	for (int d = 0; d < BANT_DIMENSIONS; d++)
	{
		appendStringInfo(&s, "%s%s=%s", d ? ", " : "", bant_dimension_names[d],
						 bant_levels[d][b->level[d]]);
		if (d == 0 && (b->flags & BANT_HAS_AMOUNT))
		{
			char		buf[32];

			/* shortest exact decimal, whatever extra_float_digits is */
			double_to_shortest_decimal_buf(b->amount, buf);
			appendStringInfo(&s, ":%s", buf);
		}
		if (d == 3 && (b->flags & BANT_HAS_DATE))
		{
			int			y,
						m,
						dd;

			j2date(b->decision_date + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
			appendStringInfo(&s, ":%04d-%02d-%02d", y, m, dd);
		}
	}
	appendStringInfoChar(&s, ')');
	PG_RETURN_CSTRING(s.data);
}

/*
 * Binary form: version, five level bytes, flags, then the amount (float8)
 * and the date (int4) when flagged.  Checked as strictly as text input.
 */
PG_FUNCTION_INFO_V1(cdp_bant_recv);
Datum
cdp_bant_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	Bant	   *b = BantNew();

	if (buf->len - buf->cursor < 7)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid cdp.bant binary value: %d bytes, at least 7 expected", buf->len - buf->cursor)));
	b->version = pq_getmsgbyte(buf);
	if (b->version != BANT_VERSION)
		BantValidate(b, ERRCODE_INVALID_BINARY_REPRESENTATION);
	for (int d = 0; d < BANT_DIMENSIONS; d++)
		b->level[d] = pq_getmsgbyte(buf);
	b->flags = pq_getmsgbyte(buf);
	if (buf->len - buf->cursor != ((b->flags & BANT_HAS_AMOUNT) ? 8 : 0) + ((b->flags & BANT_HAS_DATE) ? 4 : 0) &&
		(b->flags & ~BANT_KNOWN_FLAGS) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid cdp.bant binary value: %d bytes after the flags, %d expected",
						buf->len - buf->cursor,
						((b->flags & BANT_HAS_AMOUNT) ? 8 : 0) + ((b->flags & BANT_HAS_DATE) ? 4 : 0))));
	if ((b->flags & ~BANT_KNOWN_FLAGS) != 0)
		BantValidate(b, ERRCODE_INVALID_BINARY_REPRESENTATION);
	if (b->flags & BANT_HAS_AMOUNT)
		b->amount = pq_getmsgfloat8(buf) + 0.0;
	if (b->flags & BANT_HAS_DATE)
		b->decision_date = pq_getmsgint(buf, 4);
	if (buf->cursor != buf->len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid cdp.bant binary value: %d trailing bytes", buf->len - buf->cursor)));
	BantValidate(b, ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_POINTER(b);
}

PG_FUNCTION_INFO_V1(cdp_bant_send);
Datum
cdp_bant_send(PG_FUNCTION_ARGS)
{
	Bant	   *b = PG_GETARG_BANT_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, b->version);
	for (int d = 0; d < BANT_DIMENSIONS; d++)
		pq_sendbyte(&buf, b->level[d]);
	pq_sendbyte(&buf, b->flags);
	if (b->flags & BANT_HAS_AMOUNT)
		pq_sendfloat8(&buf, b->amount);
	if (b->flags & BANT_HAS_DATE)
		pq_sendint32(&buf, b->decision_date);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * cdp.bant(budget => ..., authority => ..., need => ..., timeline => ...,
 * competition => ..., budget_amount => ..., decision_date => ...): a NULL
 * level means unknown (a form field left empty).
 */
PG_FUNCTION_INFO_V1(cdp_bant_make);
Datum
cdp_bant_make(PG_FUNCTION_ARGS)
{
	Bant	   *b = BantNew();

	for (int d = 0; d < BANT_DIMENSIONS; d++)
		if (!PG_ARGISNULL(d))
			b->level[d] = LevelOrError(d, text_to_cstring(PG_GETARG_TEXT_PP(d)));
	if (!PG_ARGISNULL(5))
	{
		b->amount = PG_GETARG_FLOAT8(5) + 0.0;
		b->flags |= BANT_HAS_AMOUNT;
	}
	if (!PG_ARGISNULL(6))
	{
		b->decision_date = PG_GETARG_DATEADT(6);
		b->flags |= BANT_HAS_DATE;
	}
	BantValidate(b, ERRCODE_INVALID_PARAMETER_VALUE);
	PG_RETURN_POINTER(b);
}

/* Accessor: the level name of one dimension (second argument, 0-based) */
PG_FUNCTION_INFO_V1(cdp_bant_level);
Datum
cdp_bant_level(PG_FUNCTION_ARGS)
{
	Bant	   *b = PG_GETARG_BANT_P(0);
	int32		d = PG_GETARG_INT32(1);

	if (d < 0 || d >= BANT_DIMENSIONS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bant dimension %d out of range", d),
				 errhint("Dimensions are 0 (budget) to %d (competition).", BANT_DIMENSIONS - 1)));
	PG_RETURN_TEXT_P(cstring_to_text(bant_levels[d][b->level[d]]));
}

/* Accessor: the position of a dimension's level, 0 = worst known answer */
PG_FUNCTION_INFO_V1(cdp_bant_rank);
Datum
cdp_bant_rank(PG_FUNCTION_ARGS)
{
	Bant	   *b = PG_GETARG_BANT_P(0);
	text	   *dim = PG_GETARG_TEXT_PP(1);
	char	   *name = text_to_cstring(dim);

	for (int d = 0; d < BANT_DIMENSIONS; d++)
		if (strcmp(bant_dimension_names[d], name) == 0)
			PG_RETURN_INT32(b->level[d]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown cdp.bant dimension \"%s\"", name),
			 errhint("The dimensions are budget, authority, need, timeline and competition.")));
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(cdp_bant_budget_amount);
Datum
cdp_bant_budget_amount(PG_FUNCTION_ARGS)
{
	Bant	   *b = PG_GETARG_BANT_P(0);

	if (!(b->flags & BANT_HAS_AMOUNT))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(b->amount);
}

PG_FUNCTION_INFO_V1(cdp_bant_decision_date);
Datum
cdp_bant_decision_date(PG_FUNCTION_ARGS)
{
	Bant	   *b = PG_GETARG_BANT_P(0);

	if (!(b->flags & BANT_HAS_DATE))
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(b->decision_date);
}

/*
 * bant_qualified: the documented rule.  Need at least "identified"; at
 * least two of budget >= allocated, authority >= influencer, timeline >=
 * within_year; and none of budget, authority, need, timeline at its worst
 * answer ("none").  Competition does not take part.  Every condition is a
 * lower bound, so improving a dimension never unqualifies a lead.
 */
PG_FUNCTION_INFO_V1(cdp_bant_qualified);
Datum
cdp_bant_qualified(PG_FUNCTION_ARGS)
{
	Bant	   *b = PG_GETARG_BANT_P(0);
	int			strong = 0;

	for (int d = 0; d < 4; d++)
		if (b->level[d] == 0)
			PG_RETURN_BOOL(false);
	if (b->level[2] < 3)
		PG_RETURN_BOOL(false);
	strong += (b->level[0] >= 3);
	strong += (b->level[1] >= 3);
	strong += (b->level[3] >= 3);
	PG_RETURN_BOOL(strong >= 2);
}

/* Weights of one scoring model, cached per call site for one statement */
typedef struct BantWeights
{
	char	   *model;
	int			namelen;
	float8		weight[BANT_DIMENSIONS];
	float8		total;
} BantWeights;

/*
 * Reads the BANT weights of a scoring model.  22023 when there is no such
 * model.
 */
static void
LoadWeights(const char *model, BantWeights *w)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			rc;

	args[0] = CStringGetTextDatum(model);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("SELECT budget_weight::pg_catalog.float8, authority_weight::pg_catalog.float8,"
							   " need_weight::pg_catalog.float8, timeline_weight::pg_catalog.float8,"
							   " competition_weight::pg_catalog.float8"
							   " FROM " CDP_SCHEMA ".scoring_model WHERE model OPERATOR(pg_catalog.=) $1",
							   1, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading cdp.scoring_model failed: %d", rc);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scoring model \"%s\" does not exist", model),
				 errhint("The models are the rows of cdp.scoring_model; \"default\" is built in.")));
	w->total = 0;
	for (int d = 0; d < BANT_DIMENSIONS; d++)
	{
		bool		isnull;

		w->weight[d] = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, d + 1, &isnull));
		if (isnull)
			w->weight[d] = 0;
		w->total += w->weight[d];
	}
	SPI_finish();
}

/*
 * Fit score 0..100: the weighted mean of the dimensions' level fractions
 * (level position / 4: worst 0, unknown 0.25, then 0.5, 0.75, 1), rounded
 * half up.  Weights are non-negative (a CHECK on the table), so improving one
 * dimension never lowers the score.
 */
static int
bant_score_with(const Bant *b, const BantWeights *w)
{
	float8		sum = 0;

	if (w->total <= 0)
		return 0;
	for (int d = 0; d < BANT_DIMENSIONS; d++)
		sum += w->weight[d] * b->level[d];
	return (int) floor(sum * 25.0 / w->total + 0.5 + 1e-9);
}

/* Models cached per call site: a query scoring under a few models at once */
#define BANT_CACHED_MODELS 8

typedef struct BantWeightCache
{
	int			n;
	int			next;			/* slot to replace when full */
	BantWeights model[BANT_CACHED_MODELS];
} BantWeightCache;

/*
 * cdp.bant_score(cdp.bant [, model text]).  A model's weights are read once
 * per call site and statement (fn_extra), so scoring a million rows costs
 * one catalog read.
 */
PG_FUNCTION_INFO_V1(cdp_bant_score);
Datum
cdp_bant_score(PG_FUNCTION_ARGS)
{
	BantWeightCache *c = (BantWeightCache *) fcinfo->flinfo->fn_extra;
	BantWeights *w = NULL;
	const char *name = "default";
	int			namelen = 7;

	if (PG_NARGS() > 1)
	{
		text	   *t = PG_GETARG_TEXT_PP(1);

		name = VARDATA_ANY(t);
		namelen = VARSIZE_ANY_EXHDR(t);
	}
	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(BantWeightCache));
		fcinfo->flinfo->fn_extra = c;
	}
	for (int i = 0; i < c->n; i++)
		if (c->model[i].namelen == namelen && memcmp(c->model[i].model, name, namelen) == 0)
		{
			w = &c->model[i];
			break;
		}
	if (w == NULL)
	{
		BantWeights fresh;
		char	   *model = pnstrdup(name, namelen);

		LoadWeights(model, &fresh);
		fresh.model = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, model);
		fresh.namelen = namelen;
		if (c->n < BANT_CACHED_MODELS)
			w = &c->model[c->n++];
		else
		{
			w = &c->model[c->next];
			pfree(w->model);
			c->next = (c->next + 1) % BANT_CACHED_MODELS;
		}
		*w = fresh;
	}
	PG_RETURN_INT32(bant_score_with(PG_GETARG_BANT_P(0), w));
}
