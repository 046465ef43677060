/**
 * The fcos4j model contract (engines/CONTRACT.md) as code: {@link dev.fcos4j.contract.ModelMetadata} (the
 * {@code fcos4j.*} metadata keys), {@link dev.fcos4j.contract.ModelContract} (tensor names, level sizes,
 * validation), {@link dev.fcos4j.contract.HeadTensors} (the head outputs handed to post-processing), and the
 * backend-neutral {@link dev.fcos4j.contract.Network} / {@link dev.fcos4j.contract.NetworkFactory} that the CPU
 * and GPU backends implement.
 */
package dev.fcos4j.contract;
