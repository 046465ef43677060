package dev.fcos4j.eval;

/**
 * Stable descending sorts of index arrays by a double key, as the reference's {@code np.argsort(-score,
 * kind='mergesort')}: equal scores (0.0 and -0.0 included) keep their original order. Keys are never NaN here
 * (records with a NaN score are rejected when read).
 */
final class StableSort {
    private static final int INSERTION_LIMIT = 24;

    private StableSort() {
    }

    /** Sorts {@code idx[0..n)}, which hold detection record indices, by their score. */
    static void byScoreDescending(int[] idx, int n, CocoDetections dt) {
        if (n < 2) {
            return;
        }
        double[] keys = new double[n];
        for (int i = 0; i < n; i++) {
            keys[i] = dt.score(idx[i]);
        }
        // Sort positions by the gathered keys, then permute the record indices.
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = i;
        }
        byKeyDescending(pos, n, keys);
        int[] copy = java.util.Arrays.copyOf(idx, n);
        for (int i = 0; i < n; i++) {
            idx[i] = copy[pos[i]];
        }
    }

    /** Sorts {@code idx[0..n)} by {@code key[idx[i]]}, descending, stable. */
    static void byKeyDescending(int[] idx, int n, double[] key) {
        if (n < 2) {
            return;
        }
        int[] tmp = new int[n];
        mergeSort(idx, tmp, 0, n, key);
    }

    private static void mergeSort(int[] a, int[] tmp, int from, int to, double[] key) {
        if (to - from <= INSERTION_LIMIT) {
            for (int i = from + 1; i < to; i++) {
                int v = a[i];
                double kv = key[v];
                int j = i - 1;
                // Move only past strictly smaller keys: equal keys stay in front (stability).
                while (j >= from && key[a[j]] < kv) {
                    a[j + 1] = a[j];
                    j--;
                }
                a[j + 1] = v;
            }
            return;
        }
        int mid = (from + to) >>> 1;
        mergeSort(a, tmp, from, mid, key);
        mergeSort(a, tmp, mid, to, key);
        if (!(key[a[mid - 1]] < key[a[mid]])) {
            return; // already in order
        }
        System.arraycopy(a, from, tmp, from, to - from);
        int i = from, j = mid, o = from;
        while (i < mid && j < to) {
            // Take from the right half only when strictly greater, so ties keep left-half (earlier) order.
            a[o++] = key[tmp[j]] > key[tmp[i]] ? tmp[j++] : tmp[i++];
        }
        while (i < mid) {
            a[o++] = tmp[i++];
        }
        while (j < to) {
            a[o++] = tmp[j++];
        }
    }
}
