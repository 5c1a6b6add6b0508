/* rdt/: linux.intelRdt through the resctrl filesystem (bundle-spec/intelrdt.md).
 * Every function takes the resctrl root as a directory fd, so that a test
 * can hand it a plain directory standing in for /sys/fs/resctrl (a group
 * made there has none of the files the kernel puts in one: they are
 * created by the writes).  Uses gk/ only. */
#ifndef GK_RUNTIME_RDT_H
#define GK_RUNTIME_RDT_H

#include <stdbool.h>
#include <sys/types.h>

#include "gk/error.h"
#include "gk/spec.h"

#define GK_RDT_ROOT "/sys/fs/resctrl"

/* The resctrl mount at GK_RDT_ROOT (an fd), or an error saying it is not
 * mounted there. */
int gk_rdt_open_root(gk_error **err);

/* What the host's resctrl offers for R: L3 for l3CacheSchema, MB for
 * memBwSchema, monitoring for enableMonitoring (its info/ directory). */
int gk_rdt_check(int root, const gk_intel_rdt *r, gk_error **err);

/* At create, for container ID whose init is PID: the CLOS group (closID,
 * "/" the root, or ID made for it), its schemata (l3CacheSchema,
 * memBwSchema, then schemata's lines; a group that exists already must
 * have them), PID in its tasks, and with enableMonitoring the MON group
 * mon_groups/ID with PID in it.  On failure, what it made is removed. */
int gk_rdt_apply(int root, const gk_intel_rdt *r, const char *id, pid_t pid, gk_error **err);

/* At delete: the MON group, and the group if it was made for ID (no
 * closID).  Missing ones are fine. */
int gk_rdt_remove(int root, const gk_intel_rdt *r, const char *id, gk_error **err);

/* Whether schemata file text CURRENT already holds LINE
 * ("L3:0=7f0;1=1f"): every domain LINE names has that value for that
 * resource, compared as numbers (the kernel pads names and bitmasks). */
bool gk_rdt_schema_holds(const char *current, const char *line);

#endif
