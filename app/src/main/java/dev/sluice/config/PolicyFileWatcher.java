package dev.sluice.config;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the policies of {@code limiter.policy-file} in force: read at start-up (an unusable file
 * stops the service), then looked at every {@code limiter.policy-file-poll} (1 s) and re-read when its
 * content changes. A new file is checked as a whole; a valid one replaces the file's policies at
 * once (the next check uses them), an invalid one is reported (log, {@code /health} details, metric
 * {@code sluice_policy_file_valid} 0) and the last good policies stay in force.
 */
@Context
@Requires(property = "limiter.policy-file")
public class PolicyFileWatcher implements HealthIndicator {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyFileWatcher.class);

    private final PolicyRegistry registry;
    private final Path file;
    private final ScheduledExecutorService poller;
    private final Counter reloadsOk;
    private final Counter reloadsInvalid;
    private volatile byte[] lastDigest;
    private volatile Map<String, Policy> current = Map.of();
    private volatile List<String> problems = List.of();
    private volatile Instant loadedAt;
    private volatile Instant checkedAt;
    private final dev.sluice.core.NodeClock clock;

    public PolicyFileWatcher(
            PolicyRegistry registry,
            LimiterProperties properties,
            dev.sluice.core.NodeClock clock,
            MeterRegistry meters) {
        this.clock = clock;
        this.registry = registry;
        this.file = Path.of(properties.getPolicyFile());
        this.reloadsOk = Counter.builder("sluice.policy.file.reloads")
                .tag("result", "ok")
                .register(meters);
        this.reloadsInvalid = Counter.builder("sluice.policy.file.reloads")
                .tag("result", "invalid")
                .register(meters);
        Gauge.builder("sluice.policy.file.valid", this, w -> w.problems.isEmpty() ? 1 : 0)
                .description("1 when the policy file in force is the file on disk, 0 when that file is invalid")
                .register(meters);
        try {
            load(true);
        } catch (PolicyFile.Invalid e) {
            throw PolicyFile.atStartUp(file.toString(), e);
        }
        long every = Math.max(50, properties.getPolicyFilePoll().toMillis());
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-policy-file");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::poll, every, every, TimeUnit.MILLISECONDS);
    }

    private void poll() {
        try {
            load(false);
        } catch (PolicyFile.Invalid e) {
            // reported in load
        } catch (RuntimeException e) {
            LOG.warn("Policy file {} could not be checked: {}", file, e.toString());
        }
    }

    /** Reads the file if its content changed; applies it when valid. */
    private synchronized void load(boolean startUp) {
        checkedAt = clock.now();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            PolicyFile.Invalid invalid = new PolicyFile.Invalid(List.of("the file cannot be read: " + e));
            if (!startUp && problems.isEmpty()) {
                LOG.warn(
                        "Policy file {} cannot be read ({}); the last good policies stay in force", file, e.toString());
            }
            problems = invalid.problems();
            lastDigest = null;
            throw invalid;
        }
        byte[] digest = sha256(bytes);
        if (lastDigest != null && Arrays.equals(digest, lastDigest)) {
            return;
        }
        lastDigest = digest;
        Map<String, Policy> fresh;
        try {
            fresh = PolicyFile.parse(new String(bytes, StandardCharsets.UTF_8), file.toString());
        } catch (PolicyFile.Invalid e) {
            problems = e.problems();
            if (!startUp) {
                reloadsInvalid.increment();
                LOG.warn(
                        "Policy file {} is invalid; the last good policies stay in force:\n  {}",
                        file,
                        String.join("\n  ", e.problems()));
            }
            throw e;
        }
        Map<String, Policy> before = current;
        registry.replaceFilePolicies(fresh);
        current = fresh;
        problems = List.of();
        loadedAt = clock.now();
        if (!startUp) {
            reloadsOk.increment();
        }
        LOG.info("Policy file {} {}: {}", file, startUp ? "loaded" : "reloaded", describe(before, fresh));
    }

    private static String describe(Map<String, Policy> before, Map<String, Policy> after) {
        TreeSet<String> added = new TreeSet<>(after.keySet());
        added.removeAll(before.keySet());
        TreeSet<String> removed = new TreeSet<>(before.keySet());
        removed.removeAll(after.keySet());
        TreeSet<String> changed = new TreeSet<>();
        after.forEach((name, p) -> {
            if (before.containsKey(name) && !p.sameAs(before.get(name))) {
                changed.add(name);
            }
        });
        return after.size() + " policies (added " + added + ", changed " + changed + ", removed " + removed + ")";
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Publisher<HealthResult> getResult() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("file", file.toString());
        details.put("valid", problems.isEmpty());
        details.put("policies", new TreeSet<>(current.keySet()));
        details.put("loadedAt", String.valueOf(loadedAt));
        details.put("checkedAt", String.valueOf(checkedAt));
        if (!problems.isEmpty()) {
            details.put("problems", problems);
            details.put("inForce", "the last good file, loaded at " + loadedAt);
        }
        // UP either way: the node decides with the last good policies; an invalid file is an
        // operator's mistake to fix, not a reason to take the node out of the load balancer
        return Publishers.just(HealthResult.builder("policyFile", HealthStatus.UP)
                .details(details)
                .build());
    }

    @PreDestroy
    void stop() {
        poller.shutdownNow();
    }
}
