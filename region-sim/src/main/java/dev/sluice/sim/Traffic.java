package dev.sluice.sim;

/** How the offered load is spread over the regions at a (virtual) time: fractions that add up to 1. */
@FunctionalInterface
public interface Traffic {
    /** Region {@code region}'s fraction of the load at {@code t} (µs), of {@code regions}. */
    double weight(int region, int regions, long t);

    /** Every region the same. */
    static Traffic uniform() {
        return (i, r, t) -> 1.0 / r;
    }

    /** Fixed fractions, e.g. 0.8, 0.1, 0.1 (the rest, if any, split evenly over the regions not named). */
    static Traffic skewed(double... fractions) {
        return (i, r, t) -> {
            if (i < fractions.length) {
                return fractions[i];
            }
            double named = 0;
            for (double f : fractions) {
                named += f;
            }
            return Math.max(0, 1 - named) / Math.max(1, r - fractions.length);
        };
    }

    /** {@code before} until {@code at}, then {@code after}. */
    static Traffic step(Traffic before, Traffic after, long at) {
        return (i, r, t) -> t < at ? before.weight(i, r, t) : after.weight(i, r, t);
    }

    /**
     * Follow the sun: the load moves around the regions once per {@code dayMicros}; each region's
     * weight is a raised cosine peaking at its own time of day, normalised so the weights add up to 1.
     */
    static Traffic followTheSun(long dayMicros) {
        return (i, r, t) -> {
            double sum = 0;
            double mine = 0;
            for (int j = 0; j < r; j++) {
                double phase = 2 * Math.PI * ((double) t / dayMicros - (double) j / r);
                double w = 0.05 + Math.max(0, Math.cos(phase));
                sum += w;
                if (j == i) {
                    mine = w;
                }
            }
            return mine / sum;
        };
    }
}
