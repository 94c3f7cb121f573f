package dev.sluice.bench.peers;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

/** The body of {@code POST /v1/check}, as Sluice takes it (the peers read policy and key only). */
@Serdeable
record CheckRequest(@Nullable String policy, String key) {}
