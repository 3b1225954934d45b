package dev.tokenauthority.server.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Whether this machine is one the server's jar carries AWS-LC's Ed25519 for. */
public final class NativePlatform {
  private NativePlatform() {}

  /**
   * Linux on x86-64 with glibc (the library is built for it; musl, as on Alpine, does not load
   * it), where the server must sign natively; elsewhere it must fall back to BouncyCastle.
   */
  public static boolean carriesAwsLc() {
    return System.getProperty("os.name").equals("Linux")
        && System.getProperty("os.arch").equals("amd64")
        && !Files.exists(Path.of("/lib/ld-musl-x86_64.so.1"));
  }
}
