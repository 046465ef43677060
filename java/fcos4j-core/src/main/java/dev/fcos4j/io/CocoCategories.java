package dev.fcos4j.io;

import java.util.List;
import java.util.Locale;

/**
 * The COCO detection categories: the 80 names in the order COCO-trained detectors (mmdetection, the FCOS
 * repository) index their classes, and the matching category ids of the COCO annotation files, which run
 * from 1 to 90 with gaps (the 2014 category list had 91 entries, 11 never annotated).
 */
public final class CocoCategories {
    /** The 80 COCO class names, in class-index order. */
    public static final List<String> NAMES = List.of(
            "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
            "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
            "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
            "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
            "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
            "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
            "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
            "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
            "scissors", "teddy bear", "hair drier", "toothbrush");

    private static final int[] IDS = {
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32,
            33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
            60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90};

    private CocoCategories() {
    }

    /** The COCO category id of class index {@code classIndex} (0..79) of an 80-class COCO model. */
    public static int categoryId(int classIndex) {
        return IDS[classIndex];
    }

    /** The 80 COCO category ids in class-index order. */
    public static int[] categoryIds() {
        return IDS.clone();
    }

    /** Whether {@code classNames} are the 80 COCO names in COCO order (compared case-insensitively, trimmed). */
    public static boolean isCoco80(List<String> classNames) {
        if (classNames.size() != NAMES.size()) {
            return false;
        }
        for (int i = 0; i < NAMES.size(); i++) {
            String n = classNames.get(i);
            if (n == null || !n.trim().toLowerCase(Locale.ROOT).equals(NAMES.get(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code classNames} is torchvision's 91-entry COCO list, whose class index already is the category
     * id: {@code "__background__"} at 0 and {@code "N/A"} for the unused ids.
     */
    public static boolean isTorchvision91(List<String> classNames) {
        if (classNames.size() != 91 || !"__background__".equals(classNames.get(0))) {
            return false;
        }
        int next = 0;
        for (int id = 1; id <= 90; id++) {
            String n = classNames.get(id);
            if (next < IDS.length && IDS[next] == id) {
                if (n == null || !n.trim().toLowerCase(Locale.ROOT).equals(NAMES.get(next))) {
                    return false;
                }
                next++;
            } else if (!"N/A".equals(n)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The category id to write for each class index of a model with these class names: the COCO ids for the
     * 80 COCO names, the class index itself for torchvision's 91-entry list, and otherwise the class index
     * plus one (COCO-style files number categories from 1).
     */
    public static int[] categoryIdsFor(List<String> classNames, int numClasses) {
        int[] ids = new int[numClasses];
        boolean coco80 = numClasses == 80 && isCoco80(classNames);
        boolean tv91 = numClasses == 91 && isTorchvision91(classNames);
        for (int c = 0; c < numClasses; c++) {
            ids[c] = coco80 ? IDS[c] : tv91 ? c : c + 1;
        }
        return ids;
    }
}
