package dev.tokenauthority.server.store.jdbc;

import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.signing.SigningKeyStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Signing keys in the {@code signing_keys} table. */
final class JdbcSigningKeyStore implements SigningKeyStore {
  private final Database db;

  JdbcSigningKeyStore(Database db) {
    this.db = db;
  }

  @Override
  public List<SigningKey> listSigningKeys() {
    return db.read(
        s -> {
          PreparedStatement ps =
              s.prepare("SELECT kid, private_key, public_key, create_time FROM signing_keys ORDER BY create_time DESC, kid DESC");
          List<SigningKey> out = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(new SigningKey(rs.getString(1), rs.getBytes(2), rs.getBytes(3), Instant.ofEpochMilli(rs.getLong(4))));
            }
          }
          return out;
        });
  }

  @Override
  public void insertSigningKey(SigningKey key) {
    db.write(
        s -> {
          PreparedStatement ps =
              s.prepare("INSERT INTO signing_keys (kid, private_key, public_key, create_time) VALUES (?, ?, ?, ?)");
          ps.setString(1, key.kid());
          ps.setBytes(2, key.privateKeyPkcs8());
          ps.setBytes(3, key.publicKeyX509());
          ps.setLong(4, key.createTime().toEpochMilli());
          return ps.executeUpdate();
        });
  }

  @Override
  public void forgetPrivateKey(String kid) {
    db.write(
        s -> {
          PreparedStatement ps = s.prepare("UPDATE signing_keys SET private_key = ? WHERE kid = ?");
          ps.setBytes(1, new byte[0]);
          ps.setString(2, kid);
          return ps.executeUpdate();
        });
    db.scrubErased();
  }

  @Override
  public void deleteSigningKey(String kid) {
    db.write(
        s -> {
          PreparedStatement ps = s.prepare("DELETE FROM signing_keys WHERE kid = ?");
          ps.setString(1, kid);
          return ps.executeUpdate();
        });
  }
}
