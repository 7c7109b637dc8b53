/* --rate: spaces events evenly, serving delivery reports while it waits. */
#ifndef OF_PRODUCER_PACER_H
#define OF_PRODUCER_PACER_H

#include <stdint.h>

#include "publisher.h"

typedef struct pacer {
    long long rate; /* events per second; 0 = unpaced */
    int64_t start_ns;
    uint64_t count;
} pacer;

void pacer_init(pacer *pace, long long rate);
/* Returns when the next event is due. */
void pacer_wait(pacer *pace, publisher *pub);

#endif
