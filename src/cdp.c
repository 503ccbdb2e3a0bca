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
#include "utils/builtins.h"
#include "utils/guc.h"

#include <unicode/uchar.h>
#include <unicode/uversion.h>

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
	cdp_company_init();
	cdp_graph_init();
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("cdp");
#else
	EmitWarningsOnPlaceholders("cdp");
#endif
}

/*
 * cdp.build_info(): what this library was built with and runs on, for bug
 * reports: matching results depend on the ICU and Unicode versions.
 */
PG_FUNCTION_INFO_V1(cdp_build_info);
Datum
cdp_build_info(PG_FUNCTION_ARGS)
{
	UVersionInfo icu;
	UVersionInfo unicode;
	char		icu_str[U_MAX_VERSION_STRING_LENGTH];
	char		unicode_str[U_MAX_VERSION_STRING_LENGTH];

	u_getVersion(icu);
	u_versionToString(icu, icu_str);
	u_getUnicodeVersion(unicode);
	u_versionToString(unicode, unicode_str);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("cdp %s built for PostgreSQL %s (ICU %s), running on PostgreSQL %s with ICU %s (Unicode %s)",
											  CDP_VERSION, PG_VERSION, U_ICU_VERSION,
											  GetConfigOption("server_version", false, false),
											  icu_str, unicode_str)));
}
