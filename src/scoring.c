/*-------------------------------------------------------------------------
 *
 * scoring.c
 *	  Engagement with exponential decay, and predicted win probability by
 *	  naive Bayes over frequency tables (the cdp.nb_model type and the
 *	  nb_train / nb_merge aggregates, nb_predict, nb_explain).
 *
 * Engagement: cdp.engagement_score(points, occurred_at, half_life, as_of)
 * sums points * 2^(-(as_of - occurred_at) / half_life) over the events that
 * happened at or before as_of.  Its state is a float8[] (count, sum,
 * compensation, half-life in seconds, as_of in microseconds), a real type,
 * so partial states travel between Citus nodes as text and need no
 * serial/deserial; the sum is compensated (Neumaier), so the result agrees
 * with the closed form to the last bits whatever the order or split.
 *
 * Naive Bayes: each row is a features text[] and a won boolean.  An element
 * "name=value" is feature "name" with that value; an element without "=" is
 * feature "f<position>".  NULL elements are missing values and count for
 * nothing.  A value that is a plain decimal number (digits, sign, point,
 * exponent; finite) is binned on a log scale, two bins per doubling:
 * bin k = floor(2 * log2(1 + |x|)), negative numbers in their own bins, so
 * bin k holds |x| in [2^(k/2) - 1, 2^((k+1)/2) - 1).  Any other value is a
 * category, compared byte for byte.
 *
 * The model keeps, per feature, the won and lost counts of every value.
 * Prediction uses add-one (Laplace) smoothing with one extra slot for values
 * never seen in training:
 *	 P(v | won) = (won(v) + 1) / (won(f) + V(f) + 1)
 * where won(f) counts won rows that had feature f and V(f) is the number of
 * distinct values of f; the same for lost.  The log-odds is the prior
 * ln((won + 1) / (lost + 1)) plus, per feature present in the input and
 * known to the model, ln P(v | won) - ln P(v | lost); nb_explain returns
 * exactly these terms, so they add up to the log-odds, and nb_predict is
 * its logistic.
 *
 * nb_train has an internal state (a hash table) with combine, serial and
 * deserial for parallel query; its result, cdp.nb_model, is a real varlena
 * type with text and binary I/O that validate everything, and the aggregate
 * nb_merge(cdp.nb_model) combines models (hll-style), which is how per-shard
 * models are combined on Citus.
 *
 * src/scoring.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"
#include "common/int.h"
#include "access/detoast.h"
#include <ctype.h>
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cdp.h"

/* ------------------------------------------------------------------------
 * Engagement with decay
 * ------------------------------------------------------------------------
 */

#define ENG_N		0			/* events counted */
#define ENG_SUM		1			/* running sum */
#define ENG_COMP	2			/* Neumaier compensation */
#define ENG_HALF	3			/* half-life, seconds */
#define ENG_ASOF	4			/* as_of, microseconds since 2000 */
#define ENG_LEN		5

/*
 * The state array, checked: exactly five finite elements, no NULLs.  A state
 * typed in by hand (the functions are callable) cannot crash us.
 */
static float8 *
EngState(ArrayType *a)
{
	float8	   *v;

	if (ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != ENG_LEN || ARR_HASNULL(a) ||
		ARR_ELEMTYPE(a) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid engagement_score state"),
				 errdetail("The state is an array of five double precision values.")));
	v = (float8 *) ARR_DATA_PTR(a);
	for (int i = 0; i < ENG_LEN; i++)
		if (isnan(v[i]) || isinf(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid engagement_score state"),
					 errdetail("Element %d is not finite.", i + 1)));
	if (v[ENG_N] < 0 || v[ENG_N] != floor(v[ENG_N]) || (v[ENG_N] > 0 && v[ENG_HALF] <= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid engagement_score state")));
	return v;
}

/* Neumaier step: adds x to sum, keeping the lost low-order bits in comp */
static inline void
NeumaierAdd(float8 *sum, float8 *comp, float8 x)
{
	float8		t = *sum + x;

	if (fabs(*sum) >= fabs(x))
		*comp += (*sum - t) + x;
	else
		*comp += (x - t) + *sum;
	*sum = t;
}

/*
 * Half-life in seconds, converted as extract(epoch from ...) does (a year
 * is 365.25 days, a leftover month 30 days); must be positive.
 */
static float8
HalfLifeSeconds(Interval *iv)
{
	float8		s;

	s = (float8) iv->time / USECS_PER_SEC +
		((float8) DAYS_PER_YEAR * SECS_PER_DAY) * (iv->month / MONTHS_PER_YEAR) +
		((float8) DAYS_PER_MONTH * SECS_PER_DAY) * (iv->month % MONTHS_PER_YEAR) +
		((float8) SECS_PER_DAY) * iv->day;
	if (!(s > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("engagement half-life must be positive"),
				 errhint("Give an interval such as '30 days'.")));
	return s;
}

/*
 * Transition (STRICT: rows with a NULL argument are skipped).  The first
 * counted row fixes half_life and as_of; every row of a group must give the
 * same ones, else the sum would mean nothing.
 */
PG_FUNCTION_INFO_V1(cdp_engagement_accum);
Datum
cdp_engagement_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	float8		points = PG_GETARG_FLOAT8(1);
	TimestampTz occurred = PG_GETARG_TIMESTAMPTZ(2);
	float8		half = HalfLifeSeconds(PG_GETARG_INTERVAL_P(3));
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(4);
	float8	   *v;

	if (isnan(points) || isinf(points))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("engagement points must be finite")));
	if (TIMESTAMP_NOT_FINITE(occurred) || TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("engagement times must be finite")));
	if (!AggCheckCallContext(fcinfo, NULL))
		state = DatumGetArrayTypePCopy(PG_GETARG_DATUM(0));
	v = EngState(state);
	if (v[ENG_N] == 0 && v[ENG_HALF] == 0)
	{
		v[ENG_HALF] = half;
		v[ENG_ASOF] = (float8) as_of;
	}
	else if (v[ENG_HALF] != half || v[ENG_ASOF] != (float8) as_of)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("engagement_score needs the same half_life and as_of on every row of a group"),
				 errhint("Pass constants, or a value fixed per group.")));
	/* events after as_of have not happened yet as of that time */
	if (occurred <= as_of)
	{
		float8		age = (float8) (as_of - occurred) / USECS_PER_SEC;

		NeumaierAdd(&v[ENG_SUM], &v[ENG_COMP], points * exp2(-age / half));
		v[ENG_N] += 1;
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states of the same half_life and as_of */
PG_FUNCTION_INFO_V1(cdp_engagement_combine);
Datum
cdp_engagement_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	float8	   *va;
	float8	   *vb;

	if (!AggCheckCallContext(fcinfo, NULL))
		a = DatumGetArrayTypePCopy(PG_GETARG_DATUM(0));
	va = EngState(a);
	vb = EngState(b);
	if (vb[ENG_HALF] == 0)
		PG_RETURN_ARRAYTYPE_P(a);
	if (va[ENG_HALF] == 0)
	{
		memcpy(va, vb, sizeof(float8) * ENG_LEN);
		PG_RETURN_ARRAYTYPE_P(a);
	}
	if (va[ENG_HALF] != vb[ENG_HALF] || va[ENG_ASOF] != vb[ENG_ASOF])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("engagement_score needs the same half_life and as_of on every row of a group")));
	va[ENG_N] += vb[ENG_N];
	NeumaierAdd(&va[ENG_SUM], &va[ENG_COMP], vb[ENG_SUM]);
	NeumaierAdd(&va[ENG_SUM], &va[ENG_COMP], vb[ENG_COMP]);
	PG_RETURN_ARRAYTYPE_P(a);
}

/* Final: the compensated sum; 0 when no event counted */
PG_FUNCTION_INFO_V1(cdp_engagement_final);
Datum
cdp_engagement_final(PG_FUNCTION_ARGS)
{
	float8	   *v = EngState(PG_GETARG_ARRAYTYPE_P(0));

	PG_RETURN_FLOAT8(v[ENG_SUM] + v[ENG_COMP]);
}

/* ------------------------------------------------------------------------
 * Naive Bayes: the model
 * ------------------------------------------------------------------------
 */

#define NB_VERSION		1
#define NB_MAX_FEATURES 1000
#define NB_MAX_TOKEN	4096

/* Flat form, the cdp.nb_model datum: header, features, tokens, strings */
typedef struct NbModel
{
	int32		vl_len_;
	uint8		version;
	uint8		flags;			/* reserved, zero */
	uint16		nfeatures;
	uint32		ntokens;
	int64		won;			/* rows won */
	int64		lost;			/* rows lost */
	uint32		pool_len;		/* bytes of the string pool */
	uint32		reserved;		/* zero */
} NbModel;

typedef struct NbFeature
{
	uint32		name_off;
	uint32		name_len;
	uint32		first;			/* first token */
	uint32		ntokens;
	int64		won;			/* won rows having the feature */
	int64		lost;
} NbFeature;

typedef struct NbToken
{
	uint32		off;			/* value token: 'c' + category, or 'n' + bin */
	uint32		len;
	int64		won;
	int64		lost;
} NbToken;

#define NB_FEATURES(m)	((NbFeature *) ((char *) (m) + sizeof(NbModel)))
#define NB_TOKENS(m)	((NbToken *) (NB_FEATURES(m) + (m)->nfeatures))
#define NB_POOL(m)		((char *) (NB_TOKENS(m) + (m)->ntokens))
#define NB_SIZE(nf, nt, pool) (sizeof(NbModel) + (Size) (nf) * sizeof(NbFeature) + \
							   (Size) (nt) * sizeof(NbToken) + (pool))

/* In-memory training state: features by name, (feature, token) counts */
typedef struct NbKey
{
	uint32		feature;
	uint32		len;
	const char *token;
} NbKey;

typedef struct NbEntry
{
	NbKey		key;
	uint32		hash;
	char		status;
	int64		won;
	int64		lost;
} NbEntry;

static inline uint32
NbHash(NbKey k)
{
	return hash_combine(murmurhash32(k.feature), hash_bytes((const unsigned char *) k.token, k.len));
}

#define SH_PREFIX nbtab
#define SH_ELEMENT_TYPE NbEntry
#define SH_KEY_TYPE NbKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) NbHash(k)
#define SH_EQUAL(tb, a, b) ((a).feature == (b).feature && (a).len == (b).len && memcmp((a).token, (b).token, (a).len) == 0)
#define SH_GET_HASH(tb, a) (a)->hash
#define SH_STORE_HASH
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct NbState
{
	MemoryContext cxt;
	int64		won;
	int64		lost;
	int			nfeatures;
	char	  **names;			/* NB_MAX_FEATURES slots */
	int		   *name_lens;
	int64	   *fwon;			/* rows having the feature, per class */
	int64	   *flost;
	int64	   *seen_in_row;	/* row number that last had the feature */
	int64		rows;			/* rows seen by this state's transition */
	nbtab_hash *tab;
} NbState;

/* Byte order of names and tokens: bytes, then length */
static int
BytesCmp(const char *a, uint32 alen, const char *b, uint32 blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/* A fresh training state in the given (aggregate) context */
static NbState *
NbStateNew(MemoryContext cxt)
{
	NbState    *st = MemoryContextAllocZero(cxt, sizeof(NbState));

	st->cxt = cxt;
	st->names = MemoryContextAllocZero(cxt, sizeof(char *) * NB_MAX_FEATURES);
	st->name_lens = MemoryContextAllocZero(cxt, sizeof(int) * NB_MAX_FEATURES);
	st->fwon = MemoryContextAllocZero(cxt, sizeof(int64) * NB_MAX_FEATURES);
	st->flost = MemoryContextAllocZero(cxt, sizeof(int64) * NB_MAX_FEATURES);
	st->seen_in_row = MemoryContextAllocZero(cxt, sizeof(int64) * NB_MAX_FEATURES);
	st->tab = nbtab_create(cxt, 256, NULL);
	return st;
}

/* Index of a feature by name, created when new; hint = likely index */
static int
NbFeatureIndex(NbState *st, const char *name, int len, int hint)
{
	if (hint >= 0 && hint < st->nfeatures && st->name_lens[hint] == len &&
		memcmp(st->names[hint], name, len) == 0)
		return hint;
	for (int i = 0; i < st->nfeatures; i++)
		if (st->name_lens[i] == len && memcmp(st->names[i], name, len) == 0)
			return i;
	if (st->nfeatures >= NB_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a naive Bayes model holds at most %d features", NB_MAX_FEATURES)));
	st->names[st->nfeatures] = MemoryContextAlloc(st->cxt, len);
	memcpy(st->names[st->nfeatures], name, len);
	st->name_lens[st->nfeatures] = len;
	return st->nfeatures++;
}

/* Adds counts for one (feature, token) */
static void
NbCount(NbState *st, int feature, const char *token, uint32 len, int64 won, int64 lost)
{
	NbKey		key = {feature, len, token};
	bool		found;
	NbEntry    *e = nbtab_insert(st->tab, key, &found);

	if (!found)
	{
		char	   *copy = MemoryContextAlloc(st->cxt, len);

		memcpy(copy, token, len);
		e->key.token = copy;
		e->won = 0;
		e->lost = 0;
	}
	e->won += won;
	e->lost += lost;
}

/*
 * Splits one feature element into name and value ("name=value", else the
 * name is f<position>) and turns the value into a token: 'n' and the bin of
 * a plain decimal number, else 'c' and the category.  tok must hold
 * NB_MAX_TOKEN + 16 bytes.
 */
static void
NbElement(const char *el, int ellen, int position, const char **name, int *namelen,
		  char *namebuf, const char **value, int *valuelen, char *tok, uint32 *toklen)
{
	const char *eq = memchr(el, '=', ellen);
	const char *v;
	int			vlen;
	bool		numeric = true;
	bool		digit = false;

	if (eq)
	{
		*name = el;
		*namelen = eq - el;
		if (*namelen == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%.*s\" has an empty name", pg_mbcliplen(el, ellen, 64), el),
					 errhint("Write features as name=value, or as bare values named by position.")));
		v = eq + 1;
		vlen = ellen - *namelen - 1;
	}
	else
	{
		*namelen = snprintf(namebuf, 16, "f%d", position);
		*name = namebuf;
		v = el;
		vlen = ellen;
	}
	*value = v;
	*valuelen = vlen;
	if (vlen > NB_MAX_TOKEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("feature value longer than %d bytes", NB_MAX_TOKEN)));
	if (vlen == 0 || vlen > 64)
		numeric = false;
	for (int i = 0; numeric && i < vlen; i++)
	{
		char		c = v[i];

		if (c >= '0' && c <= '9')
			digit = true;
		else if (!(c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
			numeric = false;
	}
	if (numeric && digit)
	{
		char		buf[72];
		char	   *end;
		double		x;

		memcpy(buf, v, vlen);
		buf[vlen] = '\0';
		errno = 0;
		x = strtod(buf, &end);
		if (*end == '\0' && errno == 0 && !isinf(x) && !isnan(x))
		{
			int			k = (int) floor(2.0 * log2(1.0 + fabs(x)));
			int			pre = 1;

			/* "n<k>", or "n-<k>" for negative numbers */
			tok[0] = 'n';
			if (x < 0)
				tok[pre++] = '-';
			*toklen = pre + pg_ltoa(k, tok + pre);
			return;
		}
	}
	tok[0] = 'c';
	memcpy(tok + 1, v, vlen);
	*toklen = vlen + 1;
}

static int *sort_rank;			/* for NbEntryCmp: feature -> rank */

/* Token order within a feature, for the flat form */
static int
NbEntryCmp(const void *a, const void *b)
{
	const NbEntry *x = *(NbEntry *const *) a;
	const NbEntry *y = *(NbEntry *const *) b;

	int			fx = sort_rank[x->key.feature];
	int			fy = sort_rank[y->key.feature];

	if (fx != fy)
		return (fx > fy) - (fx < fy);
	return BytesCmp(x->key.token, x->key.len, y->key.token, y->key.len);
}

static NbState *sort_state;		/* for NbFeatureCmp */

static int
NbFeatureCmp(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return BytesCmp(sort_state->names[x], sort_state->name_lens[x],
					sort_state->names[y], sort_state->name_lens[y]);
}

/*
 * The flat model of a training state: features sorted by name, tokens by
 * bytes within each feature.
 */
static NbModel *
NbFlatten(NbState *st)
{
	int			nf = st->nfeatures;
	uint32		nt = st->tab->members;
	int		   *order = palloc(sizeof(int) * (nf + 1));
	int		   *rank = palloc(sizeof(int) * (nf + 1));
	NbEntry   **ents = palloc(sizeof(NbEntry *) * (nt + 1));
	nbtab_iterator it;
	NbEntry    *e;
	Size		pool = 0;
	uint32		i = 0;
	NbModel    *m;
	NbFeature  *f;
	NbToken    *t;
	char	   *p;
	uint32		off = 0;

	for (int k = 0; k < nf; k++)
	{
		order[k] = k;
		pool += st->name_lens[k];
	}
	sort_state = st;
	qsort(order, nf, sizeof(int), NbFeatureCmp);
	for (int k = 0; k < nf; k++)
		rank[order[k]] = k;

	nbtab_start_iterate(st->tab, &it);
	while ((e = nbtab_iterate(st->tab, &it)) != NULL)
	{
		ents[i++] = e;
		pool += e->key.len;
	}
	/* sort by feature rank, then token */
	sort_rank = rank;
	qsort(ents, nt, sizeof(NbEntry *), NbEntryCmp);

	if (NB_SIZE(nf, nt, pool) > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("naive Bayes model too large: %u distinct values", nt)));
	m = palloc0(NB_SIZE(nf, nt, pool));
	SET_VARSIZE(m, NB_SIZE(nf, nt, pool));
	m->version = NB_VERSION;
	m->nfeatures = nf;
	m->ntokens = nt;
	m->won = st->won;
	m->lost = st->lost;
	m->pool_len = pool;
	f = NB_FEATURES(m);
	t = NB_TOKENS(m);
	p = NB_POOL(m);
	for (int k = 0; k < nf; k++)
	{
		int			src = order[k];

		f[k].name_off = off;
		f[k].name_len = st->name_lens[src];
		memcpy(p + off, st->names[src], st->name_lens[src]);
		off += st->name_lens[src];
		f[k].won = st->fwon[src];
		f[k].lost = st->flost[src];
	}
	i = 0;
	for (int k = 0; k < nf; k++)
	{
		f[k].first = i;
		while (i < nt && rank[ents[i]->key.feature] == k)
		{
			t[i].off = off;
			t[i].len = ents[i]->key.len;
			memcpy(p + off, ents[i]->key.token, ents[i]->key.len);
			off += ents[i]->key.len;
			t[i].won = ents[i]->won;
			t[i].lost = ents[i]->lost;
			i++;
		}
		f[k].ntokens = i - f[k].first;
	}
	pfree(order);
	pfree(rank);
	pfree(ents);
	return m;
}

/* Adds a flat model's counts into a training state */
static void
NbLoad(NbState *st, const NbModel *m)
{
	const NbFeature *f = NB_FEATURES(m);
	const NbToken *t = NB_TOKENS(m);
	const char *p = NB_POOL(m);

	st->won += m->won;
	st->lost += m->lost;
	for (int k = 0; k < m->nfeatures; k++)
	{
		int			idx = NbFeatureIndex(st, p + f[k].name_off, f[k].name_len, -1);

		st->fwon[idx] += f[k].won;
		st->flost[idx] += f[k].lost;
		for (uint32 j = f[k].first; j < f[k].first + f[k].ntokens; j++)
			NbCount(st, idx, p + t[j].off, t[j].len, t[j].won, t[j].lost);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Raises the given SQLSTATE for a malformed model */
static void
pg_attribute_noreturn()
NbBad(int code, const char *detail)
{
	ereport(ERROR,
			(errcode(code),
			 errmsg("invalid cdp.nb_model value"),
			 errdetail("%s", detail),
			 errhint("Models come from cdp.nb_train or cdp.nb_merge; do not edit them by hand.")));
}

/*
 * Everything a flat model must satisfy; size is the datum's actual size.
 * Input, receive and deserial all end here.
 */
static void
NbCheck(const NbModel *m, Size size, int code)
{
	const NbFeature *f;
	const NbToken *t;
	const char *p;
	uint32		next = 0;

	if (size < sizeof(NbModel))
		NbBad(code, "Truncated header.");
	if (m->version != NB_VERSION)
		NbBad(code, psprintf("Unsupported format version %d; this build reads version %d.", m->version, NB_VERSION));
	if (m->flags != 0 || m->reserved != 0)
		NbBad(code, "Reserved fields are not zero.");
	if (m->nfeatures > NB_MAX_FEATURES)
		NbBad(code, "Too many features.");
	if ((Size) m->ntokens > size / sizeof(NbToken) || (Size) m->pool_len > size ||
		NB_SIZE(m->nfeatures, m->ntokens, m->pool_len) != size)
		NbBad(code, "Sizes do not match the length of the value.");
	if (m->won < 0 || m->lost < 0)
		NbBad(code, "Negative row counts.");
	f = NB_FEATURES(m);
	t = NB_TOKENS(m);
	p = NB_POOL(m);
	for (int k = 0; k < m->nfeatures; k++)
	{
		int64		won = 0,
					lost = 0;

		if (f[k].name_len == 0 || f[k].name_off > m->pool_len ||
			f[k].name_len > m->pool_len - f[k].name_off)
			NbBad(code, "A feature name lies outside the value.");
		if (memchr(p + f[k].name_off, '=', f[k].name_len) ||
			memchr(p + f[k].name_off, '\0', f[k].name_len) ||
			!pg_verify_mbstr(GetDatabaseEncoding(), p + f[k].name_off, f[k].name_len, true))
			NbBad(code, "A feature name is not valid text without \"=\".");
		if (k > 0 && BytesCmp(p + f[k - 1].name_off, f[k - 1].name_len,
							  p + f[k].name_off, f[k].name_len) >= 0)
			NbBad(code, "Feature names are not in strictly increasing order.");
		if (f[k].first != next || f[k].ntokens > m->ntokens - next)
			NbBad(code, "Feature value ranges are not contiguous.");
		if (f[k].won < 0 || f[k].lost < 0 || f[k].won > m->won || f[k].lost > m->lost)
			NbBad(code, "Feature row counts are out of range.");
		for (uint32 j = f[k].first; j < f[k].first + f[k].ntokens; j++)
		{
			const char *s = p + t[j].off;

			if (t[j].len < 2 || t[j].off > m->pool_len || t[j].len > m->pool_len - t[j].off)
			{
				/* a category may be empty: 'c' alone */
				if (!(t[j].len == 1 && t[j].off < m->pool_len && s[0] == 'c'))
					NbBad(code, "A value lies outside the value.");
			}
			if (s[0] == 'n')
			{
				int			i = 1;

				if (i < (int) t[j].len && s[i] == '-')
					i++;
				if (i == (int) t[j].len || t[j].len > 12)
					NbBad(code, "A numeric bin is malformed.");
				for (; i < (int) t[j].len; i++)
					if (s[i] < '0' || s[i] > '9')
						NbBad(code, "A numeric bin is malformed.");
			}
			else if (s[0] != 'c' || memchr(s, '\0', t[j].len) ||
					 !pg_verify_mbstr(GetDatabaseEncoding(), s + 1, t[j].len - 1, true))
				NbBad(code, "A category is not valid text.");
			if (t[j].won < 0 || t[j].lost < 0 || (t[j].won == 0 && t[j].lost == 0))
				NbBad(code, "Value counts are out of range.");
			if (j > f[k].first && BytesCmp(p + t[j - 1].off, t[j - 1].len, s, t[j].len) >= 0)
				NbBad(code, "Values are not in strictly increasing order.");
			if (pg_add_s64_overflow(won, t[j].won, &won) || pg_add_s64_overflow(lost, t[j].lost, &lost))
				NbBad(code, "Value counts overflow.");
		}
		if (won != f[k].won || lost != f[k].lost)
			NbBad(code, "Value counts do not add up to the feature's row counts.");
		next += f[k].ntokens;
	}
	if (next != m->ntokens)
		NbBad(code, "Values belong to no feature.");
}

/* Writes a flat model as the portable (network byte order) stream */
static void
NbWrite(StringInfo buf, const NbModel *m)
{
	const NbFeature *f = NB_FEATURES(m);
	const NbToken *t = NB_TOKENS(m);

	pq_sendbyte(buf, m->version);
	pq_sendbyte(buf, m->flags);
	pq_sendint16(buf, m->nfeatures);
	pq_sendint32(buf, m->ntokens);
	pq_sendint64(buf, m->won);
	pq_sendint64(buf, m->lost);
	pq_sendint32(buf, m->pool_len);
	pq_sendint32(buf, m->reserved);
	for (int k = 0; k < m->nfeatures; k++)
	{
		pq_sendint32(buf, f[k].name_off);
		pq_sendint32(buf, f[k].name_len);
		pq_sendint32(buf, f[k].first);
		pq_sendint32(buf, f[k].ntokens);
		pq_sendint64(buf, f[k].won);
		pq_sendint64(buf, f[k].lost);
	}
	for (uint32 j = 0; j < m->ntokens; j++)
	{
		pq_sendint32(buf, t[j].off);
		pq_sendint32(buf, t[j].len);
		pq_sendint64(buf, t[j].won);
		pq_sendint64(buf, t[j].lost);
	}
	pq_sendbytes(buf, NB_POOL(m), m->pool_len);
}

/* Reads the portable stream back, checking every field */
static NbModel *
NbRead(StringInfo buf, int code)
{
	NbModel		h;
	NbModel    *m;
	NbFeature  *f;
	NbToken    *t;
	Size		remaining;

#define NEED(n) do { if ((Size) (buf->len - buf->cursor) < (Size) (n)) NbBad(code, "Truncated value."); } while (0)
	NEED(32);
	memset(&h, 0, sizeof(h));
	h.version = pq_getmsgbyte(buf);
	if (h.version != NB_VERSION)
		NbBad(code, psprintf("Unsupported format version %d; this build reads version %d.", h.version, NB_VERSION));
	h.flags = pq_getmsgbyte(buf);
	h.nfeatures = pq_getmsgint(buf, 2);
	h.ntokens = pq_getmsgint(buf, 4);
	h.won = pq_getmsgint64(buf);
	h.lost = pq_getmsgint64(buf);
	h.pool_len = pq_getmsgint(buf, 4);
	h.reserved = pq_getmsgint(buf, 4);
	remaining = buf->len - buf->cursor;
	if (h.nfeatures > NB_MAX_FEATURES || (Size) h.ntokens > remaining / 24 ||
		(Size) h.pool_len > remaining ||
		(Size) h.nfeatures * 32 + (Size) h.ntokens * 24 + h.pool_len != remaining)
		NbBad(code, "Sizes do not match the length of the value.");
	m = palloc0(NB_SIZE(h.nfeatures, h.ntokens, h.pool_len));
	memcpy(m, &h, sizeof(h));
	SET_VARSIZE(m, NB_SIZE(h.nfeatures, h.ntokens, h.pool_len));
	f = NB_FEATURES(m);
	t = NB_TOKENS(m);
	for (int k = 0; k < m->nfeatures; k++)
	{
		f[k].name_off = pq_getmsgint(buf, 4);
		f[k].name_len = pq_getmsgint(buf, 4);
		f[k].first = pq_getmsgint(buf, 4);
		f[k].ntokens = pq_getmsgint(buf, 4);
		f[k].won = pq_getmsgint64(buf);
		f[k].lost = pq_getmsgint64(buf);
	}
	for (uint32 j = 0; j < m->ntokens; j++)
	{
		t[j].off = pq_getmsgint(buf, 4);
		t[j].len = pq_getmsgint(buf, 4);
		t[j].won = pq_getmsgint64(buf);
		t[j].lost = pq_getmsgint64(buf);
	}
	memcpy(NB_POOL(m), pq_getmsgbytes(buf, m->pool_len), m->pool_len);
	NbCheck(m, VARSIZE(m), code);
	return m;
#undef NEED
}

/*
 * Text form: the portable stream in hex, so a model survives pg_dump and
 * travels between Citus nodes; input checks it as strictly as receive.
 */
PG_FUNCTION_INFO_V1(cdp_nb_model_in);
Datum
cdp_nb_model_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	size_t		len = strlen(str);
	StringInfoData buf;

	if (len % 2 != 0 || len < 2)
		NbBad(ERRCODE_INVALID_TEXT_REPRESENTATION, "The text form is an even number of hexadecimal digits.");
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char) str[i]))
			NbBad(ERRCODE_INVALID_TEXT_REPRESENTATION, "The text form is an even number of hexadecimal digits.");
	initStringInfo(&buf);
	enlargeStringInfo(&buf, len / 2 + 1);
	buf.len = hex_decode(str, len, buf.data);
	buf.data[buf.len] = '\0';
	PG_RETURN_POINTER(NbRead(&buf, ERRCODE_INVALID_TEXT_REPRESENTATION));
}

PG_FUNCTION_INFO_V1(cdp_nb_model_out);
Datum
cdp_nb_model_out(PG_FUNCTION_ARGS)
{
	NbModel    *m = (NbModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;
	char	   *out;

	initStringInfo(&buf);
	NbWrite(&buf, m);
	out = palloc((Size) buf.len * 2 + 1);
	out[hex_encode(buf.data, buf.len, out)] = '\0';
	PG_RETURN_CSTRING(out);
}

PG_FUNCTION_INFO_V1(cdp_nb_model_recv);
Datum
cdp_nb_model_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(NbRead((StringInfo) PG_GETARG_POINTER(0), ERRCODE_INVALID_BINARY_REPRESENTATION));
}

PG_FUNCTION_INFO_V1(cdp_nb_model_send);
Datum
cdp_nb_model_send(PG_FUNCTION_ARGS)
{
	NbModel    *m = (NbModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	NbWrite(&buf, m);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ------------------------------------------------------------------------
 * Naive Bayes: aggregates
 * ------------------------------------------------------------------------
 */

static MemoryContext
NbAggContext(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "%s called in non-aggregate context", fn);
	return cxt;
}

/*
 * nb_train transition: one labelled row.  Rows with a NULL label are
 * skipped; a NULL features array is a row with no features (it still counts
 * for the prior).
 */
PG_FUNCTION_INFO_V1(cdp_nb_train_trans);
Datum
cdp_nb_train_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = NbAggContext(fcinfo, "nb_train_trans");
	NbState    *st = PG_ARGISNULL(0) ? NULL : (NbState *) PG_GETARG_POINTER(0);
	bool		won;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(2))
	{
		/* an unlabelled first row: the state stays SQL NULL, not a NULL pointer */
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (st == NULL)
		st = NbStateNew(cxt);
	won = PG_GETARG_BOOL(2);
	if (won)
		st->won++;
	else
		st->lost++;
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional array")));
	st->rows++;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		text	   *el;
		const char *name;
		int			namelen;
		char		namebuf[16];
		const char *value;
		int			valuelen;
		char		tok[NB_MAX_TOKEN + 16];
		uint32		toklen;
		int			idx;

		if (nulls[i])
			continue;
		el = DatumGetTextPP(elems[i]);
		NbElement(VARDATA_ANY(el), VARSIZE_ANY_EXHDR(el), i + 1, &name, &namelen, namebuf,
				  &value, &valuelen, tok, &toklen);
		idx = NbFeatureIndex(st, name, namelen, i);
		/* one value per feature and row */
		if (st->seen_in_row[idx] == st->rows)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%.*s\" appears twice in one row", namelen, name)));
		st->seen_in_row[idx] = st->rows;
		if (won)
			st->fwon[idx]++;
		else
			st->flost[idx]++;
		NbCount(st, idx, tok, toklen, won ? 1 : 0, won ? 0 : 1);
	}
	PG_RETURN_POINTER(st);
}

/* nb_merge transition: adds a whole model (NULL models are skipped) */
PG_FUNCTION_INFO_V1(cdp_nb_merge_trans);
Datum
cdp_nb_merge_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = NbAggContext(fcinfo, "nb_merge_trans");
	NbState    *st = PG_ARGISNULL(0) ? NULL : (NbState *) PG_GETARG_POINTER(0);
	MemoryContext old;

	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (st == NULL)
		st = NbStateNew(cxt);
	old = MemoryContextSwitchTo(cxt);
	NbLoad(st, (NbModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1)));
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/* Combine: folds the second state into the first */
PG_FUNCTION_INFO_V1(cdp_nb_combine);
Datum
cdp_nb_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = NbAggContext(fcinfo, "nb_combine");
	NbState    *a = PG_ARGISNULL(0) ? NULL : (NbState *) PG_GETARG_POINTER(0);
	NbState    *b = PG_ARGISNULL(1) ? NULL : (NbState *) PG_GETARG_POINTER(1);
	nbtab_iterator it;
	NbEntry    *e;
	int		   *map;

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = NbStateNew(cxt);
	a->won += b->won;
	a->lost += b->lost;
	map = palloc(sizeof(int) * (b->nfeatures + 1));
	for (int k = 0; k < b->nfeatures; k++)
	{
		map[k] = NbFeatureIndex(a, b->names[k], b->name_lens[k], k);
		a->fwon[map[k]] += b->fwon[k];
		a->flost[map[k]] += b->flost[k];
	}
	nbtab_start_iterate(b->tab, &it);
	while ((e = nbtab_iterate(b->tab, &it)) != NULL)
		NbCount(a, map[e->key.feature], e->key.token, e->key.len, e->won, e->lost);
	pfree(map);
	PG_RETURN_POINTER(a);
}

/* Serial: the flat model, the same bytes as a cdp.nb_model datum */
PG_FUNCTION_INFO_V1(cdp_nb_serial);
Datum
cdp_nb_serial(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P((bytea *) NbFlatten((NbState *) PG_GETARG_POINTER(0)));
}

/* Deserial: checks the bytes as strictly as receive, then loads them */
PG_FUNCTION_INFO_V1(cdp_nb_deserial);
Datum
cdp_nb_deserial(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = NbAggContext(fcinfo, "nb_deserial");
	bytea	   *b = PG_GETARG_BYTEA_P(0);
	NbModel    *m;
	NbState    *st;
	MemoryContext old;

	/* an aligned copy with a 4-byte header */
	m = palloc(VARSIZE(b));
	memcpy(m, b, VARSIZE(b));
	NbCheck(m, VARSIZE(m), ERRCODE_INVALID_BINARY_REPRESENTATION);
	st = NbStateNew(cxt);
	old = MemoryContextSwitchTo(cxt);
	NbLoad(st, m);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/* Final: the flat model; NULL when no row was labelled */
PG_FUNCTION_INFO_V1(cdp_nb_final);
Datum
cdp_nb_final(PG_FUNCTION_ARGS)
{
	NbAggContext(fcinfo, "nb_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(NbFlatten((NbState *) PG_GETARG_POINTER(0)));
}

/* ------------------------------------------------------------------------
 * Naive Bayes: prediction
 * ------------------------------------------------------------------------
 */

/*
 * The model argument, detoasted once per call site while the same value
 * keeps coming: a model joined from cdp.win_model arrives on every row as
 * the same toast pointer, or the same compressed bytes, and decompressing
 * it per row would cost more than the prediction.  The raw (still toasted)
 * bytes are kept and compared; an uncompressed inline value needs no work.
 */
typedef struct NbCache
{
	struct varlena *raw;		/* copy of the toasted datum */
	NbModel    *model;			/* its detoasted form */
} NbCache;

static NbModel *
NbArgModel(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	NbCache    *c = (NbCache *) fcinfo->flinfo->fn_extra;
	Size		rawsize;
	MemoryContext old;

	if (!VARATT_IS_EXTENDED(raw))
		return (NbModel *) raw;
	rawsize = VARSIZE_ANY(raw);
	if (c && c->raw && VARSIZE_ANY(c->raw) == rawsize && memcmp(c->raw, raw, rawsize) == 0)
		return c->model;
	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(NbCache));
		fcinfo->flinfo->fn_extra = c;
	}
	if (c->raw)
	{
		pfree(c->raw);
		pfree(c->model);
		c->raw = NULL;
	}
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	c->model = (NbModel *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(argno));
	c->raw = palloc(rawsize);
	memcpy(c->raw, raw, rawsize);
	MemoryContextSwitchTo(old);
	return c->model;
}

/* Feature by name in a flat model, or -1 */
static int
NbFindFeature(const NbModel *m, const char *name, int len)
{
	const NbFeature *f = NB_FEATURES(m);
	const char *p = NB_POOL(m);
	int			lo = 0,
				hi = m->nfeatures - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = BytesCmp(p + f[mid].name_off, f[mid].name_len, name, len);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Token of a feature, or NULL when the model never saw it */
static const NbToken *
NbFindToken(const NbModel *m, const NbFeature *f, const char *tok, uint32 len)
{
	const NbToken *t = NB_TOKENS(m) + f->first;
	const char *p = NB_POOL(m);
	int			lo = 0,
				hi = (int) f->ntokens - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = BytesCmp(p + t[mid].off, t[mid].len, tok, len);

		if (c == 0)
			return &t[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* The prior log-odds */
static float8
NbPrior(const NbModel *m)
{
	return log((m->won + 1.0) / (m->lost + 1.0));
}

/*
 * Contribution of one element (ln P(v|won) - ln P(v|lost), smoothed); 0 for
 * a feature the model does not know.  label, when given, gets name=value.
 */
static float8
NbContribution(const NbModel *m, text *el, int position, StringInfo label)
{
	const char *name;
	int			namelen;
	char		namebuf[16];
	const char *value;
	int			valuelen;
	char		tok[NB_MAX_TOKEN + 16];
	uint32		toklen;
	int			k;
	const NbFeature *f;
	const NbToken *t;
	float8		vw,
				vl;

	NbElement(VARDATA_ANY(el), VARSIZE_ANY_EXHDR(el), position, &name, &namelen, namebuf,
			  &value, &valuelen, tok, &toklen);
	if (label)
		appendStringInfo(label, "%.*s=%.*s", namelen, name, valuelen, value);
	k = NbFindFeature(m, name, namelen);
	if (k < 0)
		return 0;
	f = NB_FEATURES(m) + k;
	t = NbFindToken(m, f, tok, toklen);
	vw = (t ? t->won : 0) + 1.0;
	vl = (t ? t->lost : 0) + 1.0;
	/* ln P(v|won) - ln P(v|lost), with one logarithm */
	return log((vw * (f->lost + f->ntokens + 1.0)) / (vl * (f->won + f->ntokens + 1.0)));
}

static void
NbCheckArray(ArrayType *arr)
{
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional array")));
}

/* cdp.nb_predict(model, features): probability of winning, 0..1 */
PG_FUNCTION_INFO_V1(cdp_nb_predict);
Datum
cdp_nb_predict(PG_FUNCTION_ARGS)
{
	NbModel    *m = NbArgModel(fcinfo, 0);
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	float8		lo;

	NbCheckArray(arr);
	lo = NbPrior(m);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			lo += NbContribution(m, DatumGetTextPP(elems[i]), i + 1, NULL);
	PG_RETURN_FLOAT8(1.0 / (1.0 + exp(-lo)));
}

/*
 * cdp.nb_explain(model, features): the prior, then one row per non-NULL
 * element in input order; the contributions add up to the log-odds whose
 * logistic nb_predict returns.
 */
PG_FUNCTION_INFO_V1(cdp_nb_explain);
Datum
cdp_nb_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	NbModel    *m = (NbModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Datum		values[2];
	bool		isnull[2] = {false, false};
	StringInfoData label;

	NbCheckArray(arr);
	InitMaterializedSRF(fcinfo, 0);
	values[0] = CStringGetTextDatum("(prior)");
	values[1] = Float8GetDatum(NbPrior(m));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	initStringInfo(&label);
	for (int i = 0; i < n; i++)
	{
		float8		c;

		if (nulls[i])
			continue;
		resetStringInfo(&label);
		c = NbContribution(m, DatumGetTextPP(elems[i]), i + 1, &label);
		values[0] = CStringGetTextDatum(label.data);
		values[1] = Float8GetDatum(c);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	return (Datum) 0;
}

/*
 * cdp.nb_model_info(model): the counts as jsonb-ready text, for people: rows
 * won and lost, and per feature its rows and number of distinct values.
 */
PG_FUNCTION_INFO_V1(cdp_nb_model_info);
Datum
cdp_nb_model_info(PG_FUNCTION_ARGS)
{
	NbModel    *m = (NbModel *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	const NbFeature *f = NB_FEATURES(m);
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"version\": %d, \"won\": " INT64_FORMAT ", \"lost\": " INT64_FORMAT ", \"features\": {",
					 m->version, m->won, m->lost);
	for (int k = 0; k < m->nfeatures; k++)
	{
		if (k)
			appendStringInfoString(&s, ", ");
		escape_json(&s, pnstrdup(NB_POOL(m) + f[k].name_off, f[k].name_len));
		appendStringInfo(&s, ": {\"won\": " INT64_FORMAT ", \"lost\": " INT64_FORMAT ", \"values\": %u}",
						 f[k].won, f[k].lost, f[k].ntokens);
	}
	appendStringInfoString(&s, "}}");
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data));
}
