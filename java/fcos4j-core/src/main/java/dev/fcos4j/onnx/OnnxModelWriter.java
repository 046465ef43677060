package dev.fcos4j.onnx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A minimal ONNX model writer: encodes {@code ModelProto} (graph, nodes, float / int64 initializers, typed
 * inputs and outputs with static or symbolic dimensions, {@code metadata_props}) straight into the protobuf
 * wire format, with no protobuf library. Enough to generate test and demo models in pure Java.
 *
 * <p>Output is deterministic: the same calls in the same order give the same bytes.
 */
public final class OnnxModelWriter {
    /** ONNX {@code TensorProto.DataType} FLOAT. */
    public static final int FLOAT = 1;
    /** ONNX {@code TensorProto.DataType} INT32. */
    public static final int INT32 = 6;
    /** ONNX {@code TensorProto.DataType} INT64. */
    public static final int INT64 = 7;
    /** ONNX {@code TensorProto.DataType} DOUBLE (used by tests to build a wrongly typed model). */
    public static final int DOUBLE = 11;

    // ONNX IR version 8 goes with opset 17 and is read by every ONNX Runtime since 1.13.
    private static final long IR_VERSION = 8;

    private final long opset;
    private final String producer;
    private final String graphName;
    private final List<byte[]> nodes = new ArrayList<>();
    private final List<byte[]> initializers = new ArrayList<>();
    private final List<byte[]> inputs = new ArrayList<>();
    private final List<byte[]> outputs = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Long> customDomains = new LinkedHashMap<>();
    private int autoName;

    /**
     * @param opset     default-domain opset version the graph uses (17 for the fcos4j models)
     * @param producer  producer_name written in the model
     * @param graphName name of the graph
     */
    public OnnxModelWriter(long opset, String producer, String graphName) {
        this.opset = opset;
        this.producer = Objects.requireNonNull(producer);
        this.graphName = Objects.requireNonNull(graphName);
    }

    /** One node attribute; build with the static factories. */
    public static final class Attribute {
        private final byte[] encoded;

        private Attribute(byte[] encoded) {
            this.encoded = encoded;
        }

        /** An INT attribute. */
        public static Attribute ofInt(String name, long value) {
            Proto p = new Proto();
            p.string(1, name);
            p.varintField(3, value);
            p.varintField(20, 2);
            return new Attribute(p.bytes());
        }

        /** A FLOAT attribute. */
        public static Attribute ofFloat(String name, float value) {
            Proto p = new Proto();
            p.string(1, name);
            p.fixed32Field(2, Float.floatToRawIntBits(value));
            p.varintField(20, 1);
            return new Attribute(p.bytes());
        }

        /** A STRING attribute. */
        public static Attribute ofString(String name, String value) {
            Proto p = new Proto();
            p.string(1, name);
            p.bytesField(4, value.getBytes(StandardCharsets.UTF_8));
            p.varintField(20, 3);
            return new Attribute(p.bytes());
        }

        /** An INTS attribute. */
        public static Attribute ofInts(String name, long... values) {
            Proto p = new Proto();
            p.string(1, name);
            for (long v : values) {
                p.varintField(8, v);
            }
            p.varintField(20, 7);
            return new Attribute(p.bytes());
        }
    }

    /**
     * Declares a graph input.
     *
     * @param dims each a {@link Number} (fixed size) or a {@link String} (symbolic, dynamic dimension)
     */
    public OnnxModelWriter input(String name, int elemType, Object... dims) {
        inputs.add(valueInfo(name, elemType, dims));
        return this;
    }

    /** Declares a graph output; dims as for {@link #input}. */
    public OnnxModelWriter output(String name, int elemType, Object... dims) {
        outputs.add(valueInfo(name, elemType, dims));
        return this;
    }

    /** Adds a float32 initializer (weights), stored as little-endian raw_data. */
    public OnnxModelWriter initializer(String name, long[] dims, float[] values) {
        checkCount(name, dims, values.length);
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        initializers.add(tensor(name, dims, FLOAT, raw.array()));
        return this;
    }

    /** Adds an int64 initializer (shapes, axes). */
    public OnnxModelWriter initializer(String name, long[] dims, long[] values) {
        checkCount(name, dims, values.length);
        ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            raw.putLong(v);
        }
        initializers.add(tensor(name, dims, INT64, raw.array()));
        return this;
    }

    /**
     * Adds a node of the default domain; an empty input name means "optional input left out".
     *
     * @return the node's first output name
     */
    public String node(String opType, List<String> nodeInputs, List<String> nodeOutputs, Attribute... attributes) {
        return node("", opType, nodeInputs, nodeOutputs, attributes);
    }

    /**
     * Adds a node of {@code domain} ("" = the default ONNX domain); a custom domain is imported at version 1
     * unless {@link #importDomain} said otherwise.
     *
     * @return the node's first output name
     */
    public String node(String domain, String opType, List<String> nodeInputs, List<String> nodeOutputs,
                       Attribute... attributes) {
        Objects.requireNonNull(domain, "domain");
        if (!domain.isEmpty()) {
            customDomains.putIfAbsent(domain, 1L);
        }
        Proto p = new Proto();
        for (String in : nodeInputs) {
            p.string(1, in);
        }
        for (String out : nodeOutputs) {
            p.string(2, out);
        }
        p.string(3, opType + "_" + (autoName++));
        p.string(4, opType);
        for (Attribute a : attributes) {
            p.bytesField(5, a.encoded);
        }
        if (!domain.isEmpty()) {
            p.string(7, domain);
        }
        nodes.add(p.bytes());
        return nodeOutputs.get(0);
    }

    /** Adds a single-output node whose output gets a fresh name; returns that name. */
    public String node(String opType, List<String> nodeInputs, Attribute... attributes) {
        return node(opType, nodeInputs, List.of(opType.toLowerCase(java.util.Locale.ROOT) + "_out_" + autoName),
                attributes);
    }

    /** Imports a custom operator domain at {@code version} (opset_import). */
    public OnnxModelWriter importDomain(String domain, long version) {
        if (domain == null || domain.isEmpty()) {
            throw new IllegalArgumentException("a custom domain needs a name; the default domain's opset is the constructor's");
        }
        customDomains.put(domain, version);
        return this;
    }

    /** Sets one metadata_props entry (insertion order is kept). */
    public OnnxModelWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** The encoded {@code ModelProto}. */
    public byte[] toBytes() {
        Proto graph = new Proto();
        for (byte[] n : nodes) {
            graph.bytesField(1, n);
        }
        graph.string(2, graphName);
        for (byte[] t : initializers) {
            graph.bytesField(5, t);
        }
        for (byte[] v : inputs) {
            graph.bytesField(11, v);
        }
        for (byte[] v : outputs) {
            graph.bytesField(12, v);
        }

        Proto model = new Proto();
        model.varintField(1, IR_VERSION);
        model.string(2, producer);
        model.string(3, "1");
        Proto opsetId = new Proto();
        opsetId.string(1, "");
        opsetId.varintField(2, opset);
        model.bytesField(8, opsetId.bytes());
        for (Map.Entry<String, Long> d : customDomains.entrySet()) {
            Proto custom = new Proto();
            custom.string(1, d.getKey());
            custom.varintField(2, d.getValue());
            model.bytesField(8, custom.bytes());
        }
        model.bytesField(7, graph.bytes());
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            Proto entry = new Proto();
            entry.string(1, e.getKey());
            entry.string(2, e.getValue());
            model.bytesField(14, entry.bytes());
        }
        return model.bytes();
    }

    /** Writes the model to a file, creating parent directories. */
    public void write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(file, toBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write ONNX model " + file + ": " + e.getMessage(), e);
        }
    }

    private static void checkCount(String name, long[] dims, int count) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        if (n != count) {
            throw new IllegalArgumentException("initializer " + name + ": " + count + " values for " + n + " elements");
        }
    }

    private static byte[] tensor(String name, long[] dims, int dataType, byte[] raw) {
        Proto t = new Proto();
        for (long d : dims) {
            t.varintField(1, d);
        }
        t.varintField(2, dataType);
        t.string(8, name);
        t.bytesField(9, raw);
        return t.bytes();
    }

    private static byte[] valueInfo(String name, int elemType, Object... dims) {
        Proto shape = new Proto();
        for (Object d : dims) {
            Proto dim = new Proto();
            if (d instanceof Number n) {
                dim.varintField(1, n.longValue());
            } else if (d instanceof String s) {
                dim.string(2, s);
            } else {
                throw new IllegalArgumentException("dimension of " + name + " must be a Number or a String: " + d);
            }
            shape.bytesField(1, dim.bytes());
        }
        Proto tensorType = new Proto();
        tensorType.varintField(1, elemType);
        tensorType.bytesField(2, shape.bytes());
        Proto type = new Proto();
        type.bytesField(1, tensorType.bytes());
        Proto vi = new Proto();
        vi.string(1, name);
        vi.bytesField(2, type.bytes());
        return vi.bytes();
    }

    /** Protobuf wire-format encoder for the three wire types ONNX needs: varint, 32-bit, length-delimited. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void varintField(int field, long value) {
            varint(((long) field << 3));
            varint(value);
        }

        void fixed32Field(int field, int bits) {
            varint(((long) field << 3) | 5);
            out.write(bits);
            out.write(bits >>> 8);
            out.write(bits >>> 16);
            out.write(bits >>> 24);
        }

        void bytesField(int field, byte[] value) {
            varint(((long) field << 3) | 2);
            varint(value.length);
            out.writeBytes(value);
        }

        void string(int field, String value) {
            bytesField(field, value.getBytes(StandardCharsets.UTF_8));
        }

        // Negative int64 values take 10 bytes (two's complement), as protobuf requires.
        private void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
