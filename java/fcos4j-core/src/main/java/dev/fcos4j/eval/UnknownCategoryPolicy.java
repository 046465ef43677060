package dev.fcos4j.eval;

/** What {@link CocoEvaluator} does with a detection whose category id is not among the ground truth's categories. */
public enum UnknownCategoryPolicy {
    /** Leave it out of every score, as the reference COCO API does (it filters detections by category id); the count is reported in {@link CocoEvalResult#ignoredDetections()}. */
    IGNORE,
    /** Fail with a {@link CocoFormatException} naming the first such record: usually a wrong class-to-category mapping. */
    REJECT
}
