package io.orderflow.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Benchmark peer: orderflow's processing stage (SPEC sections 3-4) as a Kafka
 * Streams application. Reads order-created, validates the CloudEvents envelope
 * as lib/envelope does (the checks of bench/peers/envelope.py), applies the
 * rules of lib/processing/rules.c, writes data_processed to the same partition
 * number of data-processed with the content-type and idempotency-key headers,
 * and poison records untouched to order-created.dlq with the orderflow-error,
 * -source-topic, -source-partition and -source-offset headers. Input whose
 * idempotency key was already processed is skipped: the emitted keys live in a
 * logged (changelog-backed) in-memory store, restored on assignment, the
 * Streams way of keeping that state in Kafka. Outputs carry the time they
 * were emitted (as a librdkafka producer stamps them), not the input's.
 *
 * usage: StreamsStage BROKERS APPLICATION_ID at_least_once|exactly_once_v2 [IN OUT DLQ]
 * Runs until SIGTERM, then closes cleanly.
 */
public final class StreamsStage {
    static String IN = "order-created";
    static String OUT = "data-processed";
    static String DLQ = "order-created.dlq";
    static final String STORE = "emitted-keys";
    static final long INT64_MAX = Long.MAX_VALUE;
    static final byte[] CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
            .getBytes(StandardCharsets.UTF_8);
    static final String[] REQUIRED = {"specversion", "id", "source", "type", "time",
        "datacontenttype", "idempotencykey", "subject", "schemaversion", "data"};
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final JsonFactory FACTORY = MAPPER.getFactory();
    static final DateTimeFormatter RFC3339 =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** An output value that remembers the partition it must go to. */
    static final class Out {
        final byte[] value;
        final int partition;

        Out(byte[] value, int partition) {
            this.value = value;
            this.partition = partition;
        }
    }

    static final class OutSerializer implements Serializer<Out> {
        @Override
        public byte[] serialize(String topic, Out o) {
            return o == null ? null : o.value;
        }
    }

    /** Input partition N goes to output partition N (co-partitioned topics). */
    static final class SamePartition implements StreamPartitioner<byte[], Out> {
        @Override
        @SuppressWarnings("deprecation")
        public Integer partition(String topic, byte[] key, Out value, int numPartitions) {
            return value.partition;
        }
    }

    static final class Stage implements Processor<byte[], byte[], byte[], Out> {
        private final SecureRandom random = new SecureRandom();
        private final String source;
        private ProcessorContext<byte[], Out> context;
        private KeyValueStore<String, byte[]> emitted;

        Stage(String applicationId) {
            this.source = "kafka-streams/" + applicationId;
        }

        @Override
        public void init(ProcessorContext<byte[], Out> context) {
            this.context = context;
            this.emitted = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<byte[], byte[]> record) {
            RecordMetadata md = context.recordMetadata().orElseThrow();
            int partition = md.partition();
            JsonNode ev;
            String reason;
            try {
                ev = record.value() == null ? null : MAPPER.readTree(record.value());
                reason = validate(ev);
            } catch (IOException e) {
                ev = null;
                reason = "not JSON";
            }
            if (reason != null) {
                Headers h = new RecordHeaders();
                h.add("orderflow-error", reason.getBytes(StandardCharsets.UTF_8));
                h.add("orderflow-source-topic", md.topic().getBytes(StandardCharsets.UTF_8));
                h.add("orderflow-source-partition",
                        Integer.toString(partition).getBytes(StandardCharsets.UTF_8));
                h.add("orderflow-source-offset",
                        Long.toString(md.offset()).getBytes(StandardCharsets.UTF_8));
                context.forward(new Record<>(record.key(), new Out(record.value(), partition),
                        System.currentTimeMillis(), h), "dlq");
                return;
            }
            String key = "data_processed:" + ev.get("idempotencykey").asText();
            if (emitted.get(key) != null) return; // already processed: skip, as orderflow does
            byte[] value;
            try {
                value = dataProcessed(ev, key);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            emitted.put(key, new byte[0]);
            Headers h = new RecordHeaders();
            h.add("content-type", CONTENT_TYPE);
            h.add("idempotency-key", key.getBytes(StandardCharsets.UTF_8));
            context.forward(new Record<>(record.key(), new Out(value, partition),
                    System.currentTimeMillis(), h), "out");
        }

        /** The rules of lib/processing/rules.c, in the same order, same reasons. */
        private byte[] dataProcessed(JsonNode ev, String key) throws IOException {
            JsonNode d = ev.get("data");
            JsonNode items = d.get("items");
            int n = items.size();
            String reason = null;
            if (n == 0) reason = "order has no items";
            for (int i = 0; reason == null && i < n; i++) {
                long q = items.get(i).get("quantity").asLong();
                if (q < 1)
                    reason = String.format("item %d (%s): quantity %d is below 1", i + 1,
                            items.get(i).get("sku").asText(), q);
            }
            for (int i = 0; reason == null && i < n; i++) {
                long p = items.get(i).get("unit_price_cents").asLong();
                if (p < 0)
                    reason = String.format("item %d (%s): negative unit price %d", i + 1,
                            items.get(i).get("sku").asText(), p);
            }
            String currency = d.get("currency").asText();
            if (reason == null && !capitalLetters(currency))
                reason = "currency '" + currency + "' is not three capital letters";
            long quantityTotal = 0, total = 0;
            if (reason == null) {
                try {
                    for (int i = 0; i < n; i++)
                        quantityTotal = Math.addExact(quantityTotal, items.get(i).get("quantity").asLong());
                } catch (ArithmeticException e) {
                    reason = "quantity total overflows int64";
                }
            }
            for (int i = 0; reason == null && i < n; i++) {
                long line;
                try {
                    line = Math.multiplyExact(items.get(i).get("quantity").asLong(),
                            items.get(i).get("unit_price_cents").asLong());
                } catch (ArithmeticException e) {
                    reason = String.format("item %d (%s): line total overflows int64", i + 1,
                            items.get(i).get("sku").asText());
                    break;
                }
                try {
                    total = Math.addExact(total, line);
                } catch (ArithmeticException e) {
                    reason = "total overflows int64";
                }
            }

            ByteArrayOutputStream buf = new ByteArrayOutputStream(512);
            try (JsonGenerator g = FACTORY.createGenerator(buf)) {
                g.writeStartObject();
                g.writeStringField("specversion", "1.0");
                g.writeStringField("id", uuid7());
                g.writeStringField("source", source);
                g.writeStringField("type", "data_processed");
                g.writeStringField("time", RFC3339.format(Instant.now()));
                g.writeStringField("datacontenttype", "application/json");
                g.writeStringField("idempotencykey", key);
                g.writeStringField("subject", ev.get("subject").asText());
                JsonNode corr = ev.get("correlationid");
                g.writeStringField("correlationid",
                        corr != null && corr.isTextual() ? corr.asText() : ev.get("id").asText());
                g.writeStringField("causationid", ev.get("id").asText());
                g.writeNumberField("schemaversion", 1);
                g.writeObjectFieldStart("data");
                g.writeStringField("order_id", d.get("order_id").asText());
                g.writeStringField("customer_id", d.get("customer_id").asText());
                g.writeStringField("currency", currency);
                g.writeNumberField("item_count", n);
                g.writeNumberField("quantity_total", reason == null ? quantityTotal : 0);
                g.writeNumberField("total_cents", reason == null ? total : 0);
                g.writeStringField("status", reason == null ? "accepted" : "rejected");
                if (reason != null) g.writeStringField("reason", reason);
                g.writeEndObject();
                g.writeEndObject();
            }
            return buf.toByteArray();
        }

        private String uuid7() {
            long ms = System.currentTimeMillis();
            long hi = (ms << 16) | 0x7000L | (random.nextInt() & 0xFFFL);
            long lo = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
            String h = String.format("%016x%016x", hi, lo);
            return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-"
                    + h.substring(16, 20) + "-" + h.substring(20);
        }
    }

    static boolean capitalLetters(String s) {
        if (s.length() != 3) return false;
        for (int i = 0; i < 3; i++)
            if (s.charAt(i) < 'A' || s.charAt(i) > 'Z') return false;
        return true;
    }

    static boolean int64(JsonNode v) {
        return v != null && v.isIntegralNumber() && v.canConvertToLong();
    }

    /** null if ev is a valid order_created envelope, else why not (SPEC section 3). */
    static String validate(JsonNode ev) {
        if (ev == null || !ev.isObject()) return "not an object";
        for (String name : REQUIRED)
            if (!ev.has(name)) return "missing " + name;
        for (int i = 0; i < 8; i++) {
            JsonNode v = ev.get(REQUIRED[i]);
            if (!v.isTextual() || v.asText().isEmpty())
                return REQUIRED[i] + " is not a non-empty string";
        }
        if (!ev.get("specversion").asText().equals("1.0")
                || !ev.get("type").asText().equals("order_created")
                || !int64(ev.get("schemaversion")) || ev.get("schemaversion").asLong() != 1)
            return "unknown specversion, type or schemaversion";
        String key = ev.get("idempotencykey").asText();
        if (key.length() > 256) return "bad idempotencykey";
        for (int i = 0; i < key.length(); i++)
            if (key.charAt(i) <= 32 || key.charAt(i) >= 127) return "bad idempotencykey";
        JsonNode d = ev.get("data");
        if (!d.isObject()) return "data is not an object";
        for (String name : new String[] {"order_id", "customer_id", "currency"})
            if (d.get(name) == null || d.get(name).getNodeType() != JsonNodeType.STRING)
                return "data." + name + " is not a string";
        if (!d.get("order_id").asText().equals(ev.get("subject").asText()))
            return "subject differs from data.order_id";
        JsonNode items = d.get("items");
        if (items == null || !items.isArray() || items.size() > 10000)
            return "data.items is not an array of at most 10000";
        for (JsonNode it : items) {
            if (!it.isObject() || it.get("sku") == null || !it.get("sku").isTextual())
                return "bad item";
            if (!int64(it.get("quantity"))) return "item quantity is not an int64";
            if (!int64(it.get("unit_price_cents"))) return "item unit_price_cents is not an int64";
        }
        return null;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 && args.length != 6) {
            System.err.println("usage: StreamsStage BROKERS APPLICATION_ID "
                    + "at_least_once|exactly_once_v2 [IN OUT DLQ]");
            System.exit(64);
        }
        if (args.length == 6) {
            IN = args[3];
            OUT = args[4];
            DLQ = args[5];
        }
        String applicationId = args[1];
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args[2]);
        props.put(StreamsConfig.STATE_DIR_CONFIG,
                System.getProperty("java.io.tmpdir") + "/kafka-streams-" + applicationId);
        // Two cores: one stream thread (the default), as orderflow runs one
        // processing thread. Everything else stays at Kafka Streams' defaults
        // (commit.interval.ms 30 s at_least_once, 100 ms exactly_once_v2).
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // As orderflow's producer: idempotent, acks=all (Streams' own default for
        // exactly_once_v2; at_least_once would otherwise use acks=all, not idempotent).
        props.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
        props.put(StreamsConfig.producerPrefix(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG), true);

        Topology t = new Topology();
        t.addSource("in", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), IN);
        t.addProcessor("stage", () -> new Stage(applicationId), "in");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STORE),
                Serdes.String(), Serdes.ByteArray()), "stage");
        t.addSink("out", OUT, Serdes.ByteArray().serializer(), new OutSerializer(),
                new SamePartition(), "stage");
        t.addSink("dlq", DLQ, Serdes.ByteArray().serializer(), new OutSerializer(),
                new SamePartition(), "stage");

        KafkaStreams streams = new KafkaStreams(t, props);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(java.time.Duration.ofSeconds(30));
            done.countDown();
        }));
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
                    .StreamThreadExceptionResponse.SHUTDOWN_APPLICATION;
        });
        streams.start();
        done.await();
    }
}
