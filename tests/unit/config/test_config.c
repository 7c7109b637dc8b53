/* Unit tests for common/config: defaults, the libconfig file and its errors,
 * ORDERFLOW_BROKERS, -X properties, precedence and secret redaction. Config
 * files are written to a fresh temporary directory by each test, so every
 * expected line number is visible next to the text it refers to. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

#include "../../check_run.h"

static char tmpdir[PATH_MAX];
static char paths[8][PATH_MAX];
static int path_count;

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/of-config-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    path_count = 0;
    unsetenv("ORDERFLOW_BROKERS");
}

static void teardown(void)
{
    for (int i = 0; i < path_count; i++)
        unlink(paths[i]);
    rmdir(tmpdir);
}

/* Writes text to NAME in the test's directory and returns its path. */
static const char *write_conf(const char *name, const char *text)
{
    ck_assert_int_lt(path_count, 8);
    char *path = paths[path_count++];
    ck_assert_int_lt(snprintf(path, PATH_MAX, "%s/%s", tmpdir, name), PATH_MAX);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static const ofc_property *find_property(const ofc_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->property_count; i++)
        if (strcmp(cfg->properties[i].key, key) == 0) return &cfg->properties[i];
    return NULL;
}

/* Loads text, expecting failure, and checks "PATH:LINE: " and a substring. */
static void expect_error(const char *text, unsigned line, const char *needle)
{
    ofc_config cfg;
    char err[512];
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    const char *path = write_conf("bad.conf", text);
    memset(err, 'X', sizeof(err));
    ck_assert_int_eq(ofc_config_load_file(&cfg, path, err, sizeof(err)), -1);
    char prefix[PATH_MAX + 32];
    snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "expected prefix '%s', got '%s'",
                  prefix, err);
    ck_assert_msg(strstr(err, needle) != NULL, "expected '%s' in '%s'", needle, err);
    ofc_config_free(&cfg);
}

START_TEST(test_defaults)
{
    ofc_config cfg;
    char err[256] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.brokers, "localhost:9092");
    ck_assert_str_eq(cfg.brokers_origin, "default");
    ck_assert_uint_eq(cfg.property_count, 0);
    ck_assert_str_eq(cfg.topic_order_created, "order-created");
    ck_assert_str_eq(cfg.topic_data_processed, "data-processed");
    ck_assert_str_eq(cfg.topic_dead_letter, "order-created.dlq");
    ck_assert_str_eq(cfg.producer_source, "orderflow-producer");
    ck_assert_int_eq(cfg.producer_timeout_ms, 30000);
    ck_assert_int_eq(cfg.producer_tracing, 0);
    ck_assert_str_eq(cfg.consumer_group, "orderflow-processor");
    ck_assert_int_eq(cfg.guarantee, OFC_AT_LEAST_ONCE);
    ck_assert_uint_eq(cfg.dedup_window, 100000);
    ck_assert_int_eq(cfg.commit_interval_ms, 1000);
    ck_assert_uint_eq(cfg.limits.max_record_bytes, OF_DEFAULT_MAX_RECORD_BYTES);
    ck_assert_uint_eq(cfg.limits.max_depth, OF_DEFAULT_MAX_DEPTH);
    ck_assert_uint_eq(cfg.limits.max_string_bytes, OF_DEFAULT_MAX_STRING_BYTES);
    ck_assert_uint_eq(cfg.limits.max_items, OF_DEFAULT_MAX_ITEMS);
    ofc_config_free(&cfg);
    ck_assert_ptr_null(cfg.brokers);
    ofc_config_free(&cfg); /* twice is harmless */
}
END_TEST

START_TEST(test_full_file)
{
    const char *path =
        write_conf("full.conf",
                   "# every setting\n"
                   "kafka: {\n"
                   "  brokers = \"k1:9092,k2:9092\";\n"
                   "  properties = {\n"
                   "    \"compression.type\" = \"lz4\";\n"
                   "    \"linger.ms\" = 5;\n"
                   "    \"enable.idempotence\" = true;\n"
                   "    \"socket.keepalive.enable\" = false;\n"
                   "    \"queue.buffering.max.kbytes\" = 5000000000;\n"
                   "    \"retries\" = 7L;\n"
                   "    debug = \"broker,topic\";\n"
                   "  };\n"
                   "};\n"
                   "topics: { order_created = \"in.orders\"; data_processed = \"out_orders\";\n"
                   "          dead_letter = \"in.orders-dlq\"; };\n"
                   "producer: { source = \"shop-7\"; timeout_ms = 0x2710; tracing = true; };\n"
                   "consumer: { group = \"g1\"; guarantee = \"exactly_once\"; dedup_window = 42;\n"
                   "            commit_interval_ms = 250; group_protocol = \"consumer\"; };\n"
                   "/* limits, at their bounds */\n"
                   "limits: { max_record_bytes = 67108864; max_depth = 2; max_string_bytes = 1;\n"
                   "          max_items = 10000000L; };\n");
    ofc_config cfg;
    char err[512] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_msg(ofc_config_load_file(&cfg, path, err, sizeof(err)) == 0, "%s", err);

    char origin[PATH_MAX + 16];
    snprintf(origin, sizeof(origin), "%s:3", path);
    ck_assert_str_eq(cfg.brokers, "k1:9092,k2:9092");
    ck_assert_str_eq(cfg.brokers_origin, origin);
    ck_assert_uint_eq(cfg.property_count, 7);
    ck_assert_str_eq(cfg.properties[0].key, "compression.type");
    ck_assert_str_eq(cfg.properties[0].value, "lz4");
    snprintf(origin, sizeof(origin), "%s:5", path);
    ck_assert_str_eq(cfg.properties[0].origin, origin);
    ck_assert_str_eq(find_property(&cfg, "linger.ms")->value, "5");
    ck_assert_str_eq(find_property(&cfg, "enable.idempotence")->value, "true");
    ck_assert_str_eq(find_property(&cfg, "socket.keepalive.enable")->value, "false");
    ck_assert_str_eq(find_property(&cfg, "queue.buffering.max.kbytes")->value, "5000000000");
    ck_assert_str_eq(find_property(&cfg, "retries")->value, "7");
    ck_assert_str_eq(find_property(&cfg, "debug")->value, "broker,topic");
    snprintf(origin, sizeof(origin), "%s:11", path);
    ck_assert_str_eq(find_property(&cfg, "debug")->origin, origin);

    ck_assert_str_eq(cfg.topic_order_created, "in.orders");
    ck_assert_str_eq(cfg.topic_data_processed, "out_orders");
    ck_assert_str_eq(cfg.topic_dead_letter, "in.orders-dlq");
    ck_assert_str_eq(cfg.producer_source, "shop-7");
    ck_assert_int_eq(cfg.producer_timeout_ms, 10000);
    ck_assert_int_eq(cfg.producer_tracing, 1);
    ck_assert_str_eq(cfg.consumer_group, "g1");
    ck_assert_int_eq(cfg.guarantee, OFC_EXACTLY_ONCE);
    ck_assert_uint_eq(cfg.dedup_window, 42);
    ck_assert_int_eq(cfg.commit_interval_ms, 250);
    ck_assert_int_eq(cfg.consumer_group_protocol, OFC_GROUP_PROTOCOL_CONSUMER);
    snprintf(origin, sizeof(origin), "%s:18", path);
    ck_assert_str_eq(cfg.consumer_group_protocol_origin, origin);
    ck_assert_uint_eq(cfg.limits.max_record_bytes, 67108864);
    ck_assert_uint_eq(cfg.limits.max_depth, 2);
    ck_assert_uint_eq(cfg.limits.max_string_bytes, 1);
    ck_assert_uint_eq(cfg.limits.max_items, 10000000);
    ofc_config_free(&cfg);
}
END_TEST

/* A file that sets only some settings leaves the rest at their defaults,
 * and an empty file changes nothing. */
START_TEST(test_partial_and_empty_file)
{
    const char *partial = write_conf("partial.conf", "consumer: { group = \"g2\"; };\n");
    const char *empty = write_conf("empty.conf", "");
    ofc_config cfg;
    char err[512] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_msg(ofc_config_load_file(&cfg, partial, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(ofc_config_load_file(&cfg, empty, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.consumer_group, "g2");
    ck_assert_str_eq(cfg.brokers, "localhost:9092");
    ck_assert_str_eq(cfg.topic_order_created, "order-created");
    ck_assert_int_eq(cfg.guarantee, OFC_AT_LEAST_ONCE);
    ck_assert_int_eq(cfg.consumer_group_protocol, OFC_GROUP_PROTOCOL_UNSET);
    ck_assert_ptr_null(cfg.consumer_group_protocol_origin);
    ck_assert_uint_eq(cfg.limits.max_depth, OF_DEFAULT_MAX_DEPTH);
    ofc_config_free(&cfg);
}
END_TEST

START_TEST(test_precedence)
{
    const char *path =
        write_conf("p.conf", "kafka: {\n"
                             "  brokers = \"file:9092\";\n"
                             "  properties = { \"linger.ms\" = 5; \"acks\" = \"all\"; };\n"
                             "};\n");
    ofc_config cfg;
    char err[512] = "";
    char origin[PATH_MAX + 16];
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.brokers, "localhost:9092");

    ck_assert_msg(ofc_config_load_file(&cfg, path, err, sizeof(err)) == 0, "%s", err);
    snprintf(origin, sizeof(origin), "%s:2", path);
    ck_assert_str_eq(cfg.brokers, "file:9092");
    ck_assert_str_eq(cfg.brokers_origin, origin);

    /* set but empty: ignored, as a shell's VAR= is meant */
    ck_assert_int_eq(setenv("ORDERFLOW_BROKERS", "", 1), 0);
    ck_assert_int_eq(ofc_config_apply_env(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.brokers, "file:9092");

    ck_assert_int_eq(setenv("ORDERFLOW_BROKERS", "env:9092", 1), 0);
    ck_assert_int_eq(ofc_config_apply_env(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.brokers, "env:9092");
    ck_assert_str_eq(cfg.brokers_origin, "ORDERFLOW_BROKERS");

    ck_assert_int_eq(ofc_config_set_brokers(&cfg, "cli:9092", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.brokers, "cli:9092");
    ck_assert_str_eq(cfg.brokers_origin, "-b");

    /* -X replaces the file's property in place */
    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "linger.ms=50", err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.property_count, 2);
    ck_assert_str_eq(cfg.properties[0].key, "linger.ms");
    ck_assert_str_eq(cfg.properties[0].value, "50");
    ck_assert_str_eq(cfg.properties[0].origin, "-X");
    ck_assert_str_eq(cfg.properties[1].value, "all");

    /* and a -X bootstrap.servers is the last word on brokers */
    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "bootstrap.servers=x:1", err, sizeof(err)),
                     0);
    ck_assert_str_eq(cfg.brokers, "x:1");
    ck_assert_str_eq(cfg.brokers_origin, "-X");
    ck_assert_ptr_null(find_property(&cfg, "bootstrap.servers"));
    unsetenv("ORDERFLOW_BROKERS");
    ofc_config_free(&cfg);
}
END_TEST

START_TEST(test_env_unset)
{
    ofc_config cfg;
    char err[256] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(unsetenv("ORDERFLOW_BROKERS"), 0);
    ck_assert_int_eq(ofc_config_apply_env(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.brokers, "localhost:9092");
    ck_assert_str_eq(cfg.brokers_origin, "default");
    ck_assert_int_eq(ofc_config_set_brokers(&cfg, "", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "-b"));
    ck_assert_str_eq(cfg.brokers, "localhost:9092");
    ofc_config_free(&cfg);
}
END_TEST

/* The SASL password from kafka.sasl_password_file's first line, then from
 * ORDERFLOW_SASL_PASSWORD over it; errors name the file, never the value. */
START_TEST(test_sasl_password_sources)
{
    ofc_config cfg;
    char err[PATH_MAX + 256] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    const char *secret = write_conf("kafka.password", "s3cret-from-file\nsecond line\n");
    char text[PATH_MAX + 128];
    snprintf(text, sizeof(text), "kafka: {\n  sasl_password_file = \"%s\";\n};\n", secret);
    const char *path = write_conf("sasl.conf", text);
    ck_assert_msg(ofc_config_load_file(&cfg, path, err, sizeof(err)) == 0, "%s", err);
    const ofc_property *p = find_property(&cfg, "sasl.password");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->value, "s3cret-from-file");
    char origin[PATH_MAX + 64];
    snprintf(origin, sizeof(origin), "%s:2 (kafka.sasl_password_file)", path);
    ck_assert_str_eq(p->origin, origin);

    ck_assert_int_eq(setenv("ORDERFLOW_SASL_PASSWORD", "s3cret-from-env", 1), 0);
    ck_assert_int_eq(ofc_config_apply_env(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(unsetenv("ORDERFLOW_SASL_PASSWORD"), 0);
    p = find_property(&cfg, "sasl.password");
    ck_assert_str_eq(p->value, "s3cret-from-env");
    ck_assert_str_eq(p->origin, "ORDERFLOW_SASL_PASSWORD");
    ofc_config_free(&cfg);

    const char *empty = write_conf("empty.password", "\n");
    snprintf(text, sizeof(text), "kafka: { sasl_password_file = \"%s\"; };\n", empty);
    expect_error(text, 1, "no password on its first line");
    snprintf(text, sizeof(text), "kafka: { sasl_password_file = \"%s/missing\"; };\n", tmpdir);
    expect_error(text, 1, "cannot open: No such file or directory");
}
END_TEST

typedef struct error_case {
    const char *text;
    unsigned line;
    const char *needle;
} error_case;

static const error_case error_cases[] = {
    {"# typo\nconsumer: {\n  grup = \"g\";\n};\n", 3,
     "unknown setting 'consumer.grup'; did you mean 'consumer.group'?"},
    {"consumer: { gorup = \"g\"; };\n", 1, "did you mean 'consumer.group'?"},
    {"consumer: {\n timeout_ms = 5; };\n", 2,
     "unknown setting 'consumer.timeout_ms'; did you mean 'producer.timeout_ms'?"},
    {"consumer: { zzzzzzzzz = 1; };\n", 1,
     "unknown setting 'consumer.zzzzzzzzz' (known in consumer: group, instance_id, handler, "
     "guarantee, group_protocol, dedup_window, commit_interval_ms)"},
    {"\nbrokers = \"a:1\";\n", 2, "unknown setting 'brokers'; did you mean 'kafka.brokers'?"},
    {"consumer: { commit_interval = 5; };\n", 1,
     "unknown setting 'consumer.commit_interval'; did you mean 'consumer.commit_interval_ms'?"},
    {"kafak: { brokers = \"a:1\"; };\n", 1, "unknown group 'kafak'; did you mean 'kafka'?"},
    {"\n\nmetrics: { port = 1; };\n", 3,
     "unknown setting 'metrics.port' (known in metrics: listen)"},
    {"\n\nmonitoring: { port = 1; };\n", 3,
     "unknown group 'monitoring' (known groups: kafka, topics, producer, consumer, limits, "
     "metrics, gateway, handler)"},
    {"handler: {\n  max_attempts = 0; };\n", 2,
     "'handler.max_attempts' must be an integer between 1 and 1000000, got \"0\""},
    {"handler: { after_max_attempts = \"skip\"; };\n", 1,
     "'handler.after_max_attempts' must be \"pause\" or \"dead_letter\", got \"skip\""},
    {"handler: { on_exhausted = \"skip\"; };\n", 1,
     "'handler.on_exhausted' must be \"pause\" or \"dead-letter\", got \"skip\""},
    {"handler: {\n after_max_attempts = \"pause\";\n on_exhausted = \"dead-letter\"; };\n", 3,
     "'handler.on_exhausted' = \"dead-letter\" contradicts 'handler.after_max_attempts' = "
     "\"pause\" ("},
    {"handler: { max_output_bytes = \"big\"; };\n", 1,
     "'handler.max_output_bytes' must be an integer between 64 and 16777216, got \"big\""},
    {"handler: { rates = [1, 2]; };\n", 1,
     "'handler.rates' must be a string, a number or a boolean, got an array"},
    {"consumer: { handler = \"\"; };\n", 1, "'consumer.handler' must not be empty"},
    {"gateway: { listen = \"x\"; };\n", 1, "'gateway.listen': expected ADDR:PORT"},
    {"gateway: { tokens = \"abc\"; };\n", 1, "'gateway.tokens' must be an array of strings"},
    {"gateway: { tokens = [\"ok\", \"has space\"]; };\n", 1,
     "'gateway.tokens' entry 2 must be a non-empty string"},
    {"gateway: { max_in_flight = 0; };\n", 1,
     "'gateway.max_in_flight' must be between 1 and 1000000, got 0"},
    {"gateway: { require_idempotency_key = 0; };\n", 1,
     "'gateway.require_idempotency_key' must be true or false, got an integer"},
    {"metrics: { listen = \"localhost:x\"; };\n", 1,
     "'metrics.listen': expected ADDR:PORT (an IP address, [IPv6]:PORT, or :PORT for loopback; "
     "port 0..65535), got 'localhost:x'"},
    {"metrics: { listen = 9100; };\n", 1, "'metrics.listen' must be a string, got an integer"},
    {"consumer = 5;\n", 1, "'consumer' must be a group (consumer = { ... };), got an integer"},
    {"limits = \"none\";\n", 1, "'limits' must be a group"},
    {"limits: {\n  max_depth = \"8\";\n};\n", 2,
     "'limits.max_depth' must be an integer, got a string"},
    {"limits: { max_depth = 8.0; };\n", 1, "'limits.max_depth' must be an integer, got a float"},
    {"limits: { max_depth = true; };\n", 1, "must be an integer, got a boolean"},
    {"limits: { max_depth = 5000; };\n", 1,
     "'limits.max_depth' must be between 2 and 1000, got 5000"},
    {"limits: { max_depth = 1; };\n", 1, "must be between 2 and 1000, got 1"},
    /* libconfig 1.5 alone would wrap this to 64 and accept it */
    {"limits: { max_record_bytes = 4294967360; };\n", 1,
     "'limits.max_record_bytes' must be between 64 and 67108864, got 4294967360"},
    {"limits: { max_items = 99999999999999999999; };\n", 1, "does not fit in 64 bits"},
    {"limits: { max_string_bytes = 0; };\n", 1, "between 1 and 16777216, got 0"},
    {"limits: { max_items = 10000001; };\n", 1, "between 1 and 10000000, got 10000001"},
    {"consumer: { guarantee = \"most\"; };\n", 1,
     "'consumer.guarantee' must be \"at_least_once\" or \"exactly_once\", got \"most\""},
    {"consumer: { guarantee = 1; };\n", 1, "'consumer.guarantee' must be a string, got an integer"},
    {"consumer: {\n group_protocol = \"cooperative-sticky\"; };\n", 2,
     "'consumer.group_protocol' must be \"classic\" or \"consumer\" (KIP-848), got "
     "\"cooperative-sticky\""},
    {"consumer: { group_protocol = \"Consumer\"; };\n", 1,
     "'consumer.group_protocol' must be \"classic\" or \"consumer\" (KIP-848), got \"Consumer\""},
    {"consumer: { group_protocol = true; };\n", 1,
     "'consumer.group_protocol' must be a string, got a boolean"},
    {"consumer: { group_protocl = \"consumer\"; };\n", 1,
     "unknown setting 'consumer.group_protocl'; did you mean 'consumer.group_protocol'?"},
    {"consumer: { dedup_window = 0; };\n", 1, "'consumer.dedup_window' must be between 1 and"},
    {"consumer: { commit_interval_ms = 9; };\n", 1, "between 10 and 600000, got 9"},
    {"consumer: { group = \"\"; };\n", 1, "'consumer.group' must not be empty"},
    {"producer: { source = \"\"; };\n", 1, "'producer.source' must not be empty"},
    {"producer: { timeout_ms = 0; };\n", 1, "'producer.timeout_ms' must be between 1 and"},
    {"producer: { timeout_ms = -5; };\n", 1, "got -5"},
    {"producer: {\n tracing = 1; };\n", 2,
     "'producer.tracing' must be true or false, got an integer"},
    {"producer: { tracing = \"true\"; };\n", 1,
     "'producer.tracing' must be true or false, got a string"},
    {"producer: { tracng = true; };\n", 1,
     "unknown setting 'producer.tracng'; did you mean 'producer.tracing'?"},
    {"topics: {\n order_created = \"a b\"; };\n", 2,
     "'topics.order_created' is not a valid Kafka topic name"},
    {"topics: { dead_letter = \"\"; };\n", 1, "'topics.dead_letter' must not be empty"},
    {"topics: { dead_letter = \"..\"; };\n", 1, "cannot be \".\" or \"..\""},
    {"topics: { data_processed = \"x\" \"/y\"; };\n", 1, "got \"x/y\""},
    {"topics: {\n order_created = \"t\";\n data_processed = \"t\"; };\n", 3,
     "'topics.order_created' and 'topics.data_processed' are both \"t\""},
    {"topics: { dead_letter = \"order-created\"; };\n", 1,
     "'topics.order_created' and 'topics.dead_letter' are both \"order-created\""},
    {"kafka: { brokers = \"\"; };\n", 1, "'kafka.brokers' must not be empty"},
    {"kafka: { brokers = [\"a:1\", \"b:1\"]; };\n", 1,
     "'kafka.brokers' must be a string, got an array"},
    {"kafka: { properties = {\n \"linger.ms\" = 0.5; }; };\n", 2,
     "property 'linger.ms' must be a string, an integer or a boolean, got a float"},
    {"kafka: { properties = ( \"linger.ms\", 5 ); };\n", 1, "'kafka.properties' must be a group"},
    {"topics = {\n  order_created = ;\n};\n", 2, "syntax error"},
    {"kafka: { properties = {\n linger.ms = 5; }; };\n", 2, "syntax error"},
    {"consumer: { group = \"a\";\n group = \"b\"; };\n", 2, "duplicate setting name"},
    {"kafka: { properties = {\n \"acks\" = 1;\n \"acks\" = \"all\"; }; };\n", 3,
     "duplicate setting name"},
    {"# secrets elsewhere\n@include \"secrets.conf\"\n", 2, "@include is not supported"},
    {"kafka: { properties = {\n \"bad key\" = 1; }; };\n", 2, "has a space"},
    {"kafka: { properties = {\n \"\" = 1; }; };\n", 2, "empty setting name"},
    {"kafka: { properties = { \"x\"\n = 1;\n \"y.z\" = 2.5; }; };\n", 3, "property 'y.z'"},
};

START_TEST(test_errors)
{
    const error_case *c = &error_cases[_i];
    expect_error(c->text, c->line, c->needle);
}
END_TEST

START_TEST(test_cannot_open)
{
    ofc_config cfg;
    char err[512];
    char expected[PATH_MAX + 64];
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);

    char missing[PATH_MAX];
    ck_assert_int_lt(snprintf(missing, sizeof(missing), "%s/missing.conf", tmpdir),
                     (int)sizeof(missing));
    ck_assert_int_eq(ofc_config_load_file(&cfg, missing, err, sizeof(err)), -1);
    snprintf(expected, sizeof(expected), "%s: cannot open: %s", missing, strerror(ENOENT));
    ck_assert_str_eq(err, expected);

    ck_assert_int_eq(ofc_config_load_file(&cfg, tmpdir, err, sizeof(err)), -1);
    snprintf(expected, sizeof(expected), "%s: cannot open: %s", tmpdir, strerror(EISDIR));
    ck_assert_str_eq(err, expected);
    ck_assert_str_eq(cfg.brokers, "localhost:9092");
    ofc_config_free(&cfg);
}
END_TEST

/* The rewriting that lets libconfig 1.5 read quoted names must not touch
 * strings, comments or numbers that merely look like them. */
START_TEST(test_quoting_leaves_values_alone)
{
    const char *path = write_conf("q.conf", "# \"not.a\" = \"key\"\n"
                                            "/* \"nor\" = this;\n"
                                            "   \"one\" : 1 */\n"
                                            "producer: { source = \"\\\"x\\\" = 1; // \\\\\";\n"
                                            "            timeout_ms = 2147483647; };\n"
                                            "kafka: { properties = {\n"
                                            "  \"client.id\"\n"
                                            "     = \"a\\x2eb\";\n"
                                            "  \"ssl.ca.location\": \"/etc/ssl/#1\";\n"
                                            "  \"statistics.interval.ms\" = -2147483648;\n"
                                            "  \"x\\x2ey\" = 1;\n"
                                            "}; };\n");
    ofc_config cfg;
    char err[512] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_msg(ofc_config_load_file(&cfg, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.producer_source, "\"x\" = 1; // \\");
    ck_assert_uint_eq(cfg.property_count, 4);
    ck_assert_str_eq(find_property(&cfg, "client.id")->value, "a.b");
    char origin[PATH_MAX + 16];
    snprintf(origin, sizeof(origin), "%s:7", path);
    ck_assert_str_eq(find_property(&cfg, "client.id")->origin, origin);
    ck_assert_str_eq(find_property(&cfg, "ssl.ca.location")->value, "/etc/ssl/#1");
    ck_assert_str_eq(find_property(&cfg, "statistics.interval.ms")->value, "-2147483648");
    ck_assert_str_eq(find_property(&cfg, "x.y")->value, "1");
    ck_assert_int_eq(cfg.producer_timeout_ms, INT_MAX);
    ofc_config_free(&cfg);
}
END_TEST

START_TEST(test_property_setters)
{
    ofc_config cfg;
    char err[256] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);

    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "a=b=c", err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.property_count, 1);
    ck_assert_str_eq(cfg.properties[0].key, "a");
    ck_assert_str_eq(cfg.properties[0].value, "b=c");
    ck_assert_str_eq(cfg.properties[0].origin, "-X");

    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "empty=", err, sizeof(err)), 0);
    ck_assert_str_eq(find_property(&cfg, "empty")->value, "");

    err[0] = '\0';
    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "novalue", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "-X"));
    ck_assert_ptr_nonnull(strstr(err, "KEY=VALUE"));
    ck_assert_ptr_nonnull(strstr(err, "novalue"));

    err[0] = '\0';
    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "=v", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "-X"));
    ck_assert_ptr_nonnull(strstr(err, "KEY is empty"));

    err[0] = '\0';
    ck_assert_int_eq(ofc_config_set_property(&cfg, "", "v", "test", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "test: empty"));
    ck_assert_uint_eq(cfg.property_count, 2);

    /* many distinct keys grow the list; the same key again replaces in place */
    for (int i = 0; i < 40; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%d", i);
        ck_assert_int_eq(ofc_config_set_property(&cfg, key, "1", "test", err, sizeof(err)), 0);
    }
    ck_assert_uint_eq(cfg.property_count, 42);
    ck_assert_int_eq(ofc_config_set_property(&cfg, "k7", "2", "later", err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.property_count, 42);
    ck_assert_str_eq(cfg.properties[9].key, "k7");
    ck_assert_str_eq(cfg.properties[9].value, "2");
    ck_assert_str_eq(cfg.properties[9].origin, "later");

    ck_assert_int_eq(
        ofc_config_set_property(&cfg, "metadata.broker.list", "m:1", "test", err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.brokers, "m:1");
    ck_assert_ptr_null(find_property(&cfg, "metadata.broker.list"));
    ck_assert_int_eq(
        ofc_config_set_property(&cfg, "bootstrap.servers", "", "test", err, sizeof(err)), -1);
    ck_assert_str_eq(cfg.brokers, "m:1");
    ofc_config_free(&cfg);
}
END_TEST

START_TEST(test_is_secret)
{
    static const char *const secret[] = {
        "sasl.password",
        "sasl.oauthbearer.client.secret",
        "sasl.oauthbearer.config",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.key.pem",
        "ssl_key",
        "SASL.PASSWORD",
        "plugin.api.Secret",
        "my.db.PassWord.file",
    };
    static const char *const plain[] = {
        "sasl.username",
        "bootstrap.servers",
        "ssl.key.location",
        "ssl.certificate.pem",
        "compression.type",
        "sasl.mechanisms",
        "",
    };
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        ck_assert_msg(ofc_config_is_secret(secret[i]) == 1, "%s should be secret", secret[i]);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        ck_assert_msg(ofc_config_is_secret(plain[i]) == 0, "%s should not be secret", plain[i]);
    ck_assert_int_eq(ofc_config_is_secret(NULL), 0);
}
END_TEST

static char *print_to_string(const ofc_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ofc_config_print(cfg, out);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_ptr_nonnull(text);
    return text;
}

START_TEST(test_print_redacts_secrets)
{
    const char *path = write_conf("s.conf", "kafka: { properties = {\n"
                                            "  \"sasl.password\" = \"hunter2-from-file\";\n"
                                            "  \"sasl.username\" = \"alice\";\n"
                                            "}; };\n");
    ofc_config cfg;
    char err[512] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_msg(ofc_config_load_file(&cfg, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(ofc_config_set_property_arg(
                         &cfg, "ssl.key.pem=-----BEGIN PRIVATE KEY-----MIIE", err, sizeof(err)),
                     0);
    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "sasl.oauthbearer.client.secret=s3cr3t", err,
                                                 sizeof(err)),
                     0);
    ck_assert_int_eq(
        ofc_config_set_property_arg(&cfg, "plugin.token.secret=tok-123", err, sizeof(err)), 0);

    char *text = print_to_string(&cfg);
    ck_assert_ptr_null(strstr(text, "hunter2"));
    ck_assert_ptr_null(strstr(text, "BEGIN PRIVATE KEY"));
    ck_assert_ptr_null(strstr(text, "s3cr3t"));
    ck_assert_ptr_null(strstr(text, "tok-123"));
    ck_assert_ptr_nonnull(strstr(text, "\"sasl.password\" = \"[redacted]\";"));
    ck_assert_ptr_nonnull(strstr(text, "\"ssl.key.pem\" = \"[redacted]\";"));
    ck_assert_ptr_nonnull(strstr(text, "\"sasl.username\" = \"alice\";"));
    char origin[PATH_MAX + 32];
    snprintf(origin, sizeof(origin), "# from %s:2\n", path);
    ck_assert_ptr_nonnull(strstr(text, origin));
    ck_assert_ptr_nonnull(strstr(text, "# from -X\n"));
    free(text);
    ofc_config_free(&cfg);
}
END_TEST

/* What ofc_config_print writes is a configuration file that loads back to the
 * same settings; an origin with a newline stays inside its comment. */
START_TEST(test_print_round_trip)
{
    ofc_config cfg;
    char err[512] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(ofc_config_set_brokers(&cfg, "b1:1,b2:2", err, sizeof(err)), 0);
    ck_assert_int_eq(ofc_config_set_property(&cfg, "client.id", "say \"hi\"\\now\n\x01",
                                             "evil\norigin", err, sizeof(err)),
                     0);
    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "linger.ms=7", err, sizeof(err)), 0);
    free(cfg.topic_dead_letter);
    cfg.topic_dead_letter = strdup("dlq");
    ck_assert_ptr_nonnull(cfg.topic_dead_letter);
    cfg.guarantee = OFC_EXACTLY_ONCE;
    cfg.consumer_instance_id = strdup("host-7");
    ck_assert_ptr_nonnull(cfg.consumer_instance_id);
    cfg.producer_timeout_ms = 1234;
    cfg.producer_tracing = 1;
    cfg.consumer_group_protocol = OFC_GROUP_PROTOCOL_CONSUMER;
    cfg.dedup_window = 77;
    cfg.commit_interval_ms = 99;
    cfg.limits.max_depth = 9;
    cfg.limits.max_items = 5;

    char *text = print_to_string(&cfg);
    ck_assert_ptr_nonnull(strstr(text, "# from evil?origin\n"));
    const char *path = write_conf("printed.conf", text);
    free(text);

    ofc_config back;
    ck_assert_int_eq(ofc_config_init(&back, err, sizeof(err)), 0);
    ck_assert_msg(ofc_config_load_file(&back, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(back.brokers, "b1:1,b2:2");
    ck_assert_uint_eq(back.property_count, 2);
    ck_assert_str_eq(find_property(&back, "client.id")->value, "say \"hi\"\\now\n\x01");
    ck_assert_str_eq(find_property(&back, "linger.ms")->value, "7");
    ck_assert_int_eq(back.consumer_group_protocol, OFC_GROUP_PROTOCOL_CONSUMER);
    ck_assert_str_eq(back.topic_order_created, "order-created");
    ck_assert_str_eq(back.topic_dead_letter, "dlq");
    ck_assert_int_eq(back.guarantee, OFC_EXACTLY_ONCE);
    ck_assert_str_eq(back.consumer_instance_id, "host-7");
    ck_assert_int_eq(back.producer_timeout_ms, 1234);
    ck_assert_int_eq(back.producer_tracing, 1);
    ck_assert_uint_eq(back.dedup_window, 77);
    ck_assert_int_eq(back.commit_interval_ms, 99);
    ck_assert_uint_eq(back.limits.max_depth, 9);
    ck_assert_uint_eq(back.limits.max_items, 5);
    ck_assert_uint_eq(back.limits.max_record_bytes, OF_DEFAULT_MAX_RECORD_BYTES);
    ofc_config_free(&back);
    ofc_config_free(&cfg);
}
END_TEST

/* The handler group: orderflow's settings typed, the handler's kept as text
 * with their origin, --handler-arg over the file; -v prints them back. */
START_TEST(test_handler_group)
{
    const char *path = write_conf("handler.conf", "consumer: { handler = \"./tax.so\"; };\n"
                                                  "handler:\n"
                                                  "{\n"
                                                  "  max_attempts = 3;\n"
                                                  "  after_max_attempts = \"dead_letter\";\n"
                                                  "  EUR = 19.5;\n"
                                                  "  \"rate.GBP\" = 20;\n"
                                                  "  strict = true;\n"
                                                  "  note = \"a b\";\n"
                                                  "};\n");
    ofc_config cfg;
    char err[512] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.consumer_handler ? cfg.consumer_handler : "(null)", "(null)");
    ck_assert_int_eq(cfg.handler_max_attempts, 5);
    ck_assert_int_eq(cfg.handler_after_max_attempts, OFC_AFTER_MAX_ATTEMPTS_PAUSE);
    ck_assert_msg(ofc_config_load_file(&cfg, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.consumer_handler, "./tax.so");
    ck_assert_int_eq(cfg.handler_max_attempts, 3);
    ck_assert_int_eq(cfg.handler_after_max_attempts, OFC_AFTER_MAX_ATTEMPTS_DEAD_LETTER);
    ck_assert_uint_eq(cfg.handler_setting_count, 4);
    ck_assert_str_eq(cfg.handler_settings[0].key, "EUR");
    ck_assert_str_eq(cfg.handler_settings[0].value, "19.5");
    char origin[PATH_MAX + 16];
    snprintf(origin, sizeof(origin), "%s:6", path);
    ck_assert_str_eq(cfg.handler_settings[0].origin, origin);
    ck_assert_str_eq(cfg.handler_settings[1].key, "rate.GBP");
    ck_assert_str_eq(cfg.handler_settings[1].value, "20");
    ck_assert_str_eq(cfg.handler_settings[2].value, "true");
    ck_assert_str_eq(cfg.handler_settings[3].value, "a b");

    ck_assert_int_eq(ofc_config_set_handler_arg(&cfg, "EUR=21", err, sizeof(err)), 0);
    ck_assert_int_eq(ofc_config_set_handler_arg(&cfg, "max_output_bytes=1024", err, sizeof(err)),
                     0);
    ck_assert_uint_eq(cfg.handler_setting_count, 4);
    ck_assert_str_eq(cfg.handler_settings[0].value, "21");
    ck_assert_str_eq(cfg.handler_settings[0].origin, "--handler-arg");
    ck_assert_uint_eq(cfg.handler_max_output_bytes, 1024);
    ck_assert_int_eq(ofc_config_set_handler_arg(&cfg, "max_attempts=many", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "--handler-arg: 'handler.max_attempts' must be an integer between 1 and "
                          "1000000, got \"many\"");
    ck_assert_int_eq(ofc_config_set_handler_arg(&cfg, "=x", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "--handler-arg =x: expected KEY=VALUE (a handler setting)");
    /* on_exhausted is after_max_attempts' newer name: the same value agrees,
     * another contradicts, naming where the first was set. */
    ck_assert_int_eq(
        ofc_config_set_handler_arg(&cfg, "on_exhausted=dead-letter", err, sizeof(err)), 0);
    ck_assert_int_eq(ofc_config_set_handler_arg(&cfg, "after_max_attempts=pause", err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "--handler-arg: 'handler.after_max_attempts' = \"pause\" contradicts "
                          "'handler.on_exhausted' = \"dead-letter\" (--handler-arg): they are one "
                          "setting (after_max_attempts is on_exhausted's older name); set one");
    ck_assert_int_eq(ofc_config_set_handler_arg(&cfg, "on_exhausted=pause", err, sizeof(err)), 0);
    ck_assert_int_eq(cfg.handler_after_max_attempts, OFC_AFTER_MAX_ATTEMPTS_PAUSE);
    ck_assert_int_eq(
        ofc_config_set_handler_arg(&cfg, "on_exhausted=dead-letter", err, sizeof(err)), 0);

    /* Printed back (-v) and read again: the same settings. */
    char *text = print_to_string(&cfg);
    const char *printed = write_conf("handler-printed.conf", text);
    free(text);
    ofc_config back;
    ck_assert_int_eq(ofc_config_init(&back, err, sizeof(err)), 0);
    ck_assert_msg(ofc_config_load_file(&back, printed, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(back.consumer_handler, "./tax.so");
    ck_assert_int_eq(back.handler_max_attempts, 3);
    ck_assert_uint_eq(back.handler_max_output_bytes, 1024);
    ck_assert_int_eq(back.handler_after_max_attempts, OFC_AFTER_MAX_ATTEMPTS_DEAD_LETTER);
    ck_assert_uint_eq(back.handler_setting_count, 4);
    ck_assert_str_eq(back.handler_settings[0].value, "21");
    ck_assert_str_eq(back.handler_settings[1].key, "rate.GBP");
    ofc_config_free(&back);
    ofc_config_free(&cfg);
}
END_TEST

/* A short or absent error buffer is truncated or skipped, never overrun. */
START_TEST(test_small_error_buffer)
{
    const char *path = write_conf("t.conf", "consumer: { guarantee = \"maybe-later\"; };\n");
    ofc_config cfg;
    char err[16];
    ck_assert_int_eq(ofc_config_init(&cfg, NULL, 0), 0);
    memset(err, 'X', sizeof(err));
    ck_assert_int_eq(ofc_config_load_file(&cfg, path, err, 8), -1);
    ck_assert_uint_eq(strlen(err), 7);
    ck_assert_int_eq(err[8], 'X');
    ck_assert_int_eq(ofc_config_load_file(&cfg, path, NULL, 0), -1);
    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "nokey", NULL, 0), -1);
    ck_assert_int_eq(ofc_config_set_property_arg(&cfg, "nokey", err, 1), -1);
    ck_assert_int_eq(err[0], '\0');
    ofc_config_free(&cfg);
}
END_TEST

/* The shipped example documents every setting at its default: loading it
 * must succeed and change nothing. */
START_TEST(test_example_matches_defaults)
{
    const char *example = getenv("ORDERFLOW_CONF_EXAMPLE");
    ck_assert_msg(example && *example, "meson sets ORDERFLOW_CONF_EXAMPLE");
    ofc_config def, ex;
    char err[512] = "";
    ck_assert_int_eq(ofc_config_init(&def, err, sizeof(err)), 0);
    ck_assert_int_eq(ofc_config_init(&ex, err, sizeof(err)), 0);
    ck_assert_msg(ofc_config_load_file(&ex, example, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(ex.brokers, def.brokers);
    ck_assert_uint_eq(ex.property_count, 0);
    ck_assert_str_eq(ex.topic_order_created, def.topic_order_created);
    ck_assert_str_eq(ex.topic_data_processed, def.topic_data_processed);
    ck_assert_str_eq(ex.topic_dead_letter, def.topic_dead_letter);
    ck_assert_str_eq(ex.producer_source, def.producer_source);
    ck_assert_int_eq(ex.producer_timeout_ms, def.producer_timeout_ms);
    ck_assert_str_eq(ex.consumer_group, def.consumer_group);
    ck_assert_int_eq(ex.guarantee, def.guarantee);
    ck_assert_uint_eq(ex.dedup_window, def.dedup_window);
    ck_assert_int_eq(ex.commit_interval_ms, def.commit_interval_ms);
    ck_assert_str_eq(ex.consumer_handler, "rules");
    ck_assert_int_eq(ex.handler_max_attempts, def.handler_max_attempts);
    ck_assert_int_eq(ex.handler_retry_delay_ms, def.handler_retry_delay_ms);
    ck_assert_int_eq(ex.handler_retry_delay_max_ms, def.handler_retry_delay_max_ms);
    ck_assert_int_eq(ex.handler_after_max_attempts, def.handler_after_max_attempts);
    ck_assert_uint_eq(ex.handler_max_output_bytes, def.handler_max_output_bytes);
    ck_assert_uint_eq(ex.handler_setting_count, 0);
    ck_assert_uint_eq(ex.limits.max_record_bytes, def.limits.max_record_bytes);
    ck_assert_uint_eq(ex.limits.max_depth, def.limits.max_depth);
    ck_assert_uint_eq(ex.limits.max_string_bytes, def.limits.max_string_bytes);
    ck_assert_uint_eq(ex.limits.max_items, def.limits.max_items);
    ck_assert_str_eq(ex.gateway_listen, def.gateway_listen);
    ck_assert_str_eq(ex.gateway_source, def.gateway_source);
    ck_assert_int_eq(ex.gateway_require_key, def.gateway_require_key);
    ck_assert_int_eq(ex.gateway_retention_s, def.gateway_retention_s);
    ck_assert_uint_eq(ex.gateway_max_keys, def.gateway_max_keys);
    ck_assert_int_eq(ex.gateway_max_in_flight, def.gateway_max_in_flight);
    ck_assert_int_eq(ex.gateway_request_timeout_ms, def.gateway_request_timeout_ms);
    ck_assert_int_eq(ex.gateway_client_timeout_s, def.gateway_client_timeout_s);

    /* and each setting in it is really read: the brokers line is named */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ofc_config_print(&ex, out);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_ptr_nonnull(strstr(text, example));
    free(text);
    ofc_config_free(&ex);
    ofc_config_free(&def);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    check_tcase_add_test(tc, test_defaults);
    check_tcase_add_test(tc, test_full_file);
    check_tcase_add_test(tc, test_partial_and_empty_file);
    check_tcase_add_test(tc, test_precedence);
    check_tcase_add_test(tc, test_env_unset);
    check_tcase_add_test(tc, test_sasl_password_sources);
    check_tcase_add_loop_test(tc, test_errors, 0,
                              (int)(sizeof(error_cases) / sizeof(error_cases[0])));
    check_tcase_add_test(tc, test_cannot_open);
    check_tcase_add_test(tc, test_quoting_leaves_values_alone);
    check_tcase_add_test(tc, test_property_setters);
    check_tcase_add_test(tc, test_is_secret);
    check_tcase_add_test(tc, test_print_redacts_secrets);
    check_tcase_add_test(tc, test_print_round_trip);
    check_tcase_add_test(tc, test_handler_group);
    check_tcase_add_test(tc, test_small_error_buffer);
    check_tcase_add_test(tc, test_example_matches_defaults);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run_suite(config_suite());
}
