package dev.tokenauthority.server.config;

/**
 * A setting that stops the start: its option name and what is wrong with it, printed as the
 * one line {@code token-authority: --port (TOKEN_AUTHORITY_PORT): ...}.
 */
public final class SettingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String setting;

  /**
   * @param setting the option's name, e.g. {@code --port}
   * @param problem what is wrong, for people; never a secret
   */
  public SettingException(String setting, String problem) {
    super(problem, null, false, false);
    this.setting = setting;
  }

  public String setting() {
    return setting;
  }
}
