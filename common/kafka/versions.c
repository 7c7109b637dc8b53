/* The librdkafka bugs orderflow works around, by version (versions.h).
 * Versions and fixes are librdkafka's CHANGELOG.md; docs/operations.md,
 * "librdkafka versions", lists the same rows. */
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kafka/versions.h"

#define V(major, minor, revision) (((major) << 24) | ((minor) << 16) | ((revision) << 8))

static const ofc_kafka_bug_info bugs[OFC_KAFKA_BUG_COUNT] = {
    [OFC_KAFKA_BUG_STICKY_TWO_OWNERS] =
        {"#4252", V(1, 6, 0), V(2, 2, 0), 1,
         "cooperative-sticky assignor crashes (SIGSEGV) on a partition two members claim",
         "nothing it can patch: commits only after delivery, so a restarted processor loses "
         "nothing; the mock chaos test counts such a crash instead of failing"},
    [OFC_KAFKA_BUG_STICKY_CLOSE_UNASSIGNED] =
        {"#4381", V(1, 6, 0), V(2, 3, 0), 1,
         "destroying a cooperative-sticky consumer never assigned crashes",
         "the processor closes such a consumer (offsets committed, group left) and leaves its "
         "handle to the process's exit"},
    [OFC_KAFKA_BUG_COMMIT_IN_REBALANCE] =
        {"#4059", V(1, 6, 0), V(2, 10, 0), 0,
         "a commit refused during a cooperative rebalance revokes every partition (fixed by "
         "#4908)",
         "follows the group's join state (debug=cgrp, not printed) and commits only when it is "
         "steady, at most 60 s later (15 s for a transaction)"},
    [OFC_KAFKA_BUG_FETCH_BACKOFF_1S] =
        {"#2879", V(0, 0, 0), V(2, 2, 0), 0,
         "a consumer whose prefetch queue is full waits 1 s before fetching again",
         "after emptying its queue on a backlog the processor wakes the fetcher with a watermark "
         "query; from 2.2.0 it sets fetch.queue.backoff.ms=10 instead"},
    [OFC_KAFKA_BUG_SEQUENCE_DESYNC] =
        {"#4438", V(1, 0, 0), V(2, 3, 0), 1,
         "the idempotent producer fails fatally (sequence desynchronization) after one "
         "possibly persisted message",
         "the producer replaces a fatally failed handle and re-sends its events; the processor "
         "skips a copy by its idempotency key (kept on every version: a fatal error has other "
         "causes)"},
    [OFC_KAFKA_BUG_STICKY_INFINITE_LOOP] =
        {"#4800", V(1, 6, 0), V(2, 6, 1), 1,
         "the cooperative-sticky assignor can loop forever (the group stuck)", "none"},
    [OFC_KAFKA_BUG_LEAVEGROUP_CRASH] =
        {"#5327", V(1, 0, 0), V(2, 14, 2), 1,
         "a consumer's close crashes (SIGSEGV) when its LeaveGroup finds no coordinator",
         "none (nothing is lost: offsets are committed before the close)"},
    [OFC_KAFKA_BUG_SCRAM_KAFKA4] =
        {"#4895", V(0, 0, 0), V(2, 6, 1), 0,
         "SCRAM authentication against Kafka 4 fails as bad credentials (the client nonce sent "
         "twice)",
         "nothing it can patch: the client exits 77 on the failed authentication; the kafka "
         "suite's SCRAM test skips on Kafka 4 with such a librdkafka"},
};

const ofc_kafka_bug_info *ofc_kafka_bug_describe(ofc_kafka_bug bug)
{
    return &bugs[bug];
}

int ofc_kafka_bug_in(ofc_kafka_bug bug, int version)
{
    int release = version & ~0xff; /* without the pre-release byte */
    return release >= bugs[bug].first_affected && release < bugs[bug].first_fixed;
}

int ofc_kafka_has_bug(ofc_kafka_bug bug)
{
    return ofc_kafka_bug_in(bug, rd_kafka_version());
}

void ofc_kafka_version_format(int version, char *buf, size_t len)
{
    snprintf(buf, len, "%d.%d.%d", (version >> 24) & 0xff, (version >> 16) & 0xff,
             (version >> 8) & 0xff);
}

int ofc_kafka_version_warning(int version, char *buf, size_t len)
{
    char name[16], fixed[16];
    size_t used = 0;
    int newest_fix = 0;
    if (len) buf[0] = '\0';
    ofc_kafka_version_format(version, name, sizeof(name));
    for (int bug = 0; bug < OFC_KAFKA_BUG_COUNT; bug++) {
        if (!bugs[bug].crashes_or_loses || !ofc_kafka_bug_in(bug, version)) continue;
        ofc_kafka_version_format(bugs[bug].first_fixed, fixed, sizeof(fixed));
        int n = newest_fix ? snprintf(buf + used, len - used, ", %s (%s)", bugs[bug].issue, fixed)
                           : snprintf(buf, len,
                                      "librdkafka %s has known bugs that can crash a client or "
                                      "fail its work: %s (fixed in %s)",
                                      name, bugs[bug].issue, fixed);
        if (n > 0) used += (size_t)n;
        if (used >= len) used = len ? len - 1 : 0;
        if (bugs[bug].first_fixed > newest_fix) newest_fix = bugs[bug].first_fixed;
    }
    if (!newest_fix) return 0;
    ofc_kafka_version_format(newest_fix, fixed, sizeof(fixed));
    snprintf(buf + used, len - used,
             "; %s or later has none of them (docs/operations.md, \"librdkafka "
             "versions\")",
             fixed);
    return 1;
}
