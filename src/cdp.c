/*-------------------------------------------------------------------------
 *
 * cdp.c
 *	  Entry point of the cdp shared library: module initialisation.
 *
 * The library is loaded on first use of any cdp C function.  _PG_init lets
 * every module define its GUCs and register its cache callbacks, then
 * reserves the "cdp." prefix so that a misspelt setting such as
 * "SET cdp.stage_reasn = ..." is an error instead of a silent placeholder.
 *
 * src/cdp.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "cdp.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Library initialisation: one call per module, then reserve the prefix.
 */
void
_PG_init(void)
{
	cdp_lifecycle_init();
	cdp_graph_init();
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("cdp");
#else
	EmitWarningsOnPlaceholders("cdp");
#endif
}
