/**
 * The {@code fcos4j} command line ({@link dev.fcos4j.cli.Main}): {@code detect} and {@code postprocess}; see the
 * module's README.md for options, outputs and exit codes.
 */
package dev.fcos4j.cli;
