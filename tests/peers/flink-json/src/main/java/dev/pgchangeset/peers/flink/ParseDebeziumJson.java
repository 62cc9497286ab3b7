package dev.pgchangeset.peers.flink;

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.debezium.DebeziumJsonDeserializationSchema;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;
import org.apache.flink.table.types.utils.TypeConversions;
import org.apache.flink.util.Collector;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;

/**
 * Parses a file of Debezium JSON records with Flink's own `debezium-json` format
 * (DebeziumJsonDeserializationSchema, ignore-parse-errors off) into RowData and prints one line
 * per row: the RowKind (INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE), then the fields, tab
 * separated (NULL for null, bytes as \x + hex). Each input line is a capture.sh record
 * ({"topic":..,"key":..,"value":..}: its "value" is parsed; a null value is a tombstone, which
 * Flink skips) or a bare value. Exits 1 when any record cannot be parsed (each reported on
 * stderr with its line number), 2 on a usage error.
 *
 * <p>Usage: ParseDebeziumJson --schema-include true|false --columns "id INT, v STRING" --in FILE
 */
public final class ParseDebeziumJson {
    private static final String USAGE =
            "usage: parse.sh --schema-include true|false --columns \"id INT, v STRING, ...\" --in FILE";

    private ParseDebeziumJson() {
    }

    private static void usage(String message) {
        System.err.println("parse: error: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new TreeMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!List.of("--schema-include", "--columns", "--in").contains(args[i]) || i + 1 >= args.length) {
                usage("bad argument '" + args[i] + "'");
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        for (String k : List.of("schema-include", "columns", "in")) {
            if (!opts.containsKey(k)) {
                usage("missing --" + k);
            }
        }
        String si = opts.get("schema-include");
        if (!si.equals("true") && !si.equals("false")) {
            usage("--schema-include must be true or false, not '" + si + "'");
        }
        RowType rowType = null;
        try {
            LogicalType t = LogicalTypeParser.parse("ROW<" + opts.get("columns") + ">",
                    ParseDebeziumJson.class.getClassLoader());
            rowType = (RowType) t;
        } catch (RuntimeException e) {
            usage("--columns: " + e.getMessage());
        }
        DataType physical = TypeConversions.fromLogicalToDataType(rowType);
        DebeziumJsonDeserializationSchema schema = new DebeziumJsonDeserializationSchema(physical,
                Collections.emptyList(), TypeInformation.of(RowData.class), si.equals("true"), false,
                TimestampFormat.ISO_8601);
        UserCodeClassLoader loader = SimpleUserCodeClassLoader.create(ParseDebeziumJson.class.getClassLoader());
        schema.open(new DeserializationSchema.InitializationContext() {
            @Override
            public MetricGroup getMetricGroup() {
                return new UnregisteredMetricsGroup();
            }

            @Override
            public UserCodeClassLoader getUserCodeClassLoader() {
                return loader;
            }
        });

        List<RowData.FieldGetter> getters = new ArrayList<>();
        for (int i = 0; i < rowType.getFieldCount(); i++) {
            getters.add(RowData.createFieldGetter(rowType.getTypeAt(i), i));
        }
        Consumer<RowData> print = row -> {
            StringBuilder b = new StringBuilder(row.getRowKind().name());
            for (RowData.FieldGetter g : getters) {
                Object v = g.getFieldOrNull(row);
                b.append('\t').append(v == null ? "NULL"
                        : v instanceof byte[] ? "\\x" + HexFormat.of().formatHex((byte[]) v) : v.toString());
            }
            System.out.println(b);
        };
        Map<String, Integer> kinds = new TreeMap<>();
        Collector<RowData> out = new Collector<>() {
            @Override
            public void collect(RowData row) {
                kinds.merge(row.getRowKind().name(), 1, Integer::sum);
                print.accept(row);
            }

            @Override
            public void close() {
            }
        };

        ObjectMapper json = new ObjectMapper();
        int line = 0;
        int errors = 0;
        int tombstones = 0;
        try (BufferedReader in = Files.newBufferedReader(Path.of(opts.get("in")), StandardCharsets.UTF_8)) {
            String s;
            while ((s = in.readLine()) != null) {
                line++;
                if (s.isBlank()) {
                    continue;
                }
                try {
                    byte[] value = s.getBytes(StandardCharsets.UTF_8);
                    JsonNode node = json.readTree(s);
                    if (node.has("topic") && node.has("value")) {
                        value = node.get("value").isNull() ? null
                                : json.writeValueAsBytes(node.get("value"));
                    }
                    if (value == null) {
                        tombstones++;
                    }
                    schema.deserialize(value, out);
                } catch (Exception e) {
                    errors++;
                    StringBuilder m = new StringBuilder();
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        String tm = String.valueOf(t.getMessage());
                        m.append(m.length() == 0 ? "" : ": ").append(t.getClass().getSimpleName()).append(' ')
                                .append(tm.length() > 200 ? tm.substring(0, 200) + "..." : tm);
                    }
                    System.err.println("parse: error: line " + line + ": " + m);
                }
            }
        }
        System.err.println("parse: " + line + " lines, rows " + kinds + ", " + tombstones + " tombstones skipped, "
                + errors + " unparsable");
        System.exit(errors == 0 ? 0 : 1);
    }
}
