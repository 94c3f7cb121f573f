package dev.sluice.chaos.toxiproxy;

/** An API error answered as Toxiproxy does: the status and {@code {"error": ..., "status": ...}}. */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;

    ApiException(int status, String message) {
        super(message);
        this.status = status;
    }
}
