/* The librdkafka bugs orderflow knows of, by the versions they affect: one
 * table (versions.c) that every workaround asks, so each applies only where
 * its bug exists, and that docs/operations.md's "librdkafka versions" table
 * lists row by row (a docs test checks they agree). orderflow is built
 * against Debian 12's librdkafka 2.0.2 headers and may run against any later
 * librdkafka (same ABI): the version that counts is the one loaded,
 * rd_kafka_version(). */
#ifndef OFC_KAFKA_VERSIONS_H
#define OFC_KAFKA_VERSIONS_H

#include <stddef.h>

typedef enum ofc_kafka_bug {
    /* The cooperative-sticky assignor mishandles a partition two members
     * claim (a member resumed past its session): a crash (SIGSEGV). */
    OFC_KAFKA_BUG_STICKY_TWO_OWNERS,
    /* Destroying a cooperative-sticky consumer that joined but was never
     * assigned dereferences the assignor's unset state. */
    OFC_KAFKA_BUG_STICKY_CLOSE_UNASSIGNED,
    /* An offset commit refused with ILLEGAL_GENERATION during a cooperative
     * rebalance is taken for a lost assignment: every partition revoked. */
    OFC_KAFKA_BUG_COMMIT_IN_REBALANCE,
    /* A consumer whose prefetch queue is full waits a fixed 1 s before
     * fetching again (fetch.queue.backoff.ms does not exist). */
    OFC_KAFKA_BUG_FETCH_BACKOFF_1S,
    /* The idempotent producer turns one possibly persisted message into a
     * fatal "sequence desynchronization". */
    OFC_KAFKA_BUG_SEQUENCE_DESYNC,
    /* The cooperative-sticky assignor can loop forever (a member's main
     * thread at 100% CPU, the group stuck). */
    OFC_KAFKA_BUG_STICKY_INFINITE_LOOP,
    /* A SIGSEGV in LeaveGroup's error path when the coordinator is
     * unavailable during a consumer's close. */
    OFC_KAFKA_BUG_LEAVEGROUP_CRASH,
    /* SCRAM's client-final-message repeats the client nonce after the
     * server's (which already holds it): Kafka 4 checks the nonce as RFC
     * 5802 says and refuses the login as bad credentials. */
    OFC_KAFKA_BUG_SCRAM_KAFKA4,
    OFC_KAFKA_BUG_COUNT
} ofc_kafka_bug;

typedef struct ofc_kafka_bug_info {
    const char *issue;      /* the upstream issue or pull request: "#4252" */
    int first_affected;     /* rd_kafka_version() form, 0xMMmmrr00 */
    int first_fixed;        /* the first release without it, same form */
    int crashes_or_loses;   /* a crash, a hang or lost work: the start-up warning names it */
    const char *summary;    /* what goes wrong, one phrase */
    const char *workaround; /* what orderflow does where it exists */
} ofc_kafka_bug_info;

/* The first librdkafka whose KIP-848 consumer group protocol
 * (group.protocol=consumer) is production-ready (its CHANGELOG, 2.12.0). */
#define OFC_KAFKA_NEXT_GENERATION_GROUPS 0x020c0000

/* The table's row for bug (never NULL for a valid bug). */
const ofc_kafka_bug_info *ofc_kafka_bug_describe(ofc_kafka_bug bug);

/* 1 when librdkafka version (rd_kafka_version() form; the pre-release byte
 * is ignored, so 2.2.0-RC1 counts as 2.2.0) has the bug, else 0. */
int ofc_kafka_bug_in(ofc_kafka_bug bug, int version);

/* ofc_kafka_bug_in for the librdkafka this process loaded. */
int ofc_kafka_has_bug(ofc_kafka_bug bug);

/* "X.Y.Z" of a rd_kafka_version()-form version into buf. */
void ofc_kafka_version_format(int version, char *buf, size_t len);

/* The start-up warning for librdkafka version: one line naming each bug of
 * the table that crashes, hangs or loses work in it and the first version
 * that fixes it, into buf; returns 1, or 0 (buf "") when there is none. */
int ofc_kafka_version_warning(int version, char *buf, size_t len);

#endif
