package dev.fcos4j.bench;

import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.io.DataFileException;
import dev.fcos4j.io.Npz;
import dev.fcos4j.io.NpyArray;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.DetectionArrays;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.preprocess.ImageMeta;

import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The head maps of the side-by-side benchmark against CPU peers (benchmarks/peers/postprocess_side_by_side.py):
 * the script writes them once as {@code <map>.npz} ({@code cls_l} [N,C,H,W], {@code reg_l} [N,4,H,W],
 * {@code ctr_l} [N,1,H,W] per level, {@code strides} [L], {@code images} [N,4] = original H, W, resized H, W),
 * and both the Python peers and fcos4j read exactly those values.
 *
 * <p>{@link #main} writes fcos4j's detections on them as JSON, which the script compares with each peer's:
 * {@code PeerInputs DIR OUT.json MAP[,MAP...] CONVENTION[,CONVENTION...] BATCH[,BATCH...]}.
 */
public final class PeerInputs {
    private final HeadTensors heads;
    private final List<ImageMeta> metas;

    private PeerInputs(HeadTensors heads, List<ImageMeta> metas) {
        this.heads = heads;
        this.metas = metas;
    }

    /** Head outputs of the first {@code batch} images, in direct buffers as a native backend hands them over. */
    public HeadTensors heads() {
        return heads;
    }

    /** One geometry per image of {@link #heads()}. */
    public List<ImageMeta> metas() {
        return metas;
    }

    /**
     * Reads {@code dir/<map>.npz} and keeps its first {@code batch} images (NCHW: a prefix of every array).
     *
     * @throws DataFileException the file is missing or malformed, or holds fewer than {@code batch} images
     */
    public static PeerInputs load(Path dir, String map, int batch) {
        Path file = dir.resolve(map + ".npz");
        Map<String, NpyArray> arrays = Npz.read(file);
        NpyArray strides = require(arrays, "strides", file);
        NpyArray images = require(arrays, "images", file);
        if (images.rank() != 2 || images.dim(1) != 4 || images.dim(0) < batch) {
            throw new DataFileException("array 'images' in " + file + " is " + images.shapeString()
                    + ", need [>=" + batch + ",4]");
        }
        List<LevelShape> shapes = new ArrayList<>();
        List<FloatBuffer> cls = new ArrayList<>();
        List<FloatBuffer> reg = new ArrayList<>();
        List<FloatBuffer> ctr = new ArrayList<>();
        int classes = -1;
        for (int l = 0; l < strides.data().length; l++) {
            NpyArray c = require(arrays, "cls_" + l, file);
            if (c.rank() != 4 || c.dim(0) < batch) {
                throw new DataFileException("array 'cls_" + l + "' in " + file + " is " + c.shapeString()
                        + ", need [>=" + batch + ",C,H,W]");
            }
            classes = c.dim(1);
            shapes.add(new LevelShape((int) strides.data()[l], c.dim(2), c.dim(3)));
            cls.add(prefix(c, batch));
            reg.add(prefix(require(arrays, "reg_" + l, file), batch));
            ctr.add(prefix(require(arrays, "ctr_" + l, file), batch));
        }
        List<ImageMeta> metas = new ArrayList<>();
        float[] g = images.data();
        for (int n = 0; n < batch; n++) {
            metas.add(new ImageMeta((int) g[4 * n], (int) g[4 * n + 1], (int) g[4 * n + 2], (int) g[4 * n + 3]));
        }
        return new PeerInputs(HeadTensors.of(batch, classes, shapes, cls, reg, ctr), List.copyOf(metas));
    }

    private static NpyArray require(Map<String, NpyArray> arrays, String name, Path file) {
        NpyArray a = arrays.get(name);
        if (a == null) {
            throw new DataFileException("array '" + name + "' missing in " + file);
        }
        return a;
    }

    private static FloatBuffer prefix(NpyArray a, int batch) {
        int count = a.data().length / a.dim(0) * batch;
        FloatBuffer b = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(a.data(), 0, count);
        return b;
    }

    /** Writes fcos4j's detections for every (convention, map, batch) asked for. */
    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: PeerInputs DIR OUT.json MAPS CONVENTIONS BATCHES (comma-separated lists)");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        try (Writer w = Files.newBufferedWriter(Path.of(args[1]), StandardCharsets.UTF_8)) {
            w.write("{");
            String sep = "";
            for (String convention : args[3].split(",")) {
                for (String map : args[2].split(",")) {
                    for (String b : args[4].split(",")) {
                        int batch = Integer.parseInt(b);
                        PeerInputs in = load(dir, map, batch);
                        PostProcessConfig config = PostProcessConfig.defaults(Convention.parse(convention));
                        DetectionArrays out = new DetectionArrays(batch, config.maxDetections());
                        try (ReferencePostProcessor p = new ReferencePostProcessor(config, List.of())) {
                            p.processInto(in.heads(), in.metas(), out);
                        }
                        w.write(sep + "\n\"" + convention + "/" + map + "/" + batch + "\": ");
                        writeDetections(w, out, batch);
                        sep = ",";
                    }
                }
            }
            w.write("\n}\n");
        }
    }

    // [[ [x1, y1, x2, y2, score, class], ... ] per image]; Float.toString round-trips the float32 values
    private static void writeDetections(Writer w, DetectionArrays out, int batch) throws IOException {
        w.write("[");
        for (int n = 0; n < batch; n++) {
            w.write(n == 0 ? "[" : ", [");
            for (int i = 0; i < out.count(n); i++) {
                w.write((i == 0 ? "[" : ", [") + out.x1(n, i) + ", " + out.y1(n, i) + ", " + out.x2(n, i) + ", "
                        + out.y2(n, i) + ", " + out.score(n, i) + ", " + out.classId(n, i) + "]");
            }
            w.write("]");
        }
        w.write("]");
    }
}
