package dev.fcos4j.postprocess;

import dev.fcos4j.Detection;
import dev.fcos4j.preprocess.ImageMeta;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A deliberately plain second reading of engines/POSTPROCESS.md for cross-checking the optimized reference:
 * sigmoid of every value, boxed candidate lists, full sorts with comparators, quadratic NMS. It shares no code
 * with {@link ReferencePostProcessor}. Finite inputs only.
 */
final class NaiveSpec {
    private NaiveSpec() {
    }

    private record Cand(float key, int flat, int level, float x1, float y1, float x2, float y2, float score, int cls) {
    }

    static float sig(float v) {
        return (float) (1.0 / (1.0 + Math.exp(-(double) v)));
    }

    static List<List<Detection>> run(PostProcessConfig cfg, TestHeads h, List<ImageMeta> metas) {
        List<List<Detection>> all = new ArrayList<>();
        for (int n = 0; n < h.batch; n++) {
            all.add(image(cfg, h, n, metas.get(n)));
        }
        return all;
    }

    private static List<Detection> image(PostProcessConfig cfg, TestHeads h, int n, ImageMeta m) {
        Convention conv = cfg.convention();
        int C = h.numClasses;
        List<Cand> concat = new ArrayList<>();
        for (int l = 0; l < h.levels.size(); l++) {
            int H = h.levels.get(l).height();
            int W = h.levels.get(l).width();
            int s = h.levels.get(l).stride();
            int hw = H * W;
            List<float[]> ranked = new ArrayList<>(); // {key, flat}
            for (int p = 0; p < hw; p++) {
                for (int c = 0; c < C; c++) {
                    float pc = sig(h.cls[l][(n * C + c) * hw + p]);
                    float pt = sig(h.ctr[l][n * hw + p]);
                    float key;
                    boolean cand;
                    switch (conv) {
                        case MMDET -> { cand = pc > cfg.scoreThreshold(); key = pc; }
                        case FCOS -> { cand = pc > cfg.scoreThreshold(); key = pc * pt; }
                        default -> { key = (float) Math.sqrt(pc * pt); cand = key > cfg.scoreThreshold(); }
                    }
                    if (cand) {
                        ranked.add(new float[] {key, p * C + c});
                    }
                }
            }
            ranked.sort(Comparator.<float[]>comparingDouble(a -> -a[0]).thenComparingDouble(a -> a[1]));
            for (int i = 0; i < Math.min(cfg.nmsPre(), ranked.size()); i++) {
                float key = ranked.get(i)[0];
                int flat = (int) ranked.get(i)[1];
                int p = flat / C;
                int c = flat % C;
                int y = p / W;
                int x = p % W;
                float dl = h.reg[l][n * 4 * hw + p];
                float dt = h.reg[l][n * 4 * hw + hw + p];
                float dr = h.reg[l][n * 4 * hw + 2 * hw + p];
                float db = h.reg[l][n * 4 * hw + 3 * hw + p];
                float px;
                float py;
                float maxX;
                float maxY;
                switch (conv) {
                    case MMDET -> { px = (x + 0.5f) * s; py = (y + 0.5f) * s; maxX = m.resizedWidth(); maxY = m.resizedHeight(); }
                    case FCOS -> { px = x * s + s / 2; py = y * s + s / 2; maxX = m.resizedWidth() - 1; maxY = m.resizedHeight() - 1; }
                    // torchvision: padded size // level size (engines/POSTPROCESS.md, point spacing)
                    default -> { px = x * (h.levels.get(0).width() * h.levels.get(0).stride() / W);
                        py = y * (h.levels.get(0).height() * h.levels.get(0).stride() / H); maxX = m.resizedWidth(); maxY = m.resizedHeight(); }
                }
                float x1 = Math.min(Math.max(px - dl, 0f), maxX);
                float y1 = Math.min(Math.max(py - dt, 0f), maxY);
                float x2 = Math.min(Math.max(px + dr, 0f), maxX);
                float y2 = Math.min(Math.max(py + db, 0f), maxY);
                float score;
                if (conv == Convention.MMDET) {
                    float fx = (float) (1.0 / ((double) m.resizedWidth() / m.originalWidth()));
                    float fy = (float) (1.0 / ((double) m.resizedHeight() / m.originalHeight()));
                    x1 *= fx;
                    x2 *= fx;
                    y1 *= fy;
                    y2 *= fy;
                    score = key * sig(h.ctr[l][n * hw + p]);
                    if (x2 - x1 <= 0 || y2 - y1 <= 0) {
                        continue;
                    }
                } else if (conv == Convention.FCOS) {
                    score = (float) Math.sqrt(key);
                } else {
                    score = key;
                }
                concat.add(new Cand(key, flat, l, x1, y1, x2, y2, score, c));
            }
        }
        List<Cand> sorted = new ArrayList<>(concat);
        sorted.sort(Comparator.comparingDouble(c -> -c.score())); // List.sort is stable
        float off = conv == Convention.FCOS ? 1f : 0f;
        List<Cand> kept = new ArrayList<>();
        for (Cand b : sorted) {
            if (kept.size() == cfg.maxDetections()) {
                break;
            }
            boolean keep = true;
            for (Cand a : kept) {
                if (a.cls() == b.cls()) {
                    float iw = Math.max(0f, Math.min(a.x2(), b.x2()) - Math.max(a.x1(), b.x1()) + off);
                    float ih = Math.max(0f, Math.min(a.y2(), b.y2()) - Math.max(a.y1(), b.y1()) + off);
                    float inter = iw * ih;
                    float areaA = (a.x2() - a.x1() + off) * (a.y2() - a.y1() + off);
                    float areaB = (b.x2() - b.x1() + off) * (b.y2() - b.y1() + off);
                    float iou = inter / (areaA + areaB - inter);
                    // torchvision compares with its threshold as a double (the decimal the user wrote)
                    boolean above = cfg.convention() == Convention.TORCHVISION
                            ? (double) iou > Double.parseDouble(Float.toString(cfg.iouThreshold()))
                            : iou > cfg.iouThreshold();
                    if (above) {
                        keep = false;
                        break;
                    }
                }
            }
            if (keep) {
                kept.add(b);
            }
        }
        List<Detection> out = new ArrayList<>();
        for (Cand a : kept) {
            float fx = 1f;
            float fy = 1f;
            if (conv == Convention.FCOS) {
                fx = (float) ((double) m.originalWidth() / m.resizedWidth());
                fy = (float) ((double) m.originalHeight() / m.resizedHeight());
            } else if (conv == Convention.TORCHVISION) {
                fx = (float) m.originalWidth() / (float) m.resizedWidth();
                fy = (float) m.originalHeight() / (float) m.resizedHeight();
            }
            out.add(new Detection(a.x1() * fx, a.y1() * fy, a.x2() * fx, a.y2() * fy, a.score(), a.cls(), "class_" + a.cls()));
        }
        return out;
    }
}
