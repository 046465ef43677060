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
