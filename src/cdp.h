/*-------------------------------------------------------------------------
 *
 * cdp.h
 *	  Declarations shared between the modules of the cdp extension.
 *
 * Each module (lifecycle, normalize, company, ...) lives in its own C file.
 * A module that defines GUCs or caches exposes an init function here, which
 * _PG_init in cdp.c calls once per backend before reserving the "cdp."
 * GUC prefix.
 *
 * src/cdp.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDP_H
#define CDP_H

#include "postgres.h"

/* name of the extension's schema; the control file fixes it */
#define CDP_SCHEMA "cdp"

/* lifecycle.c */
extern void cdp_lifecycle_init(void);

/* graph.c */
extern void cdp_graph_init(void);

#endif							/* CDP_H */
