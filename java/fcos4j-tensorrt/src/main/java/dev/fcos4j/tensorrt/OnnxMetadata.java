package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ModelContractException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads an ONNX file's {@code metadata_props} (ModelProto field 14, entries of key = 1, value = 2) straight from the
 * protobuf wire format, without ONNX Runtime: the GPU path needs the fcos4j metadata but must not build a CPU
 * session of a large model just to read it. Only the top level of the file is walked; the graph is skipped.
 */
public final class OnnxMetadata {
    private static final int METADATA_PROPS = 14;

    private OnnxMetadata() {
    }

    /**
     * The metadata_props of an ONNX file, in file order (a repeated key keeps its last value, as protobuf maps do).
     *
     * @throws ConfigurationException  the file cannot be read
     * @throws ModelContractException  the file is not a well-formed protobuf message (names the file and offset)
     */
    public static Map<String, String> read(Path onnx) {
        try (FileChannel ch = FileChannel.open(onnx, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                throw new ModelContractException("model file " + onnx + " is empty, not an ONNX model");
            }
            if (size > Integer.MAX_VALUE) {
                throw new ModelContractException("model file " + onnx + " is larger than 2 GiB; ONNX keeps such "
                        + "weights as external data, the .onnx itself stays small");
            }
            MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            return parse(buf, onnx.toString());
        } catch (IOException e) {
            throw new ConfigurationException("model file " + onnx + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** {@link #read} on bytes already in memory; {@code source} names them in messages. */
    public static Map<String, String> parse(ByteBuffer buf, String source) {
        Map<String, String> props = new LinkedHashMap<>();
        ByteBuffer b = buf.duplicate();
        b.position(0);
        while (b.hasRemaining()) {
            int at = b.position();
            long tag = varint(b, source);
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 0) {
                throw malformed(source, at, "field number 0");
            }
            if (field == METADATA_PROPS && wire == 2) {
                int len = length(b, source);
                ByteBuffer entry = b.slice(b.position(), len);
                b.position(b.position() + len);
                entry(entry, source, props);
            } else {
                skip(b, wire, source, at);
            }
        }
        return props;
    }

    private static void entry(ByteBuffer e, String source, Map<String, String> props) {
        String key = "";
        String value = "";
        while (e.hasRemaining()) {
            int at = e.position();
            long tag = varint(e, source);
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if ((field == 1 || field == 2) && wire == 2) {
                int len = length(e, source);
                byte[] s = new byte[len];
                e.get(s);
                if (field == 1) {
                    key = new String(s, StandardCharsets.UTF_8);
                } else {
                    value = new String(s, StandardCharsets.UTF_8);
                }
            } else {
                skip(e, wire, source, at);
            }
        }
        props.put(key, value);
    }

    private static void skip(ByteBuffer b, int wire, String source, int at) {
        switch (wire) {
            case 0 -> varint(b, source);
            case 1 -> advance(b, 8, source, at);
            case 2 -> advance(b, length(b, source), source, at);
            case 5 -> advance(b, 4, source, at);
            default -> throw malformed(source, at, "wire type " + wire);
        }
    }

    private static void advance(ByteBuffer b, int n, String source, int at) {
        if (n > b.remaining()) {
            throw malformed(source, at, "a field runs past the end of the file");
        }
        b.position(b.position() + n);
    }

    private static int length(ByteBuffer b, String source) {
        int at = b.position();
        long len = varint(b, source);
        if (len < 0 || len > b.remaining()) {
            throw malformed(source, at, "a length of " + len + " runs past the end of the file");
        }
        return (int) len;
    }

    private static long varint(ByteBuffer b, String source) {
        int at = b.position();
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!b.hasRemaining()) {
                throw malformed(source, at, "truncated varint");
            }
            byte x = b.get();
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
        throw malformed(source, at, "varint longer than 10 bytes");
    }

    private static ModelContractException malformed(String source, int offset, String what) {
        return new ModelContractException("model file " + source + " is not an ONNX model (protobuf: " + what
                + " at byte " + offset + ")");
    }
}
