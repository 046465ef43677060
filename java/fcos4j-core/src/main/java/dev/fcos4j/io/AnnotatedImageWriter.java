package dev.fcos4j.io;

import dev.fcos4j.Detection;
import dev.fcos4j.preprocess.Images;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;
import static org.bytedeco.opencv.global.opencv_imgproc.FILLED;
import static org.bytedeco.opencv.global.opencv_imgproc.FONT_HERSHEY_SIMPLEX;
import static org.bytedeco.opencv.global.opencv_imgproc.LINE_8;
import static org.bytedeco.opencv.global.opencv_imgproc.LINE_AA;
import static org.bytedeco.opencv.global.opencv_imgproc.getTextSize;
import static org.bytedeco.opencv.global.opencv_imgproc.putText;
import static org.bytedeco.opencv.global.opencv_imgproc.rectangle;

/**
 * Draws detections on the original image with OpenCV and writes PNGs: one box per detection in its class's
 * colour (see {@link #colorOf}) and a filled tag above it reading {@code "label 0.87"}. Line width and text
 * size follow the image size. Boxes are drawn lowest score first, so the best one ends on top. Stateless and
 * thread-safe.
 */
public final class AnnotatedImageWriter {
    /**
     * Draws on a copy of {@code image} (8-bit BGR, BGRA or gray) and returns the annotated BGR copy, owned by
     * the caller.
     */
    public Mat annotate(Mat image, List<Detection> detections) {
        Mat out = Images.toBgr(image, "image to annotate");
        int h = out.rows();
        int w = out.cols();
        int thickness = Math.max(1, Math.round(Math.min(h, w) / 300f));
        double fontScale = Math.max(0.35, Math.min(h, w) / 900.0);
        List<Detection> order = new ArrayList<>(detections);
        order.sort((a, b) -> Float.compare(a.score(), b.score()));
        for (Detection d : order) {
            if (!(Float.isFinite(d.x1()) && Float.isFinite(d.y1()) && Float.isFinite(d.x2()) && Float.isFinite(d.y2()))) {
                continue; // nothing sensible to draw
            }
            int x1 = clamp(Math.round(d.x1()), 0, w - 1);
            int y1 = clamp(Math.round(d.y1()), 0, h - 1);
            int x2 = clamp(Math.round(d.x2()), 0, w - 1);
            int y2 = clamp(Math.round(d.y2()), 0, h - 1);
            int[] rgb = colorOf(d.classId());
            try (Scalar colour = new Scalar(rgb[2], rgb[1], rgb[0], 0);
                 Point p1 = new Point(x1, y1);
                 Point p2 = new Point(x2, y2)) {
                rectangle(out, p1, p2, colour, thickness, LINE_8, 0); // crisp: exact class colour on the edge
                drawTag(out, label(d), x1, y1, colour, rgb, fontScale, thickness);
            }
        }
        return out;
    }

    /**
     * Like {@link #annotate(Mat, List)}, with ground-truth boxes ({@code [x, y, width, height]}, original-image
     * pixels) drawn over them as white outlines, so detections and the truth they should match can be compared.
     */
    public Mat annotate(Mat image, List<Detection> detections, List<double[]> groundTruthXywh) {
        Mat out = annotate(image, detections);
        int thickness = Math.max(1, Math.round(Math.min(out.rows(), out.cols()) / 300f));
        try (Scalar white = new Scalar(255, 255, 255, 0)) {
            for (double[] b : groundTruthXywh) {
                if (b.length != 4 || !(Double.isFinite(b[0]) && Double.isFinite(b[1]) && Double.isFinite(b[2])
                        && Double.isFinite(b[3]))) {
                    continue;
                }
                try (Point p1 = new Point(clamp((int) Math.round(b[0]), 0, out.cols() - 1),
                        clamp((int) Math.round(b[1]), 0, out.rows() - 1));
                     Point p2 = new Point(clamp((int) Math.round(b[0] + b[2]), 0, out.cols() - 1),
                             clamp((int) Math.round(b[1] + b[3]), 0, out.rows() - 1))) {
                    rectangle(out, p1, p2, white, thickness, LINE_8, 0);
                }
            }
        }
        return out;
    }

    /** Annotates (detections and, when given, ground truth) and writes a PNG to {@code png}. */
    public void write(Mat bgr, List<Detection> detections, List<double[]> groundTruthXywh, Path png) {
        try (Mat annotated = annotate(bgr, detections, groundTruthXywh)) {
            write(annotated, List.of(), png);
        }
    }

    /** Annotates and encodes as PNG. */
    public byte[] annotatePng(Mat bgr, List<Detection> detections) {
        try (Mat annotated = annotate(bgr, detections); BytePointer png = new BytePointer()) {
            if (!imencode(".png", annotated, png)) {
                throw new DataFileException("OpenCV could not encode the annotated image as PNG");
            }
            byte[] bytes = new byte[(int) png.limit()];
            png.get(bytes);
            return bytes;
        }
    }

    /**
     * Reads {@code image} (any format OpenCV decodes), draws {@code detections} and writes a PNG to {@code png}.
     *
     * @throws dev.fcos4j.ImageDecodeException naming {@code image} when it cannot be decoded
     * @throws DataFileException               naming {@code png} when it cannot be written
     */
    public void write(Path image, List<Detection> detections, Path png) {
        try (Mat bgr = Images.readBgr(image)) {
            write(bgr, detections, png);
        }
    }

    /** Draws {@code detections} on (a copy of) an 8-bit BGR image and writes a PNG to {@code png}. */
    public void write(Mat bgr, List<Detection> detections, Path png) {
        byte[] bytes = annotatePng(bgr, detections);
        try {
            Files.write(png, bytes);
        } catch (IOException e) {
            throw new DataFileException("cannot write annotated image " + png + ": " + e, e);
        }
    }

    /** The tag text, e.g. {@code "person 0.87"}. */
    public static String label(Detection d) {
        return d.label() + String.format(Locale.ROOT, " %.2f", d.score());
    }

    /**
     * The class's colour as {R, G, B}: hues spaced by the golden angle so that neighbouring class ids differ
     * strongly, at saturation 0.85 and value 0.95.
     */
    public static int[] colorOf(int classId) {
        double hue = ((Math.abs((long) classId) * 0.6180339887498949) % 1.0) * 6.0;
        double s = 0.85;
        double v = 0.95;
        int sector = (int) hue;
        double f = hue - sector;
        double p = v * (1 - s);
        double q = v * (1 - s * f);
        double t = v * (1 - s * (1 - f));
        double[] rgb = switch (sector) {
            case 0 -> new double[] {v, t, p};
            case 1 -> new double[] {q, v, p};
            case 2 -> new double[] {p, v, t};
            case 3 -> new double[] {p, q, v};
            case 4 -> new double[] {t, p, v};
            default -> new double[] {v, p, q};
        };
        return new int[] {(int) Math.round(rgb[0] * 255), (int) Math.round(rgb[1] * 255), (int) Math.round(rgb[2] * 255)};
    }

    private static void drawTag(Mat img, String text, int x1, int y1, Scalar colour, int[] rgb,
                                double fontScale, int thickness) {
        int textThickness = Math.max(1, thickness / 2);
        int[] baseline = new int[1];
        try (Size size = getTextSize(text, FONT_HERSHEY_SIMPLEX, fontScale, textThickness, baseline)) {
            int tw = size.width();
            int th = size.height() + baseline[0];
            int top = y1 - th - 2 >= 0 ? y1 - th - 2 : Math.min(y1 + 1, Math.max(0, img.rows() - th - 2));
            int left = Math.max(0, Math.min(x1, img.cols() - tw - 2));
            double luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
            int ink = luminance > 140 ? 0 : 255;
            try (Point a = new Point(left, top);
                 Point b = new Point(left + tw + 2, top + th + 2);
                 Point origin = new Point(left + 1, top + size.height() + 1);
                 Scalar inkColour = new Scalar(ink, ink, ink, 0)) {
                rectangle(img, a, b, colour, FILLED, LINE_8, 0);
                putText(img, text, origin, FONT_HERSHEY_SIMPLEX, fontScale, inkColour, textThickness, LINE_AA, false);
            }
        }
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
