package dev.sluice.scope;

/**
 * What a check tells about the request being limited, for policies that derive the subject
 * themselves (scopes other than {@code key}). Every field may be {@code null}.
 *
 * @param remoteAddress the address of the peer that connected to the caller (the TCP peer)
 * @param xForwardedFor the {@code X-Forwarded-For} header as received
 * @param forwarded the RFC 7239 {@code Forwarded} header as received
 * @param apiKey the API key the client presented
 * @param method the HTTP method
 * @param path the request path (a query is ignored)
 */
public record RequestFacts(
        String remoteAddress, String xForwardedFor, String forwarded, String apiKey, String method, String path) {
    public static final RequestFacts NONE = new RequestFacts(null, null, null, null, null, null);
}
