/* The metrics registry and its Prometheus text exposition: the exact text of
 * a small registry, cumulative histogram buckets with +Inf, _sum and _count,
 * label escaping, hidden series; the ADDR:PORT syntax; and the endpoint's
 * answers over HTTP (docs/operations.md, "Monitoring"). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <orderflow/ids.h>

#include "kafka/kafka.h"
#include "metrics/metrics.h"
#include "metrics/server.h"

#include "../../check_run.h"

static char *render(const ofc_metrics *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(ofc_metrics_write(m, out), 0);
    fclose(out);
    return text;
}

START_TEST(exposition_of_a_small_registry)
{
    char err[256];
    ofc_metrics *m = ofc_metrics_new();
    const char *accepted[] = {"outcome", "accepted", NULL};
    const char *rejected[] = {"outcome", "rejected", NULL};
    ofc_metric *a = ofc_metrics_series(m, "orderflow_x_total", "Events by outcome.",
                                       OFC_METRIC_COUNTER, accepted, NULL, 0, err, sizeof(err));
    ofc_metric *r = ofc_metrics_series(m, "orderflow_x_total", "Events by outcome.",
                                       OFC_METRIC_COUNTER, rejected, NULL, 0, err, sizeof(err));
    ofc_metric *g = ofc_metrics_series(m, "orderflow_y_seconds", "A gauge.", OFC_METRIC_GAUGE, NULL,
                                       NULL, 0, err, sizeof(err));
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(g);
    /* The same labels give the same series. */
    ck_assert_ptr_eq(ofc_metrics_series(m, "orderflow_x_total", "Events by outcome.",
                                        OFC_METRIC_COUNTER, accepted, NULL, 0, err, sizeof(err)),
                     a);
    ofc_metric_add(a, 3);
    ofc_metric_add(a, 2);
    ofc_metric_set(g, 0.25);
    char *text = render(m);
    ck_assert_str_eq(text, "# HELP orderflow_x_total Events by outcome.\n"
                           "# TYPE orderflow_x_total counter\n"
                           "orderflow_x_total{outcome=\"accepted\"} 5\n"
                           "orderflow_x_total{outcome=\"rejected\"} 0\n"
                           "# HELP orderflow_y_seconds A gauge.\n"
                           "# TYPE orderflow_y_seconds gauge\n"
                           "orderflow_y_seconds 0.25\n");
    free(text);
    /* A family whose only series is hidden is left out, HELP and TYPE too. */
    ofc_metric_hide(g, 1);
    text = render(m);
    ck_assert_ptr_null(strstr(text, "orderflow_y_seconds"));
    free(text);
    /* Another type under a registered name is refused. */
    ck_assert_ptr_null(ofc_metrics_series(m, "orderflow_x_total", "x", OFC_METRIC_GAUGE, NULL, NULL,
                                          0, err, sizeof(err)));
    ck_assert_str_eq(err, "metric orderflow_x_total registered twice with different types or "
                          "buckets");
    ofc_metrics_free(m);
}
END_TEST

START_TEST(histogram_buckets_are_cumulative)
{
    char err[256];
    ofc_metrics *m = ofc_metrics_new();
    static const double bounds[] = {0.01, 0.1, 1};
    const char *labels[] = {"topic", "t", NULL};
    ofc_metric *h = ofc_metrics_series(m, "orderflow_latency_seconds", "Latency.",
                                       OFC_METRIC_HISTOGRAM, labels, bounds, 3, err, sizeof(err));
    ck_assert_ptr_nonnull(h);
    ofc_metric_observe(h, 0.005); /* first bucket */
    ofc_metric_observe(h, 0.01);  /* le is inclusive: first bucket */
    ofc_metric_observe(h, 0.5);
    ofc_metric_observe(h, 7);  /* only +Inf */
    ofc_metric_observe(h, -1); /* counts as 0 */
    char *text = render(m);
    ck_assert_str_eq(text, "# HELP orderflow_latency_seconds Latency.\n"
                           "# TYPE orderflow_latency_seconds histogram\n"
                           "orderflow_latency_seconds_bucket{topic=\"t\",le=\"0.01\"} 3\n"
                           "orderflow_latency_seconds_bucket{topic=\"t\",le=\"0.1\"} 3\n"
                           "orderflow_latency_seconds_bucket{topic=\"t\",le=\"1\"} 4\n"
                           "orderflow_latency_seconds_bucket{topic=\"t\",le=\"+Inf\"} 5\n"
                           "orderflow_latency_seconds_sum{topic=\"t\"} 7.515\n"
                           "orderflow_latency_seconds_count{topic=\"t\"} 5\n");
    free(text);
    ofc_metrics_free(m);
}
END_TEST

START_TEST(label_values_are_escaped)
{
    char err[256];
    ofc_metrics *m = ofc_metrics_new();
    const char *labels[] = {"error", "a\\b\"c\nd", "partition", "3", NULL};
    ofc_metric *s = ofc_metrics_series(m, "orderflow_e_total", "Help with \\ and\nnewline.",
                                       OFC_METRIC_COUNTER, labels, NULL, 0, err, sizeof(err));
    ck_assert_ptr_nonnull(s);
    ofc_metric_add(s, 1);
    char *text = render(m);
    ck_assert_str_eq(text, "# HELP orderflow_e_total Help with \\\\ and\\nnewline.\n"
                           "# TYPE orderflow_e_total counter\n"
                           "orderflow_e_total{error=\"a\\\\b\\\"c\\nd\",partition=\"3\"} 1\n");
    free(text);
    /* Labels that do not fit are refused, not cut. */
    char big[400];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *too_long[] = {"k", big, NULL};
    ck_assert_ptr_null(ofc_metrics_series(m, "orderflow_e_total", "h", OFC_METRIC_COUNTER, too_long,
                                          NULL, 0, err, sizeof(err)));
    ofc_metrics_free(m);
}
END_TEST

START_TEST(process_metrics_come_from_proc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_int_eq(ofc_metrics_write_process(out), 0);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nprocess_resident_memory_bytes "));
    ck_assert_ptr_nonnull(strstr(text, "\nprocess_open_fds "));
    const char *start = strstr(text, "\nprocess_start_time_seconds ");
    ck_assert_ptr_nonnull(start);
    double started = strtod(start + strlen("\nprocess_start_time_seconds "), NULL);
    double now = (double)of_now_ms() / 1000;
    ck_assert(started <= now + 1 && started > now - 3600);
    free(text);
}
END_TEST

START_TEST(listen_addresses)
{
    char err[256];
    struct sockaddr_storage addr;
    socklen_t len;
    ck_assert_int_eq(ofc_listen_parse("--metrics", ":9100", &addr, &len, err, sizeof(err)), 0);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
    ck_assert_int_eq(v4->sin_family, AF_INET);
    ck_assert_int_eq(ntohs(v4->sin_port), 9100);
    ck_assert_uint_eq(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK); /* loopback by default */
    ck_assert_int_eq(ofc_listen_parse("--metrics", "9100", &addr, &len, err, sizeof(err)), 0);
    ck_assert_uint_eq(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);
    ck_assert_int_eq(ofc_listen_parse("--metrics", "0.0.0.0:0", &addr, &len, err, sizeof(err)), 0);
    ck_assert_uint_eq(ntohl(v4->sin_addr.s_addr), INADDR_ANY);
    ck_assert_int_eq(ofc_listen_parse("--metrics", "[::1]:9100", &addr, &len, err, sizeof(err)), 0);
    ck_assert_int_eq(addr.ss_family, AF_INET6);
    static const char *const bad[] = {"",           ":",         "localhost:9100", "1.2.3.4:65536",
                                      "1.2.3.4:-1", "[::1]9100", "1.2.3.4:x",      "1.2.3:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(ofc_listen_parse("--metrics", bad[i], NULL, NULL, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "--metrics: expected ADDR:PORT (an IP address, [IPv6]:PORT, or :PORT "
                          "for loopback; port 0..65535), got '1.2.3:80'");
}
END_TEST

/* One HTTP/1.0 request to the server; returns the whole response. */
static char *request(const char *address, const char *method, const char *path)
{
    const char *colon = strrchr(address, ':');
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    char req[256];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n\r\n", method, path);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    static char response[65536];
    size_t used = 0;
    ssize_t got;
    while ((got = read(fd, response + used, sizeof(response) - 1 - used)) > 0)
        used += (size_t)got;
    response[used] = '\0';
    close(fd);
    return response;
}

START_TEST(endpoint_answers)
{
    char err[256];
    ofc_metrics *m = ofc_metrics_new();
    ofc_metric *c = ofc_metrics_series(m, "orderflow_z_total", "Z.", OFC_METRIC_COUNTER, NULL, NULL,
                                       0, err, sizeof(err));
    ofc_metric_add(c, 42);
    ofc_health health;
    ofc_health_init(&health, 200, "restoring");
    ofc_metrics_server *server =
        ofc_metrics_server_start("--metrics", "127.0.0.1:0", m, &health, err, sizeof(err));
    ck_assert_msg(server != NULL, "%s", err);
    const char *address = ofc_metrics_server_address(server);
    ck_assert_int_eq(strncmp(address, "127.0.0.1:", 10), 0);

    char *r = request(address, "GET", "/metrics");
    ck_assert_msg(strncmp(r, "HTTP/1.0 200", 12) == 0 || strncmp(r, "HTTP/1.1 200", 12) == 0, "%s",
                  r);
    ck_assert_ptr_nonnull(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\n# HELP orderflow_z_total Z.\n"));
    ck_assert_ptr_nonnull(strstr(r, "\norderflow_z_total 42\n"));
    ck_assert_ptr_nonnull(strstr(r, "\nprocess_open_fds "));

    r = request(address, "GET", "/readyz");
    ck_assert_ptr_nonnull(strstr(r, " 503 "));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nnot ready: restoring\n"));
    ofc_health_set_unready(&health, NULL);
    ck_assert_ptr_nonnull(strstr(request(address, "GET", "/readyz"), "\r\n\r\nready\n"));

    ck_assert_ptr_nonnull(strstr(request(address, "GET", "/healthz"), " 200 "));
    ofc_health_beat(&health, of_monotonic_ms() - 1000); /* older than the 200 ms bound */
    r = request(address, "GET", "/healthz");
    ck_assert_ptr_nonnull(strstr(r, " 503 "));
    ck_assert_ptr_nonnull(strstr(r, "event loop stalled"));
    atomic_store(&health.idle, 1); /* waiting for input is not a wedge */
    ck_assert_ptr_nonnull(strstr(request(address, "GET", "/healthz"), " 200 "));

    ck_assert_ptr_nonnull(strstr(request(address, "GET", "/nope"), " 404 "));
    r = request(address, "POST", "/metrics");
    ck_assert_ptr_nonnull(strstr(r, " 405 "));
    ck_assert_ptr_nonnull(strstr(r, "Allow: GET, HEAD\r\n"));

    /* The same port again: refused with the option, address and reason. */
    ck_assert_ptr_null(
        ofc_metrics_server_start("--metrics", address, m, &health, err, sizeof(err)));
    char expected[200];
    snprintf(expected, sizeof(expected), "--metrics %s: cannot listen: Address already in use",
             address);
    ck_assert_str_eq(err, expected);
    ofc_metrics_server_stop(server);
    ofc_metrics_free(m);
}
END_TEST

static void count_lag(void *opaque, const char *topic, int32_t partition, int64_t lag)
{
    char *out = opaque;
    char line[128];
    snprintf(line, sizeof(line), "%s/%d=%lld;", topic, (int)partition, (long long)lag);
    strcat(out, line);
}

START_TEST(statistics_give_lag_and_brokers)
{
    static const char json[] = "{\"name\":\"c\",\"brokers\":{\"b1:9092/1\":{\"state\":\"UP\"},"
                               "\"b1:9092/bootstrap\":{\"state\":\"INIT\"}},"
                               "\"topics\":{\"in\":{\"partitions\":{"
                               "\"0\":{\"consumer_lag\":9,\"consumer_lag_stored\":4},"
                               "\"1\":{\"consumer_lag\":7,\"consumer_lag_stored\":-1},"
                               "\"2\":{\"consumer_lag\":-1,\"consumer_lag_stored\":-1},"
                               "\"-1\":{\"consumer_lag\":-1,\"consumer_lag_stored\":-1}}}}}";
    char seen[512] = "", err[256];
    int up = -1;
    ck_assert_int_eq(
        ofc_kafka_stats_read(json, sizeof(json) - 1, count_lag, seen, &up, err, sizeof(err)), 0);
    ck_assert_int_eq(up, 1);
    ck_assert_str_eq(seen, "in/0=4;in/1=7;in/2=-1;");
    ck_assert_int_eq(ofc_kafka_stats_read("{", 1, NULL, NULL, &up, err, sizeof(err)), -1);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        exposition_of_a_small_registry,
        histogram_buckets_are_cumulative,
        label_values_are_escaped,
        process_metrics_come_from_proc,
        listen_addresses,
        endpoint_answers,
        statistics_give_lag_and_brokers,
        NULL,
    };
    return check_run_tests("metrics", tests, 30);
}
