package dev.fcos4j.nativ;

import java.util.Locale;

/** Which build of the fcos4j C API runs the post-processing kernels. */
public enum Flavour {
    /** The CUDA kernels compiled by g++ and executed on the CPU by the emulation layer: for verification; slow. */
    EMULATED,
    /** The CUDA kernels on an NVIDIA GPU (libfcos4j.so; needs a driver and a device at run time). */
    CUDA;

    /** Lower-case name, as used by {@code fcos4j.native.flavour} and the CLI. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code emulated} or {@code cuda} (case-insensitive). */
    public static Flavour parse(String s) {
        for (Flavour f : values()) {
            if (f.id().equalsIgnoreCase(s == null ? "" : s.trim())) {
                return f;
            }
        }
        throw new dev.fcos4j.ConfigurationException("unknown native flavour '" + s + "' (fcos4j.native.flavour): expected emulated or cuda");
    }
}
