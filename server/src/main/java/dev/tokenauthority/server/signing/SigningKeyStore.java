package dev.tokenauthority.server.signing;

import java.util.List;

/** Storage of signing keys. Implementations are thread-safe; a write returns once committed. */
public interface SigningKeyStore {
  /** Every stored signing key, newest first. */
  List<SigningKey> listSigningKeys();

  /** Stores a new signing key; the newest key is the active one. */
  void insertSigningKey(SigningKey key);

  /**
   * Erases a retired key's private half (stored empty from then on): it never signs again, and
   * a copy of the store (a backup, a read-only role) cannot sign with it. Its public half stays.
   */
  void forgetPrivateKey(String kid);

  /** Deletes a key no token it signed can outlive any more; nothing when it is gone already. */
  void deleteSigningKey(String kid);
}
