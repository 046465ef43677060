/**
 * Images in, network input out: {@link dev.fcos4j.preprocess.Preprocessor} decodes (OpenCV), resizes keeping
 * the aspect ratio as mmdetection or torchvision would ({@link dev.fcos4j.preprocess.PreprocessConfig.ResizePolicy}),
 * normalizes and zero-pads a batch into an {@link dev.fcos4j.preprocess.ImageBatch} with one
 * {@link dev.fcos4j.preprocess.ImageMeta} per image; {@link dev.fcos4j.preprocess.Images} holds the decoding
 * and pixel-format rules.
 */
package dev.fcos4j.preprocess;
