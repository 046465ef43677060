/**
 * Files in and out: numpy arrays ({@link dev.fcos4j.io.Npz}), post-processing fixtures
 * ({@link dev.fcos4j.io.PostprocessFixture}), detections as fcos4j's JSON ({@link dev.fcos4j.io.DetectionsJson})
 * or COCO results ({@link dev.fcos4j.io.CocoResultsWriter}, {@link dev.fcos4j.io.CocoCategories}), and annotated
 * images ({@link dev.fcos4j.io.AnnotatedImageWriter}). Errors are {@link dev.fcos4j.io.DataFileException}s
 * naming the file and the array or record at fault.
 */
package dev.fcos4j.io;
