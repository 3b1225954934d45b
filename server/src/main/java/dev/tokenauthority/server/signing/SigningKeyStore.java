package dev.tokenauthority.server.signing;

import java.util.List;

/** Storage of signing keys. Implementations are thread-safe; a write returns once committed. */
public interface SigningKeyStore {
  /** Every stored signing key, newest first. */
  List<SigningKey> listSigningKeys();

  /** Stores a new signing key; the newest key is the active one. */
  void insertSigningKey(SigningKey key);
}
