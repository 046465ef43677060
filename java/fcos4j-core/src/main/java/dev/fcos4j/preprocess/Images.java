package dev.fcos4j.preprocess;

import dev.fcos4j.ImageDecodeException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.color.ColorSpace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC4;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGRA2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_GRAY2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

/**
 * Image decoding and conversion to 8-bit 3-channel BGR OpenCV {@link Mat}s, the one pixel format the
 * preprocessing works on. Decoding follows mmcv's {@code imfrombytes(flag='color')}: OpenCV
 * {@code IMREAD_COLOR}, so grayscale images are replicated to three channels, an alpha channel is dropped
 * (not composited), 16-bit images are scaled to 8 bits and the EXIF orientation is applied.
 *
 * <p>Every method returning a {@code Mat} hands its ownership to the caller, who must {@code close()} it.
 */
public final class Images {
    private Images() {
    }

    /**
     * Reads and decodes an image file (JPEG, PNG, BMP, WebP, TIFF... whatever the bundled OpenCV decodes).
     *
     * @return an 8-bit BGR Mat, owned by the caller
     * @throws ImageDecodeException naming the file when it is missing, unreadable, empty or not a decodable image
     */
    public static Mat readBgr(Path file) {
        byte[] bytes;
        try {
            // Read in Java rather than cv::imread: paths with non-ASCII characters work and errors are precise.
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageDecodeException("image file " + file + " does not exist");
        } catch (IOException | OutOfMemoryError e) {
            throw new ImageDecodeException("cannot read image file " + file + ": " + e, e);
        }
        return decodeBgr(bytes, "image file " + file);
    }

    /**
     * Decodes an encoded image held in memory.
     *
     * @param encoded     the file content
     * @param description how error messages name the image, e.g. {@code "encoded image #3"}; the byte count is
     *                    appended
     * @return an 8-bit BGR Mat, owned by the caller
     * @throws ImageDecodeException naming {@code description} when the bytes are empty or not a decodable image
     */
    public static Mat decodeBgr(byte[] encoded, String description) {
        if (encoded == null) {
            throw new ImageDecodeException(description + " is null");
        }
        if (encoded.length == 0) {
            throw new ImageDecodeException(description + " is empty (0 bytes)");
        }
        Mat decoded;
        try (BytePointer data = new BytePointer(encoded);
             Mat buffer = new Mat(1, encoded.length, CV_8UC1, data)) {
            decoded = imdecode(buffer, IMREAD_COLOR);
        } catch (RuntimeException e) {
            // OpenCV reports oversized or malformed images as cv::Exception, mapped to RuntimeException.
            throw new ImageDecodeException(description + " (" + encoded.length + " bytes) could not be decoded: "
                    + e.getMessage(), e);
        }
        if (decoded == null || decoded.empty()) {
            if (decoded != null) {
                decoded.close();
            }
            throw new ImageDecodeException(description + " (" + encoded.length
                    + " bytes) is not a decodable image (corrupt or unsupported format)");
        }
        return decoded;
    }

    /**
     * Converts an 8-bit Mat with 1 (gray), 3 (BGR) or 4 (BGRA) channels to a new continuous BGR Mat.
     *
     * @throws ImageDecodeException naming {@code description} for an empty Mat or any other type
     */
    public static Mat toBgr(Mat image, String description) {
        if (image == null || image.isNull() || image.empty()) {
            throw new ImageDecodeException(description + " is null or empty");
        }
        int type = image.type();
        Mat out = new Mat();
        if (type == CV_8UC3) {
            image.copyTo(out);
        } else if (type == CV_8UC1) {
            cvtColor(image, out, COLOR_GRAY2BGR);
        } else if (type == CV_8UC4) {
            cvtColor(image, out, COLOR_BGRA2BGR);
        } else {
            out.close();
            throw new ImageDecodeException(description + " has OpenCV type " + type
                    + ": expected 8-bit with 1, 3 or 4 channels (CV_8UC1, CV_8UC3, CV_8UC4)");
        }
        return out;
    }

    /**
     * Converts a {@link BufferedImage} of any type to a BGR Mat. 8-bit RGB(A) and gray images are copied sample
     * by sample (no colour management, alpha dropped, like {@link #decodeBgr}); other types go through
     * {@link BufferedImage#getRGB}, which converts to sRGB.
     *
     * @throws ImageDecodeException naming {@code description} for a null image
     */
    public static Mat fromBufferedImage(BufferedImage image, String description) {
        if (image == null) {
            throw new ImageDecodeException(description + " is null");
        }
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] bgr = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        Raster raster = image.getRaster();
        ColorModel cm = image.getColorModel();
        boolean eightBit = allBands8Bit(raster);
        int csType = cm.getColorSpace().getType();
        if (eightBit && !(cm instanceof IndexColorModel) && !cm.isAlphaPremultiplied()
                && cm.getColorSpace().isCS_sRGB() && raster.getNumBands() >= 3) {
            int bands = raster.getNumBands();
            int[] row = new int[w * bands];
            for (int y = 0; y < h; y++) {
                raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
                int o = y * w * 3;
                for (int x = 0; x < w; x++) {
                    int s = x * bands;
                    bgr[o + 3 * x] = (byte) row[s + 2];
                    bgr[o + 3 * x + 1] = (byte) row[s + 1];
                    bgr[o + 3 * x + 2] = (byte) row[s];
                }
            }
        } else if (!(cm instanceof IndexColorModel) && csType == ColorSpace.TYPE_GRAY && raster.getNumBands() == 1
                && raster.getSampleModel().getSampleSize(0) >= 8 && raster.getSampleModel().getSampleSize(0) <= 16
                && raster.getDataBuffer().getDataType() != java.awt.image.DataBuffer.TYPE_FLOAT
                && raster.getDataBuffer().getDataType() != java.awt.image.DataBuffer.TYPE_DOUBLE) {
            // getRGB would apply a linear-gray to sRGB curve; the decoders replicate the gray value instead
            // (16-bit: the high byte, as OpenCV's 8-bit decode of a 16-bit PNG).
            int shift = raster.getSampleModel().getSampleSize(0) - 8;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
                int o = y * w * 3;
                for (int x = 0; x < w; x++) {
                    byte v = (byte) (row[x] >>> shift);
                    bgr[o + 3 * x] = v;
                    bgr[o + 3 * x + 1] = v;
                    bgr[o + 3 * x + 2] = v;
                }
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                int o = y * w * 3;
                for (int x = 0; x < w; x++) {
                    int argb = row[x];
                    bgr[o + 3 * x] = (byte) argb;
                    bgr[o + 3 * x + 1] = (byte) (argb >> 8);
                    bgr[o + 3 * x + 2] = (byte) (argb >> 16);
                }
            }
        }
        Mat mat = new Mat(h, w, CV_8UC3);
        mat.data().put(bgr);
        return mat;
    }

    private static boolean allBands8Bit(Raster raster) {
        int[] sizes = raster.getSampleModel().getSampleSize();
        for (int s : sizes) {
            if (s != 8) {
                return false;
            }
        }
        return true;
    }
}
