package dev.fcos4j.eval;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * The few numeric behaviours of NumPy and Python that the reference COCO evaluation depends on, reproduced
 * bit for bit so that the summary statistics match to the last place, not just to a tolerance.
 */
final class NumpyCompat {
    /** {@code np.spacing(1)}: the reference adds it to precision's denominator. */
    static final double SPACING_1 = Math.ulp(1.0);

    /** NumPy's pairwise summation switches to a plain 8-way unrolled loop at this size. */
    private static final int PAIRWISE_BLOCK = 128;

    private NumpyCompat() {
    }

    /**
     * {@code np.linspace(start, stop, num, endpoint=True)} for float64: {@code i * step + start} with
     * {@code step = (stop - start) / (num - 1)}, and the last element forced to {@code stop}.
     */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        if (num == 1) {
            y[0] = start;
            return y;
        }
        int div = num - 1;
        double delta = stop - start;
        double step = delta / div;
        for (int i = 0; i < num; i++) {
            // NumPy multiplies first and adds start in a second pass (no fused multiply-add).
            y[i] = step == 0 ? (i / (double) div) * delta + start : i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    /** {@code np.add.reduce} over a contiguous float64 array: NumPy's pairwise summation. */
    static double pairwiseSum(double[] a, int from, int n) {
        if (n < 8) {
            double res = 0.0;
            for (int i = 0; i < n; i++) {
                res += a[from + i];
            }
            return res;
        } else if (n <= PAIRWISE_BLOCK) {
            double r0 = a[from], r1 = a[from + 1], r2 = a[from + 2], r3 = a[from + 3];
            double r4 = a[from + 4], r5 = a[from + 5], r6 = a[from + 6], r7 = a[from + 7];
            int i = 8;
            int end = n - (n % 8);
            for (; i < end; i += 8) {
                r0 += a[from + i];
                r1 += a[from + i + 1];
                r2 += a[from + i + 2];
                r3 += a[from + i + 3];
                r4 += a[from + i + 4];
                r5 += a[from + i + 5];
                r6 += a[from + i + 6];
                r7 += a[from + i + 7];
            }
            double res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            for (; i < n; i++) {
                res += a[from + i];
            }
            return res;
        } else {
            int n2 = n / 2;
            n2 -= n2 % 8;
            return pairwiseSum(a, from, n2) + pairwiseSum(a, from + n2, n - n2);
        }
    }

    /** {@code np.mean} of the first {@code n} values of {@code a} (NaN for n == 0, never used so). */
    static double mean(double[] a, int n) {
        return pairwiseSum(a, 0, n) / n;
    }

    /** Python's {@code '{:0.Nf}'.format(v)}: exact binary value, rounded half-to-even. */
    static String formatFixed(double v, int places) {
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        BigDecimal d = new BigDecimal(v).setScale(places, RoundingMode.HALF_EVEN);
        String s = d.toPlainString();
        // Python keeps the sign of a negative value that rounds to zero ("-0.000"); BigDecimal drops it.
        if ((v < 0 || (v == 0 && 1 / v < 0)) && d.signum() == 0) {
            s = "-" + s;
        }
        return s;
    }
}
