/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *	  The lifecycle engine: validates stage changes of tracked tables against
 *	  their lifecycle model and records one cdp.stage_history row per stay.
 *
 * cdp.track_lifecycle() attaches cdp.lifecycle_trigger() to a table as an
 * AFTER ROW trigger (and an AFTER TRUNCATE statement trigger).  Running
 * after the row is written means the trigger sees the row as it will be
 * stored, after every BEFORE trigger had its say; refusing a change is an
 * ERROR, which undoes the row change and any history written by the same
 * statement.
 *
 * Concurrency: an UPDATE or DELETE of a row holds the row lock until commit,
 * and a second session changing the same row waits for it and then sees the
 * committed version as OLD.  So the history of one entity is written by one
 * transaction at a time, in the order the row versions were made.  Times are
 * taken from the clock when the trigger runs, not from the transaction start,
 * so that a transaction that waited for a lock still closes the previous stay
 * after it began; a unique index on the open stay is the last line of
 * defence.
 *
 * Models are cached per backend (LifecycleCache).  The model tables carry a
 * statement trigger, cdp.lifecycle_model_changed(), that sends a relcache
 * invalidation for the changed table; our relcache callback marks the cache
 * stale, in this backend at the next command and in the others at their next
 * transaction, and it is rebuilt on next use.
 *
 * src/lifecycle.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/regproc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "cdp.h"

/* GUCs */
static char *stage_reason = NULL;
static char *stage_time = NULL;

/* One stage of a model */
typedef struct LifecycleStage
{
	char	   *name;
	int			position;
	bool		is_exit;
	int			nrequired;
	char	  **required;		/* column names that must be filled */
	Oid			guard;			/* InvalidOid when none */
} LifecycleStage;

/* One explicit transition of a model, by stage index */
typedef struct LifecycleTransition
{
	int			from;
	int			to;
	bool		requires_reason;
} LifecycleTransition;

/* A model as loaded from cdp.lifecycle_stage and cdp.lifecycle_transition */
typedef struct LifecycleModel
{
	char		name[NAMEDATALEN];	/* hash key */
	bool		valid;
	int			nstages;
	LifecycleStage *stages;
	int			ntransitions;	/* > 0: only these moves are allowed */
	LifecycleTransition *transitions;
} LifecycleModel;

/* A tracked table as registered in cdp.tracked_table */
typedef struct TrackedTable
{
	Oid			relid;			/* hash key: the table the trigger fires on */
	Oid			entity;			/* the tracked table: relid, or the root of
								 * the partitioned table relid belongs to */
	bool		valid;
	char		model[NAMEDATALEN];
	AttrNumber	stage_attnum;
	AttrNumber	key_attnum;
	Oid			stage_output;	/* output functions of the two columns */
	Oid			key_output;
} TrackedTable;

static MemoryContext LifecycleCacheContext = NULL;
static HTAB *ModelCache = NULL;
static HTAB *TableCache = NULL;
static bool cache_stale = true;

/* relids of the tables the cache is built from, for the invalidation test */
#define N_SOURCE_TABLES 4
static Oid	source_relids[N_SOURCE_TABLES];

/*
 * cdp.stage_history, its entity index and identity sequence, looked up with
 * the rest of the cache.  Attribute numbers follow the table definition.
 */
static Oid	history_relid = InvalidOid;
static Oid	history_index = InvalidOid;
static Oid	history_seq = InvalidOid;

#define Anum_history_id			1
#define Anum_history_entity		2
#define Anum_history_entity_key 3
#define Anum_history_model		4
#define Anum_history_stage		5
#define Anum_history_previous	6
#define Anum_history_entered_at 7
#define Anum_history_exited_at	8
#define Anum_history_reason		9
#define Anum_history_changed_by 10
#define Natts_history			10

/* saved plans for the history writes */
static SPIPlanPtr rekey_plan = NULL;
static SPIPlanPtr truncate_plan = NULL;

PG_FUNCTION_INFO_V1(cdp_lifecycle_trigger);
PG_FUNCTION_INFO_V1(cdp_lifecycle_model_changed);

/*
 * Relcache callback: a change to one of the model tables, to a tracked table
 * (ALTER TABLE may move its columns), or a full reset makes the cache stale.
 * Runs inside invalidation processing, so it only sets a flag.
 */
static void
LifecycleRelcacheCallback(Datum arg, Oid relid)
{
	int			i;

	if (cache_stale)
		return;
	if (!OidIsValid(relid))
	{
		cache_stale = true;
		return;
	}
	for (i = 0; i < N_SOURCE_TABLES; i++)
	{
		if (source_relids[i] == relid)
		{
			cache_stale = true;
			return;
		}
	}
	if (TableCache != NULL && hash_search(TableCache, &relid, HASH_FIND, NULL) != NULL)
		cache_stale = true;
}

/*
 * Module initialisation: GUCs and the cache callback.
 */
void
cdp_lifecycle_init(void)
{
	DefineCustomStringVariable("cdp.stage_reason",
							   "Reason recorded with the next stage changes.",
							   "Backward moves and moves out of exit stages need a reason. "
							   "Usually set with SET LOCAL for one transaction, or passed to cdp.set_stage.",
							   &stage_reason,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("cdp.stage_time",
							   "Time recorded for the next stage changes instead of the clock.",
							   "For loading history from another system: moves must then be replayed "
							   "in time order per entity. Empty means the current time.",
							   &stage_time,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	CacheRegisterRelcacheCallback(LifecycleRelcacheCallback, (Datum) 0);
}

/*
 * Throw away the cache and start an empty one.
 */
static void
ResetLifecycleCache(void)
{
	HASHCTL		ctl;
	Oid			nsp;

	if (LifecycleCacheContext == NULL)
		LifecycleCacheContext = AllocSetContextCreate(CacheMemoryContext,
													  "cdp lifecycle cache",
													  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(LifecycleCacheContext);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(LifecycleModel);
	ctl.hcxt = LifecycleCacheContext;
	ModelCache = hash_create("cdp lifecycle models", 16, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(TrackedTable);
	ctl.hcxt = LifecycleCacheContext;
	TableCache = hash_create("cdp tracked tables", 16, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	nsp = get_namespace_oid(CDP_SCHEMA, false);
	source_relids[0] = get_relname_relid("lifecycle_model", nsp);
	source_relids[1] = get_relname_relid("lifecycle_stage", nsp);
	source_relids[2] = get_relname_relid("lifecycle_transition", nsp);
	source_relids[3] = get_relname_relid("tracked_table", nsp);

	history_relid = get_relname_relid("stage_history", nsp);
	history_index = get_relname_relid("stage_history_entity_idx", nsp);
	if (!OidIsValid(history_relid) || !OidIsValid(history_index))
		elog(ERROR, "cdp: cdp.stage_history or its index is missing");
	history_seq = getIdentitySequence(history_relid, Anum_history_id, false);

	cache_stale = false;
}

/*
 * Copy a string into the cache context.
 */
static char *
CacheStrdup(const char *s)
{
	return MemoryContextStrdup(LifecycleCacheContext, s);
}

/*
 * Find the index of a stage in a model, or -1.
 */
static int
FindStage(LifecycleModel *model, const char *name)
{
	int			i;

	for (i = 0; i < model->nstages; i++)
		if (strcmp(model->stages[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * Load one model through SPI (the caller is connected).
 */
static void
LoadModel(LifecycleModel *model)
{
	Datum		arg = CStringGetTextDatum(model->name);
	Oid			argtype = TEXTOID;
	uint64		i;
	int			ret;

	ret = SPI_execute_with_args("SELECT stage, position, is_exit, required_columns::pg_catalog.text[], guard::pg_catalog.oid"
								"  FROM cdp.lifecycle_stage"
								" WHERE model OPERATOR(pg_catalog.=) $1"
								" ORDER BY position",
								1, &argtype, &arg, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "cdp: loading lifecycle stages failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lifecycle model \"%s\" has no stages", model->name),
				 errhint("Insert its stages into cdp.lifecycle_stage.")));

	model->nstages = (int) SPI_processed;
	model->stages = MemoryContextAllocZero(LifecycleCacheContext,
										   sizeof(LifecycleStage) * model->nstages);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		LifecycleStage *st = &model->stages[i];
		bool		isnull;
		Datum		d;

		st->name = CacheStrdup(TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull)));
		st->position = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		st->is_exit = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		d = SPI_getbinval(tup, desc, 4, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n;
			int			j;

			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &nulls, &n);
			st->required = MemoryContextAllocZero(LifecycleCacheContext, sizeof(char *) * Max(n, 1));
			for (j = 0; j < n; j++)
				if (!nulls[j])
					st->required[st->nrequired++] = CacheStrdup(TextDatumGetCString(elems[j]));
		}
		d = SPI_getbinval(tup, desc, 5, &isnull);
		st->guard = isnull ? InvalidOid : DatumGetObjectId(d);
	}

	ret = SPI_execute_with_args("SELECT from_stage, to_stage, requires_reason"
								"  FROM cdp.lifecycle_transition"
								" WHERE model OPERATOR(pg_catalog.=) $1",
								1, &argtype, &arg, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "cdp: loading lifecycle transitions failed: %s", SPI_result_code_string(ret));
	model->ntransitions = (int) SPI_processed;
	model->transitions = MemoryContextAllocZero(LifecycleCacheContext,
												sizeof(LifecycleTransition) * Max(model->ntransitions, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		LifecycleTransition *tr = &model->transitions[i];
		bool		isnull;

		/* the foreign keys guarantee both stages exist */
		tr->from = FindStage(model, TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull)));
		tr->to = FindStage(model, TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull)));
		tr->requires_reason = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
	}
	model->valid = true;
}

/*
 * The model of a given name, loaded on first use.
 */
static LifecycleModel *
GetModel(const char *name)
{
	LifecycleModel *model;
	bool		found;
	char		key[NAMEDATALEN];

	/* copy first: name may point into the cache */
	memset(key, 0, sizeof(key));
	strlcpy(key, name, sizeof(key));
	if (cache_stale)
		ResetLifecycleCache();
	model = hash_search(ModelCache, key, HASH_ENTER, &found);
	if (!found || !model->valid)
	{
		model->valid = false;
		LoadModel(model);
	}
	return model;
}

/*
 * The registration of a tracked table, loaded on first use.
 */
static TrackedTable *
GetTrackedTable(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	TrackedTable *tt;
	bool		found;
	Datum		arg;
	Oid			argtype = OIDOID;
	int			ret;
	bool		isnull;
	bool		varlena;
	char	   *col;
	HeapTuple	tup;
	TupleDesc	desc;

	if (cache_stale)
		ResetLifecycleCache();
	tt = hash_search(TableCache, &relid, HASH_ENTER, &found);
	if (found && tt->valid)
		return tt;
	tt->valid = false;

	/*
	 * Row triggers of a partitioned table fire on the partition; the entity
	 * is the tracked root.
	 */
	tt->entity = relid;
	if (rel->rd_rel->relispartition)
		tt->entity = llast_oid(get_partition_ancestors(relid));

	arg = ObjectIdGetDatum(tt->entity);
	ret = SPI_execute_with_args("SELECT model, stage_column::pg_catalog.text, key_column::pg_catalog.text"
								"  FROM cdp.tracked_table"
								" WHERE tbl OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
								1, &argtype, &arg, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "cdp: loading tracked table failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not tracked", RelationGetRelationName(rel)),
				 errhint("Attach the lifecycle trigger with cdp.track_lifecycle, not by hand.")));

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	strlcpy(tt->model, TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull)), NAMEDATALEN);

	col = TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull));
	tt->stage_attnum = SPI_fnumber(RelationGetDescr(rel), col);
	if (tt->stage_attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("stage column \"%s\" of tracked table \"%s\" does not exist",
						col, RelationGetRelationName(rel))));
	col = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
	tt->key_attnum = SPI_fnumber(RelationGetDescr(rel), col);
	if (tt->key_attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("key column \"%s\" of tracked table \"%s\" does not exist",
						col, RelationGetRelationName(rel))));

	getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), tt->stage_attnum - 1)->atttypid,
					  &tt->stage_output, &varlena);
	getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), tt->key_attnum - 1)->atttypid,
					  &tt->key_output, &varlena);
	tt->valid = true;
	return tt;
}

/*
 * Column value of a tuple as text, or NULL.
 */
static char *
ColumnText(HeapTuple tuple, TupleDesc desc, AttrNumber attnum, Oid output)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, attnum, desc, &isnull);

	if (isnull)
		return NULL;
	return OidOutputFunctionCall(output, d);
}

/*
 * The reason given for this change, or NULL.
 */
static const char *
CurrentReason(void)
{
	if (stage_reason == NULL || stage_reason[0] == '\0')
		return NULL;
	return stage_reason;
}

/*
 * The time to record for this change: cdp.stage_time when set, else the
 * clock.  *explicit_time tells which.
 */
static TimestampTz
ChangeTime(bool *explicit_time)
{
	if (stage_time != NULL && stage_time[0] != '\0')
	{
		*explicit_time = true;
		return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													   CStringGetDatum(stage_time),
													   ObjectIdGetDatum(InvalidOid),
													   Int32GetDatum(-1)));
	}
	*explicit_time = false;
	return GetCurrentTimestamp();
}

/*
 * Refuse a move that needs a reason when none was given.
 */
static void
RequireReason(LifecycleModel *model, const char *from, const char *to, const char *why)
{
	if (CurrentReason() != NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("stage change from \"%s\" to \"%s\" needs a reason", from, to),
			 errdetail("In lifecycle model \"%s\", %s.", model->name, why),
			 errhint("Pass a reason to cdp.set_stage, or SET LOCAL cdp.stage_reason before the UPDATE.")));
}

/*
 * Apply the model's policy to a move between two known-or-unknown stages.
 * from is -1 when the row was in a stage the model does not know (the model
 * was edited): leaving such a stage is always allowed.
 */
static void
CheckTransition(LifecycleModel *model, int from, int to)
{
	LifecycleStage *f;
	LifecycleStage *t = &model->stages[to];
	int			i;

	if (from < 0)
		return;
	f = &model->stages[from];

	if (model->ntransitions > 0)
	{
		StringInfoData allowed;

		for (i = 0; i < model->ntransitions; i++)
		{
			LifecycleTransition *tr = &model->transitions[i];

			if (tr->from == from && tr->to == to)
			{
				if (tr->requires_reason)
					RequireReason(model, f->name, t->name, "this transition requires a reason");
				return;
			}
		}
		initStringInfo(&allowed);
		for (i = 0; i < model->ntransitions; i++)
		{
			if (model->transitions[i].from != from)
				continue;
			appendStringInfo(&allowed, "%s%s", allowed.len > 0 ? ", " : "",
							 model->stages[model->transitions[i].to].name);
		}
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("stage change from \"%s\" to \"%s\" is not allowed", f->name, t->name),
				 errdetail("Lifecycle model \"%s\" lists its transitions, and this one is not among them.",
						   model->name),
				 allowed.len > 0
				 ? errhint("From \"%s\" the model allows: %s.", f->name, allowed.data)
				 : errhint("The model allows no move out of \"%s\".", f->name)));
	}

	if (f->is_exit && t->is_exit)
		RequireReason(model, f->name, t->name, "moving from one exit stage to another needs a reason");
	else if (f->is_exit)
		RequireReason(model, f->name, t->name, "leaving an exit stage needs a reason");
	else if (!t->is_exit && t->position < f->position)
		RequireReason(model, f->name, t->name, "a backward move needs a reason");
}

/*
 * Refuse entry into a stage whose required columns are empty (NULL, or an
 * empty string for string types).  Models are shared by tables with
 * different columns: a required column the table does not have is skipped
 * (track_lifecycle warns about it).
 */
static void
CheckRequiredColumns(Relation rel, HeapTuple tuple, LifecycleModel *model, LifecycleStage *st)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < st->nrequired; i++)
	{
		AttrNumber	attnum = SPI_fnumber(desc, st->required[i]);
		bool		isnull;
		Datum		d;
		bool		empty;

		/* a requirement on a column the table lacks does not apply to it */
		if (attnum <= 0)
			continue;
		d = heap_getattr(tuple, attnum, desc, &isnull);
		empty = isnull;
		if (!isnull)
		{
			Oid			typid = TupleDescAttr(desc, attnum - 1)->atttypid;

			if (typid == TEXTOID || typid == VARCHAROID || typid == BPCHAROID)
				empty = VARSIZE_ANY_EXHDR(DatumGetPointer(d)) == 0;
			else if (typid == NAMEOID)
				empty = NameStr(*DatumGetName(d))[0] == '\0';
		}
		if (empty)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("stage \"%s\" requires column \"%s\" to be filled", st->name, st->required[i]),
					 errdetail("In lifecycle model \"%s\", entering \"%s\" requires: %s.",
							   model->name, st->name, st->required[i]),
					 errhint("Fill in %s in the same UPDATE that changes the stage.", st->required[i]),
					 errtablecol(rel, attnum)));
	}
}

/*
 * Run the stage's guard function, if any: false or NULL refuses the move.
 */
static void
CheckGuard(Relation rel, Oid entity, LifecycleModel *model, LifecycleStage *st, const char *key)
{
	FmgrInfo	flinfo;
	LOCAL_FCINFO(fcinfo, 3);
	Datum		result;

	if (!OidIsValid(st->guard))
		return;
	fmgr_info(st->guard, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 3, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(entity);
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = CStringGetTextDatum(key);
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = CStringGetTextDatum(st->name);
	fcinfo->args[2].isnull = false;
	result = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull || !DatumGetBool(result))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("stage \"%s\" refused for key \"%s\" of \"%s\" by its guard %s",
						st->name, key, RelationGetRelationName(rel),
						format_procedure(st->guard)),
				 errdetail("In lifecycle model \"%s\", entering \"%s\" requires the guard to return true.",
						   model->name, st->name)));
}

/*
 * Prepare and keep a plan.
 */
static SPIPlanPtr
KeepPlan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "cdp: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/*
 * Writes to cdp.stage_history go straight to the table and its indexes
 * instead of through SPI: a stage change costs one index descent, one HOT
 * update and one insert, with no executor start-up per statement.  The
 * history is written with the extension's authority, like a catalog: moving
 * a stage needs no privileges on cdp.stage_history.  The table has no
 * triggers, foreign keys or rules; its one CHECK (exited_at >= entered_at)
 * holds by construction (the close time is never before the stay began).
 */
typedef struct HistoryWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;		/* for reading and inserting */
	TupleTableSlot *newslot;	/* the closed version of an open stay */
} HistoryWriter;

/*
 * Open cdp.stage_history and its indexes for writing.
 */
static void
HistoryOpen(HistoryWriter *w)
{
	w->rel = table_open(history_relid, RowExclusiveLock);
	if (RelationGetDescr(w->rel)->natts != Natts_history)
		elog(ERROR, "cdp: cdp.stage_history has an unexpected definition");
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	ExecOpenIndices(w->rri, false);
	w->slot = table_slot_create(w->rel, NULL);
	w->newslot = MakeSingleTupleTableSlot(RelationGetDescr(w->rel), &TTSOpsVirtual);
}

/*
 * Release what HistoryOpen took; the lock is kept until commit.  Makes the
 * writes visible to the rest of the transaction.
 */
static void
HistoryClose(HistoryWriter *w)
{
	ExecDropSingleTupleTableSlot(w->newslot);
	ExecDropSingleTupleTableSlot(w->slot);
	ExecCloseIndices(w->rri);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
	CommandCounterIncrement();
}

/*
 * Index entries for a tuple just written from slot.  For the new version of
 * an updated tuple the executor would pass update = true, as a hint for
 * bottom-up index deletion; that needs a range table we do not have, and the
 * entries are the same without it.
 */
static void
HistoryIndex(HistoryWriter *w, TupleTableSlot *slot)
{
#if PG_VERSION_NUM >= 160000
	list_free(ExecInsertIndexTuples(w->rri, slot, w->estate, false, false, NULL, NIL, false));
#else
	list_free(ExecInsertIndexTuples(w->rri, slot, w->estate, false, false, NULL, NIL));
#endif
}

/*
 * Close the open stay of an entity at ts.  Returns true when there was one;
 * then *closed_at is the recorded end (never before the stay began) and
 * *began the start of the closed stay.
 *
 * The open stay, if any, is the entity's latest: one backward step in the
 * index (entity, entity_key, entered_at, history_id).  A fresh snapshot is
 * used, so that a transaction that waited for the tracked row's lock sees
 * the history the previous holder committed.
 */
static bool
CloseStay(HistoryWriter *w, Oid relid, const char *key, TimestampTz ts,
		  TimestampTz *closed_at, TimestampTz *began)
{
	Relation	idx;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	Snapshot	snap;
	bool		found = false;

	idx = index_open(history_index, RowExclusiveLock);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   idx->rd_indcollation[1], F_TEXTEQ, CStringGetTextDatum(key));
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = index_beginscan(w->rel, idx, snap, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);

	if (index_getnext_slot(scan, BackwardScanDirection, w->slot))
	{
		bool		isnull;

		(void) slot_getattr(w->slot, Anum_history_exited_at, &isnull);
		if (isnull)
		{
			ItemPointerData tid = w->slot->tts_tid;
			TimestampTz entered;
			TimestampTz end;
#if PG_VERSION_NUM >= 160000
			TU_UpdateIndexes update_indexes;
#else
			bool		update_indexes;
#endif

			entered = DatumGetTimestampTz(slot_getattr(w->slot, Anum_history_entered_at, &isnull));
			end = Max(ts, entered);

			/* same values, exited_at filled in */
			slot_getallattrs(w->slot);
			ExecClearTuple(w->newslot);
			memcpy(w->newslot->tts_values, w->slot->tts_values, sizeof(Datum) * Natts_history);
			memcpy(w->newslot->tts_isnull, w->slot->tts_isnull, sizeof(bool) * Natts_history);
			w->newslot->tts_values[Anum_history_exited_at - 1] = TimestampTzGetDatum(end);
			w->newslot->tts_isnull[Anum_history_exited_at - 1] = false;
			ExecStoreVirtualTuple(w->newslot);
			simple_table_tuple_update(w->rel, &tid, w->newslot, snap, &update_indexes);
#if PG_VERSION_NUM >= 160000
			if (update_indexes != TU_None)
				HistoryIndex(w, w->newslot);
#else
			if (update_indexes)
				HistoryIndex(w, w->newslot);
#endif
			*closed_at = end;
			*began = entered;
			found = true;
		}
	}
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(idx, NoLock);
	return found;
}

/*
 * Open a new stay.
 */
static void
OpenStay(HistoryWriter *w, Oid relid, const char *key, const char *model, const char *stage,
		 const char *previous, TimestampTz entered)
{
	TupleTableSlot *slot = w->slot;
	const char *reason = CurrentReason();
	Datum	   *v;
	bool	   *n;

	ExecClearTuple(slot);
	v = slot->tts_values;
	n = slot->tts_isnull;
	memset(n, false, sizeof(bool) * Natts_history);
	v[Anum_history_id - 1] = Int64GetDatum(nextval_internal(history_seq, false));
	v[Anum_history_entity - 1] = ObjectIdGetDatum(relid);
	v[Anum_history_entity_key - 1] = CStringGetTextDatum(key);
	v[Anum_history_model - 1] = CStringGetTextDatum(model);
	v[Anum_history_stage - 1] = CStringGetTextDatum(stage);
	if (previous != NULL)
		v[Anum_history_previous - 1] = CStringGetTextDatum(previous);
	else
		n[Anum_history_previous - 1] = true;
	v[Anum_history_entered_at - 1] = TimestampTzGetDatum(entered);
	n[Anum_history_exited_at - 1] = true;
	if (reason != NULL)
		v[Anum_history_reason - 1] = CStringGetTextDatum(reason);
	else
		n[Anum_history_reason - 1] = true;
	v[Anum_history_changed_by - 1] = DirectFunctionCall1(namein,
														 CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	ExecStoreVirtualTuple(slot);
	table_tuple_insert(w->rel, slot, GetCurrentCommandId(true), 0, NULL);
	HistoryIndex(w, slot);
}

/*
 * Record a move of one entity into stage `stage` (NULL: the entity leaves,
 * its row was deleted) at the change time.
 */
static void
RecordMove(Oid relid, const char *key, const char *model, const char *stage, const char *previous)
{
	bool		explicit_time;
	TimestampTz ts = ChangeTime(&explicit_time);
	TimestampTz closed_at;
	TimestampTz began;
	TimestampTz entered = ts;
	HistoryWriter w;

	if (cache_stale)
		ResetLifecycleCache();
	HistoryOpen(&w);
	if (CloseStay(&w, relid, key, ts, &closed_at, &began))
	{
		if (explicit_time && ts < began)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cdp.stage_time %s is before the current stay of \"%s\" began",
							timestamptz_to_str(ts), key),
					 errdetail("The current stay began at %s.", timestamptz_to_str(began)),
					 errhint("Replay the moves of each entity in time order.")));
		entered = closed_at;
	}
	if (stage != NULL)
		OpenStay(&w, relid, key, model, stage, previous, entered);
	HistoryClose(&w);
}

/*
 * Validate a move into `to_name` and record it.  from_name is NULL when the
 * entity enters the lifecycle (insert, or a NULL stage being set).
 */
static void
HandleMove(Relation rel, Oid entity, const char *model_name, HeapTuple newtuple, const char *key,
		   const char *from_name, const char *to_name)
{
	LifecycleModel *model = GetModel(model_name);
	int			to = FindStage(model, to_name);
	char		model_copy[NAMEDATALEN];

	if (to < 0)
	{
		StringInfoData known;
		int			i;

		initStringInfo(&known);
		for (i = 0; i < model->nstages; i++)
			appendStringInfo(&known, "%s%s", i > 0 ? ", " : "", model->stages[i].name);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown stage \"%s\" for lifecycle model \"%s\"", to_name, model->name),
				 errhint("Stages of \"%s\": %s.", model->name, known.data)));
	}
	if (from_name != NULL)
		CheckTransition(model, FindStage(model, from_name), to);
	CheckRequiredColumns(rel, newtuple, model, &model->stages[to]);

	/*
	 * The guard may run SQL that rebuilds the cache (a nested tracked-table
	 * change): keep what we need in local memory.
	 */
	strlcpy(model_copy, model->name, sizeof(model_copy));
	CheckGuard(rel, entity, model, &model->stages[to], key);
	RecordMove(entity, key, model_copy, to_name, from_name);
}

/*
 * Give the history of an entity its new key after a primary key update.
 */
static void
RekeyHistory(Oid relid, const char *oldkey, const char *newkey)
{
	Datum		args[3];
	int			ret;

	if (rekey_plan == NULL)
	{
		Oid			types[3] = {REGCLASSOID, TEXTOID, TEXTOID};

		rekey_plan = KeepPlan("UPDATE cdp.stage_history SET entity_key = $3"
							  " WHERE entity OPERATOR(pg_catalog.=) $1"
							  "   AND entity_key OPERATOR(pg_catalog.=) $2",
							  3, types);
	}
	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(oldkey);
	args[2] = CStringGetTextDatum(newkey);
	ret = SPI_execute_plan(rekey_plan, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "cdp: re-keying history failed: %s", SPI_result_code_string(ret));
}

/*
 * TRUNCATE of a tracked table: every entity leaves.
 */
static void
HandleTruncate(Relation rel)
{
	Datum		args[2];
	bool		explicit_time;
	int			ret;

	if (truncate_plan == NULL)
	{
		Oid			types[2] = {REGCLASSOID, TIMESTAMPTZOID};

		truncate_plan = KeepPlan("UPDATE cdp.stage_history"
								 "   SET exited_at = GREATEST($2, entered_at)"
								 " WHERE entity OPERATOR(pg_catalog.=) $1 AND exited_at IS NULL",
								 2, types);
	}
	args[0] = ObjectIdGetDatum(RelationGetRelid(rel));
	args[1] = TimestampTzGetDatum(ChangeTime(&explicit_time));
	ret = SPI_execute_plan(truncate_plan, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "cdp: closing stays after TRUNCATE failed: %s", SPI_result_code_string(ret));
}

/*
 * The lifecycle trigger: AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW, and
 * AFTER TRUNCATE FOR EACH STATEMENT.
 */
Datum
cdp_lifecycle_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	TrackedTable tt;
	HeapTuple	oldtuple = NULL;
	HeapTuple	newtuple = NULL;
	char	   *oldkey = NULL;
	char	   *newkey = NULL;
	char	   *oldstage = NULL;
	char	   *newstage = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("cdp.lifecycle_trigger() must be called as a trigger")));
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("cdp.lifecycle_trigger() must be fired AFTER"),
				 errhint("Use cdp.track_lifecycle to attach it.")));

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "cdp: SPI_connect failed");

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
	{
		HandleTruncate(rel);
		SPI_finish();
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("cdp.lifecycle_trigger() must be fired FOR EACH ROW or on TRUNCATE")));

	/* a copy: the cache may be rebuilt while we work */
	tt = *GetTrackedTable(rel);

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		newtuple = trigdata->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		oldtuple = trigdata->tg_trigtuple;
		newtuple = trigdata->tg_newtuple;
	}
	else
		oldtuple = trigdata->tg_trigtuple;

	if (oldtuple != NULL)
	{
		oldkey = ColumnText(oldtuple, desc, tt.key_attnum, tt.key_output);
		oldstage = ColumnText(oldtuple, desc, tt.stage_attnum, tt.stage_output);
	}
	if (newtuple != NULL)
	{
		newkey = ColumnText(newtuple, desc, tt.key_attnum, tt.key_output);
		newstage = ColumnText(newtuple, desc, tt.stage_attnum, tt.stage_output);
	}

	if (newtuple == NULL)
	{
		/* DELETE: the entity leaves; its history stays */
		if (oldstage != NULL && oldkey != NULL)
			RecordMove(tt.entity, oldkey, tt.model, NULL, oldstage);
	}
	else if (oldtuple == NULL)
	{
		/* INSERT */
		if (newstage != NULL)
			HandleMove(rel, tt.entity, tt.model, newtuple, newkey, NULL, newstage);
	}
	else
	{
		/* UPDATE */
		if (oldkey != NULL && newkey != NULL && strcmp(oldkey, newkey) != 0)
			RekeyHistory(tt.entity, oldkey, newkey);

		if (newstage == NULL && oldstage != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("the stage of a tracked row cannot be cleared"),
					 errdetail("Row \"%s\" of \"%s\" is in stage \"%s\".",
							   newkey, RelationGetRelationName(rel), oldstage),
					 errhint("Move it to an exit stage, or delete the row."),
					 errtablecol(rel, tt.stage_attnum)));
		if (newstage != NULL && (oldstage == NULL || strcmp(oldstage, newstage) != 0))
			HandleMove(rel, tt.entity, tt.model, newtuple, newkey, oldstage, newstage);
	}

	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * Statement trigger on the model tables: invalidate every backend's model
 * cache (a relcache invalidation for the changed table reaches our callback
 * here at the next command and elsewhere at the next transaction).
 */
Datum
cdp_lifecycle_model_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("cdp.lifecycle_model_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
