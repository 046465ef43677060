/** Reused native memory: the pool behind the preprocessed input and the network's output buffers. */
package dev.fcos4j.memory;
