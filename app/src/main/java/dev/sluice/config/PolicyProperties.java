package dev.sluice.config;

import io.micronaut.context.annotation.EachProperty;
import io.micronaut.context.annotation.Parameter;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One policy as written under {@code limiter.policies.<name>.*}; checked and turned into a
 * {@link Policy} by {@link PolicyRegistry} at start-up.
 */
@EachProperty("limiter.policies")
public class PolicyProperties {
    private final String name;
    private String algorithm = "token-bucket";
    private Long limit;
    private Duration period;
    private Long burst;
    private String onStoreFailure = FailureMode.OPEN.value();
    private Duration leaseTtl;
    private String scope = Scope.KEY.value();
    private Integer ipv6Prefix;
    private List<String> routes;
    private Map<String, String> tiers;
    private Map<String, String> reserve;
    private String regions = "regional";

    public PolicyProperties(@Parameter String name) {
        this.name = name;
    }

    public String getName() {
        return name;
    }

    /**
     * {@code token-bucket} (the default), {@code gcra}, {@code fixed-window}, {@code
     * sliding-window-counter}, {@code sliding-window-log} or {@code concurrency}.
     */
    public String getAlgorithm() {
        return algorithm;
    }

    public void setAlgorithm(String algorithm) {
        this.algorithm = algorithm;
    }

    /** Units admitted per period; required, at least 1. */
    public Long getLimit() {
        return limit;
    }

    public void setLimit(Long limit) {
        this.limit = limit;
    }

    /** The period, a Micronaut duration ({@code 500ms}, {@code 1s}, {@code 1m}, {@code 1h}, {@code 1d}); required. */
    public Duration getPeriod() {
        return period;
    }

    public void setPeriod(Duration period) {
        this.period = period;
    }

    /** Token bucket capacity; defaults to {@code limit}. Other algorithms admit {@code limit} per period. */
    public Long getBurst() {
        return burst;
    }

    public void setBurst(Long burst) {
        this.burst = burst;
    }

    /** {@code open} (default), {@code closed} or {@code local}. */
    public String getOnStoreFailure() {
        return onStoreFailure;
    }

    public void setOnStoreFailure(String onStoreFailure) {
        this.onStoreFailure = onStoreFailure;
    }

    /**
     * {@code regional} (default: each region holds the limit on its own) or {@code global} (one
     * limit across all regions: docs/multi-region.md).
     */
    public String getRegions() {
        return regions;
    }

    public void setRegions(String regions) {
        this.regions = regions;
    }

    /** For {@code concurrency}: how long a lease lives unless released. Default 60s. */
    public Duration getLeaseTtl() {
        return leaseTtl;
    }

    public void setLeaseTtl(Duration leaseTtl) {
        this.leaseTtl = leaseTtl;
    }

    /** {@code key} (default: the caller's key), {@code ip}, {@code api-key}, {@code endpoint} or {@code global}. */
    public String getScope() {
        return scope;
    }

    public void setScope(String scope) {
        this.scope = scope;
    }

    /** For scope {@code ip}: IPv6 clients are grouped by this prefix length. Default 64. */
    public Integer getIpv6Prefix() {
        return ipv6Prefix;
    }

    public void setIpv6Prefix(Integer ipv6Prefix) {
        this.ipv6Prefix = ipv6Prefix;
    }

    /** For scope {@code endpoint}: route templates such as {@code /users/{id}}. */
    public List<String> getRoutes() {
        return routes;
    }

    public void setRoutes(List<String> routes) {
        this.routes = routes;
    }

    /** Per-tier limits: tier name to {@code <limit>/<period>}, optionally {@code burst <n>}, e.g. {@code 600/1m}. */
    public Map<String, String> getTiers() {
        return tiers;
    }

    public void setTiers(Map<String, String> tiers) {
        this.tiers = tiers;
    }

    /** Shares of the capacity reserved per tier, tier name to a percentage such as {@code 20%}. */
    public Map<String, String> getReserve() {
        return reserve;
    }

    public void setReserve(Map<String, String> reserve) {
        this.reserve = reserve;
    }
}
