package dev.sluice.scope;

/** A check whose request facts cannot give the policy its subject: names the field. */
public final class ScopeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String field;

    public ScopeException(String field, String reason) {
        super(reason);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
