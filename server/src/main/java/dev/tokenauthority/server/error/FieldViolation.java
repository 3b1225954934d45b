package dev.tokenauthority.server.error;

/** One invalid request field: its proto field path and what is wrong with it. */
public record FieldViolation(String field, String description) {}
