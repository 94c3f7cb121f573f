package dev.sluice.limiter;

import dev.sluice.config.Policy;

/**
 * One check to decide: {@code cost} units (0: a look) of {@code key}'s allowance under {@code policy}
 * for a caller of {@code tier} ({@code null}: the default).
 */
public record Check(Policy policy, String key, long cost, String tier) {}
