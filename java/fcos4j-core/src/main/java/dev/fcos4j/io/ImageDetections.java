package dev.fcos4j.io;

import dev.fcos4j.Detection;

import java.util.List;

/**
 * The detections of one image, as {@link DetectionsJson} writes and reads them.
 *
 * @param source     where the image came from (a path, or a name like {@code "image #3"}); may be null
 * @param width      original image width, pixels
 * @param height     original image height, pixels
 * @param detections detections in original-image pixels, score-descending
 */
public record ImageDetections(String source, int width, int height, List<Detection> detections) {
    public ImageDetections {
        detections = List.copyOf(detections);
    }
}
