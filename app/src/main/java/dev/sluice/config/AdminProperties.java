package dev.sluice.config;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.util.ArrayList;
import java.util.List;

/**
 * The admin API's credentials, {@code limiter.admin.*} ({@code LIMITER_ADMIN_TOKENS=tok1,tok2}):
 * {@code /admin/**} answers only requests with {@code Authorization: Bearer <one of them>}. None
 * configured: the admin API refuses every request (401).
 */
@ConfigurationProperties("limiter.admin")
public class AdminProperties {
    /** The admin bearer tokens; use long random strings (e.g. {@code openssl rand -base64 32}). */
    private List<String> tokens = new ArrayList<>();

    /** Tokens the calling services present on {@code /v1/**}; none: {@code /v1/**} is open. */
    private List<String> serviceTokens = new ArrayList<>();

    public List<String> getServiceTokens() {
        return serviceTokens;
    }

    public void setServiceTokens(List<String> serviceTokens) {
        this.serviceTokens = serviceTokens;
    }

    public List<String> getTokens() {
        return tokens;
    }

    public void setTokens(List<String> tokens) {
        this.tokens = tokens;
    }
}
