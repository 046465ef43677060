package dev.fcos4j.eval;

import java.util.Objects;

/**
 * One ground-truth category.
 *
 * @param id   the COCO category id (as in {@code category_id})
 * @param name the category name
 */
public record CocoCategory(long id, String name) {
    /** @throws NullPointerException for a null name */
    public CocoCategory {
        Objects.requireNonNull(name, "name");
    }
}
