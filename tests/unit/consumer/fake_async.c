/* The fake asynchronous handler (fake_async.h). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_async.h"

void fake_async_init(fake_async *f, size_t max_in_flight, unsigned seed)
{
    memset(f, 0, sizeof(*f));
    f->max_in_flight = max_in_flight;
    f->seed = seed;
}

void fake_async_free(fake_async *f)
{
    free(f->calls);
    f->calls = NULL;
}

static void *fake_open(const async_handler_env *env, char *err, size_t errlen)
{
    fake_async *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *max = of_handler_config_get(env->config, "max_in_flight");
    const char *seed = of_handler_config_get(env->config, "seed");
    fake_async_init(f, max ? (size_t)atoi(max) : 8, seed ? (unsigned)atoi(seed) : 1);
    return f;
}

static size_t fake_room(void *self)
{
    fake_async *f = self;
    return f->in_flight < f->max_in_flight ? f->max_in_flight - f->in_flight : 0;
}

static int fake_submit(void *self, uint64_t ticket, const of_handler_event *event, char *err,
                       size_t errlen)
{
    fake_async *f = self;
    if (f->in_flight >= f->max_in_flight) {
        snprintf(err, errlen, "no room: %zu in flight", f->in_flight);
        return -1;
    }
    if (f->count == f->capacity) {
        size_t capacity = f->capacity ? 2 * f->capacity : 1024;
        fake_call *calls = realloc(f->calls, capacity * sizeof(*calls));
        if (!calls) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        f->calls = calls;
        f->capacity = capacity;
    }
    fake_call *c = &f->calls[f->count++];
    memset(c, 0, sizeof(*c));
    c->ticket = ticket;
    of_str key = event->event->subject;
    snprintf(c->key, sizeof(c->key), "%.*s", (int)key.len, key.ptr ? key.ptr : "");
    of_str idem = event->event->idempotencykey;
    snprintf(c->idempotency_key, sizeof(c->idempotency_key), "%.*s", (int)idem.len,
             idem.ptr ? idem.ptr : "");
    c->partition = event->partition;
    c->offset = event->offset;
    for (size_t i = 0; i + 1 < f->count; i++)
        if (f->calls[i].state == 0 && strcmp(f->calls[i].key, c->key) == 0)
            f->same_key_violations++;
    f->in_flight++;
    if (f->in_flight > f->max_in_flight_seen) f->max_in_flight_seen = f->in_flight;
    return 0;
}

static void fake_cancel(void *self, uint64_t ticket)
{
    fake_async *f = self;
    for (size_t i = 0; i < f->count; i++)
        if (f->calls[i].ticket == ticket && f->calls[i].state == 0) {
            f->calls[i].state = 2;
            f->in_flight--;
            f->cancels++;
        }
}

static unsigned next_random(fake_async *f)
{
    f->seed = f->seed * 1103515245u + 12345u;
    return (f->seed >> 16) & 0x7fff;
}

static int fake_run(void *self, int timeout_ms, int wake_fd, async_done_fn *done, void *opaque)
{
    fake_async *f = self;
    int delivered = 0;
    if (!f->stalled && !f->breaker_open) {
        /* About half of what is in flight, in no particular order. */
        for (size_t i = 0; i < f->count; i++) {
            fake_call *c = &f->calls[i];
            if (c->state != 0 || next_random(f) % 2) continue;
            c->state = 1;
            f->in_flight--;
            f->completions++;
            char data[256];
            async_completion completion = {.ticket = c->ticket, .attempts = 1};
            if (strncmp(c->key, "DL-", 3) == 0) {
                completion.verdict = ASYNC_DEAD_LETTER;
                completion.reason = "HTTP 422: refused";
            } else if (strncmp(c->key, "EX-", 3) == 0) {
                completion.verdict = ASYNC_EXHAUSTED;
                completion.reason = "HTTP 503";
                completion.attempts = 3;
            } else {
                int n = snprintf(data, sizeof(data), "{\"order_id\":\"%s\",\"attempt\":1}", c->key);
                completion.verdict = ASYNC_EMIT;
                completion.data = data;
                completion.data_len = (size_t)n;
            }
            done(opaque, &completion);
            delivered++;
        }
    }
    if (delivered == 0 && timeout_ms > 0) {
        /* Waits as the real one does: for the wake fd or the timeout. */
        struct pollfd pfd = {.fd = wake_fd, .events = POLLIN};
        int wait = f->in_flight > 0 && !f->stalled && !f->breaker_open ? 1 : timeout_ms;
        poll(&pfd, wake_fd >= 0 ? 1 : 0, wait);
    }
    return delivered;
}

static async_state fake_state(void *self, char *why, size_t whylen)
{
    fake_async *f = self;
    if (!f->breaker_open) return ASYNC_READY;
    if (why) snprintf(why, whylen, "handler fake: circuit breaker open (test)");
    return ASYNC_BREAKER_OPEN;
}

static void fake_close(void *self)
{
    fake_async *f = self;
    fake_async_free(f);
    free(f);
}

const async_handler_ops fake_async_ops = {
    .name = "fake",
    .version = "1.0",
    .open = fake_open,
    .room = fake_room,
    .submit = fake_submit,
    .cancel = fake_cancel,
    .run = fake_run,
    .state = fake_state,
    .close = fake_close,
};
