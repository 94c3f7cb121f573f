package dev.sluice.limiter;

import dev.sluice.config.Policy;
import dev.sluice.core.Decision;

/**
 * A decision as the API reports it.
 *
 * @param policy the policy checked
 * @param key the user's key
 * @param decision the decision; for {@code unavailable} a denial with a retry time
 * @param degraded the shared store was not consulted (fallback, fail-open or fail-closed)
 * @param unavailable the store failed and the policy fails closed: answer 503, not 429
 */
public record Verdict(Policy policy, String key, Decision decision, boolean degraded, boolean unavailable) {}
