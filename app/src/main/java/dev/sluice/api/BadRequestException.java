package dev.sluice.api;

import java.util.List;

/** A request rejected before anything is consumed: 400 (or 404 for an unknown policy). */
public final class BadRequestException extends RuntimeException {
    private final int status;
    private final transient List<InvalidParam> params;

    public BadRequestException(int status, List<InvalidParam> params) {
        super(params.getFirst().name() + ": " + params.getFirst().reason(), null, false, false);
        this.status = status;
        this.params = List.copyOf(params);
    }

    public static BadRequestException of(String field, String reason) {
        return new BadRequestException(400, List.of(new InvalidParam(field, reason)));
    }

    public int status() {
        return status;
    }

    public List<InvalidParam> params() {
        return params;
    }
}
