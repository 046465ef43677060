package dev.fcos4j.eval;

/**
 * Average precision of one category (area "all", at most 100 detections per image), each value -1 where the
 * reference leaves it undefined (no non-crowd ground truth of this category).
 *
 * @param categoryId       the COCO category id
 * @param name             the category name
 * @param groundTruthCount the category's non-crowd ground-truth boxes (the recall denominator)
 * @param ap               AP averaged over IoU 0.50:0.95
 * @param ap50             AP at IoU 0.50
 * @param ap75             AP at IoU 0.75
 */
public record CocoClassAp(long categoryId, String name, int groundTruthCount, double ap, double ap50, double ap75) {
    /** Whether the AP is defined (the category has non-crowd ground truth). */
    public boolean defined() {
        return ap > -1;
    }
}
