package dev.sluice.store;

/** Whose allowance a check draws on: one user key under one policy. */
public record Subject(String policy, String key) {}
