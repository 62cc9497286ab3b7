package dev.pgchangeset.peers.debezium;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Runs Debezium's PostgreSQL connector in the embedded engine with its default settings, except
 * the connection, the slot, the publication, the tables, the topic prefix, the snapshot mode and a
 * file offset store in a temporary folder, and writes each record as one JSON line
 * {"topic":..,"key":..,"value":..} (key and value as Kafka Connect's JsonConverter serialised
 * them; null for a tombstone's value), flushed per record, in delivery order.
 *
 * <p>Exit status: 0 after --max-records records or when --timeout-s seconds passed (with what
 * it got); 1 when the engine failed (e.g. cannot connect, slot or publication missing) or an
 * output error; 2 on a usage error. When the streaming phase starts it prints {"ready":true} on
 * stderr and, with --ready-file, writes that file.
 */
public final class Capture {
    private static final String USAGE = "usage: capture.sh --conninfo CONNINFO --slot SLOT --publication PUB"
            + " --tables public.t1,public.t2 --schemas true|false --snapshot initial|never --out FILE"
            + " --topic-prefix PREFIX --max-records N --timeout-s S [--ready-file FILE] [--set KEY=VALUE]...";

    private Capture() {
    }

    private static final class UsageError extends Exception {
        UsageError(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (UsageError e) {
            System.err.println("capture: error: " + e.getMessage());
            System.err.println(USAGE);
            status = 2;
        } catch (Exception e) {
            System.err.println("capture: error: " + e);
            status = 1;
        }
        System.exit(status);
    }

    /** Parses a libpq key=value connection string (values may be single-quoted, \ escapes). */
    static Map<String, String> parseConninfo(String s) throws UsageError {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        int n = s.length();
        while (true) {
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= n) {
                return out;
            }
            int eq = s.indexOf('=', i);
            if (eq < 0) {
                throw new UsageError("--conninfo: missing '=' after '" + s.substring(i) + "'");
            }
            String key = s.substring(i, eq).trim();
            i = eq + 1;
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            StringBuilder v = new StringBuilder();
            if (i < n && s.charAt(i) == '\'') {
                i++;
                while (i < n && s.charAt(i) != '\'') {
                    if (s.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    v.append(s.charAt(i++));
                }
                if (i >= n) {
                    throw new UsageError("--conninfo: unterminated quoted value of '" + key + "'");
                }
                i++;
            } else {
                while (i < n && !Character.isWhitespace(s.charAt(i))) {
                    if (s.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    v.append(s.charAt(i++));
                }
            }
            out.put(key, v.toString());
        }
    }

    private static String need(Map<String, String> opts, String name) throws UsageError {
        String v = opts.get(name);
        if (v == null) {
            throw new UsageError("missing --" + name);
        }
        return v;
    }

    private static boolean parseBool(String name, String v) throws UsageError {
        if (v.equals("true") || v.equals("false")) {
            return v.equals("true");
        }
        throw new UsageError("--" + name + " must be true or false, not '" + v + "'");
    }

    private static long parseLong(String name, String v) throws UsageError {
        try {
            long x = Long.parseLong(v);
            if (x >= 0) {
                return x;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageError("--" + name + " must be a whole number >= 0, not '" + v + "'");
    }

    static int run(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        Properties extra = new Properties();
        Set<String> known = Set.of("conninfo", "slot", "publication", "tables", "schemas", "snapshot", "out",
                "topic-prefix", "max-records", "timeout-s", "ready-file", "set");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println(USAGE);
                return 0;
            }
            if (!a.startsWith("--") || !known.contains(a.substring(2))) {
                throw new UsageError("unknown argument '" + a + "'");
            }
            if (i + 1 >= args.length) {
                throw new UsageError(a + " needs a value");
            }
            String v = args[++i];
            if (a.equals("--set")) {
                int eq = v.indexOf('=');
                if (eq <= 0) {
                    throw new UsageError("--set needs KEY=VALUE, not '" + v + "'");
                }
                extra.setProperty(v.substring(0, eq), v.substring(eq + 1));
            } else {
                opts.put(a.substring(2), v);
            }
        }
        Map<String, String> conn = parseConninfo(need(opts, "conninfo"));
        String slot = need(opts, "slot");
        String publication = need(opts, "publication");
        String tables = need(opts, "tables");
        boolean schemas = parseBool("schemas", need(opts, "schemas"));
        String snapshot = need(opts, "snapshot");
        if (!snapshot.equals("initial") && !snapshot.equals("never")) {
            throw new UsageError("--snapshot must be initial or never, not '" + snapshot + "'");
        }
        Path out = Path.of(need(opts, "out"));
        String prefix = need(opts, "topic-prefix");
        long maxRecords = parseLong("max-records", need(opts, "max-records"));
        long timeoutS = parseLong("timeout-s", need(opts, "timeout-s"));
        Path readyFile = opts.containsKey("ready-file") ? Path.of(opts.get("ready-file")) : null;

        Path work = Files.createTempDirectory("pgcs-dbz-");
        Properties p = new Properties();
        p.setProperty("name", "pgcs-oracle");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        p.setProperty("offset.storage.file.filename", work.resolve("offsets.dat").toString());
        p.setProperty("database.hostname", conn.getOrDefault("host", conn.getOrDefault("hostaddr", "localhost")));
        p.setProperty("database.port", conn.getOrDefault("port", "5432"));
        p.setProperty("database.user", conn.getOrDefault("user", System.getProperty("user.name")));
        p.setProperty("database.password", conn.getOrDefault("password", ""));
        p.setProperty("database.dbname", conn.getOrDefault("dbname", conn.getOrDefault("user", "postgres")));
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slot);
        p.setProperty("publication.name", publication);
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("table.include.list", tables);
        p.setProperty("topic.prefix", prefix);
        // Debezium 3.x calls the old "never" mode "no_data": stream from the slot, no snapshot.
        p.setProperty("snapshot.mode", snapshot.equals("never") ? "no_data" : "initial");
        p.setProperty("converter.schemas.enable", Boolean.toString(schemas));
        p.setProperty("key.converter.schemas.enable", Boolean.toString(schemas));
        p.setProperty("value.converter.schemas.enable", Boolean.toString(schemas));
        p.putAll(extra);

        Output output = new Output(out, maxRecords);
        CountDownLatch done = output.done;
        AtomicReference<String> failure = output.failure;
        long t0 = System.nanoTime();

        DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
                .using(p)
                .notifying(output::accept)
                .using((success, message, error) -> {
                    if (!success && done.getCount() > 0) {
                        String m = message;
                        for (Throwable t = error; t != null; t = t.getCause()) {
                            if (t.getMessage() != null && !m.contains(t.getMessage())) {
                                m += ": " + t.getMessage();
                            }
                        }
                        failure.compareAndSet(null, "Debezium stopped: " + m);
                    }
                    done.countDown();
                })
                .build();

        Thread engineThread = new Thread(engine, "debezium-engine");
        engineThread.setDaemon(true);
        engineThread.start();
        Thread readyWatch = new Thread(() -> watchReady(prefix, readyFile, t0, done), "ready-watch");
        readyWatch.setDaemon(true);
        readyWatch.start();

        boolean reached = done.await(timeoutS, TimeUnit.SECONDS);
        Thread closer = new Thread(() -> {
            try {
                engine.close();
            } catch (IOException | IllegalStateException e) {
                // already stopped (it failed), or cannot stop: exiting anyway
            }
        }, "engine-close");
        closer.setDaemon(true);
        closer.start();
        closer.join(15000);
        long count = output.close();
        deleteTree(work);
        if (failure.get() != null) {
            System.err.println("capture: error: " + failure.get() + " (" + count + " records written to " + out + ")");
            return 1;
        }
        System.err.printf("capture: %d records in %.1f s%s%n", count, (System.nanoTime() - t0) / 1e9,
                reached ? "" : " (timeout of " + timeoutS + " s reached)");
        return 0;
    }

    /** The output file: one flushed JSON line a record, until closed or --max-records reached. */
    private static final class Output {
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicReference<String> failure = new AtomicReference<>();
        private final ObjectMapper json = new ObjectMapper();
        private final Path path;
        private final long maxRecords;
        private final BufferedWriter w;
        private long count;
        private boolean closed;

        Output(Path path, long maxRecords) throws IOException {
            this.path = path;
            this.maxRecords = maxRecords;
            this.w = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(path), StandardCharsets.UTF_8));
        }

        synchronized void accept(ChangeEvent<String, String> record) {
            if (closed || (maxRecords > 0 && count >= maxRecords)) {
                return;
            }
            try {
                w.write("{\"topic\":");
                w.write(json.writeValueAsString(record.destination()));
                w.write(",\"key\":");
                w.write(record.key() == null ? "null" : record.key());
                w.write(",\"value\":");
                w.write(record.value() == null ? "null" : record.value());
                w.write("}\n");
                w.flush();
            } catch (IOException e) {
                failure.compareAndSet(null, "cannot write " + path + ": " + e);
                done.countDown();
                throw new UncheckedIOException(e);
            }
            if (++count == maxRecords) {
                done.countDown();
            }
        }

        synchronized long close() throws IOException {
            if (!closed) {
                closed = true;
                w.close();
            }
            return count;
        }
    }

    /** Announces the streaming phase: the engine's streaming metrics report Connected. */
    private static void watchReady(String prefix, Path readyFile, long t0, CountDownLatch done) {
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        try {
            ObjectName pattern = new ObjectName("debezium.postgres:type=connector-metrics,context=streaming,*");
            while (done.getCount() > 0) {
                for (ObjectName n : mbs.queryNames(pattern, null)) {
                    if (prefix.equals(n.getKeyProperty("server")) && Boolean.TRUE.equals(mbs.getAttribute(n, "Connected"))) {
                        System.err.println("{\"ready\":true}");
                        System.err.printf("capture: streaming after %.1f s%n", (System.nanoTime() - t0) / 1e9);
                        if (readyFile != null) {
                            Path tmp = readyFile.resolveSibling(readyFile.getFileName() + ".tmp");
                            Files.writeString(tmp, "{\"ready\":true}\n");
                            Files.move(tmp, readyFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                        }
                        return;
                    }
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            System.err.println("capture: warning: cannot tell when streaming starts: " + e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind is harmless
        }
    }
}
