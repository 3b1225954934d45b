package dev.tokenauthority.server.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A PostgreSQL database of each test's own ({@link TestPostgres}): made before the test and
 * dropped after it, with whatever is still connected. Register it with
 * {@code @RegisterExtension}; the test class's own {@code @AfterEach} methods run before the drop.
 */
public final class FreshPostgresDatabase implements BeforeEachCallback, AfterEachCallback {
  private String url;

  @Override
  public void beforeEach(ExtensionContext context) {
    url = TestPostgres.newDatabase();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (url != null) {
      TestPostgres.dropDatabase(url);
      url = null;
    }
  }

  /** The JDBC URL of this test's database. */
  public String url() {
    return url;
  }

  /** The URL with one more parameter ({@code name=value}, URL-encoded). */
  public String urlWith(String parameter) {
    return url + (url.contains("?") ? "&" : "?") + parameter;
  }

  /** The database's name, as SQL names it. */
  public String name() {
    return url.replaceAll(".*/([^/?]+)(\\?.*)?$", "$1");
  }
}
