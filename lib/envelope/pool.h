/* A recycled allocator for yajl's parser handle. yajl 2.1 cannot reset a
 * handle, so each decode allocates a new one (handle, lexer, state stack,
 * unescape buffer); serving those from a block kept by the decoder means a
 * warm decoder does not call malloc per record. */
#ifndef ORDERFLOW_ENVELOPE_POOL_H
#define ORDERFLOW_ENVELOPE_POOL_H

#include <stddef.h>

#include <yajl/yajl_common.h>

#include "text.h"

typedef struct of_pool {
    unsigned char *base;
    size_t cap;
    size_t used;
    size_t last;     /* offset of the newest block's header, or SIZE_MAX */
    size_t overflow; /* bytes asked for beyond cap since the last reset */
} of_pool;

/* Sets up an empty pool with an initial block (none if that fails: the pool
 * then passes everything to malloc). */
OF_HIDDEN void of_pool_init(of_pool *pool, size_t initial);
/* Forgets every block (yajl_free must have run) and, if the last parse
 * overflowed, grows so that the same parse fits next time. */
OF_HIDDEN void of_pool_reset(of_pool *pool);
OF_HIDDEN void of_pool_destroy(of_pool *pool);
/* Allocation functions for yajl_alloc, with pool as their context. */
OF_HIDDEN yajl_alloc_funcs of_pool_funcs(of_pool *pool);

#endif
