#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* Under AddressSanitizer, free and unused pool memory is poisoned so yajl's
 * use-after-free or overflow is still caught, as with plain malloc. */
#if defined(__SANITIZE_ADDRESS__)
#define OF_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OF_POOL_ASAN 1
#endif
#endif
#ifdef OF_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Each block starts with a header holding its size; the header keeps the
 * payload aligned for any type, as malloc's would be. */
#define ALIGN ((size_t)16)
typedef struct header {
    size_t size;
    size_t pad;
} header;
_Static_assert(sizeof(header) % ALIGN == 0, "header keeps payload alignment");

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) & ~(ALIGN - 1);
}

static int inside(const of_pool *pool, const void *p)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)pool->base;
    return pool->base && a >= b && a < b + pool->cap;
}

static header *header_of(void *p)
{
    return (header *)((unsigned char *)p - sizeof(header));
}

static void *pool_malloc(void *ctx, size_t size)
{
    of_pool *pool = ctx;
    size_t need = sizeof(header) + round_up(size);
    if (need >= size && need <= pool->cap - pool->used) {
        unsigned char *block = pool->base + pool->used;
        UNPOISON(block, sizeof(header) + size);
        ((header *)block)->size = size;
        pool->last = pool->used;
        pool->used += need;
        return block + sizeof(header);
    }
    pool->overflow += need;
    header *h = malloc(sizeof(header) + size);
    if (!h) return NULL;
    h->size = size;
    return h + 1;
}

static void pool_free(void *ctx, void *p)
{
    of_pool *pool = ctx;
    if (!p) return;
    header *h = header_of(p);
    if (!inside(pool, p)) {
        free(h);
        return;
    }
    /* Only the newest block can be given back; the rest waits for the reset. */
    if ((unsigned char *)h - pool->base == (ptrdiff_t)pool->last) {
        pool->used = pool->last;
        pool->last = SIZE_MAX;
    }
    POISON(h, sizeof(header) + h->size);
}

static void *pool_realloc(void *ctx, void *p, size_t size)
{
    of_pool *pool = ctx;
    if (!p) return pool_malloc(ctx, size);
    header *h = header_of(p);
    if (inside(pool, p)) {
        size_t offset = (size_t)((unsigned char *)h - pool->base);
        size_t need = sizeof(header) + round_up(size);
        /* yajl grows its buffers by doubling, most often the newest block:
         * extend that one in place. */
        if (offset == pool->last && need >= size && need <= pool->cap - offset) {
            pool->used = offset + need;
            h->size = size;
            UNPOISON(p, size);
            return p;
        }
        if (size <= h->size) {
            POISON((unsigned char *)p + size, h->size - size);
            h->size = size;
            return p;
        }
    } else {
        header *grown = realloc(h, sizeof(header) + size);
        if (!grown) return NULL;
        pool->overflow += size > grown->size ? size - grown->size : 0;
        grown->size = size;
        return grown + 1;
    }
    void *fresh = pool_malloc(ctx, size);
    if (!fresh) return NULL;
    memcpy(fresh, p, h->size);
    pool_free(ctx, p);
    return fresh;
}

void of_pool_init(of_pool *pool, size_t initial)
{
    *pool = (of_pool){.last = SIZE_MAX};
    pool->base = malloc(initial);
    if (pool->base) pool->cap = initial;
    POISON(pool->base, pool->cap);
}

void of_pool_reset(of_pool *pool)
{
    if (pool->overflow) {
        /* The sum of the overflowing requests bounds what the parse needed
         * beyond cap, and a parse is bounded by the record size limit, so
         * the pool stops growing once it has seen the largest record. */
        size_t cap = pool->cap + pool->overflow;
        unsigned char *base = cap >= pool->cap ? malloc(cap) : NULL;
        if (base) {
            UNPOISON(pool->base, pool->cap);
            free(pool->base);
            pool->base = base;
            pool->cap = cap;
        }
        pool->overflow = 0;
    }
    pool->used = 0;
    pool->last = SIZE_MAX;
    POISON(pool->base, pool->cap);
}

void of_pool_destroy(of_pool *pool)
{
    UNPOISON(pool->base, pool->cap);
    free(pool->base);
    *pool = (of_pool){.last = SIZE_MAX};
}

yajl_alloc_funcs of_pool_funcs(of_pool *pool)
{
    return (yajl_alloc_funcs){
        .malloc = pool_malloc, .realloc = pool_realloc, .free = pool_free, .ctx = pool};
}
