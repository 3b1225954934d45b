package dev.tokenauthority.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which {@code --store} values start which store, and which kinds replicas may share. */
class StoreKindTest {

  @Test
  void ofSetting_namesAndUrls_inAnyCase() {
    assertThat(StoreKind.ofSetting("sqlite")).contains(StoreKind.SQLITE);
    assertThat(StoreKind.ofSetting("SQLite")).contains(StoreKind.SQLITE);
    assertThat(StoreKind.ofSetting("memory")).contains(StoreKind.MEMORY);
    assertThat(StoreKind.ofSetting("jdbc:postgresql://db.internal:5432/authority?sslmode=require")).contains(StoreKind.POSTGRES);
    assertThat(StoreKind.ofSetting("JDBC:PostgreSQL://db/authority")).contains(StoreKind.POSTGRES);
    // The driver's other URL forms (a database on localhost) are PostgreSQL too.
    assertThat(StoreKind.ofSetting("jdbc:postgresql:authority")).contains(StoreKind.POSTGRES);
  }

  @Test
  void ofSetting_anythingElse_isEmpty() {
    assertThat(StoreKind.ofSetting("postgres")).isEmpty();
    assertThat(StoreKind.ofSetting("sqlite ")).isEmpty();
    assertThat(StoreKind.ofSetting("")).isEmpty();
    assertThat(StoreKind.ofSetting("jdbc:mysql://db/authority")).isEmpty();
  }

  @Test
  void onlyPostgres_isSharedByReplicas_andEachLogsItsName() {
    assertThat(StoreKind.POSTGRES.shared()).isTrue();
    assertThat(StoreKind.SQLITE.shared()).isFalse();
    assertThat(StoreKind.MEMORY.shared()).isFalse();
    assertThat(StoreKind.SQLITE).hasToString("sqlite");
  }
}
