/*-------------------------------------------------------------------------
 *
 * graph.c
 *	  The relationship graph: shortest introduction paths between contacts
 *	  (cdp.intro_paths) and the influence (KOL) score of each contact
 *	  (cdp.influence_scores).
 *
 * intro_paths is a bidirectional, level-synchronous breadth-first search.
 * Each step expands the smaller of the two frontiers by one level with ONE
 * query, "edges whose from_contact or to_contact is any of these ids", run
 * through SPI as the calling user: row-level security on cdp.relationship
 * (and on cdp.contact, when enabled) therefore decides which edges exist for
 * the caller, and the query is two index scans (the unique index leads with
 * from_contact, relationship_to_idx covers to_contact).  Edges are walked in
 * both directions.  A 6-hop search on a graph with average degree 20 touches
 * a few thousand contacts instead of the whole graph.
 *
 * Consent: a contact whose latest decision on channel 'intro' or 'any' in
 * cdp.consent is a refusal (granted = false) is never used as an
 * intermediary: it may be found, but it is not expanded and paths never go
 * through it.  The two endpoints are whoever the caller asked about and are
 * not filtered.
 *
 * When the frontiers meet, every shortest path goes through one of the
 * meeting contacts (the set M of contacts at distance a from the start and b
 * from the target, a + b the length); each side kept, per contact, its
 * predecessors one level nearer its root with the edge strength, so the
 * shortest paths form a layered DAG.  A path's strength is the product of
 * its edges' strengths (between two contacts linked by several edges the
 * strongest counts).  The paths are enumerated best-first (A*, with the
 * exact best completion of every DAG node as the heuristic), so the
 * strongest ones come out first and at most cdp.intro_paths_limit paths are
 * produced however many shortest paths there are.
 *
 * influence_scores reads cdp.relationship once, sequentially, and sums per
 * contact its followers, direct reports, referrals and ties, keeping the
 * 'influences' and 'reports_to' edges in memory to add what its followers
 * and reports bring one level further; see the README for the formula.
 *
 * src/graph.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rls.h"

#include "cdp.h"

/* GUC: most paths intro_paths returns for one call */
static int	intro_paths_limit = 1000;

/* largest max_hops accepted */
#define MAX_HOPS_LIMIT 64

/* consent state of a contact as an intermediary */
#define CONSENT_UNKNOWN 0
#define CONSENT_OK 1
#define CONSENT_REFUSED 2

/* An edge of the search DAG: the contact at the other end and its strength */
typedef struct GraphArc
{
	struct GraphNode *node;
	float4		strength;
} GraphArc;

/* A list of arcs, grown by doubling */
typedef struct ArcList
{
	int			n;
	int			cap;
	GraphArc   *arcs;
} ArcList;

/*
 * A contact seen by the search (dynahash entry, so its address is stable).
 * dist[0] is the distance from the start, dist[1] from the target (-1 when
 * not reached from that side); pred[side] lists the neighbours one level
 * nearer that side's root.
 */
typedef struct GraphNode
{
	int64		id;				/* hash key: contact id */
	int16		dist[2];
	int8		consent;
	bool		in_dag;			/* reached from a meeting contact */
	bool		best_done;
	double		best;			/* best product from here to the target */
	ArcList		pred[2];
	ArcList		succ;			/* start side: neighbours one level further */
} GraphNode;

/* The state of one intro_paths search */
typedef struct IntroSearch
{
	HTAB	   *nodes;
	GraphNode  *root[2];
	bool		contact_rls;	/* filter neighbours through cdp.contact */
} IntroSearch;

/* One partial path of the best-first enumeration */
typedef struct PathStep
{
	GraphNode  *node;
	int32		parent;			/* index of the previous step, -1 at start */
	int16		pos;			/* number of edges so far */
	double		prod;			/* product of the strengths so far */
} PathStep;

/* A heap entry: a step with its key (prod * best completion) */
typedef struct HeapItem
{
	double		key;
	int32		step;
} HeapItem;

/* A finished path, for the final sort */
typedef struct FoundPath
{
	int64	   *ids;
	int			len;
	float4		strength;
} FoundPath;

/* plans kept for the backend's life */
static SPIPlanPtr expand_plan = NULL;
static SPIPlanPtr expand_rls_plan = NULL;
static SPIPlanPtr consent_plan = NULL;
static SPIPlanPtr contact_plan = NULL;

/*
 * Module initialisation: the GUC limiting the paths of one call.
 */
void
cdp_graph_init(void)
{
	DefineCustomIntVariable("cdp.intro_paths_limit",
							"Most paths cdp.intro_paths returns for one call.",
							"The strongest shortest paths are returned first; when more "
							"shortest paths exist, the weaker ones are left out.",
							&intro_paths_limit,
							1000, 1, 1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

/*
 * Prepare a plan once per backend and keep it.
 */
static SPIPlanPtr
KeepGraphPlan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan;

	if (*slot != NULL)
		return *slot;
	plan = SPI_prepare(sql, nargs, types);
	if (plan == NULL)
		elog(ERROR, "cdp: SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	*slot = plan;
	return plan;
}

/*
 * Append an arc, or keep the stronger strength if the neighbour is there.
 */
static void
ArcAdd(ArcList *list, GraphNode *node, float4 strength, bool dedup)
{
	if (dedup)
	{
		for (int i = 0; i < list->n; i++)
		{
			if (list->arcs[i].node == node)
			{
				if (strength > list->arcs[i].strength)
					list->arcs[i].strength = strength;
				return;
			}
		}
	}
	if (list->n == list->cap)
	{
		list->cap = list->cap == 0 ? 4 : list->cap * 2;
		if (list->arcs == NULL)
			list->arcs = palloc(sizeof(GraphArc) * list->cap);
		else
			list->arcs = repalloc(list->arcs, sizeof(GraphArc) * list->cap);
	}
	list->arcs[list->n].node = node;
	list->arcs[list->n].strength = strength;
	list->n++;
}

/*
 * Find or create the node of a contact.
 */
static GraphNode *
NodeFor(IntroSearch *s, int64 id)
{
	bool		found;
	GraphNode  *n = hash_search(s->nodes, &id, HASH_ENTER, &found);

	if (!found)
	{
		n->dist[0] = n->dist[1] = -1;
		n->consent = CONSENT_UNKNOWN;
		n->in_dag = false;
		n->best_done = false;
		n->best = 0;
		memset(&n->pred, 0, sizeof(n->pred));
		memset(&n->succ, 0, sizeof(n->succ));
	}
	return n;
}

/*
 * Build an int8[] datum from the ids of some nodes.
 */
static Datum
IdArray(GraphNode **nodes, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(nodes[i]->id);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * Learn the consent state of the nodes whose state is unknown, in one query:
 * the latest decision on channel 'intro' or 'any' wins, a refusal blocks.
 * Roots are never blocked.
 */
static void
LoadConsent(IntroSearch *s, GraphNode **nodes, int n)
{
	GraphNode **ask = palloc(sizeof(GraphNode *) * Max(n, 1));
	int			nask = 0;
	Datum		arg;
	Oid			types[1] = {INT8ARRAYOID};
	int			ret;

	for (int i = 0; i < n; i++)
	{
		if (nodes[i]->consent != CONSENT_UNKNOWN)
			continue;
		if (nodes[i] == s->root[0] || nodes[i] == s->root[1])
		{
			nodes[i]->consent = CONSENT_OK;
			continue;
		}
		ask[nask++] = nodes[i];
	}
	if (nask == 0)
		return;
	arg = IdArray(ask, nask);
	KeepGraphPlan(&consent_plan,
				  "SELECT DISTINCT ON (c.contact_id) c.contact_id, c.granted"
				  "  FROM cdp.consent c"
				  " WHERE c.contact_id OPERATOR(pg_catalog.=) ANY ($1)"
				  "   AND c.channel OPERATOR(pg_catalog.=) ANY ('{intro,any}'::pg_catalog.text[])"
				  " ORDER BY c.contact_id, c.recorded_at DESC, c.consent_id DESC",
				  1, types);
	ret = SPI_execute_plan(consent_plan, &arg, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "cdp: reading cdp.consent failed: %s", SPI_result_code_string(ret));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
		bool		granted = DatumGetBool(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
		GraphNode  *node = hash_search(s->nodes, &id, HASH_FIND, NULL);

		if (node != NULL && !granted)
			node->consent = CONSENT_REFUSED;
	}
	SPI_freetuptable(SPI_tuptable);
	for (int i = 0; i < nask; i++)
		if (ask[i]->consent == CONSENT_UNKNOWN)
			ask[i]->consent = CONSENT_OK;
	pfree(ask);
}

/*
 * Expand one side by one level: every frontier contact that may be used is
 * asked for its edges in one query, and each neighbour not yet reached from
 * this side joins the next frontier, remembering all its predecessors.
 * Returns the next frontier (in *next, count in *nnext).
 */
static void
ExpandLevel(IntroSearch *s, int side, GraphNode **frontier, int nfrontier,
			GraphNode ***next, int *nnext)
{
	GraphNode **use = palloc(sizeof(GraphNode *) * Max(nfrontier, 1));
	int			nuse = 0;
	int			level;
	Datum		arg;
	Oid			types[1] = {INT8ARRAYOID};
	int			ret;
	int			cap = 64;
	GraphNode **out = palloc(sizeof(GraphNode *) * cap);
	int			nout = 0;
	SPIPlanPtr	plan;

	*next = out;
	*nnext = 0;
	if (nfrontier == 0)
		return;
	level = frontier[0]->dist[side];
	LoadConsent(s, frontier, nfrontier);
	for (int i = 0; i < nfrontier; i++)
		if (frontier[i]->consent == CONSENT_OK)
			use[nuse++] = frontier[i];
	if (nuse == 0)
		return;

	if (s->contact_rls)
		plan = KeepGraphPlan(&expand_rls_plan,
							 "SELECT r.from_contact, r.to_contact, r.strength"
							 "  FROM cdp.relationship r"
							 " WHERE r.from_contact OPERATOR(pg_catalog.=) ANY ($1)"
							 "   AND EXISTS (SELECT 1 FROM cdp.contact c"
							 "                WHERE c.contact_id OPERATOR(pg_catalog.=) r.to_contact)"
							 " UNION ALL "
							 "SELECT r.from_contact, r.to_contact, r.strength"
							 "  FROM cdp.relationship r"
							 " WHERE r.to_contact OPERATOR(pg_catalog.=) ANY ($1)"
							 "   AND EXISTS (SELECT 1 FROM cdp.contact c"
							 "                WHERE c.contact_id OPERATOR(pg_catalog.=) r.from_contact)",
							 1, types);
	else
		plan = KeepGraphPlan(&expand_plan,
							 "SELECT r.from_contact, r.to_contact, r.strength"
							 "  FROM cdp.relationship r"
							 " WHERE r.from_contact OPERATOR(pg_catalog.=) ANY ($1)"
							 " UNION ALL "
							 "SELECT r.from_contact, r.to_contact, r.strength"
							 "  FROM cdp.relationship r"
							 " WHERE r.to_contact OPERATOR(pg_catalog.=) ANY ($1)",
							 1, types);
	arg = IdArray(use, nuse);
	ret = SPI_execute_plan(plan, &arg, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "cdp: reading cdp.relationship failed: %s", SPI_result_code_string(ret));

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		ends[2];
		float4		strength;

		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		ends[0] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		ends[1] = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		strength = DatumGetFloat4(SPI_getbinval(tup, desc, 3, &isnull));

		/* either end may be the frontier contact; try both directions */
		for (int e = 0; e < 2; e++)
		{
			GraphNode  *u = hash_search(s->nodes, &ends[e], HASH_FIND, NULL);
			GraphNode  *v;

			if (u == NULL || u->dist[side] != level || u->consent != CONSENT_OK)
				continue;
			v = NodeFor(s, ends[1 - e]);
			if (v->dist[side] == -1)
			{
				v->dist[side] = level + 1;
				if (nout == cap)
				{
					cap *= 2;
					out = repalloc(out, sizeof(GraphNode *) * cap);
				}
				out[nout++] = v;
			}
			if (v->dist[side] == level + 1)
				ArcAdd(&v->pred[side], u, strength, true);
		}
	}
	SPI_freetuptable(SPI_tuptable);
	pfree(use);
	*next = out;
	*nnext = nout;
}

/*
 * Mark the start side of the DAG: walk from a meeting contact towards the
 * start through the predecessors, giving each predecessor its successor.
 */
static void
MarkStartSide(GraphNode *v)
{
	ArcList    *preds = &v->pred[0];

	check_stack_depth();
	for (int i = 0; i < preds->n; i++)
	{
		GraphNode  *u = preds->arcs[i].node;

		ArcAdd(&u->succ, v, preds->arcs[i].strength, false);
		if (!u->in_dag)
		{
			u->in_dag = true;
			MarkStartSide(u);
		}
	}
}

/*
 * Best product of strengths from a DAG node to the target.  Nodes before
 * the meeting level go through their successors, the others through their
 * target-side predecessors.
 */
static double
BestToTarget(IntroSearch *s, GraphNode *v, int meet)
{
	double		best = 0;
	ArcList    *arcs;

	if (v->best_done)
		return v->best;
	check_stack_depth();
	if (v == s->root[1])
		best = 1.0;
	else
	{
		arcs = (v->dist[0] >= 0 && v->dist[0] < meet && v->in_dag) ? &v->succ : &v->pred[1];
		for (int i = 0; i < arcs->n; i++)
		{
			double		b = arcs->arcs[i].strength * BestToTarget(s, arcs->arcs[i].node, meet);

			if (b > best)
				best = b;
		}
	}
	v->best = best;
	v->best_done = true;
	return best;
}

/*
 * Compare two heap items: higher key first; keys within a relative 1e-9
 * are a tie, broken by the path's contact ids in lexicographic order (a
 * proper prefix first) so that equally strong paths come out in a stable
 * order.
 */
static int
HeapCompare(PathStep *steps, HeapItem *a, HeapItem *b)
{
	double		tol = 1e-9 * Max(a->key, b->key);
	int64		pa[MAX_HOPS_LIMIT + 1];
	int64		pb[MAX_HOPS_LIMIT + 1];
	int			la,
				lb;

	if (a->key > b->key + tol)
		return -1;
	if (b->key > a->key + tol)
		return 1;
	la = steps[a->step].pos + 1;
	lb = steps[b->step].pos + 1;
	for (int i = a->step, k = la - 1; i >= 0; i = steps[i].parent, k--)
		pa[k] = steps[i].node->id;
	for (int i = b->step, k = lb - 1; i >= 0; i = steps[i].parent, k--)
		pb[k] = steps[i].node->id;
	for (int k = 0; k < la && k < lb; k++)
	{
		if (pa[k] != pb[k])
			return pa[k] < pb[k] ? -1 : 1;
	}
	return la < lb ? -1 : (la > lb ? 1 : 0);
}

/* Push onto the binary heap (best item at index 0) */
static void
HeapPush(PathStep *steps, HeapItem *heap, int *n, HeapItem item)
{
	int			i = (*n)++;

	heap[i] = item;
	while (i > 0)
	{
		int			p = (i - 1) / 2;

		if (HeapCompare(steps, &heap[i], &heap[p]) >= 0)
			break;
		item = heap[p];
		heap[p] = heap[i];
		heap[i] = item;
		i = p;
	}
}

/* Pop the best item of the binary heap */
static HeapItem
HeapPop(PathStep *steps, HeapItem *heap, int *n)
{
	HeapItem	top = heap[0];
	int			i = 0;

	heap[0] = heap[--(*n)];
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					m = i;
		HeapItem	t;

		if (l < *n && HeapCompare(steps, &heap[l], &heap[m]) < 0)
			m = l;
		if (r < *n && HeapCompare(steps, &heap[r], &heap[m]) < 0)
			m = r;
		if (m == i)
			break;
		t = heap[m];
		heap[m] = heap[i];
		heap[i] = t;
		i = m;
	}
	return top;
}

/* qsort comparator of finished paths: strongest first, then by ids */
static int
FoundPathCompare(const void *a, const void *b)
{
	const FoundPath *pa = a;
	const FoundPath *pb = b;

	if (pa->strength != pb->strength)
		return pa->strength > pb->strength ? -1 : 1;
	for (int k = 0; k < pa->len; k++)
	{
		if (pa->ids[k] != pb->ids[k])
			return pa->ids[k] < pb->ids[k] ? -1 : 1;
	}
	return 0;
}

/*
 * Enumerate the strongest shortest paths of the DAG, best first, up to
 * the limit.  meet is the start-side distance of the meeting contacts.
 */
static FoundPath *
EnumeratePaths(IntroSearch *s, GraphNode **meeting, int nmeeting, int meet,
			   int hops, int limit, int *nfound)
{
	int			stepcap = 1024,
				nsteps = 0;
	PathStep   *steps = palloc(sizeof(PathStep) * stepcap);
	int			heapcap = 1024,
				nheap = 0;
	HeapItem   *heap = palloc(sizeof(HeapItem) * heapcap);
	FoundPath  *found = palloc(sizeof(FoundPath) * Min(limit, 1024));
	int			foundcap = Min(limit, 1024);
	int			nf = 0;
	HeapItem	item;

	for (int i = 0; i < nmeeting; i++)
	{
		meeting[i]->in_dag = true;
		MarkStartSide(meeting[i]);
	}
	s->root[0]->in_dag = true;

	steps[0].node = s->root[0];
	steps[0].parent = -1;
	steps[0].pos = 0;
	steps[0].prod = 1.0;
	nsteps = 1;
	item.key = BestToTarget(s, s->root[0], meet);
	item.step = 0;
	HeapPush(steps, heap, &nheap, item);

	while (nheap > 0 && nf < limit)
	{
		HeapItem	top = HeapPop(steps, heap, &nheap);
		PathStep   *st = &steps[top.step];
		ArcList    *arcs;

		CHECK_FOR_INTERRUPTS();
		if (st->node == s->root[1])
		{
			FoundPath  *fp;

			if (st->pos != hops)
				elog(ERROR, "cdp: intro path of %d hops, expected %d", st->pos, hops);
			if (nf == foundcap)
			{
				foundcap *= 2;
				found = repalloc(found, sizeof(FoundPath) * foundcap);
			}
			fp = &found[nf++];
			fp->len = hops + 1;
			fp->ids = palloc(sizeof(int64) * fp->len);
			fp->strength = (float4) st->prod;
			for (int i = top.step, k = hops; i >= 0; i = steps[i].parent, k--)
				fp->ids[k] = steps[i].node->id;
			continue;
		}
		arcs = (st->pos < meet) ? &st->node->succ : &st->node->pred[1];
		for (int i = 0; i < arcs->n; i++)
		{
			GraphNode  *v = arcs->arcs[i].node;
			double		prod = steps[top.step].prod * arcs->arcs[i].strength;
			double		best = BestToTarget(s, v, meet);
			PathStep   *ns;

			if (best <= 0)
				continue;
			if (nsteps == stepcap)
			{
				stepcap *= 2;
				steps = repalloc_huge(steps, sizeof(PathStep) * stepcap);
			}
			ns = &steps[nsteps];
			ns->node = v;
			ns->parent = top.step;
			ns->pos = steps[top.step].pos + 1;
			ns->prod = prod;
			if (nheap == heapcap)
			{
				heapcap *= 2;
				heap = repalloc_huge(heap, sizeof(HeapItem) * heapcap);
			}
			item.key = prod * best;
			item.step = nsteps;
			HeapPush(steps, heap, &nheap, item);
			nsteps++;
		}
	}
	qsort(found, nf, sizeof(FoundPath), FoundPathCompare);
	*nfound = nf;
	return found;
}

/*
 * Raise the error for an argument that must not be NULL.
 */
static void
RequireArg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/*
 * Check that a contact exists and is visible to the caller.
 */
static void
RequireContact(int64 id, const char *what)
{
	Oid			types[1] = {INT8OID};
	Datum		arg = Int64GetDatum(id);
	int			ret;

	KeepGraphPlan(&contact_plan,
				  "SELECT 1 FROM cdp.contact WHERE contact_id OPERATOR(pg_catalog.=) $1",
				  1, types);
	ret = SPI_execute_plan(contact_plan, &arg, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "cdp: reading cdp.contact failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s contact " INT64_FORMAT " does not exist", what, id),
				 errdetail("No row of cdp.contact with this contact_id is visible to the current user.")));
	SPI_freetuptable(SPI_tuptable);
}

/*
 * cdp.intro_paths(from_contact bigint, to_contact bigint, max_hops int)
 *		RETURNS TABLE(path bigint[], hops int, strength real)
 *
 * The shortest introduction paths, strongest first; see the file header.
 */
PG_FUNCTION_INFO_V1(cdp_intro_paths);
Datum
cdp_intro_paths(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		from_id,
				to_id;
	int32		max_hops;
	MemoryContext search_cxt,
				old_cxt;
	IntroSearch s;
	HASHCTL		ctl;
	GraphNode **frontier[2];
	int			nfrontier[2];
	int			depth[2] = {0, 0};
	GraphNode **meeting = NULL;
	int			nmeeting = 0;
	FoundPath  *found = NULL;
	int			nfound = 0;
	int			hops = -1;
	Oid			contact_relid;

	RequireArg(fcinfo, 0, "from_contact");
	RequireArg(fcinfo, 1, "to_contact");
	RequireArg(fcinfo, 2, "max_hops");
	from_id = PG_GETARG_INT64(0);
	to_id = PG_GETARG_INT64(1);
	max_hops = PG_GETARG_INT32(2);
	if (max_hops < 0 || max_hops > MAX_HOPS_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_hops must be between 0 and %d", MAX_HOPS_LIMIT),
				 errdetail("max_hops was %d.", max_hops)));

	InitMaterializedSRF(fcinfo, 0);

	search_cxt = AllocSetContextCreate(CurrentMemoryContext, "cdp intro_paths",
									   ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "cdp: SPI_connect failed");
	RequireContact(from_id, "from");
	RequireContact(to_id, "to");

	old_cxt = MemoryContextSwitchTo(search_cxt);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(GraphNode);
	ctl.hcxt = search_cxt;
	s.nodes = hash_create("cdp intro_paths nodes", 1024, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	contact_relid = get_relname_relid("contact", get_namespace_oid(CDP_SCHEMA, false));
	s.contact_rls = OidIsValid(contact_relid) &&
		check_enable_rls(contact_relid, InvalidOid, true) == RLS_ENABLED;

	s.root[0] = NodeFor(&s, from_id);
	s.root[0]->dist[0] = 0;
	s.root[0]->consent = CONSENT_OK;
	s.root[1] = NodeFor(&s, to_id);
	s.root[1]->dist[1] = 0;
	s.root[1]->consent = CONSENT_OK;
	for (int side = 0; side < 2; side++)
	{
		frontier[side] = palloc(sizeof(GraphNode *));
		frontier[side][0] = s.root[side];
		nfrontier[side] = 1;
	}

	if (from_id == to_id)
		hops = 0;
	else
	{
		while (depth[0] + depth[1] < max_hops)
		{
			int			side = nfrontier[1] < nfrontier[0] ? 1 : 0;
			GraphNode **next;
			int			nnext;
			GraphNode **cand;
			int			ncand = 0;
			int			bestsum = INT_MAX;

			if (nfrontier[side] == 0)
				break;
			ExpandLevel(&s, side, frontier[side], nfrontier[side], &next, &nnext);
			pfree(frontier[side]);
			frontier[side] = next;
			nfrontier[side] = nnext;
			depth[side]++;

			/* contacts the other side reached too */
			cand = palloc(sizeof(GraphNode *) * Max(nnext, 1));
			for (int i = 0; i < nnext; i++)
				if (next[i]->dist[1 - side] >= 0)
					cand[ncand++] = next[i];
			LoadConsent(&s, cand, ncand);
			for (int i = 0; i < ncand; i++)
			{
				int			sum = cand[i]->dist[0] + cand[i]->dist[1];

				if (cand[i]->consent == CONSENT_OK && sum < bestsum)
					bestsum = sum;
			}
			if (bestsum != INT_MAX)
			{
				meeting = palloc(sizeof(GraphNode *) * ncand);
				for (int i = 0; i < ncand; i++)
					if (cand[i]->consent == CONSENT_OK &&
						cand[i]->dist[0] + cand[i]->dist[1] == bestsum)
						meeting[nmeeting++] = cand[i];
				hops = bestsum;
				break;
			}
			pfree(cand);
			if (nfrontier[side] == 0)
				break;
		}
	}

	if (hops == 0)
	{
		found = palloc(sizeof(FoundPath));
		found->len = 1;
		found->ids = palloc(sizeof(int64));
		found->ids[0] = from_id;
		found->strength = 1.0f;
		nfound = 1;
	}
	else if (hops > 0)
		found = EnumeratePaths(&s, meeting, nmeeting, meeting[0]->dist[0], hops,
							   intro_paths_limit, &nfound);

	/*
	 * Emit the rows before SPI_finish: every SPI call leaves the SPI
	 * procedure context current, so the paths live there.  The tuplestore
	 * copies each row into its own context.
	 */
	for (int i = 0; i < nfound; i++)
	{
		Datum	   *ids = palloc(sizeof(Datum) * found[i].len);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		for (int k = 0; k < found[i].len; k++)
			ids[k] = Int64GetDatum(found[i].ids[k]);
		values[0] = PointerGetDatum(construct_array(ids, found[i].len, INT8OID, 8,
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[1] = Int32GetDatum(hops);
		values[2] = Float4GetDatum(found[i].strength);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(ids);
	}
	MemoryContextSwitchTo(old_cxt);
	SPI_finish();
	MemoryContextDelete(search_cxt);
	return (Datum) 0;
}

/* Per-contact sums of influence_scores */
typedef struct InfluenceEntry
{
	int64		id;				/* hash key */
	double		followers;
	double		ties;
	int64		reports;
	int64		referrals;
	double		second;			/* reach through followers and reports */
} InfluenceEntry;

/* An 'influences' or 'reports_to' edge kept for the second-degree sums */
typedef struct InfluenceEdge
{
	InfluenceEntry *up;			/* the influencer, or the manager */
	InfluenceEntry *down;		/* the follower, or the one reporting */
	float4		strength;		/* 0 for reports_to */
} InfluenceEdge;

/*
 * Find or create the sums of a contact.
 */
static InfluenceEntry *
InfluenceFor(HTAB *h, int64 id)
{
	bool		found;
	InfluenceEntry *e = hash_search(h, &id, HASH_ENTER, &found);

	if (!found)
	{
		e->followers = e->ties = 0;
		e->reports = e->referrals = 0;
		e->second = 0;
	}
	return e;
}

/*
 * Check that a weight is a finite, non-negative number.
 */
static double
WeightArg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	double		w;

	RequireArg(fcinfo, argno, name);
	w = PG_GETARG_FLOAT8(argno);
	if (isnan(w) || isinf(w) || w < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number >= 0", name)));
	return w;
}

/*
 * cdp.influence_scores(w_followers, w_reports, w_referrals, w_ties, w_second,
 *						  half_score)
 *		RETURNS TABLE(contact_id, score, followers, direct_reports, referrals,
 *					  ties, second_degree)
 *
 * One sequential pass over cdp.relationship (through a cursor, as the
 * caller, so row-level security applies) sums per contact:
 *	 followers		strength of 'influences' edges from the contact
 *	 direct_reports 'reports_to' edges pointing at the contact
 *	 referrals		'referred' edges from the contact, plus opportunities of
 *					cdp.opportunity whose referred_by is the contact
 *	 ties			strength of 'knows' edges at either end
 * and then, from the 'influences' and 'reports_to' edges kept in memory
 * during that pass, the contact's position one level further:
 *	 second_degree	for each follower, the tie's strength times that
 *					follower's own followers; plus, for each direct report,
 *					that person's direct reports
 * raw = w_followers*followers + w_reports*direct_reports
 *		 + w_referrals*referrals + w_ties*ties + w_second*second_degree, and
 * score = 100 * raw / (raw + half_score): 50 at raw = half_score,
 * approaching 100 for the most connected people.
 */
PG_FUNCTION_INFO_V1(cdp_influence_scores);
Datum
cdp_influence_scores(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double		w_followers = WeightArg(fcinfo, 0, "w_followers");
	double		w_reports = WeightArg(fcinfo, 1, "w_reports");
	double		w_referrals = WeightArg(fcinfo, 2, "w_referrals");
	double		w_ties = WeightArg(fcinfo, 3, "w_ties");
	double		w_second = WeightArg(fcinfo, 4, "w_second");
	double		half_score = WeightArg(fcinfo, 5, "half_score");
	MemoryContext cxt,
				old;
	HASHCTL		ctl;
	HTAB	   *h;
	SPIPlanPtr	plan;
	Portal		portal;
	HASH_SEQ_STATUS seq;
	InfluenceEntry *e;
	InfluenceEdge *edges;
	int64		nedges = 0,
				edgecap = 1024;
	int			ret;

	if (half_score <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("half_score must be greater than 0")));

	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "cdp influence_scores",
								ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(InfluenceEntry);
	ctl.hcxt = cxt;
	h = hash_create("cdp influence", 4096, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	edges = MemoryContextAllocHuge(cxt, sizeof(InfluenceEdge) * edgecap);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "cdp: SPI_connect failed");
	plan = SPI_prepare("SELECT from_contact, to_contact, kind, strength FROM cdp.relationship",
					   0, NULL);
	if (plan == NULL)
		elog(ERROR, "cdp: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		old = MemoryContextSwitchTo(cxt);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			int64		from = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
			int64		to = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
			text	   *kindt = DatumGetTextPP(SPI_getbinval(tup, desc, 3, &isnull));
			float4		strength = DatumGetFloat4(SPI_getbinval(tup, desc, 4, &isnull));
			char	   *kind = VARDATA_ANY(kindt);
			int			klen = VARSIZE_ANY_EXHDR(kindt);
			bool		influences = klen == 10 && memcmp(kind, "influences", 10) == 0;
			bool		reports = klen == 10 && memcmp(kind, "reports_to", 10) == 0;

			if (influences || reports)
			{
				InfluenceEntry *up = InfluenceFor(h, influences ? from : to);
				InfluenceEntry *down = InfluenceFor(h, influences ? to : from);

				if (influences)
					up->followers += strength;
				else
					up->reports += 1;
				if (nedges == edgecap)
				{
					edgecap *= 2;
					edges = repalloc_huge(edges, sizeof(InfluenceEdge) * edgecap);
				}
				edges[nedges].up = up;
				edges[nedges].down = down;
				edges[nedges].strength = influences ? strength : 0;
				nedges++;
			}
			else if (klen == 8 && memcmp(kind, "referred", 8) == 0)
			{
				InfluenceFor(h, from)->referrals += 1;
				(void) InfluenceFor(h, to);	/* listed, with a score of 0 */
			}
			else if (klen == 5 && memcmp(kind, "knows", 5) == 0)
			{
				InfluenceFor(h, from)->ties += strength;
				InfluenceFor(h, to)->ties += strength;
			}
		}
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_freeplan(plan);

	ret = SPI_execute("SELECT referred_by, pg_catalog.count(*) FROM cdp.opportunity"
					  " WHERE referred_by IS NOT NULL GROUP BY referred_by", true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "cdp: reading cdp.opportunity failed: %s", SPI_result_code_string(ret));
	old = MemoryContextSwitchTo(cxt);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		int64		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));

		InfluenceFor(h, id)->referrals += n;
	}
	MemoryContextSwitchTo(old);
	SPI_finish();

	/* second degree: what the followers and the reports bring along */
	for (int64 i = 0; i < nedges; i++)
	{
		if (edges[i].strength > 0)
			edges[i].up->second += edges[i].strength * edges[i].down->followers;
		else
			edges[i].up->second += edges[i].down->reports;
	}

	hash_seq_init(&seq, h);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		double		raw = w_followers * e->followers + w_reports * e->reports +
			w_referrals * e->referrals + w_ties * e->ties + w_second * e->second;

		values[0] = Int64GetDatum(e->id);
		values[1] = Float4GetDatum((float4) (100.0 * raw / (raw + half_score)));
		values[2] = Float4GetDatum((float4) e->followers);
		values[3] = Int64GetDatum(e->reports);
		values[4] = Int64GetDatum(e->referrals);
		values[5] = Float4GetDatum((float4) e->ties);
		values[6] = Float4GetDatum((float4) e->second);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
