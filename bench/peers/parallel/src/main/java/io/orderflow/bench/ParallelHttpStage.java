package io.orderflow.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelConsumerOptions.CommitMode;
import io.confluent.parallelconsumer.ParallelConsumerOptions.ProcessingOrder;
import io.confluent.parallelconsumer.ParallelStreamProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Peer of orderflow's HTTP handler (bench/sections/http.py): Confluent Parallel Consumer in KEY
 * order with maxConcurrency calls at once, each event POSTed to the order service as orderflow
 * does (CloudEvents binary mode, Idempotency-Key), the answer produced as data_processed to the
 * same partition; at least once (Parallel Consumer's own offset tracking). Stops on SIGTERM.
 * Usage: ParallelHttpStage BROKERS GROUP IN OUT URL MAX_CONCURRENCY
 */
public final class ParallelHttpStage {
    public static void main(String[] args) throws Exception {
        String brokers = args[0], group = args[1], in = args[2], out = args[3];
        URI url = URI.create(args[4]);
        int concurrency = Integer.parseInt(args[5]);
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
        KafkaProducer<String, String> producer =
                new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        ParallelConsumerOptions<String, String> options = ParallelConsumerOptions.<String, String>builder()
                .ordering(ProcessingOrder.KEY)
                .maxConcurrency(concurrency)
                .commitMode(CommitMode.PERIODIC_CONSUMER_ASYNCHRONOUS)
                .consumer(consumer)
                .producer(producer)
                // Its check that auto-commit is off reads KafkaConsumer's internals by
                // reflection, which kafka-clients 3.7+ moved: it is off (above).
                .ignoreReflectiveAccessExceptionsForAutoCommitDisabledCheck(true)
                .build();
        ParallelStreamProcessor<String, String> pc =
                ParallelStreamProcessor.createEosStreamProcessor(options);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        ObjectMapper json = new ObjectMapper();
        pc.subscribe(List.of(in));
        pc.pollAndProduce(context -> {
            ConsumerRecord<String, String> rec = context.getSingleConsumerRecord();
            try {
                ObjectNode ev = (ObjectNode) json.readTree(rec.value());
                HttpRequest.Builder req = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5))
                        .header("Content-Type", "application/json")
                        .header("ce-id", ev.get("id").asText())
                        .header("ce-type", ev.get("type").asText())
                        .header("ce-source", ev.get("source").asText())
                        .header("ce-specversion", ev.get("specversion").asText())
                        .header("ce-subject", ev.get("subject").asText())
                        .header("Idempotency-Key", ev.get("idempotencykey").asText())
                        .header("orderflow-attempt", "1")
                        .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(ev.get("data"))));
                HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() >= 300) {
                    // Parallel Consumer retries a record whose function throws.
                    throw new IllegalStateException("HTTP " + r.statusCode());
                }
                ObjectNode o = json.createObjectNode();
                o.put("specversion", "1.0");
                o.put("id", UUID.randomUUID().toString());
                o.put("source", "parallel-consumer");
                o.put("type", "data_processed");
                o.put("time", Instant.now().toString());
                o.put("datacontenttype", "application/json");
                o.put("idempotencykey", "data_processed:" + ev.get("idempotencykey").asText());
                o.put("subject", ev.get("subject").asText());
                o.put("correlationid", ev.get("id").asText());
                o.put("causationid", ev.get("id").asText());
                o.put("schemaversion", 1);
                o.set("data", json.readTree(r.body()));
                return new ProducerRecord<>(out, rec.partition(), rec.key(), json.writeValueAsString(o));
            } catch (java.io.IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            pc.close();
            done.countDown();
        }));
        done.await();
    }
}
