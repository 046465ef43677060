package dev.fcos4j.tensorrt;

import dev.fcos4j.Backend;
import dev.fcos4j.contract.Network;
import dev.fcos4j.contract.NetworkFactory;

import java.nio.file.Path;
import java.util.Map;

/**
 * The {@link NetworkFactory} of {@link Backend#GPU_TENSORRT}, found by the {@link dev.fcos4j.Detector} through
 * {@link java.util.ServiceLoader}. Creating it loads nothing native; {@link #open} first checks the options (plain
 * Java), then loads CUDA and TensorRT.
 *
 * <p>Options ({@link TensorRtOptions}): {@code precision} fp32|fp16, {@code engine_cache} DIR, {@code max_batch},
 * {@code max_height}, {@code max_width}, {@code device}, {@code contexts}. Unknown keys are a
 * {@link dev.fcos4j.ConfigurationException} naming the key.
 */
public final class TensorRtNetworkFactory implements NetworkFactory {
    /** For {@link java.util.ServiceLoader}. */
    public TensorRtNetworkFactory() {
    }

    @Override
    public Backend backend() {
        return Backend.GPU_TENSORRT;
    }

    @Override
    public Network open(Path model, Map<String, String> options) {
        return TensorRtNetwork.open(model, TensorRtOptions.parse(options));
    }
}
