package dev.sluice.core;

/**
 * What a check does, as every algorithm's twin reports it.
 *
 * @param decision the answer
 * @param write the state to store, in exactly the form the algorithm's script writes it, or
 *     {@code null} when nothing is written (a look or a denial)
 * @param ttlMs the time to live of {@code write}, in milliseconds
 */
public record Outcome(Decision decision, String write, long ttlMs) {}
