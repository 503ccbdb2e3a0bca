/*-------------------------------------------------------------------------
 *
 * funnel.c
 *	  Funnel aggregates: cdp.window_funnel, cdp.funnel_path, cdp.funnel_counts
 *	  and cdp.retention.
 *
 * window_funnel and funnel_path share one transition state, the varlena type
 * cdp.funnel_state: the funnel's parameters (number of steps, window, modes)
 * and one compact event per input row (timestamp plus a bitmask of the
 * steps the row satisfies), nothing else.  Being a real type rather than
 * "internal", the state travels between parallel workers as it is and
 * between Citus nodes through its text output and input functions, which
 * check every field.  While aggregating, the state is an expanded object
 * (FunnelExpanded) that the transition function changes in place, so the
 * executor never copies it and a group costs its own events plus a
 * 120-byte header; it is flattened into cdp.funnel_state only when it
 * leaves the aggregate.  States remember whether their events arrived in
 * time order, and the combine function merges two such states.
 *
 * The final functions sort the events once (unless they are known to be
 * in order) and scan them once.  The scan
 * follows every chain at the same time, but keeps only one chain per level:
 * two chains at the same level behave identically from then on, except that
 * the one that started later stays inside its window longer, so it is the
 * only one worth keeping.  That makes the scan O(events x steps) with a
 * state of 32 timestamps.  funnel_path then replays the winning chain alone
 * to recover the time of each of its steps.
 *
 * funnel_counts keeps its state in a bigint[] and retention in a bigint
 * bitmask, both ordinary types for the same reason.
 *
 * The semantics (what a chain is, ties, modes) are documented in README.md,
 * section "Funnels".
 *
 * src/funnel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/expandeddatum.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cdp.h"

/* most steps a funnel may have: one bit each in a uint32 */
#define FUNNEL_MAX_STEPS 32

/* modes, stored in FunnelState.flags */
#define FUNNEL_STRICT_ORDER			0x01
#define FUNNEL_STRICT_DEDUPLICATION	0x02
#define FUNNEL_STRICT_INCREASE		0x04
#define FUNNEL_ALL_MODES			0x07

/* version of the state format; bumped if the layout ever changes */
#define FUNNEL_STATE_VERSION 1

/* wire format: version, flags, nsteps, reserved, window, nevents; events */
#define FUNNEL_WIRE_HEADER (4 + 8 + 4)
#define FUNNEL_WIRE_EVENT (8 + 4)

/* first allocation of a new state, in bytes (room for 3 events) */
#define FUNNEL_INITIAL_SIZE 64

/*
 * One input row: when it happened and which steps it satisfies (bit k-1 for
 * step k).  A row that satisfies no step is kept only under strict_order,
 * where it breaks chains.
 */
typedef struct pg_attribute_packed() FunnelEvent
{
	int64		ts;
	uint32		mask;
} FunnelEvent;

/*
 * The transition state of window_funnel and funnel_path (SQL type
 * cdp.funnel_state).  In memory the event array may have spare capacity
 * beyond nevents (zeroed); the send and output functions write only the
 * events in use.  Allocations are powers of two, which is what the
 * allocator hands out anyway, so the spare room costs nothing extra.
 */
typedef struct FunnelState
{
	int32		vl_len_;		/* varlena header */
	uint8		version;		/* FUNNEL_STATE_VERSION */
	uint8		flags;			/* FUNNEL_STRICT_* */
	uint8		nsteps;			/* 1 .. FUNNEL_MAX_STEPS */
	uint8		reserved;		/* always zero, for future formats */
	int32		nevents;		/* events in use */
	int32		capacity;		/* events allocated */
	int64		window;			/* microseconds, >= 0 */
	FunnelEvent events[FLEXIBLE_ARRAY_MEMBER];
} FunnelState;

#define FUNNEL_STATE_SIZE(n) (offsetof(FunnelState, events) + (Size) (n) * sizeof(FunnelEvent))
#define FUNNEL_MAX_EVENTS ((int32) ((MaxAllocSize - offsetof(FunnelState, events)) / sizeof(FunnelEvent)))

/* mask with one bit per step of an n-step funnel */
#define FUNNEL_ALL_STEPS(n) ((uint32) (((uint64) 1 << (n)) - 1))

/* what the scan found: the level reached and the chain that reached it */
typedef struct FunnelResult
{
	int			level;			/* 0 .. nsteps */
	int64		start;			/* step-1 time of the best chain */
} FunnelResult;

/*
 * A state while it is an aggregate's transition value: an expanded object
 * (utils/expandeddatum.h) whose flat form is FunnelState.  The executor
 * keeps a read-write pointer to it and, as long as the transition function
 * returns that same pointer, never copies it: growing the event array does
 * not move the state.  The header is allocated in the aggregate context
 * itself, where hash aggregation has just put the group's key and
 * per-group data, so reading it costs no extra cache miss; the event array
 * lives in the "cdp funnel events" child of that context, which is also the
 * object's eoh_context (the executor adopts an expanded transition value
 * only when its eoh_context is a child of the aggregate context).  A new
 * event goes first to a small staging area in the header, next to the
 * fields every row reads, and from there to the array a few at a time: a
 * store to a cache line that is not in the cache stalls the stores after
 * it, so one such store per few rows instead of one per row.  Nothing ever
 * deletes the object on its own: the context is shared by all the groups,
 * and goes away with the aggregate context.
 */
#define FUNNEL_STAGED_EVENTS 3

typedef struct FunnelExpanded
{
	ExpandedObjectHeader hdr;
	/* read by every row */
	uint8		nstaged;		/* events in staged, after those in events */
	uint8		flags;			/* FUNNEL_STRICT_* */
	uint8		nsteps;			/* 1 .. FUNNEL_MAX_STEPS */
	bool		sorted;			/* events in time order */
	int32		nevents;		/* events in the array */
	int64		window;			/* microseconds, >= 0 */
	int64		last_ts;		/* time of the last event, while sorted */
	FunnelEvent staged[FUNNEL_STAGED_EVENTS];
	/* read every few rows */
	int32		capacity;		/* events allocated at events */
	FunnelEvent *events;		/* array in eoh_context, NULL while capacity is 0 */
} FunnelExpanded;

/*
 * Read-only view of the events of a state, flat or expanded, for the
 * combine, final and scan functions.
 */
typedef struct FunnelView
{
	const FunnelEvent *events;
	int32		nevents;
	int			nsteps;
	uint8		flags;
	int64		window;
	bool		sorted;			/* known to be in time order */
} FunnelView;

/*
 * Per-call-site cache (fn_extra): the parsed mode argument, and the events
 * context of the aggregate context last seen.
 */
typedef struct FunnelCallCache
{
	text	   *mode;			/* copy of the mode argument last parsed */
	uint8		flags;
	MemoryContext aggcontext;	/* aggregate context last seen ... */
	MemoryContext events;		/* ... and its "cdp funnel events" child */
} FunnelCallCache;

/* forgets a FunnelCallCache's events context when the context goes */
typedef struct FunnelContextWatch
{
	MemoryContextCallback cb;
	FunnelCallCache *cache;
	MemoryContext events;
} FunnelContextWatch;

/* name of the events contexts, by which they are found */
#define FUNNEL_EVENTS_CONTEXT "cdp funnel events"

/* sort events by time: lib/sort_template.h specialised for FunnelEvent */
#define ST_SORT funnel_sort_events
#define ST_ELEMENT_TYPE FunnelEvent
#define ST_COMPARE(a, b) ((a)->ts < (b)->ts ? -1 : ((a)->ts > (b)->ts ? 1 : 0))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * The window as a fixed duration in microseconds, the way interval
 * comparison measures it (a month is 30 days, a day 24 hours), so that the
 * answer does not depend on the time zone or the calendar.
 */
static int64
FunnelWindow(Interval *window)
{
	int128		usec;

	usec = (int128) window->time
		+ (int128) window->day * USECS_PER_DAY
		+ (int128) window->month * DAYS_PER_MONTH * USECS_PER_DAY;
	if (usec < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel window must not be negative"),
				 errhint("Give the longest time allowed between the first and the last step, such as interval '30 days'.")));
	if (usec > PG_INT64_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INTERVAL_FIELD_OVERFLOW),
				 errmsg("funnel window is out of range")));
	return (int64) usec;
}

/*
 * Parse a mode list such as 'strict_order, strict_increase' into flags.
 * An empty string means no mode.
 */
static uint8
FunnelParseModes(text *mode)
{
	char	   *str = text_to_cstring(mode);
	char	   *p = str;
	uint8		flags = 0;

	for (;;)
	{
		char	   *start;
		char	   *end;
		char	   *comma;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		comma = strchr(p, ',');
		end = comma ? comma : p + strlen(p);
		start = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
			end--;
		if (end == start)
		{
			/* '' and '  ' mean no mode; an empty item in a list is a mistake */
			if (comma == NULL && flags == 0 && p == str + strspn(str, " \t\n"))
				break;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("empty funnel mode in \"%s\"", str),
					 errhint("Separate the modes strict_order, strict_deduplication and strict_increase with single commas.")));
		}
		if (end - start == 12 && pg_strncasecmp(start, "strict_order", 12) == 0)
			flags |= FUNNEL_STRICT_ORDER;
		else if (end - start == 20 && pg_strncasecmp(start, "strict_deduplication", 20) == 0)
			flags |= FUNNEL_STRICT_DEDUPLICATION;
		else if (end - start == 15 && pg_strncasecmp(start, "strict_increase", 15) == 0)
			flags |= FUNNEL_STRICT_INCREASE;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown funnel mode \"%.*s\"", (int) (end - start), start),
					 errhint("The modes are strict_order, strict_deduplication and strict_increase, separated by commas.")));
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	pfree(str);
	return flags;
}

/*
 * The step bitmask of one row from its VARIADIC boolean[] argument; sets
 * *nsteps.  NULL elements count as false.
 */
static uint32
FunnelStepMask(ArrayType *steps, int *nsteps, const char *what)
{
	int			n;
	bool	   *data;
	bits8	   *nulls;
	uint32		mask = 0;

	if (ARR_ELEMTYPE(steps) != BOOLOID)
		elog(ERROR, "%s: steps array has element type %u, not boolean", what, ARR_ELEMTYPE(steps));
	if (ARR_NDIM(steps) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s steps must be a one-dimensional array", what)));
	n = ARR_NDIM(steps) == 0 ? 0 : ARR_DIMS(steps)[0];
	if (n < 1 || n > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s takes 1 to %d steps, not %d", what, FUNNEL_MAX_STEPS, n),
				 errhint("Split a longer funnel into several, or combine conditions into one step.")));
	data = (bool *) ARR_DATA_PTR(steps);
	nulls = ARR_NULLBITMAP(steps);
	if (nulls == NULL)
	{
		for (int i = 0; i < n; i++)
			if (data[i])
				mask |= (uint32) 1 << i;
	}
	else
	{
		/* NULL elements take no space in the data area */
		int			k = 0;

		for (int i = 0; i < n; i++)
		{
			if ((nulls[i / 8] & (1 << (i % 8))) == 0)
				continue;
			if (data[k++])
				mask |= (uint32) 1 << i;
		}
	}
	*nsteps = n;
	return mask;
}

/*
 * A new, empty state with room for at least capacity events, in the current
 * memory context (the caller returns it and the executor copies it into the
 * aggregate context).
 */
static FunnelState *
FunnelStateCreate(int nsteps, int64 window, uint8 flags, int32 capacity)
{
	Size		size = FUNNEL_STATE_SIZE(capacity);
	FunnelState *st;

	/* round up to the allocator's chunk size and use all of it */
	if (size <= ALLOCSET_SEPARATE_THRESHOLD)
	{
		size = Max(pg_nextpower2_64(size), FUNNEL_INITIAL_SIZE);
		capacity = (int32) ((size - offsetof(FunnelState, events)) / sizeof(FunnelEvent));
		size = FUNNEL_STATE_SIZE(capacity);
	}
	st = palloc0(size);
	SET_VARSIZE(st, size);
	st->version = FUNNEL_STATE_VERSION;
	st->flags = flags;
	st->nsteps = (uint8) nsteps;
	st->nevents = 0;
	st->capacity = capacity;
	st->window = window;
	return st;
}

/* the same funnel parameters in every row and every partial state */
static void
FunnelCheckSame(int nsteps_a, int64 window_a, uint8 flags_a, int nsteps, int64 window, uint8 flags)
{
	if (nsteps_a != nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel has %d steps in one row and %d in another", nsteps_a, nsteps),
				 errhint("Every row of a group must give the same number of steps.")));
	if (window_a != window)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel window differs between rows of a group"),
				 errhint("Use one window for the whole group, usually a constant.")));
	if (flags_a != flags)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel mode differs between rows of a group"),
				 errhint("Use one mode for the whole group, usually a constant.")));
}

/* whether events are in time order */
static bool
FunnelEventsSorted(const FunnelEvent *events, int32 nevents)
{
	for (int32 i = 1; i < nevents; i++)
		if (events[i].ts < events[i - 1].ts)
			return false;
	return true;
}

/* the fn_extra cache of a call site, created on first use */
static FunnelCallCache *
FunnelCache(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FunnelCallCache));
	return (FunnelCallCache *) fcinfo->flinfo->fn_extra;
}

/* memory context callback: the cached events context is being deleted */
static void
FunnelEventsContextGone(void *arg)
{
	FunnelContextWatch *watch = (FunnelContextWatch *) arg;

	if (watch->cache->events == watch->events)
	{
		watch->cache->events = NULL;
		watch->cache->aggcontext = NULL;
	}
}

/*
 * The "cdp funnel events" child of aggcontext, created if there is none
 * yet: it holds the event arrays of all the groups, and is the
 * eoh_context of their expanded states.  Cached per call site, and
 * forgotten through a callback when the aggregate context is reset.
 */
static MemoryContext
FunnelEventsContext(FunctionCallInfo fcinfo, MemoryContext aggcontext)
{
	FunnelCallCache *cache = FunnelCache(fcinfo);
	MemoryContext events = NULL;
	FunnelContextWatch *watch;

	if (cache->aggcontext == aggcontext && cache->events != NULL)
		return cache->events;
	for (MemoryContext c = aggcontext->firstchild; c != NULL; c = c->nextchild)
	{
		if (strcmp(c->name, FUNNEL_EVENTS_CONTEXT) == 0)
		{
			events = c;
			break;
		}
	}
	if (events == NULL)
		events = AllocSetContextCreate(aggcontext, FUNNEL_EVENTS_CONTEXT, ALLOCSET_DEFAULT_SIZES);
	watch = MemoryContextAlloc(events, sizeof(FunnelContextWatch));
	watch->cache = cache;
	watch->events = events;
	watch->cb.func = FunnelEventsContextGone;
	watch->cb.arg = watch;
	MemoryContextRegisterResetCallback(events, &watch->cb);
	cache->aggcontext = aggcontext;
	cache->events = events;
	return events;
}

/* flat size of an expanded state: only the events in use */
static Size
FunnelExpandedFlatSize(ExpandedObjectHeader *eohptr)
{
	FunnelExpanded *fe = (FunnelExpanded *) eohptr;

	return FUNNEL_STATE_SIZE(fe->nevents + fe->nstaged);
}

/* write the flat form (FunnelState) of an expanded state */
static void
FunnelExpandedFlatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	FunnelExpanded *fe = (FunnelExpanded *) eohptr;
	FunnelState *st = (FunnelState *) result;

	Assert(allocated_size == FUNNEL_STATE_SIZE(fe->nevents + fe->nstaged));
	memset(st, 0, offsetof(FunnelState, events));
	SET_VARSIZE(st, allocated_size);
	st->version = FUNNEL_STATE_VERSION;
	st->flags = fe->flags;
	st->nsteps = fe->nsteps;
	st->nevents = fe->nevents + fe->nstaged;
	st->capacity = st->nevents;
	st->window = fe->window;
	if (fe->nevents > 0)
		memcpy(st->events, fe->events, (Size) fe->nevents * sizeof(FunnelEvent));
	memcpy(st->events + fe->nevents, fe->staged, (Size) fe->nstaged * sizeof(FunnelEvent));
}

static const ExpandedObjectMethods FunnelExpandedMethods =
{
	FunnelExpandedFlatSize,
	FunnelExpandedFlatten
};

/* the view of a state datum, flat or expanded */
static void
FunnelViewOf(Datum d, FunnelView *v)
{
	if (VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)) &&
		DatumGetEOHP(d)->eoh_methods == &FunnelExpandedMethods)
	{
		FunnelExpanded *fe = (FunnelExpanded *) DatumGetEOHP(d);

		if (fe->nstaged == 0)
			v->events = fe->events;
		else if (fe->nevents == 0)
			v->events = fe->staged;
		else
		{
			/* the array and the staged events in one piece, in a copy */
			FunnelEvent *copy = palloc((Size) (fe->nevents + fe->nstaged) * sizeof(FunnelEvent));

			memcpy(copy, fe->events, (Size) fe->nevents * sizeof(FunnelEvent));
			memcpy(copy + fe->nevents, fe->staged, (Size) fe->nstaged * sizeof(FunnelEvent));
			v->events = copy;
		}
		v->nevents = fe->nevents + fe->nstaged;
		v->nsteps = fe->nsteps;
		v->flags = fe->flags;
		v->window = fe->window;
		v->sorted = fe->sorted;
	}
	else
	{
		FunnelState *st = (FunnelState *) PG_DETOAST_DATUM(d);

		v->events = st->events;
		v->nevents = st->nevents;
		v->nsteps = st->nsteps;
		v->flags = st->flags;
		v->window = st->window;
		v->sorted = FunnelEventsSorted(st->events, st->nevents);
	}
}

/* the limit on the events of one group, which its flat form must respect */
static void
FunnelCheckEventCount(int64 need)
{
	if (need > FUNNEL_MAX_EVENTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many events in one funnel group"),
				 errdetail("A group may hold at most %d events.", FUNNEL_MAX_EVENTS)));
}

/*
 * A new event array in cxt for at least need events, sized to a chunk the
 * allocator hands out whole; sets *capacity.
 */
static FunnelEvent *
FunnelEventsAlloc(MemoryContext cxt, int64 need, int32 *capacity)
{
	Size		size;

	FunnelCheckEventCount(need);
	size = (Size) need * sizeof(FunnelEvent);
	if (size <= ALLOCSET_SEPARATE_THRESHOLD)
		size = pg_nextpower2_64(size);
	*capacity = (int32) Min(size / sizeof(FunnelEvent), FUNNEL_MAX_EVENTS);
	return MemoryContextAlloc(cxt, (Size) *capacity * sizeof(FunnelEvent));
}

/*
 * Make room for extra more events in the array of an expanded state: the
 * array at least doubles.
 */
static void
FunnelExpandedReserve(FunnelExpanded *fe, int32 extra)
{
	int64		need = (int64) fe->nevents + fe->nstaged + extra;
	FunnelEvent *old = fe->events;

	if (need <= fe->capacity)
		return;
	fe->events = FunnelEventsAlloc(fe->hdr.eoh_context, Max(need, (int64) fe->capacity * 2), &fe->capacity);
	if (old != NULL)
	{
		memcpy(fe->events, old, (Size) fe->nevents * sizeof(FunnelEvent));
		pfree(old);
	}
}

/* move the staged events to the array */
static void
FunnelExpandedFlush(FunnelExpanded *fe)
{
	int			n = fe->nstaged;

	if (n == 0)
		return;
	FunnelExpandedReserve(fe, 0);
	memcpy(fe->events + fe->nevents, fe->staged, (Size) n * sizeof(FunnelEvent));
	fe->nevents += n;
	fe->nstaged = 0;
}

/*
 * A new, empty expanded state in aggcontext with room for at least
 * capacity events.
 */
static FunnelExpanded *
FunnelExpandedCreate(FunctionCallInfo fcinfo, MemoryContext aggcontext,
					 int nsteps, int64 window, uint8 flags, int32 capacity)
{
	MemoryContext events = FunnelEventsContext(fcinfo, aggcontext);
	FunnelExpanded *fe = MemoryContextAlloc(aggcontext, sizeof(FunnelExpanded));

	EOH_init_header(&fe->hdr, &FunnelExpandedMethods, events);
	fe->nstaged = 0;
	fe->flags = flags;
	fe->nsteps = (uint8) nsteps;
	fe->sorted = true;
	fe->nevents = 0;
	fe->window = window;
	fe->last_ts = PG_INT64_MIN;
	fe->capacity = 0;
	fe->events = NULL;
	if (capacity > 0)
		fe->events = FunnelEventsAlloc(events, capacity, &fe->capacity);
	return fe;
}

/* after events were added to the array other than by the transition function */
static void
FunnelExpandedSetLast(FunnelExpanded *fe)
{
	Assert(fe->nstaged == 0);
	fe->last_ts = fe->nevents > 0 ? fe->events[fe->nevents - 1].ts : PG_INT64_MIN;
}

/*
 * A read-write expanded state handed to a transition or combine function:
 * ours to change, as long as it belongs to this aggregate context.  Any
 * other would have to be replaced by a copy, and the executor would then
 * delete the original's eoh_context, which all the groups share: that must
 * never happen, so it is an error.
 */
static FunnelExpanded *
FunnelExpandedOwn(Datum d, MemoryContext aggcontext)
{
	ExpandedObjectHeader *eoh = DatumGetEOHP(d);

	if (unlikely(MemoryContextGetParent(eoh->eoh_context) != aggcontext))
		elog(ERROR, "funnel state belongs to another aggregate context");
	return (FunnelExpanded *) eoh;
}

/*
 * The expanded state that argument argno of a transition or combine
 * function (in an aggregate, aggcontext) is, to be changed in place and
 * returned; NULL for a NULL argument.  A state that is not our own
 * read-write one (the first value of a group copied by the executor, an
 * initial condition, a read-only pointer) is copied into a new one.
 */
static FunnelExpanded *
FunnelExpandedArg(FunctionCallInfo fcinfo, int argno, MemoryContext aggcontext)
{
	Datum		d;
	FunnelView	v;
	FunnelExpanded *fe;

	if (PG_ARGISNULL(argno))
		return NULL;
	d = PG_GETARG_DATUM(argno);
	if (VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)) &&
		DatumGetEOHP(d)->eoh_methods == &FunnelExpandedMethods)
		return FunnelExpandedOwn(d, aggcontext);
	FunnelViewOf(d, &v);
	fe = FunnelExpandedCreate(fcinfo, aggcontext, v.nsteps, v.window, v.flags, v.nevents);
	if (v.nevents > 0)
		memcpy(fe->events, v.events, (Size) v.nevents * sizeof(FunnelEvent));
	fe->nevents = v.nevents;
	fe->sorted = v.sorted;
	FunnelExpandedSetLast(fe);
	return fe;
}

/*
 * The step bitmask of one row whose conditions are separate boolean
 * arguments, from argument first to the last; sets *nsteps.  NULL counts as
 * false.  These are the fixed-arity forms: no array is built per row.
 */
static uint32
FunnelArgsMask(FunctionCallInfo fcinfo, int first, int *nsteps, const char *what)
{
	int			n = PG_NARGS() - first;
	uint32		mask = 0;

	if (n < 1 || n > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s takes 1 to %d steps, not %d", what, FUNNEL_MAX_STEPS, n)));
	for (int i = 0; i < n; i++)
		if (!PG_ARGISNULL(first + i) && PG_GETARG_BOOL(first + i))
			mask |= (uint32) 1 << i;
	*nsteps = n;
	return mask;
}

/*
 * Shared body of the window_funnel transition functions: with or without a
 * mode argument before the timestamp, with the steps as one VARIADIC array
 * or as separate boolean arguments.  The state is expanded (see
 * FunnelExpanded) and returned as the same read-write pointer every row.
 */
static Datum
FunnelTransition(FunctionCallInfo fcinfo, bool has_mode, bool steps_array, uint8 flags)
{
	int			window_arg = 1;
	int			ts_arg = has_mode ? 3 : 2;
	int			steps_arg = ts_arg + 1;
	MemoryContext aggcontext;
	FunnelExpanded *fe;
	int64		window;
	int			nsteps;
	uint32		mask;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("window_funnel transition function called in non-aggregate context")));
	if (PG_ARGISNULL(window_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel window must not be NULL")));
	if (steps_array && PG_ARGISNULL(steps_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel steps must not be a NULL array"),
				 errhint("A NULL condition counts as false; pass the conditions themselves.")));
	window = FunnelWindow(PG_GETARG_INTERVAL_P(window_arg));
	if (steps_array)
		mask = FunnelStepMask(PG_GETARG_ARRAYTYPE_P(steps_arg), &nsteps, "window_funnel");
	else
		mask = FunnelArgsMask(fcinfo, steps_arg, &nsteps, "window_funnel");

	fe = FunnelExpandedArg(fcinfo, 0, aggcontext);
	if (fe == NULL)
		fe = FunnelExpandedCreate(fcinfo, aggcontext, nsteps, window, flags, 0);
	else if (unlikely(fe->nsteps != nsteps || fe->window != window || fe->flags != flags))
		FunnelCheckSame(fe->nsteps, fe->window, fe->flags, nsteps, window, flags);

	/* NULL timestamps are ignored; rows matching no step matter only in strict_order */
	if (!PG_ARGISNULL(ts_arg) && (mask != 0 || (flags & FUNNEL_STRICT_ORDER) != 0))
	{
		int64		ts = PG_GETARG_TIMESTAMPTZ(ts_arg);
		FunnelEvent *e;

		if (unlikely(fe->nstaged == FUNNEL_STAGED_EVENTS))
			FunnelExpandedFlush(fe);
		/* the header has the last time: the event array is only written */
		if (ts < fe->last_ts)
			fe->sorted = false;
		fe->last_ts = ts;
		e = &fe->staged[fe->nstaged++];
		e->ts = ts;
		e->mask = mask;
	}
	PG_RETURN_DATUM(EOHPGetRWDatum(&fe->hdr));
}

/*
 * The flags of the mode argument (argument 2), parsed once per call site:
 * the mode is usually a constant.
 */
static uint8
FunnelModeArg(FunctionCallInfo fcinfo)
{
	FunnelCallCache *cache;
	text	   *mode;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel mode must not be NULL"),
				 errhint("Use '' for no mode.")));
	mode = PG_GETARG_TEXT_PP(2);
	cache = FunnelCache(fcinfo);
	if (cache->mode == NULL ||
		VARSIZE_ANY_EXHDR(cache->mode) != VARSIZE_ANY_EXHDR(mode) ||
		memcmp(VARDATA_ANY(cache->mode), VARDATA_ANY(mode), VARSIZE_ANY_EXHDR(mode)) != 0)
	{
		uint8		flags = FunnelParseModes(mode);

		if (cache->mode)
			pfree(cache->mode);
		cache->mode = (text *) MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE_ANY(mode));
		memcpy(cache->mode, mode, VARSIZE_ANY(mode));
		cache->flags = flags;
	}
	return cache->flags;
}

/*
 * cdp.window_funnel_transfn(state, window, ts, VARIADIC steps): transition
 * function of window_funnel and funnel_path without a mode.
 */
PG_FUNCTION_INFO_V1(cdp_window_funnel_transfn);
Datum
cdp_window_funnel_transfn(PG_FUNCTION_ARGS)
{
	return FunnelTransition(fcinfo, false, true, 0);
}

/*
 * cdp.window_funnel_transfn(state, window, mode, ts, VARIADIC steps): the
 * same with modes.
 */
PG_FUNCTION_INFO_V1(cdp_window_funnel_mode_transfn);
Datum
cdp_window_funnel_mode_transfn(PG_FUNCTION_ARGS)
{
	return FunnelTransition(fcinfo, true, true, FunnelModeArg(fcinfo));
}

/*
 * cdp.window_funnel_transfn(state, window, ts, step1, ..., stepN): the
 * fixed-arity forms for 1 to 8 steps, which PostgreSQL prefers to the
 * VARIADIC one for such calls; they save building an array per row.
 */
PG_FUNCTION_INFO_V1(cdp_window_funnel_args_transfn);
Datum
cdp_window_funnel_args_transfn(PG_FUNCTION_ARGS)
{
	return FunnelTransition(fcinfo, false, false, 0);
}

/*
 * The fixed-arity forms with modes.
 */
PG_FUNCTION_INFO_V1(cdp_window_funnel_mode_args_transfn);
Datum
cdp_window_funnel_mode_args_transfn(PG_FUNCTION_ARGS)
{
	return FunnelTransition(fcinfo, true, false, FunnelModeArg(fcinfo));
}

/*
 * Write the events of a and then b to dst (room for both): merged when both
 * are in time order, so the result is too (returns whether it is),
 * concatenated otherwise.
 */
static bool
FunnelMergeEvents(FunnelEvent *dst, const FunnelEvent *a, int32 na, bool a_sorted,
				  const FunnelEvent *b, int32 nb, bool b_sorted)
{
	int32		i = 0;
	int32		j = 0;

	if (!a_sorted || !b_sorted || na == 0 || nb == 0 || a[na - 1].ts <= b[0].ts)
	{
		if (na > 0)
			memcpy(dst, a, (Size) na * sizeof(FunnelEvent));
		if (nb > 0)
			memcpy(dst + na, b, (Size) nb * sizeof(FunnelEvent));
		return a_sorted && b_sorted && (na == 0 || nb == 0 || a[na - 1].ts <= b[0].ts);
	}
	while (i < na && j < nb)
		*dst++ = (b[j].ts < a[i].ts) ? b[j++] : a[i++];
	memcpy(dst, a + i, (Size) (na - i) * sizeof(FunnelEvent));
	memcpy(dst + (na - i), b + j, (Size) (nb - j) * sizeof(FunnelEvent));
	return true;
}

/*
 * cdp.funnel_state_combine(a, b): the events of two partial states of the
 * same funnel, for parallel and distributed aggregation.  Partial states
 * in time order (the usual case: each worker reads an event log in the
 * order it was written) are merged, so the result needs no sort either.
 * In an aggregate the result is a, expanded and changed in place; called
 * directly, a new flat state.  Not strict: a NULL state stands for no
 * partial state, so the group's first partial state is read straight into
 * an expanded one instead of being copied by the executor first.
 */
PG_FUNCTION_INFO_V1(cdp_funnel_state_combine);
Datum
cdp_funnel_state_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	FunnelView	a;
	FunnelView	b;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	FunnelViewOf(PG_GETARG_DATUM(1), &b);
	/* a NULL a: no events yet, the parameters of b */
	a = b;
	a.nevents = 0;
	a.sorted = true;
	if (AggCheckCallContext(fcinfo, &aggcontext))
	{
		Datum		d = PG_GETARG_DATUM(0);
		FunnelExpanded *fe = NULL;

		if (!PG_ARGISNULL(0) &&
			VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)) &&
			DatumGetEOHP(d)->eoh_methods == &FunnelExpandedMethods)
			fe = FunnelExpandedOwn(d, aggcontext);
		if (fe == NULL)
		{
			/* the group's first partial states */
			if (!PG_ARGISNULL(0))
				FunnelViewOf(d, &a);
			FunnelCheckSame(a.nsteps, a.window, a.flags, b.nsteps, b.window, b.flags);
			FunnelCheckEventCount((int64) a.nevents + b.nevents);
			fe = FunnelExpandedCreate(fcinfo, aggcontext, a.nsteps, a.window, a.flags, a.nevents + b.nevents);
			fe->sorted = FunnelMergeEvents(fe->events, a.events, a.nevents, a.sorted,
										   b.events, b.nevents, b.sorted);
			fe->nevents = a.nevents + b.nevents;
		}
		else
		{
			FunnelCheckSame(fe->nsteps, fe->window, fe->flags, b.nsteps, b.window, b.flags);
			FunnelExpandedFlush(fe);
			if (b.nevents > 0 && b.events == fe->events)
				elog(ERROR, "funnel_state_combine called with the same state twice");
			if (fe->sorted && b.sorted && fe->nevents > 0 && b.nevents > 0 &&
				b.events[0].ts < fe->events[fe->nevents - 1].ts)
			{
				/* interleaved runs: merge into a new array */
				FunnelEvent *old = fe->events;
				int64		need = (int64) fe->nevents + b.nevents;

				fe->events = FunnelEventsAlloc(fe->hdr.eoh_context, Max(need, (int64) fe->capacity * 2),
											   &fe->capacity);
				FunnelMergeEvents(fe->events, old, fe->nevents, true, b.events, b.nevents, true);
				fe->nevents = (int32) need;
				pfree(old);
			}
			else if (b.nevents > 0)
			{
				/* one run after the other, or order unknown: append */
				FunnelExpandedReserve(fe, b.nevents);
				fe->sorted = fe->sorted && b.sorted &&
					(fe->nevents == 0 || fe->events[fe->nevents - 1].ts <= b.events[0].ts);
				memcpy(fe->events + fe->nevents, b.events, (Size) b.nevents * sizeof(FunnelEvent));
				fe->nevents += b.nevents;
			}
		}
		FunnelExpandedSetLast(fe);
		PG_RETURN_DATUM(EOHPGetRWDatum(&fe->hdr));
	}
	else
	{
		FunnelState *st;

		if (!PG_ARGISNULL(0))
			FunnelViewOf(PG_GETARG_DATUM(0), &a);
		FunnelCheckSame(a.nsteps, a.window, a.flags, b.nsteps, b.window, b.flags);
		FunnelCheckEventCount((int64) a.nevents + b.nevents);
		st = FunnelStateCreate(a.nsteps, a.window, a.flags, a.nevents + b.nevents);
		FunnelMergeEvents(st->events, a.events, a.nevents, a.sorted, b.events, b.nevents, b.sorted);
		st->nevents = a.nevents + b.nevents;
		PG_RETURN_POINTER(st);
	}
}

/*
 * The events of the state argument in time order.  The state itself is
 * left alone (the final functions are READ_ONLY, so the aggregates can
 * share a state and run as window functions): an unsorted one is sorted
 * in a copy.  States built from events read in time order, and merges of
 * such states, are known to be sorted and need neither.
 */
static void
FunnelSortedView(FunctionCallInfo fcinfo, FunnelView *v)
{
	FunnelViewOf(PG_GETARG_DATUM(0), v);
	if (!v->sorted)
	{
		FunnelEvent *copy = palloc((Size) v->nevents * sizeof(FunnelEvent));

		memcpy(copy, v->events, (Size) v->nevents * sizeof(FunnelEvent));
		funnel_sort_events(copy, v->nevents);
		v->events = copy;
		v->sorted = true;
	}
}

/* how far a chain at level from goes with an event of the given steps */
static inline int
FunnelAdvance(int from, uint32 mask, int nsteps, bool one_step)
{
	int			to = from + 1;

	if (!one_step)
		while (to < nsteps && (mask & ((uint32) 1 << to)) != 0)
			to++;
	return to;
}

/* whether a chain at level (not advanced by the event) is broken by it */
static inline bool
FunnelBreaks(int level, uint32 mask, uint8 flags)
{
	if ((flags & FUNNEL_STRICT_ORDER) && mask == 0)
		return true;
	if ((flags & (FUNNEL_STRICT_ORDER | FUNNEL_STRICT_DEDUPLICATION)) &&
		(mask & FUNNEL_ALL_STEPS(level)) != 0)
		return true;
	return false;
}

/*
 * Rows with the same timestamp are one event: the union of their steps.
 * Returns the index after the last row of the event at *i, sets *mask.
 */
static inline int32
FunnelNextEvent(const FunnelView *st, int32 i, uint32 *mask)
{
	int64		ts = st->events[i].ts;
	uint32		m = 0;

	while (i < st->nevents && st->events[i].ts == ts)
		m |= st->events[i++].mask;
	*mask = m;
	return i;
}

/* a chain started at start is still within the window at time ts (>= start) */
static inline bool
FunnelInWindow(int64 start, int64 ts, int64 window)
{
	return (uint64) ts - (uint64) start <= (uint64) window;
}

/*
 * The scan: the highest level any chain reaches, and the chain that reached
 * it first (the latest-starting one among those that reached it at the same
 * moment).  Events must be sorted.
 */
static void
FunnelScan(const FunnelView *st, FunnelResult *res)
{
	int			n = st->nsteps;
	bool		one_step = (st->flags & FUNNEL_STRICT_INCREASE) != 0;
	int64		start[FUNNEL_MAX_STEPS + 1];
	int64		nstart[FUNNEL_MAX_STEPS + 1];
	uint64		alive = 0;		/* bit L: a chain at level L (1 .. n-1) */
	int32		i = 0;

	res->level = 0;
	res->start = 0;
	while (i < st->nevents)
	{
		int64		ts = st->events[i].ts;
		uint32		mask;
		uint64		nalive = 0;
		int			top;

		i = FunnelNextEvent(st, i, &mask);

		/* the chains so far, each at the latest start for its level */
		while (alive != 0)
		{
			int			level = pg_rightmost_one_pos64(alive);
			int			to = level;

			alive &= alive - 1;
			if (!FunnelInWindow(start[level], ts, st->window))
				continue;		/* can never advance again */
			if (mask & ((uint32) 1 << level))
				to = FunnelAdvance(level, mask, n, one_step);
			else if (FunnelBreaks(level, mask, st->flags))
				continue;
			if ((nalive & ((uint64) 1 << to)) == 0 || nstart[to] < start[level])
				nstart[to] = start[level];
			nalive |= (uint64) 1 << to;
		}
		/* a new chain at every step-1 event; it starts latest of all */
		if (mask & 1)
		{
			int			to = one_step ? 1 : FunnelAdvance(0, mask, n, false);

			nstart[to] = ts;
			nalive |= (uint64) 1 << to;
		}
		if (nalive == 0)
			continue;
		top = pg_leftmost_one_pos64(nalive);
		if (top > res->level)
		{
			res->level = top;
			res->start = nstart[top];
			if (top == n)
				break;			/* nothing can do better */
		}
		/* complete chains need no more following */
		alive = nalive & ~((uint64) 1 << n);
		for (uint64 b = alive; b != 0; b &= b - 1)
		{
			int			level = pg_rightmost_one_pos64(b);

			start[level] = nstart[level];
		}
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The step times of the chain that started at start, replayed alone up to
 * level; path gets one timestamp per step reached.
 */
static void
FunnelReplay(const FunnelView *st, int64 start, int level, int64 *path)
{
	bool		one_step = (st->flags & FUNNEL_STRICT_INCREASE) != 0;
	int			at = 0;
	int32		i = 0;

	while (i < st->nevents && st->events[i].ts < start)
		i++;
	while (i < st->nevents && at < level)
	{
		int64		ts = st->events[i].ts;
		uint32		mask;
		int			to;

		i = FunnelNextEvent(st, i, &mask);
		if (!FunnelInWindow(start, ts, st->window))
			break;
		if (at == 0 && (mask & 1) == 0)
			elog(ERROR, "funnel chain replay did not start at a step-1 event");
		if (at == 0)
			to = one_step ? 1 : FunnelAdvance(0, mask, st->nsteps, false);
		else if (mask & ((uint32) 1 << at))
			to = FunnelAdvance(at, mask, st->nsteps, one_step);
		else if (FunnelBreaks(at, mask, st->flags))
			break;
		else
			continue;
		while (at < to)
			path[at++] = ts;
	}
	if (at < level)
		elog(ERROR, "funnel chain replay reached level %d instead of %d", at, level);
}

/*
 * cdp.window_funnel_final(state): the level reached, 0 for no rows.
 */
PG_FUNCTION_INFO_V1(cdp_window_funnel_final);
Datum
cdp_window_funnel_final(PG_FUNCTION_ARGS)
{
	FunnelView	v;
	FunnelResult res;

	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	FunnelSortedView(fcinfo, &v);
	FunnelScan(&v, &res);
	PG_RETURN_INT32(res.level);
}

/*
 * cdp.funnel_path_final(state): the step times of the best chain, NULL
 * beyond the level it reached; NULL for no rows.
 */
PG_FUNCTION_INFO_V1(cdp_funnel_path_final);
Datum
cdp_funnel_path_final(PG_FUNCTION_ARGS)
{
	FunnelView	v;
	FunnelResult res;
	int64		path[FUNNEL_MAX_STEPS];
	Datum		elems[FUNNEL_MAX_STEPS];
	bool		nulls[FUNNEL_MAX_STEPS];
	int			dims[1];
	int			lbs[1] = {1};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	FunnelSortedView(fcinfo, &v);
	FunnelScan(&v, &res);
	if (res.level > 0)
		FunnelReplay(&v, res.start, res.level, path);
	for (int k = 0; k < v.nsteps; k++)
	{
		nulls[k] = k >= res.level;
		elems[k] = nulls[k] ? (Datum) 0 : TimestampTzGetDatum(path[k]);
	}
	dims[0] = v.nsteps;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, nulls, 1, dims, lbs, TIMESTAMPTZOID,
											 sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * Build a state from its wire format (the bytes of cdp.funnel_state_send,
 * also what the text form encodes in hexadecimal), checking every field:
 * a partial state from another node must be exactly what we would make.
 */
static FunnelState *
FunnelStateFromWire(StringInfo buf, int errcode_bad)
{
	int			version;
	int			flags;
	int			nsteps;
	int			reserved;
	int64		window;
	int32		nevents;
	FunnelState *st;
	int			remaining = buf->len - buf->cursor;

	if (remaining < FUNNEL_WIRE_HEADER)
		ereport(ERROR,
				(errcode(errcode_bad),
				 errmsg("malformed funnel_state: %d bytes, the header alone takes %d", remaining, FUNNEL_WIRE_HEADER)));
	version = pq_getmsgbyte(buf);
	flags = pq_getmsgbyte(buf);
	nsteps = pq_getmsgbyte(buf);
	reserved = pq_getmsgbyte(buf);
	window = pq_getmsgint64(buf);
	nevents = (int32) pq_getmsgint(buf, 4);
	if (version != FUNNEL_STATE_VERSION)
		ereport(ERROR,
				(errcode(errcode_bad),
				 errmsg("malformed funnel_state: unknown version %d", version)));
	if ((flags & ~FUNNEL_ALL_MODES) != 0 || reserved != 0)
		ereport(ERROR,
				(errcode(errcode_bad),
				 errmsg("malformed funnel_state: unknown flags %d, reserved %d", flags, reserved)));
	if (nsteps < 1 || nsteps > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(errcode_bad),
				 errmsg("malformed funnel_state: %d steps", nsteps)));
	if (window < 0)
		ereport(ERROR,
				(errcode(errcode_bad),
				 errmsg("malformed funnel_state: negative window")));
	if (nevents < 0 || nevents > FUNNEL_MAX_EVENTS ||
		(int64) buf->len - buf->cursor != (int64) nevents * FUNNEL_WIRE_EVENT)
		ereport(ERROR,
				(errcode(errcode_bad),
				 errmsg("malformed funnel_state: %d events in %d bytes", nevents, buf->len - buf->cursor)));

	st = FunnelStateCreate(nsteps, window, (uint8) flags, Max(nevents, 1));
	for (int32 i = 0; i < nevents; i++)
	{
		int64		ts = pq_getmsgint64(buf);
		uint32		mask = (uint32) pq_getmsgint(buf, 4);

		if (!TIMESTAMP_NOT_FINITE(ts) && !IS_VALID_TIMESTAMP(ts))
			ereport(ERROR,
					(errcode(errcode_bad),
					 errmsg("malformed funnel_state: event %d has a timestamp out of range", i + 1)));
		if ((mask & ~FUNNEL_ALL_STEPS(nsteps)) != 0 ||
			(mask == 0 && (flags & FUNNEL_STRICT_ORDER) == 0))
			ereport(ERROR,
					(errcode(errcode_bad),
					 errmsg("malformed funnel_state: event %d has step mask %u for %d steps", i + 1, mask, nsteps)));
		st->events[i].ts = ts;
		st->events[i].mask = mask;
	}
	st->nevents = nevents;
	return st;
}

/* the wire format of a state: only the events in use */
static void
FunnelStateToWire(FunnelState *st, StringInfo buf)
{
	pq_sendbyte(buf, st->version);
	pq_sendbyte(buf, st->flags);
	pq_sendbyte(buf, st->nsteps);
	pq_sendbyte(buf, st->reserved);
	pq_sendint64(buf, st->window);
	pq_sendint32(buf, st->nevents);
	for (int32 i = 0; i < st->nevents; i++)
	{
		pq_sendint64(buf, st->events[i].ts);
		pq_sendint32(buf, st->events[i].mask);
	}
}

/*
 * cdp.funnel_state_in(cstring): the text form is the wire format in
 * hexadecimal, so partial states can travel as text (Citus).
 */
PG_FUNCTION_INFO_V1(cdp_funnel_state_in);
Datum
cdp_funnel_state_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	size_t		len = strlen(str);
	StringInfoData buf;

	if (len % 2 != 0 || len / 2 > MaxAllocSize - 1 || strspn(str, "0123456789abcdefABCDEF") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type funnel_state"),
				 errdetail("A funnel_state is written as an even number of hexadecimal digits.")));
	initStringInfo(&buf);
	enlargeStringInfo(&buf, (int) (len / 2));
	buf.len = (int) hex_decode(str, len, buf.data);
	buf.data[buf.len] = '\0';
	PG_RETURN_POINTER(FunnelStateFromWire(&buf, ERRCODE_INVALID_TEXT_REPRESENTATION));
}

/*
 * cdp.funnel_state_out(funnel_state): hexadecimal wire format.
 */
PG_FUNCTION_INFO_V1(cdp_funnel_state_out);
Datum
cdp_funnel_state_out(PG_FUNCTION_ARGS)
{
	FunnelState *st = (FunnelState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;
	char	   *out;

	initStringInfo(&buf);
	FunnelStateToWire(st, &buf);
	out = palloc((Size) buf.len * 2 + 1);
	out[hex_encode(buf.data, buf.len, out)] = '\0';
	PG_RETURN_CSTRING(out);
}

/*
 * cdp.funnel_state_recv(internal): binary input, checked like text input.
 */
PG_FUNCTION_INFO_V1(cdp_funnel_state_recv);
Datum
cdp_funnel_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_POINTER(FunnelStateFromWire(buf, ERRCODE_INVALID_BINARY_REPRESENTATION));
}

/*
 * cdp.funnel_state_send(funnel_state): binary output.
 */
PG_FUNCTION_INFO_V1(cdp_funnel_state_send);
Datum
cdp_funnel_state_send(PG_FUNCTION_ARGS)
{
	FunnelState *st = (FunnelState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	FunnelStateToWire(st, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * funnel_counts: the state is a bigint[] with one counter per step, checked
 * whenever it comes from outside (combine), so a malformed partial state is
 * an error, never a wrong count.
 */
static int
FunnelCountsCheck(ArrayType *counts, const char *what)
{
	if (ARR_ELEMTYPE(counts) != INT8OID || ARR_NDIM(counts) != 1 || ARR_HASNULL(counts) ||
		ARR_LBOUND(counts)[0] != 1 || ARR_DIMS(counts)[0] < 1 || ARR_DIMS(counts)[0] > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed funnel_counts state in %s", what),
				 errdetail("The state is a one-dimensional bigint array of 1 to %d counters without NULLs.", FUNNEL_MAX_STEPS)));
	for (int k = 0; k < ARR_DIMS(counts)[0]; k++)
		if (((int64 *) ARR_DATA_PTR(counts))[k] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed funnel_counts state in %s", what),
					 errdetail("Counter %d is negative.", k + 1)));
	return ARR_DIMS(counts)[0];
}

/* a zeroed counter array of n steps */
static ArrayType *
FunnelCountsCreate(int n)
{
	Datum		zeros[FUNNEL_MAX_STEPS];

	for (int k = 0; k < n; k++)
		zeros[k] = Int64GetDatum(0);
	return construct_array(zeros, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * cdp.funnel_counts_transfn(state bigint[], level integer, steps integer).
 */
PG_FUNCTION_INFO_V1(cdp_funnel_counts_transfn);
Datum
cdp_funnel_counts_transfn(PG_FUNCTION_ARGS)
{
	ArrayType  *counts;
	int32		steps;
	int32		level;
	int64	   *c;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("funnel_counts transition function called in non-aggregate context")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel_counts steps must not be NULL")));
	steps = PG_GETARG_INT32(2);
	if (steps < 1 || steps > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel_counts takes 1 to %d steps, not %d", FUNNEL_MAX_STEPS, steps)));
	if (PG_ARGISNULL(0))
		counts = FunnelCountsCreate(steps);
	else
	{
		/* our own transition value: never toasted, changed in place */
		counts = PG_GETARG_ARRAYTYPE_P(0);
		if (ARR_DIMS(counts)[0] != steps)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("funnel_counts has %d steps in one row and %d in another", ARR_DIMS(counts)[0], steps),
					 errhint("Every row of a group must give the same number of steps.")));
	}
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(counts);
	level = PG_GETARG_INT32(1);
	if (level < 0 || level > steps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel level %d is outside 0 .. %d", level, steps),
				 errhint("Pass the level returned by window_funnel for the same number of steps.")));
	c = (int64 *) ARR_DATA_PTR(counts);
	for (int k = 0; k < level; k++)
		c[k]++;
	PG_RETURN_ARRAYTYPE_P(counts);
}

/*
 * cdp.funnel_counts_combine(a bigint[], b bigint[]): counters added.
 */
PG_FUNCTION_INFO_V1(cdp_funnel_counts_combine);
Datum
cdp_funnel_counts_combine(PG_FUNCTION_ARGS)
{
	Datum		d = PG_GETARG_DATUM(0);
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	int			n = FunnelCountsCheck(a, "combine");
	int64	   *ca;
	int64	   *cb;

	if (FunnelCountsCheck(b, "combine") != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel_counts partial states have %d and %d steps", n, ARR_DIMS(b)[0])));
	if (!AggCheckCallContext(fcinfo, NULL) || (Pointer) a != DatumGetPointer(d))
		a = PG_GETARG_ARRAYTYPE_P_COPY(0);
	ca = (int64 *) ARR_DATA_PTR(a);
	cb = (int64 *) ARR_DATA_PTR(b);
	for (int k = 0; k < n; k++)
		if (pg_add_s64_overflow(ca[k], cb[k], &ca[k]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("bigint out of range")));
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * retention: the state is a bigint holding the number of conditions in bits
 * 32..39 and, in bits 0..31, which conditions held in some row.
 */
static int
RetentionCheck(int64 state)
{
	int			n = (int) ((uint64) state >> 32);

	if (n < 1 || n > FUNNEL_MAX_STEPS ||
		((uint64) state & 0xFFFFFFFFu & ~(uint64) FUNNEL_ALL_STEPS(n)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed retention state " INT64_FORMAT, state)));
	return n;
}

/*
 * cdp.retention_transfn(state bigint, VARIADIC conditions boolean[]).
 */
PG_FUNCTION_INFO_V1(cdp_retention_transfn);
Datum
cdp_retention_transfn(PG_FUNCTION_ARGS)
{
	int			n;
	uint32		mask;
	int64		state;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("retention conditions must not be a NULL array"),
				 errhint("A NULL condition counts as false; pass the conditions themselves.")));
	mask = FunnelStepMask(PG_GETARG_ARRAYTYPE_P(1), &n, "retention");
	if (PG_ARGISNULL(0))
		state = (int64) n << 32;
	else
	{
		state = PG_GETARG_INT64(0);
		if ((int) ((uint64) state >> 32) != n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("retention has %d conditions in one row and %d in another", RetentionCheck(state), n),
					 errhint("Every row of a group must give the same number of conditions.")));
	}
	PG_RETURN_INT64(state | mask);
}

/*
 * cdp.retention_combine(a bigint, b bigint).
 */
PG_FUNCTION_INFO_V1(cdp_retention_combine);
Datum
cdp_retention_combine(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_INT64(0);
	int64		b = PG_GETARG_INT64(1);

	if (RetentionCheck(a) != RetentionCheck(b))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention partial states have different numbers of conditions")));
	PG_RETURN_INT64(a | b);
}

/*
 * cdp.retention_final(state bigint): element 1 is whether condition 1 held
 * in some row; element k whether conditions 1 and k both did.
 */
PG_FUNCTION_INFO_V1(cdp_retention_final);
Datum
cdp_retention_final(PG_FUNCTION_ARGS)
{
	int64		state;
	int			n;
	Datum		elems[FUNNEL_MAX_STEPS];
	bool		first;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = PG_GETARG_INT64(0);
	n = RetentionCheck(state);
	first = (state & 1) != 0;
	for (int k = 0; k < n; k++)
		elems[k] = BoolGetDatum(first && (state & ((int64) 1 << k)) != 0);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, BOOLOID, 1, true, TYPALIGN_CHAR));
}
