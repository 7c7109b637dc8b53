/* What the metrics take from librdkafka's statistics JSON
 * (statistics.interval.ms; librdkafka's STATISTICS.md describes the fields). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "kafka/kafka.h"

int ofc_kafka_stats_read(const char *json, size_t len, ofc_kafka_lag_fn on_lag, void *opaque,
                         int *brokers_up, char *err, size_t errlen)
{
    /* yajl_tree_parse wants a terminated string; a copy once per interval. */
    char *text = malloc(len + 1);
    if (!text) {
        snprintf(err, errlen, "out of memory for the statistics");
        return -1;
    }
    memcpy(text, json, len);
    text[len] = '\0';
    char why[256];
    yajl_val root = yajl_tree_parse(text, why, sizeof(why));
    free(text);
    if (!root) {
        snprintf(err, errlen, "librdkafka statistics: %s", why);
        return -1;
    }
    static const char *brokers_path[] = {"brokers", NULL};
    yajl_val brokers = yajl_tree_get(root, brokers_path, yajl_t_object);
    int up = 0;
    for (size_t i = 0; brokers && i < brokers->u.object.len; i++) {
        static const char *state_path[] = {"state", NULL};
        yajl_val state = yajl_tree_get(brokers->u.object.values[i], state_path, yajl_t_string);
        const char *text_state = state ? YAJL_GET_STRING(state) : NULL;
        if (text_state && strcmp(text_state, "UP") == 0) up++;
    }
    if (brokers_up) *brokers_up = up;
    static const char *topics_path[] = {"topics", NULL};
    yajl_val topics = yajl_tree_get(root, topics_path, yajl_t_object);
    for (size_t t = 0; on_lag && topics && t < topics->u.object.len; t++) {
        static const char *partitions_path[] = {"partitions", NULL};
        yajl_val partitions =
            yajl_tree_get(topics->u.object.values[t], partitions_path, yajl_t_object);
        for (size_t i = 0; partitions && i < partitions->u.object.len; i++) {
            char *end = NULL;
            long partition = strtol(partitions->u.object.keys[i], &end, 10);
            if (*end || partition < 0) continue; /* -1: librdkafka's unassigned-partition entry */
            yajl_val tp = partitions->u.object.values[i];
            /* Stored offsets are what at_least_once commits; exactly_once
             * commits through the transaction, so only the committed lag
             * tells there. -1: not known (not consumed by this member). */
            static const char *stored_path[] = {"consumer_lag_stored", NULL};
            static const char *committed_path[] = {"consumer_lag", NULL};
            yajl_val stored = yajl_tree_get(tp, stored_path, yajl_t_number);
            yajl_val committed = yajl_tree_get(tp, committed_path, yajl_t_number);
            long long lag = stored && YAJL_IS_INTEGER(stored) ? YAJL_GET_INTEGER(stored) : -1;
            if (lag < 0 && committed && YAJL_IS_INTEGER(committed))
                lag = YAJL_GET_INTEGER(committed);
            on_lag(opaque, topics->u.object.keys[t], (int32_t)partition, lag);
        }
    }
    yajl_tree_free(root);
    return 0;
}
