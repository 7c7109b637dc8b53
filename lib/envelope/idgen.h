/* The generator behind of_uuid7, shared with the trace-context ids. */
#ifndef ORDERFLOW_ENVELOPE_IDGEN_H
#define ORDERFLOW_ENVELOPE_IDGEN_H

#include <stdint.h>

#include <orderflow/ids.h>

#include "text.h"

/* The next 64 random bits of gen (xoshiro256**): no system call. */
OF_HIDDEN uint64_t of_idgen_next(of_idgen *gen);

#endif
