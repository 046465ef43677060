package dev.fcos4j.io;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads numpy {@code .npy} files and {@code .npz} archives (as {@code numpy.save}, {@code numpy.savez} and
 * {@code numpy.savez_compressed} write them: stored or deflated entries, ZIP64 included) and writes float32
 * ones. Supported: format versions 1.0, 2.0 and 3.0; little-endian float16 / float32 / float64 ({@code <f2},
 * {@code <f4}, {@code <f8}); C order. Values are returned as float32 (float64 rounded to nearest).
 * Every error is a {@link DataFileException} naming the file and the array.
 */
public final class Npz {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npz() {
    }

    /**
     * Reads every {@code .npy} entry of an {@code .npz} archive, in archive order, keyed by name without
     * {@code .npy}. Entries with other suffixes are skipped.
     */
    public static Map<String, NpyArray> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataFileException("npz file " + file + (Files.exists(file) ? " is not a regular file" : " does not exist"));
        }
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                String entryName = entry.getName();
                if (entry.isDirectory() || !entryName.endsWith(".npy")) {
                    continue;
                }
                String name = entryName.substring(0, entryName.length() - 4);
                String where = "array '" + name + "' in npz file " + file;
                try (InputStream in = new BufferedInputStream(zip.getInputStream(entry))) {
                    arrays.put(name, readNpy(in, name, where));
                } catch (ZipException e) {
                    throw new DataFileException(where + " is corrupt: " + e.getMessage(), e);
                }
            }
        } catch (ZipException e) {
            throw new DataFileException("npz file " + file + " is not a valid zip archive: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new DataFileException("cannot read npz file " + file + ": " + e, e);
        }
        return arrays;
    }

    /** Reads one {@code .npy} file; the array is named after the file (without {@code .npy}). */
    public static NpyArray readNpy(Path file) {
        String fileName = file.getFileName().toString();
        String name = fileName.endsWith(".npy") ? fileName.substring(0, fileName.length() - 4) : fileName;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return readNpy(in, name, "npy file " + file);
        } catch (NoSuchFileException e) {
            throw new DataFileException("npy file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new DataFileException("cannot read npy file " + file + ": " + e, e);
        }
    }

    /**
     * Parses one array in .npy format from a stream.
     *
     * @param name  the array's name
     * @param where how errors name it, e.g. {@code "array 'cls_0' in npz file heads.npz"}
     */
    public static NpyArray readNpy(InputStream stream, String name, String where) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        byte[] magic = new byte[6];
        try {
            in.readFully(magic);
        } catch (EOFException e) {
            throw new DataFileException(where + " is not in .npy format: shorter than the magic string", e);
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (magic[i] != MAGIC[i]) {
                throw new DataFileException(where + " is not in .npy format: bad magic string");
            }
        }
        int major;
        long headerLength;
        try {
            major = in.readUnsignedByte();
            in.readUnsignedByte(); // minor
            if (major == 1) {
                headerLength = in.readUnsignedByte() | (in.readUnsignedByte() << 8);
            } else if (major == 2 || major == 3) {
                headerLength = Integer.toUnsignedLong(Integer.reverseBytes(in.readInt()));
            } else {
                throw new DataFileException(where + " has unsupported .npy format version " + major);
            }
            if (headerLength > 1 << 20) {
                throw new DataFileException(where + " has an implausible header length " + headerLength);
            }
            byte[] header = new byte[(int) headerLength];
            in.readFully(header);
            String text = new String(header, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            String descr = group(DESCR, text, "descr", where);
            boolean fortran = "True".equals(group(FORTRAN, text, "fortran_order", where));
            int[] shape = parseShape(group(SHAPE, text, "shape", where), where);
            if (fortran && shape.length > 1) {
                throw new DataFileException(where + " is stored in Fortran order; only C order is supported "
                        + "(save a C-contiguous copy, e.g. numpy.ascontiguousarray)");
            }
            int itemSize = switch (descr) {
                case "<f2" -> 2;
                case "<f4" -> 4;
                case "<f8" -> 8;
                default -> throw new DataFileException(where + " has dtype '" + descr
                        + "': supported are little-endian float16/float32/float64 ('<f2', '<f4', '<f8')");
            };
            long count = 1;
            for (int d : shape) {
                count *= d;
                if (count > Integer.MAX_VALUE - 8) {
                    throw new DataFileException(where + " is too large: " + java.util.Arrays.toString(shape));
                }
            }
            float[] data = new float[(int) count];
            byte[] chunk = new byte[Math.max(itemSize, Math.min(1 << 16, (int) Math.min(count * itemSize, 1 << 16)))];
            int done = 0;
            while (done < count) {
                int items = (int) Math.min(count - done, chunk.length / itemSize);
                try {
                    in.readFully(chunk, 0, items * itemSize);
                } catch (EOFException e) {
                    throw new DataFileException(where + " is truncated: shape " + java.util.Arrays.toString(shape)
                            + " needs " + count * itemSize + " data bytes", e);
                }
                ByteBuffer bb = ByteBuffer.wrap(chunk, 0, items * itemSize).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < items; i++) {
                    data[done + i] = switch (itemSize) {
                        case 2 -> halfToFloat(bb.getShort());
                        case 4 -> bb.getFloat();
                        default -> (float) bb.getDouble();
                    };
                }
                done += items;
            }
            return new NpyArray(name, descr, shape, data);
        } catch (EOFException e) {
            throw new DataFileException(where + " is truncated inside its header", e);
        }
    }

    private static String group(Pattern p, String header, String key, String where) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new DataFileException(where + " has a malformed .npy header (no '" + key + "'): " + header.trim());
        }
        return m.group(1);
    }

    private static int[] parseShape(String tuple, String where) {
        List<Integer> dims = new ArrayList<>();
        for (String part : tuple.split(",")) {
            String s = part.trim();
            if (s.endsWith("L")) {
                s = s.substring(0, s.length() - 1); // Python 2 longs
            }
            if (s.isEmpty()) {
                continue;
            }
            try {
                int d = Integer.parseInt(s);
                if (d < 0) {
                    throw new NumberFormatException("negative");
                }
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new DataFileException(where + " has a malformed shape (" + tuple + ")", e);
            }
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    /** IEEE 754 binary16 to binary32, exact (subnormals, infinities and NaN included). */
    static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            // zero or subnormal: mant * 2^-24, exact in float
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** The .npy (version 1.0, {@code <f4}, C order) encoding of one float32 array. */
    public static byte[] toNpyBytes(NpyArray array) {
        if (!"<f4".equals(array.dtype())) {
            throw new IllegalArgumentException("only float32 ('<f4') arrays are written, " + array + " is " + array.dtype());
        }
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + array.shapeString() + ", }";
        int unpadded = MAGIC.length + 4 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        StringBuilder header = new StringBuilder(dict);
        header.append(" ".repeat(padding)).append('\n');
        float[] data = array.data();
        ByteArrayOutputStream out = new ByteArrayOutputStream(unpadded + padding + data.length * 4);
        out.writeBytes(MAGIC);
        out.write(1);
        out.write(0);
        int len = header.length();
        out.write(len & 0xFF);
        out.write(len >>> 8);
        out.writeBytes(header.toString().getBytes(StandardCharsets.ISO_8859_1));
        ByteBuffer bb = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(data);
        out.writeBytes(bb.array());
        return out.toByteArray();
    }

    /**
     * Writes float32 arrays as an {@code .npz} archive that {@code numpy.load} reads.
     *
     * @param compressed deflate the entries ({@code savez_compressed}) or store them ({@code savez})
     */
    public static void write(Path file, Iterable<NpyArray> arrays, boolean compressed) {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (NpyArray a : arrays) {
                byte[] bytes = toNpyBytes(a);
                ZipEntry entry = new ZipEntry(a.name() + ".npy");
                if (compressed) {
                    entry.setMethod(ZipEntry.DEFLATED);
                } else {
                    entry.setMethod(ZipEntry.STORED);
                    CRC32 crc = new CRC32();
                    crc.update(bytes);
                    entry.setSize(bytes.length);
                    entry.setCompressedSize(bytes.length);
                    entry.setCrc(crc.getValue());
                }
                zip.putNextEntry(entry);
                zip.write(bytes);
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new DataFileException("cannot write npz file " + file + ": " + e, e);
        }
    }
}
