package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * What an engine built from an ONNX file depends on, and the cache file name made of it:
 * {@code <model-sha256>-<precision>-b<maxBatch>h<maxHeight>w<maxWidth>p<profiles>-trt<version>-sm<major><minor>.plan}. A plan
 * is only valid for the TensorRT version and GPU architecture that built it, so both are part of the name.
 *
 * @param modelSha256     SHA-256 of the ONNX file's bytes, lower-case hex
 * @param precision       engine precision
 * @param maxBatch        profile's largest batch
 * @param maxHeight       profile's largest input height
 * @param maxWidth        profile's largest input width
 * @param profiles        number of (identical) optimization profiles, one per execution context
 * @param tensorRtVersion the TensorRT library's version, e.g. "10.15.1"
 * @param computeMajor    the GPU's compute capability, major
 * @param computeMinor    the GPU's compute capability, minor
 */
public record EngineCacheKey(String modelSha256, Precision precision, int maxBatch, int maxHeight, int maxWidth,
                             int profiles, String tensorRtVersion, int computeMajor, int computeMinor) {
    public EngineCacheKey {
        Objects.requireNonNull(modelSha256, "modelSha256");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(tensorRtVersion, "tensorRtVersion");
        if (!modelSha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a lower-case SHA-256: " + modelSha256);
        }
    }

    /** The key for a model file and options on a given library version and device. */
    public static EngineCacheKey of(Path model, TensorRtOptions options, String tensorRtVersion, int computeMajor,
                                    int computeMinor) {
        return new EngineCacheKey(sha256(model), options.precision(), options.maxBatch(), options.maxHeight(),
                options.maxWidth(), options.contexts(), tensorRtVersion, computeMajor, computeMinor);
    }

    /** The profile part of the name: {@code b8h1344w1344p1}. */
    public String profile() {
        return "b" + maxBatch + "h" + maxHeight + "w" + maxWidth + "p" + profiles;
    }

    /** The cache file name. */
    public String fileName() {
        return modelSha256 + "-" + precision.id() + "-" + profile() + "-trt" + tensorRtVersion + "-sm" + computeMajor
                + computeMinor + ".plan";
    }

    /**
     * TensorRT's version number as text: since TensorRT 10, {@code getInferLibVersion()} is
     * major * 10000 + minor * 100 + patch (10.15.1 is 101501).
     */
    public static String versionString(int libVersion) {
        return (libVersion / 10000) + "." + (libVersion / 100 % 100) + "." + (libVersion % 100);
    }

    /**
     * SHA-256 of a file, lower-case hex.
     *
     * @throws ConfigurationException naming the file when it cannot be read
     */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ConfigurationException("model file " + file + " cannot be read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
