package dev.fcos4j.preprocess;

import dev.fcos4j.ConfigurationException;

/**
 * How raw pixels become the network input, as the model metadata says (engines/CONTRACT.md).
 * Normalized value = (pixel / inputScale - mean[c]) / std[c], channels in {@code channelOrder}.
 *
 * @param channelOrder  order of the three input channels
 * @param inputScale    raw 0..255 pixels are divided by this first (1 for caffe-style, 255 for torchvision)
 * @param mean          per-channel mean, in the input channel order, after dividing by inputScale
 * @param std           per-channel standard deviation, likewise
 * @param resizePolicy  how the keep-ratio resize computes the new size
 * @param maxLongSide   1333 for the standard (1333, 800) scale
 * @param maxShortSide  800 for the standard (1333, 800) scale
 * @param sizeDivisor   padded height and width are multiples of this (32)
 */
public record PreprocessConfig(ChannelOrder channelOrder, float inputScale, float[] mean, float[] std,
                               ResizePolicy resizePolicy, int maxLongSide, int maxShortSide, int sizeDivisor) {

    /** Channel order of the network input. */
    public enum ChannelOrder { BGR, RGB }

    /** The keep-ratio resize rule of the project the model comes from. */
    public enum ResizePolicy {
        /** mmcv {@code rescale_size}: scale = min(long/max(h,w), short/min(h,w)), size = int(x*scale + 0.5). */
        MMDET,
        /** torchvision {@code GeneralizedRCNNTransform.resize}: scale = min(short/min, long/max), size = floor(x*scale). */
        TORCHVISION,
        /** No resize: the image enters at its own size (padded to the divisor). */
        NONE
    }

    public PreprocessConfig {
        if (mean == null || mean.length != 3 || std == null || std.length != 3) {
            throw new ConfigurationException("mean and std must have 3 values each");
        }
        for (float s : std) {
            if (!(s > 0f)) {
                throw new ConfigurationException("std values must be positive, got " + s);
            }
        }
        if (!(inputScale > 0f)) {
            throw new ConfigurationException("input scale must be positive, got " + inputScale);
        }
        if (maxLongSide <= 0 || maxShortSide <= 0 || sizeDivisor <= 0) {
            throw new ConfigurationException("resize sizes and size divisor must be positive");
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** mmdetection's caffe-style FCOS preprocessing: BGR, mean (102.9801, 115.9465, 122.7717), std 1, (1333, 800), divisor 32. */
    public static PreprocessConfig mmdetCaffe() {
        return new PreprocessConfig(ChannelOrder.BGR, 1f, new float[] {102.9801f, 115.9465f, 122.7717f},
                new float[] {1f, 1f, 1f}, ResizePolicy.MMDET, 1333, 800, 32);
    }

    /** torchvision's ImageNet preprocessing: RGB / 255, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), (1333, 800), divisor 32. */
    public static PreprocessConfig torchvision() {
        return new PreprocessConfig(ChannelOrder.RGB, 255f, new float[] {0.485f, 0.456f, 0.406f},
                new float[] {0.229f, 0.224f, 0.225f}, ResizePolicy.TORCHVISION, 1333, 800, 32);
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }
}
