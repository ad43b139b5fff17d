/* What Python type the live blocks of each site hold, told from the blocks themselves: for the run file's snapshots
 * (runfile.c), so `thrifty watch` can say "this line keeps bytes objects". kepttypes.c has how and why it is safe.
 */
#ifndef THRIFTY_KEPTTYPES_H
#define THRIFTY_KEPTTYPES_H

#include "tracker_tables.h"

typedef struct {
    uint32_t site;
    uint32_t type;  /* index into the names */
    uint64_t bytes; /* live bytes of that type at the site (scaled as the site's live bytes) */
} tf_kept_row;

typedef struct {
    tf_kept_row *rows; /* per site, the type holding most of its bytes; sites with no typed block have no row */
    uint32_t nrows;
    char *names; /* the type names, each NUL-terminated, in index order */
    uint32_t ntypes;
    size_t names_len, names_cap;
    size_t own_bytes;  /* malloc'd memory held by this result (the recorder's own memory) */
    size_t peak_bytes; /* the most held while collecting it */
} tf_kept_types;

/* Fills *k from the tracker's live blocks (at most 4096 looked at: a random sample of more). 0, or -1 when out of
 * memory (k then empty). Lock held, no GIL needed; allocates with malloc only. */
int tf_kept_types_collect(tf_kept_types *k);

void tf_kept_types_free(tf_kept_types *k);

/* Closes the probe's pipe (a fork child, or the run file closed). */
void tf_kept_types_close(void);

#endif
