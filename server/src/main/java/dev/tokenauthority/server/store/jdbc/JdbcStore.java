package dev.tokenauthority.server.store.jdbc;

import dev.tokenauthority.server.apikey.ApiKeyStore;
import dev.tokenauthority.server.ratelimit.RateLimitStore;
import dev.tokenauthority.server.session.SessionStore;
import dev.tokenauthority.server.signing.SigningKeyStore;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.tenant.TenantStore;

/**
 * The store on a SQL database, in SQL that SQLite and PostgreSQL both speak: one class per
 * table (or pair of tables written together) over the shared {@link Database}.
 */
public final class JdbcStore implements Store {
  private final StoreKind kind;
  private final Database db;
  private final TenantStore tenants;
  private final ApiKeyStore apiKeys;
  private final SessionStore sessions;
  private final SigningKeyStore signingKeys;
  private final RateLimitStore rateLimits;

  /** @param kind {@link StoreKind#SQLITE} or {@link StoreKind#POSTGRES} */
  public JdbcStore(StoreKind kind, Database db) {
    this.kind = kind;
    this.db = db;
    this.tenants = new JdbcTenantStore(db);
    this.apiKeys = new JdbcApiKeyStore(db);
    this.sessions = new JdbcSessionStore(db);
    this.signingKeys = new JdbcSigningKeyStore(db);
    this.rateLimits = new JdbcRateLimitStore(db);
  }

  @Override
  public TenantStore tenants() {
    return tenants;
  }

  @Override
  public ApiKeyStore apiKeys() {
    return apiKeys;
  }

  @Override
  public SessionStore sessions() {
    return sessions;
  }

  @Override
  public SigningKeyStore signingKeys() {
    return signingKeys;
  }

  @Override
  public RateLimitStore rateLimits() {
    return rateLimits;
  }

  @Override
  public StoreKind kind() {
    return kind;
  }

  @Override
  public boolean isServing() {
    return db.isServing();
  }

  @Override
  public void close() {
    db.close();
  }
}
