package dev.fcos4j.tensorrt;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A raw address (device or pinned host) as a JavaCPP pointer with position 0, so that offsets are plain address
 * arithmetic here instead of JavaCPP's element positions.
 */
final class Address extends Pointer {
    Address(long address) {
        this.address = address;
    }

    /** The pointer {@code offset} bytes further. */
    static Address at(Pointer base, long offset) {
        return new Address(base.address() + offset);
    }

    /** A native-order direct view of {@code bytes} bytes at {@code base + offset} (host memory only). */
    static ByteBuffer view(Pointer base, long offset, long bytes) {
        return new BytePointer(at(base, offset)).capacity(bytes).asByteBuffer().order(ByteOrder.nativeOrder());
    }
}
