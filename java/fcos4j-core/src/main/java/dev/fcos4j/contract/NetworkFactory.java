package dev.fcos4j.contract;

import dev.fcos4j.Backend;

import java.nio.file.Path;
import java.util.Map;

/**
 * Opens contract models for one {@link Backend}; found through {@link java.util.ServiceLoader} by the
 * {@link dev.fcos4j.Detector} for backends other than {@link Backend#CPU} (which core serves itself), so that
 * the CPU path never loads a GPU class.
 */
public interface NetworkFactory {
    /** The backend this factory serves. */
    Backend backend();

    /**
     * Loads and validates a model.
     *
     * @param model   the model file (ONNX, or whatever the backend reads)
     * @param options backend-specific options (keys documented by the backend); unknown keys are an error
     */
    Network open(Path model, Map<String, String> options);
}
