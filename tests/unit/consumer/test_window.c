/* The window of an asynchronous handler (consumer/window.c) driven as the
 * processor drives it, without Kafka, against the fake handler: outputs
 * per key in input order, never two calls for one key at once, never more
 * than max_in_flight calls, consumption stops at the bound, completions in
 * any order commit only below the lowest unfinished input, and a revoked
 * partition's calls are cancelled. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#include "fake_async.h"
#include "partition_state.h"
#include "window.h"

#include "../../check_run.h"

#define PARTITIONS 3
#define KEYS 17
#define MAX_IN_FLIGHT 8

typedef struct input {
    int32_t partition;
    int64_t offset;
    char key[32];
    int finished; /* outputs produced */
} input;

typedef struct driver {
    fake_async fake;
    window w;
    partition_state *states[PARTITIONS];
    input *inputs;
    size_t input_count, next_input;
    int64_t next_offset[PARTITIONS];
    /* Per key: the offset of the last output, to check input order. */
    int64_t last_output[KEYS][PARTITIONS];
    size_t outputs;
    size_t order_violations;
    size_t peak_used;
} driver;

static int key_index(const char *key)
{
    return atoi(key + 2); /* "K-N" */
}

static void driver_start(driver *d, size_t inputs, unsigned seed)
{
    memset(d, 0, sizeof(*d));
    fake_async_init(&d->fake, MAX_IN_FLIGHT, seed);
    char err[256];
    ck_assert_int_eq(window_init(&d->w, 2 * MAX_IN_FLIGHT, err, sizeof(err)), 0);
    for (int32_t i = 0; i < PARTITIONS; i++) {
        d->states[i] = partition_state_new(i, 1000, 1024, (uint64_t)(i + 1) << 40);
        ck_assert_ptr_nonnull(d->states[i]);
    }
    d->inputs = calloc(inputs, sizeof(*d->inputs));
    d->input_count = inputs;
    unsigned r = seed;
    for (size_t i = 0; i < inputs; i++) {
        r = r * 1103515245u + 12345u;
        int k = (int)((r >> 16) % KEYS);
        /* A key keeps its partition, as the producer's partitioner does. */
        d->inputs[i].partition = k % PARTITIONS;
        d->inputs[i].offset = d->next_offset[k % PARTITIONS]++;
        snprintf(d->inputs[i].key, sizeof(d->inputs[i].key), "K-%d", k);
    }
    for (int k = 0; k < KEYS; k++)
        for (int p = 0; p < PARTITIONS; p++)
            d->last_output[k][p] = -1;
}

static void driver_stop(driver *d)
{
    window_free(&d->w);
    for (int i = 0; i < PARTITIONS; i++)
        partition_state_free(d->states[i]);
    fake_async_free(&d->fake);
    free(d->inputs);
}

static void submit(driver *d, window_entry *e)
{
    input *in = e->record;
    of_event ev = {
        .subject = {in->key, strlen(in->key)},
        .idempotencykey = {in->key, strlen(in->key)},
    };
    of_handler_event event = {
        .event = &ev, .attempt = 1, .partition = in->partition, .offset = in->offset};
    char err[256];
    ck_assert_msg(fake_async_ops.submit(&d->fake, e->ticket, &event, err, sizeof(err)) == 0, "%s",
                  err);
    window_submitted(&d->w, e);
}

static void dispatch(driver *d)
{
    window_entry *e;
    while ((e = window_next_ready(&d->w)) != NULL && fake_async_ops.room(&d->fake) > 0)
        submit(d, e);
}

/* Consumes until the window is full (the processor pauses fetching there). */
static void consume(driver *d)
{
    while (d->next_input < d->input_count && !window_full(&d->w)) {
        input *in = &d->inputs[d->next_input++];
        partition_state *ps = d->states[in->partition];
        uint64_t sequence = partition_state_push_unproduced(ps, in->offset);
        window_entry *e = window_add(&d->w, ofc_fnv1a64(in->key, strlen(in->key)), in->partition,
                                     in->offset, sequence, in);
        ck_assert_ptr_nonnull(e);
        if (e->state == WINDOW_READY && fake_async_ops.room(&d->fake) > 0) submit(d, e);
    }
    if (d->w.used > d->peak_used) d->peak_used = d->w.used;
}

static void on_done(void *opaque, const async_completion *c)
{
    driver *d = opaque;
    window_entry *e = window_find(&d->w, c->ticket);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->state, WINDOW_SUBMITTED);
    input *in = e->record;
    int k = key_index(in->key);
    if (d->last_output[k][in->partition] >= in->offset) d->order_violations++;
    d->last_output[k][in->partition] = in->offset;
    /* Produced and, at once, delivered. */
    partition_state_produced(d->states[in->partition], e->sequence, 0);
    partition_state_complete(d->states[in->partition], e->sequence);
    in->finished = 1;
    d->outputs++;
    window_finish(&d->w, e);
}

/* The lowest unfinished input's offset of partition, or the offset after
 * the last one consumed. */
static int64_t lowest_unfinished(const driver *d, int32_t partition)
{
    int64_t next = 0;
    for (size_t i = 0; i < d->next_input; i++) {
        if (d->inputs[i].partition != partition) continue;
        if (!d->inputs[i].finished) return d->inputs[i].offset;
        next = d->inputs[i].offset + 1;
    }
    return next;
}

static void check_commits(const driver *d)
{
    for (int32_t p = 0; p < PARTITIONS; p++) {
        int64_t lowest = lowest_unfinished(d, p);
        ck_assert_msg(d->states[p]->committable <= lowest,
                      "partition %d: committable %lld passes the unfinished input at %lld", p,
                      (long long)d->states[p]->committable, (long long)lowest);
        ck_assert_int_le(d->states[p]->produced_next, lowest);
        /* Nothing below the lowest unfinished input is held back either. */
        if (lowest > 0) ck_assert_int_eq(d->states[p]->committable, lowest);
        if (lowest > 0) ck_assert_int_eq(d->states[p]->produced_next, lowest);
    }
}

START_TEST(test_order_per_key_and_commits)
{
    driver d;
    driver_start(&d, 5000, 7 + (unsigned)_i);
    while (d.outputs < d.input_count) {
        consume(&d);
        dispatch(&d);
        fake_async_ops.run(&d.fake, 0, -1, on_done, &d);
        dispatch(&d);
        check_commits(&d);
    }
    ck_assert_uint_eq(d.outputs, 5000);
    ck_assert_uint_eq(d.order_violations, 0);
    ck_assert_uint_eq(d.fake.same_key_violations, 0);
    ck_assert_uint_le(d.fake.max_in_flight_seen, MAX_IN_FLIGHT);
    ck_assert_uint_eq(d.fake.max_in_flight_seen, MAX_IN_FLIGHT); /* and uses all of it */
    ck_assert_uint_eq(d.peak_used, 2 * MAX_IN_FLIGHT);
    ck_assert_uint_eq(d.w.used, 0);
    for (int32_t p = 0; p < PARTITIONS; p++)
        ck_assert_int_eq(d.states[p]->committable, d.next_offset[p]);
    driver_stop(&d);
}
END_TEST

/* A service that never answers: consumption stops at the bound (2 x
 * max_in_flight inputs), calls at max_in_flight, and nothing commits. */
START_TEST(test_bound_with_a_hung_service)
{
    driver d;
    driver_start(&d, 1000, 3);
    d.fake.stalled = 1;
    for (int round = 0; round < 50; round++) {
        consume(&d);
        dispatch(&d);
        fake_async_ops.run(&d.fake, 0, -1, on_done, &d);
    }
    ck_assert(window_full(&d.w));
    ck_assert_uint_eq(d.next_input, 2 * MAX_IN_FLIGHT);
    ck_assert_uint_eq(d.fake.in_flight, MAX_IN_FLIGHT);
    ck_assert_uint_eq(d.w.submitted, MAX_IN_FLIGHT);
    for (int32_t p = 0; p < PARTITIONS; p++)
        ck_assert_int_eq(d.states[p]->committable, -1);
    /* The service answers again: everything finishes, in order per key. */
    d.fake.stalled = 0;
    while (d.outputs < d.input_count) {
        consume(&d);
        dispatch(&d);
        fake_async_ops.run(&d.fake, 0, -1, on_done, &d);
        check_commits(&d);
    }
    ck_assert_uint_eq(d.order_violations, 0);
    ck_assert_uint_eq(d.fake.same_key_violations, 0);
    driver_stop(&d);
}
END_TEST

static void drop(void *opaque, window_entry *e)
{
    driver *d = opaque;
    if (e->state == WINDOW_SUBMITTED) fake_async_ops.cancel(&d->fake, e->ticket);
    input *in = e->record;
    in->finished = 1; /* the new owner's */
}

/* A revoked partition: its submitted calls are cancelled, its entries
 * dropped, a late completion for one of them finds nothing, the other
 * partitions go on. */
START_TEST(test_revoke_cancels)
{
    driver d;
    driver_start(&d, 600, 11);
    d.fake.stalled = 1;
    consume(&d);
    dispatch(&d);
    size_t submitted_p1 = 0, held_p1 = 0;
    uint64_t a_ticket = 0;
    for (size_t i = 0; i < d.w.capacity; i++) {
        window_entry *e = &d.w.slots[i];
        if (e->state == WINDOW_FREE || e->partition != 1) continue;
        held_p1++;
        if (e->state == WINDOW_SUBMITTED) {
            submitted_p1++;
            a_ticket = e->ticket;
        }
    }
    ck_assert_uint_gt(submitted_p1, 0);
    size_t dropped = window_drop_partition(&d.w, 1, drop, &d);
    ck_assert_uint_eq(dropped, held_p1);
    ck_assert_uint_eq(d.fake.cancels, submitted_p1);
    ck_assert_ptr_null(window_find(&d.w, a_ticket));
    for (size_t i = 0; i < d.w.capacity; i++)
        ck_assert(d.w.slots[i].state == WINDOW_FREE || d.w.slots[i].partition != 1);
    /* The rest of the stream, partition 1 excluded (revoked), finishes. */
    for (size_t i = d.next_input; i < d.input_count; i++)
        if (d.inputs[i].partition == 1) d.inputs[i].finished = 2;
    d.fake.stalled = 0;
    for (int round = 0; round < 100000 && d.w.used + (d.input_count - d.next_input) > 0; round++) {
        while (d.next_input < d.input_count && d.inputs[d.next_input].finished == 2)
            d.next_input++;
        consume(&d);
        dispatch(&d);
        fake_async_ops.run(&d.fake, 0, -1, on_done, &d);
    }
    ck_assert_uint_eq(d.w.used, 0);
    ck_assert_uint_eq(d.order_violations, 0);
    ck_assert_uint_eq(d.fake.same_key_violations, 0);
    driver_stop(&d);
}
END_TEST

/* Same-key inputs wait in a chain; finishing the first readies only the
 * second; a held entry (on_exhausted = pause) keeps its key. */
START_TEST(test_key_chain)
{
    window w;
    char err[128];
    ck_assert_int_eq(window_init(&w, 4, err, sizeof(err)), 0);
    window_entry *a = window_add(&w, 42, 0, 10, 1, NULL);
    window_entry *b = window_add(&w, 42, 0, 11, 2, NULL);
    window_entry *c = window_add(&w, 7, 0, 12, 3, NULL);
    window_entry *d = window_add(&w, 42, 1, 5, 4, NULL);
    ck_assert(window_full(&w));
    ck_assert_ptr_null(window_add(&w, 8, 0, 13, 5, NULL));
    ck_assert_int_eq(a->state, WINDOW_READY);
    ck_assert_int_eq(b->state, WINDOW_WAITING);
    ck_assert_int_eq(c->state, WINDOW_READY);
    ck_assert_int_eq(d->state, WINDOW_WAITING);
    ck_assert_ptr_eq(window_next_ready(&w), a);
    window_submitted(&w, a);
    ck_assert_ptr_eq(window_next_ready(&w), c);
    uint64_t old = a->ticket;
    window_finish(&w, a);
    ck_assert_ptr_null(window_find(&w, old));
    ck_assert_int_eq(b->state, WINDOW_READY);
    ck_assert_int_eq(d->state, WINDOW_WAITING);
    window_submitted(&w, b);
    window_hold(&w, b);
    ck_assert_uint_eq(w.submitted, 0);
    ck_assert_int_eq(d->state, WINDOW_WAITING); /* held: the key stays taken */
    window_finish(&w, b);                       /* dropped (revoke) */
    ck_assert_int_eq(d->state, WINDOW_READY);
    window_entry *e = window_add(&w, 42, 0, 13, 5, NULL);
    ck_assert_int_eq(e->state, WINDOW_WAITING);
    window_finish(&w, d);
    ck_assert_int_eq(e->state, WINDOW_READY);
    window_free(&w);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("window");
    TCase *tc = tcase_create("window");
    tcase_set_timeout(tc, 60);
    check_tcase_add_loop_test(tc, test_order_per_key_and_commits, 0, 5);
    check_tcase_add_test(tc, test_bound_with_a_hung_service);
    check_tcase_add_test(tc, test_revoke_cancels);
    check_tcase_add_test(tc, test_key_chain);
    suite_add_tcase(suite, tc);
    return check_run_suite(suite);
}
