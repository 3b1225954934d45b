package dev.tokenauthority.client.cli;

import picocli.CommandLine.IVersionProvider;

/** The CLI's version, from the jar's manifest. */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = VersionProvider.class.getPackage().getImplementationVersion();
    return new String[] {"token-authority CLI " + (version == null ? "(development build)" : version)};
  }
}
