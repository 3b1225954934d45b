package dev.tokenauthority.server.signing;

import java.time.Instant;

/** What a session token states: who it is for, for what, and when it is valid. */
public record SessionClaims(
    String sessionId, String tenantId, String subject, String audience, Instant issueTime, Instant expireTime) {}
