package dev.sluice.api;

/** One field that made a request invalid, as RFC 9457's {@code invalid-params} lists it. */
public record InvalidParam(String name, String reason) {}
