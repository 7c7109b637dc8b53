/* The processing rules: order_created data -> data_processed data. */
#ifndef ORDERFLOW_PROCESSING_H
#define ORDERFLOW_PROCESSING_H

#include <orderflow/export.h>

#include <stddef.h>

#include <orderflow/envelope.h>

OF_BEGIN_DECLS

#define OF_REASON_MAX 160

/* A pure, deterministic function of *order. Fills *out: order_id, customer_id
 * and currency are views of order's strings; item_count, quantity_total and
 * total_cents; status ACCEPTED, or REJECTED with the first broken business rule
 * written to reason_buf (OF_REASON_MAX bytes) and out->reason viewing it.
 * Rules, in order: items not empty; every quantity >= 1; every unit price >= 0;
 * currency three capital letters A-Z; quantity total, line totals and order
 * total fit in int64. When rejected, the totals hold what was computed before
 * the failing rule (0 if overflowed). Never fails otherwise. Reasons number
 * items from 1 and quote SKUs and currencies as printable ASCII (\xNN for other
 * bytes, cut with "..."), so a reason is one line that fits reason_buf. */
OF_EXPORT void of_process_order(const of_order *order, of_processed *out, char *reason_buf);

OF_END_DECLS

#endif
