package dev.fcos4j.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values were printed by NumPy 2.4 / CPython 3 (repr), not derived from the code under test. */
class NumpyCompatTest {
    @Test
    void iouThresholdsAreNumpyLinspaceValues() {
        double[] t = CocoEvaluator.IOU_THRESHOLDS;
        double[] numpy = {0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95};
        assertEquals(10, t.length);
        for (int i = 0; i < 10; i++) {
            assertEquals(numpy[i], t[i], 0.0, "iouThrs[" + i + "]");
        }
    }

    @Test
    void recallThresholdsAreNumpyLinspaceValues() {
        double[] r = CocoEvaluator.RECALL_THRESHOLDS;
        assertEquals(101, r.length);
        assertEquals(0.0, r[0], 0.0);
        assertEquals(0.03, r[3], 0.0);
        assertEquals(0.29, r[29], 0.0);
        assertEquals(1.0, r[100], 0.0);
    }

    @Test
    void pairwiseSumMatchesNumpyBitForBit() {
        // np.add.reduce of [1/(i+1) for i in range(n)]; a naive left-to-right sum differs in the last places.
        int[] n = {1000, 8193, 80800};
        double[] numpy = {7.485470860550345, 9.588312101508468, 11.876954097516766};
        double[] naive = {7.485470860550343, 9.588312101508423, 11.876954097516805};
        for (int c = 0; c < n.length; c++) {
            double[] a = new double[n[c]];
            double plain = 0;
            for (int i = 0; i < a.length; i++) {
                a[i] = 1.0 / (i + 1);
                plain += a[i];
            }
            assertEquals(numpy[c], NumpyCompat.pairwiseSum(a, 0, a.length), 0.0, "n=" + n[c]);
            assertEquals(naive[c], plain, 0.0, "sanity: naive sum, n=" + n[c]);
        }
        assertEquals(0.007485470860550345, meanOfHarmonic(1000), 0.0);
    }

    private static double meanOfHarmonic(int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = 1.0 / (i + 1);
        }
        return NumpyCompat.mean(a, n);
    }

    @Test
    void formatsLikePythonFormatSpec() {
        // '{:0.3f}'.format(v) in CPython: exact binary value, half-to-even; Java's %.3f gives 1.001 and 0.13 here.
        assertEquals("0.062", NumpyCompat.formatFixed(0.0625, 3));
        assertEquals("0.001", NumpyCompat.formatFixed(0.0005, 3));
        assertEquals("1.000", NumpyCompat.formatFixed(1.0005, 3));
        assertEquals("0.12", NumpyCompat.formatFixed(0.125, 2));
        assertEquals("0.505", NumpyCompat.formatFixed(0.5045806987249628, 3));
        assertEquals("-1.000", NumpyCompat.formatFixed(-1, 3));
        assertEquals("-0.000", NumpyCompat.formatFixed(-0.0001, 3));
        assertEquals("0.90", NumpyCompat.formatFixed(0.8999999999999999, 2));
    }
}
