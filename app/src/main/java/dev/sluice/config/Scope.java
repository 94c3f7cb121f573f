package dev.sluice.config;

import java.util.Locale;

/** Whose allowance a policy's checks draw on. */
public enum Scope {
    /** The caller's own key ({@code "key"} in the check): the default. */
    KEY("key"),
    /** The client's IP address, behind trusted proxies; IPv6 grouped by prefix. */
    IP("ip"),
    /** The API key the client presented (stored as a hash, never in clear). */
    API_KEY("api-key"),
    /** The endpoint: method and route template. */
    ENDPOINT("endpoint"),
    /** One allowance for everyone. */
    GLOBAL("global");

    private final String value;

    Scope(String value) {
        this.value = value;
    }

    public String value() {
        return value;
    }

    /** The scope named {@code value}, or {@code null}. */
    public static Scope of(String value) {
        for (Scope s : values()) {
            if (s.value.equals(value == null ? null : value.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        return null;
    }
}
