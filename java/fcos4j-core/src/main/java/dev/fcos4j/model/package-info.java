/**
 * Model generators: {@link dev.fcos4j.model.TinyFcosModel}, a small untrained FCOS-architecture contract model
 * (and deliberately broken variants) written in pure Java at build or test time.
 */
package dev.fcos4j.model;
