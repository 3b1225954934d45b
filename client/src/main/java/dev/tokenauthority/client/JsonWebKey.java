package dev.tokenauthority.client;

/**
 * One public key of the authority's JWK Set (RFC 7517; RFC 8037 for Ed25519): {@code kty}
 * {@code OKP}, {@code crv} {@code Ed25519}, the raw public key {@code x} in base64url.
 */
public record JsonWebKey(String kid, String kty, String crv, String alg, String use, String x) {}
