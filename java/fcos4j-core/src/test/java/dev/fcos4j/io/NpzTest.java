package dev.fcos4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads fixtures written by numpy 1.24 (make_npy_fixtures.py beside them) and checks the writer against numpy's bytes. */
class NpzTest {
    @TempDir
    Path tmp;

    private static Path fixture(String name) {
        try {
            return Paths.get(NpzTest.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** np.arange(24).reshape(2, 3, 4) * 0.5 - 3, as float32. */
    private static float[] a24() {
        float[] v = new float[24];
        for (int i = 0; i < 24; i++) {
            v[i] = (float) (i * 0.5 - 3.0);
        }
        return v;
    }

    @Test
    void readsStoredNpz() {
        Map<String, NpyArray> arrays = Npz.read(fixture("stored.npz"));
        assertEquals(List.of("cls_0", "scalar", "vector", "empty"), List.copyOf(arrays.keySet()));
        NpyArray cls = arrays.get("cls_0");
        assertArrayEquals(new int[] {2, 3, 4}, cls.shape());
        assertEquals("<f4", cls.dtype());
        assertArrayEquals(a24(), cls.data());
        assertArrayEquals(new int[0], arrays.get("scalar").shape());
        assertArrayEquals(new float[] {7.25f}, arrays.get("scalar").data());
        assertArrayEquals(new float[] {0f, 0.25f, 0.5f, 0.75f, 1f}, arrays.get("vector").data());
        assertArrayEquals(new int[] {0, 3}, arrays.get("empty").shape());
        assertEquals(0, arrays.get("empty").data().length);
    }

    @Test
    void readsDeflatedNpzWithFloat16AndFloat64() {
        Map<String, NpyArray> arrays = Npz.read(fixture("deflated.npz"));
        assertArrayEquals(a24(), arrays.get("cls_0").data());
        NpyArray f64 = arrays.get("f64");
        assertEquals("<f8", f64.dtype());
        assertArrayEquals(new int[] {3, 2}, f64.shape());
        for (int i = 0; i < 6; i++) {
            assertEquals((float) (i / 10.0), f64.data()[i], 0f);
        }
        NpyArray f16 = arrays.get("f16");
        assertEquals("<f2", f16.dtype());
        float[] expected = {0f, -0f, 1f, -2.5f, 65504f, 0x1p-24f, 0x1p-14f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN};
        assertArrayEquals(expected, f16.data());
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(f16.data()[1]), "sign of -0.0");
    }

    @Test
    void halfToFloatIsExactForEveryHalf() {
        // Independent route: every finite half value is k * 2^(e-25) for its integer significand k.
        for (int bits = 0; bits < 0x10000; bits++) {
            int exp = (bits >> 10) & 0x1F;
            int mant = bits & 0x3FF;
            float got = Npz.halfToFloat((short) bits);
            if (exp == 0x1F) {
                assertTrue(mant == 0 ? Float.isInfinite(got) : Float.isNaN(got), Integer.toHexString(bits));
                continue;
            }
            double magnitude = exp == 0 ? mant * Math.pow(2, -24) : (1024 + mant) * Math.pow(2, exp - 25);
            double expected = (bits & 0x8000) != 0 ? -magnitude : magnitude;
            assertEquals(expected, got, 0.0, Integer.toHexString(bits));
        }
    }

    @Test
    void readsNpyVersionsOneAndTwo() {
        NpyArray v1 = Npz.readNpy(fixture("v1.npy"));
        NpyArray v2 = Npz.readNpy(fixture("v2.npy"));
        assertEquals("v1", v1.name());
        assertArrayEquals(a24(), v1.data());
        assertArrayEquals(a24(), v2.data());
        assertArrayEquals(new int[] {2, 3, 4}, v2.shape());
    }

    @Test
    void writerProducesNumpysExactBytes() throws IOException {
        byte[] numpy = Files.readAllBytes(fixture("v1.npy"));
        byte[] ours = Npz.toNpyBytes(NpyArray.float32("x", new int[] {2, 3, 4}, a24()));
        assertArrayEquals(numpy, ours);
    }

    @Test
    void writtenNpzReadsBackStoredAndDeflated() {
        NpyArray a = NpyArray.float32("cls_0", new int[] {1, 2, 3}, new float[] {1, -2, 3.5f, Float.NaN, 0, 1e-30f});
        NpyArray b = NpyArray.float32("reg_0", new int[] {2}, new float[] {4, 5});
        for (boolean compressed : new boolean[] {false, true}) {
            Path file = tmp.resolve("heads-" + compressed + ".npz");
            Npz.write(file, List.of(a, b), compressed);
            Map<String, NpyArray> back = Npz.read(file);
            assertEquals(a, back.get("cls_0"));
            assertEquals(b, back.get("reg_0"));
        }
    }

    @Test
    void unsupportedAndBrokenFilesNameFileAndArray() throws IOException {
        DataFileException e = assertThrows(DataFileException.class, () -> Npz.readNpy(fixture("fortran.npy")));
        assertTrue(e.getMessage().contains("fortran.npy") && e.getMessage().contains("Fortran"), e.getMessage());
        e = assertThrows(DataFileException.class, () -> Npz.readNpy(fixture("bigendian.npy")));
        assertTrue(e.getMessage().contains("bigendian.npy") && e.getMessage().contains("'>f4'"), e.getMessage());
        e = assertThrows(DataFileException.class, () -> Npz.readNpy(fixture("int32.npy")));
        assertTrue(e.getMessage().contains("'<i4'"), e.getMessage());
        e = assertThrows(DataFileException.class, () -> Npz.readNpy(fixture("truncated.npy")));
        assertTrue(e.getMessage().contains("truncated.npy") && e.getMessage().contains("truncated"), e.getMessage());

        Path missing = tmp.resolve("missing.npz");
        e = assertThrows(DataFileException.class, () -> Npz.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("does not exist"));

        Path notZip = Files.writeString(tmp.resolve("not-a-zip.npz"), "hello");
        e = assertThrows(DataFileException.class, () -> Npz.read(notZip));
        assertTrue(e.getMessage().contains(notZip.toString()), e.getMessage());

        // A zip whose entry is not .npy data: names the array and the file.
        Path badEntry = tmp.resolve("bad-entry.npz");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(badEntry))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("cls_3.npy"));
            zip.write("not numpy".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            zip.closeEntry();
        }
        e = assertThrows(DataFileException.class, () -> Npz.read(badEntry));
        assertTrue(e.getMessage().contains("'cls_3'") && e.getMessage().contains(badEntry.toString()), e.getMessage());

        // A truncated entry inside a deflated npz.
        byte[] good = Npz.toNpyBytes(NpyArray.float32("ctr_1", new int[] {4}, new float[] {1, 2, 3, 4}));
        Path cut = tmp.resolve("cut.npz");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(cut))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("ctr_1.npy"));
            zip.write(good, 0, good.length - 3);
            zip.closeEntry();
        }
        e = assertThrows(DataFileException.class, () -> Npz.read(cut));
        assertTrue(e.getMessage().contains("'ctr_1'") && e.getMessage().contains("truncated"), e.getMessage());

        try (InputStream in = new java.io.ByteArrayInputStream(new byte[] {(byte) 0x93, 'N', 'U'})) {
            e = assertThrows(DataFileException.class, () -> Npz.readNpy(in, "x", "stream x"));
            assertTrue(e.getMessage().startsWith("stream x"), e.getMessage());
        }
    }
}
