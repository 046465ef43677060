package dev.fcos4j.postprocess;

import dev.fcos4j.ConfigurationException;

import java.util.Locale;

/**
 * Which upstream project's test-time post-processing to reproduce. Each rule of each convention is written
 * down in engines/POSTPROCESS.md with the upstream file and function it follows.
 */
public enum Convention {
    /** mmdetection 3.x {@code BaseDenseHead._predict_by_feat_single} + {@code _bbox_post_process} (the default). */
    MMDET,
    /** The original FCOS repository, {@code fcos_core/modeling/rpn/fcos/inference.py}. */
    FCOS,
    /** torchvision {@code FCOS.postprocess_detections} + {@code GeneralizedRCNNTransform.postprocess}. */
    TORCHVISION;

    /** The name used on the command line and in model metadata: {@code mmdet}, {@code fcos}, {@code torchvision}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a convention name, case-insensitively.
     *
     * @throws ConfigurationException naming the value and the accepted ones
     */
    public static Convention parse(String name) {
        if (name != null) {
            for (Convention c : values()) {
                if (c.id().equalsIgnoreCase(name.trim())) {
                    return c;
                }
            }
        }
        throw new ConfigurationException("unknown post-processing convention '" + name
                + "': expected one of mmdet, fcos, torchvision");
    }
}
