package dev.pgchangeset.kafka;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads every topic matching a regex with a Java consumer in a consumer group and prints one JSON
 * object per record on stdout:
 *
 * <pre>{"topic":"t","partition":0,"offset":0,"key":"k" or null,"value":"v" or null}</pre>
 *
 * Keys and values are decoded as UTF-8 (invalid bytes become U+FFFD). Stops when no record came
 * for IDLE_SECONDS (counted from the first partition assignment), commits the offsets it read and
 * exits 0. Exit 2: usage error; 3: no partition assignment within max(60 s, IDLE_SECONDS); 1:
 * other errors.
 *
 * <p>Usage: TopicDump BOOTSTRAP TOPIC_REGEX GROUP IDLE_SECONDS [ISOLATION] [consumer.prop=value...]
 * ISOLATION is read_committed (default) or read_uncommitted. The regex is a java.util.regex
 * pattern that must match the whole topic name.
 */
public final class TopicDump {
  private static final String USAGE =
      "usage: TopicDump BOOTSTRAP TOPIC_REGEX GROUP IDLE_SECONDS [read_committed|read_uncommitted]"
          + " [consumer.property=value ...]";

  private TopicDump() {}

  public static void main(String[] args) {
    try {
      System.exit(run(args));
    } catch (Exception e) {
      System.err.println("TopicDump: error: " + e);
      System.exit(1);
    }
  }

  private static int usage(String why) {
    System.err.println("TopicDump: " + why);
    System.err.println(USAGE);
    return 2;
  }

  static int run(String[] args) throws IOException {
    if (args.length < 4) {
      return usage("missing arguments");
    }
    String bootstrap = args[0];
    Pattern topics;
    try {
      topics = Pattern.compile(args[1]);
    } catch (PatternSyntaxException e) {
      return usage("bad TOPIC_REGEX: " + e.getMessage());
    }
    String group = args[2];
    double idleSeconds;
    try {
      idleSeconds = Double.parseDouble(args[3]);
    } catch (NumberFormatException e) {
      return usage("bad IDLE_SECONDS '" + args[3] + "'");
    }
    if (!(idleSeconds > 0)) {
      return usage("IDLE_SECONDS must be > 0");
    }
    String isolation = "read_committed";
    int extra = 4;
    if (args.length > 4 && !args[4].contains("=")) {
      isolation = args[4].toLowerCase(Locale.ROOT);
      extra = 5;
      if (!isolation.equals("read_committed") && !isolation.equals("read_uncommitted")) {
        return usage("bad ISOLATION '" + args[4] + "'");
      }
    }

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "pgcs-topicdump");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    props.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "1000");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    for (int i = extra; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq <= 0) {
        return usage("bad consumer property '" + args[i] + "' (want name=value)");
      }
      props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }

    long idleNanos = (long) (idleSeconds * 1e9);
    long assignWaitNanos = Math.max(60_000_000_000L, idleNanos);
    long start = System.nanoTime();
    long[] lastActivity = {0}; // 0 = no assignment yet
    long count = 0;

    Writer out =
        new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
    JsonFactory json = new JsonFactory();

    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(
          topics,
          new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
              lastActivity[0] = System.nanoTime();
            }
          });
      while (true) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        long now = System.nanoTime();
        if (!records.isEmpty()) {
          lastActivity[0] = now;
          for (ConsumerRecord<byte[], byte[]> r : records) {
            try (JsonGenerator g = json.createGenerator(out)) {
              g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
              g.writeStartObject();
              g.writeStringField("topic", r.topic());
              g.writeNumberField("partition", r.partition());
              g.writeNumberField("offset", r.offset());
              writeBytes(g, "key", r.key());
              writeBytes(g, "value", r.value());
              g.writeEndObject();
            }
            out.write('\n');
            count++;
          }
          out.flush();
        } else if (lastActivity[0] == 0) {
          if (now - start > assignWaitNanos) {
            out.flush();
            System.err.printf(
                "TopicDump: no partition assignment for group %s within %.0f s%n",
                group, assignWaitNanos / 1e9);
            return 3;
          }
        } else if (now - lastActivity[0] >= idleNanos) {
          break;
        }
      }
      out.flush();
      consumer.commitSync(Duration.ofSeconds(30));
    }
    System.err.printf("TopicDump: %d records%n", count);
    return 0;
  }

  private static void writeBytes(JsonGenerator g, String field, byte[] b) throws IOException {
    if (b == null) {
      g.writeNullField(field);
    } else {
      g.writeStringField(field, new String(b, StandardCharsets.UTF_8));
    }
  }
}
