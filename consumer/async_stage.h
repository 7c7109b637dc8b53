/* The processor with an asynchronous handler (async_handler.h;
 * docs/handlers.md, "The HTTP handler"): the window of inputs the handler
 * holds (window.h), the loop that never waits for the service, the
 * submit and completion glue, the fetch pauses of a full window or an open
 * circuit breaker, and the drain at shutdown. processor.c runs this loop
 * instead of its own when p->async is set, and tells the stage when
 * partitions come and go. */
#ifndef OF_CONSUMER_ASYNC_STAGE_H
#define OF_CONSUMER_ASYNC_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "processor_internal.h"

/* At set-up, after the handler is open: the window (twice the handler's
 * max_in_flight), the consumer queue's wake pipe and, metrics on, the
 * stage's series. Returns 0, or EX_OSERR with err. */
int async_stage_open_window(processor *p, char *err, size_t errlen);

/* The loop, until *p->opts->stop or a fatal error; returns p->fatal_status. */
int async_stage_loop(processor *p);

/* partition (-1: every one) was revoked, lost or is read again: its inputs
 * leave the window, their calls cancelled. Nothing when there is no window. */
void async_stage_drop_partition(processor *p, int32_t partition);

/* Pauses or resumes fetching of every assigned partition for the window and
 * the breaker (called when partitions were assigned). */
void async_stage_apply_fetch_pauses(processor *p);

/* At shutdown, before the guarantee finishes: lets the handler finish what
 * it holds (bounded by CLOSE_WAIT_MS), drops the rest. */
void async_stage_drain_window(processor *p);

/* Frees the window and closes the wake pipe (either may never have been made). */
void async_stage_free_window(processor *p);

#endif
