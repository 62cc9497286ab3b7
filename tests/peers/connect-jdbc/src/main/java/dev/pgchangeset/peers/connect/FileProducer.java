package dev.pgchangeset.peers.connect;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces the records of a capture.sh output file ({"topic":..,"key":..,"value":..} lines) to
 * Kafka in file order: key and value as JSON text (numbers kept exact), a null value as a
 * tombstone. Idempotent, acks=all; exits 0 once every record is acknowledged, 1 on an error.
 *
 * <p>Usage: FileProducer BOOTSTRAP FILE
 */
public final class FileProducer {
    private FileProducer() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: produce.sh --brokers BOOTSTRAP --in FILE");
            System.exit(2);
        }
        ObjectMapper json = JsonMapper.builder()
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
                .build();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        long n = 0;
        int line = 0;
        try (BufferedReader in = Files.newBufferedReader(Path.of(args[1]), StandardCharsets.UTF_8);
                KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            String s;
            while ((s = in.readLine()) != null) {
                line++;
                if (s.isBlank()) {
                    continue;
                }
                JsonNode r = json.readTree(s);
                if (!r.path("topic").isTextual()) {
                    throw new IllegalArgumentException(args[1] + ":" + line + ": no \"topic\"");
                }
                String key = r.path("key").isNull() || r.path("key").isMissingNode() ? null : json.writeValueAsString(r.get("key"));
                String value = r.path("value").isNull() || r.path("value").isMissingNode() ? null : json.writeValueAsString(r.get("value"));
                producer.send(new ProducerRecord<>(r.get("topic").asText(), key, value)).get();
                n++;
            }
            producer.flush();
        } catch (Exception e) {
            System.err.println("produce: error: " + e);
            System.exit(1);
        }
        System.err.println("produce: " + n + " records");
    }
}
