package dev.fcos4j.eval;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;

import java.io.IOException;

/** Streaming JSON helpers shared by the ground-truth and results readers (no tree of the whole file is built). */
final class CocoJson {
    /**
     * Python's json module accepts NaN and Infinity literals, so the reference would read them; we parse them too
     * and then reject them with a message naming the record, instead of failing with a bare syntax error.
     */
    static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE / 2).build())
            .build();

    private CocoJson() {
    }

    /** Reads a number token as double (Jackson's parsing is correctly rounded, like Python's float()). */
    static double number(JsonParser p, String where, String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
            return p.getDoubleValue();
        }
        throw new CocoFormatException(where + ": field '" + field + "' must be a number, got " + describe(p));
    }

    /** Reads an integral id (an integer, or a float with an integral value, which Python compares equal). */
    static long id(JsonParser p, String where, String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT) {
            switch (p.getNumberType()) {
                case INT, LONG:
                    return p.getLongValue();
                default:
                    throw new CocoFormatException(where + ": field '" + field + "' is out of the 64-bit range: " + p.getText());
            }
        }
        if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            double v = p.getDoubleValue();
            if (v == Math.rint(v) && Math.abs(v) < 0x1p53) {
                return (long) v;
            }
        }
        throw new CocoFormatException(where + ": field '" + field + "' must be an integer id, got " + describe(p));
    }

    /** iscrowd: 0/1 (any integral number) or a boolean; true when non-zero. */
    static boolean flag(JsonParser p, String where, String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
            return t == JsonToken.VALUE_TRUE;
        }
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
            double v = p.getDoubleValue();
            if (v == Math.rint(v)) {
                return v != 0;
            }
        }
        throw new CocoFormatException(where + ": field '" + field + "' must be 0, 1 or a boolean, got " + describe(p));
    }

    /** Reads a {@code [x, y, w, h]} array into {@code out}; the parser is on START_ARRAY. */
    static void bbox(JsonParser p, String where, double[] out) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new CocoFormatException(where + ": field 'bbox' must be an array [x, y, width, height], got " + describe(p));
        }
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == null) {
                throw new CocoFormatException(where + ": unexpected end of input inside 'bbox'");
            }
            if (n >= 4) {
                throw new CocoFormatException(where + ": field 'bbox' must have exactly 4 numbers, got more");
            }
            out[n] = number(p, where, "bbox[" + n + "]");
            n++;
        }
        if (n != 4) {
            throw new CocoFormatException(where + ": field 'bbox' must have exactly 4 numbers, got " + n);
        }
    }

    static String describe(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) {
            return "end of input";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "the string \"" + abbreviate(p.getText()) + "\"";
            case VALUE_NULL -> "null";
            default -> abbreviate(p.getText());
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** Validates a box: finite numbers, non-negative width and height. */
    static void checkBox(String where, double x, double y, double w, double h) {
        if (!Double.isFinite(x) || !Double.isFinite(y) || !Double.isFinite(w) || !Double.isFinite(h)) {
            throw new CocoFormatException(where + ": bbox has a non-finite value [" + x + ", " + y + ", " + w + ", " + h + "]");
        }
        if (w < 0 || h < 0) {
            throw new CocoFormatException(where + ": bbox has a negative width or height [" + x + ", " + y + ", " + w + ", " + h + "]");
        }
    }
}
