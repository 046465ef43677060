package dev.fcos4j.postprocess;

import dev.fcos4j.ConfigurationException;

/**
 * The tunable numbers of post-processing; everything else is fixed by the {@link Convention}.
 *
 * @param convention     whose rules to follow
 * @param scoreThreshold candidate threshold (what it is compared with depends on the convention)
 * @param nmsPre         candidates kept per image and level before NMS
 * @param iouThreshold   NMS suppresses a box whose IoU with a kept box of the same class is above this
 * @param maxDetections  detections kept per image after NMS
 */
public record PostProcessConfig(Convention convention, float scoreThreshold, int nmsPre, float iouThreshold,
                                int maxDetections) {
    public PostProcessConfig {
        if (convention == null) {
            throw new ConfigurationException("convention must not be null");
        }
        if (!(scoreThreshold >= 0f && scoreThreshold < 1f)) {
            throw new ConfigurationException("score threshold must be in [0, 1), got " + scoreThreshold);
        }
        if (nmsPre <= 0) {
            throw new ConfigurationException("nms_pre must be positive, got " + nmsPre);
        }
        if (!(iouThreshold >= 0f && iouThreshold <= 1f)) {
            throw new ConfigurationException("IoU threshold must be in [0, 1], got " + iouThreshold);
        }
        if (maxDetections <= 0) {
            throw new ConfigurationException("max detections must be positive, got " + maxDetections);
        }
    }

    /**
     * The float32 value NMS compares the (float32) IoU with, using {@code iou > value}. For mmdet and fcos it
     * is {@link #iouThreshold} itself (mmcv and the FCOS repository compare floats). torchvision compares the
     * float IoU with its threshold as a Python float, a double: {@code iou > 0.6} suppresses an IoU of exactly
     * {@code 0.6f} (0.6000000238...). The double is taken to be the shortest decimal that rounds to
     * {@link #iouThreshold} (what a user writes, e.g. 0.6); when the float lies above it, {@code iou > decimal}
     * equals {@code iou >= iouThreshold}, i.e. {@code iou > Math.nextDown(iouThreshold)}. The native kernels use
     * the same value (engines/POSTPROCESS.md, section 4).
     */
    public float nmsIouThreshold() {
        if (convention != Convention.TORCHVISION) {
            return iouThreshold;
        }
        java.math.BigDecimal exact = new java.math.BigDecimal(iouThreshold);
        for (int digits = 1; digits <= 9; digits++) {
            double decimal = exact.round(new java.math.MathContext(digits, java.math.RoundingMode.HALF_EVEN))
                    .doubleValue();
            if ((float) decimal == iouThreshold) {
                return (double) iouThreshold > decimal ? Math.nextDown(iouThreshold) : iouThreshold;
            }
        }
        return iouThreshold;  // unreachable: 9 significant digits always round-trip a float
    }

    /** The convention's own test-time defaults (mmdet: 0.05 / 1000 / 0.5 / 100; fcos: 0.05 / 1000 / 0.6 / 100; torchvision: 0.2 / 1000 / 0.6 / 100). */
    public static PostProcessConfig defaults(Convention convention) {
        return switch (convention) {
            case MMDET -> new PostProcessConfig(convention, 0.05f, 1000, 0.5f, 100);
            case FCOS -> new PostProcessConfig(convention, 0.05f, 1000, 0.6f, 100);
            case TORCHVISION -> new PostProcessConfig(convention, 0.2f, 1000, 0.6f, 100);
        };
    }

    public PostProcessConfig withScoreThreshold(float value) {
        return new PostProcessConfig(convention, value, nmsPre, iouThreshold, maxDetections);
    }

    public PostProcessConfig withNmsPre(int value) {
        return new PostProcessConfig(convention, scoreThreshold, value, iouThreshold, maxDetections);
    }

    public PostProcessConfig withIouThreshold(float value) {
        return new PostProcessConfig(convention, scoreThreshold, nmsPre, value, maxDetections);
    }

    public PostProcessConfig withMaxDetections(int value) {
        return new PostProcessConfig(convention, scoreThreshold, nmsPre, iouThreshold, value);
    }
}
