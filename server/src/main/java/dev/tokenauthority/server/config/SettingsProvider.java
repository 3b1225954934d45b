package dev.tokenauthority.server.config;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where a setting comes from when its flag is not given: the environment variable
 * {@code TOKEN_AUTHORITY_<OPTION>} ({@code --data-dir}: {@code TOKEN_AUTHORITY_DATA_DIR}), then
 * the configuration file, then the option's built-in default. picocli asks this only for options
 * missing from the command line, which gives the order flag, environment, file, default. It
 * remembers where each value came from, so that an error can name it.
 */
public final class SettingsProvider implements CommandLine.IDefaultValueProvider {
  public static final String ENV_PREFIX = "TOKEN_AUTHORITY_";

  private final Map<String, String> env;
  private final ConfigFile file;
  private final Map<String, String> origins = new ConcurrentHashMap<>();

  public SettingsProvider(Map<String, String> env, ConfigFile file) {
    this.env = Map.copyOf(env);
    this.file = file;
  }

  /** {@code --data-dir} → {@code TOKEN_AUTHORITY_DATA_DIR}. */
  public static String envName(String option) {
    return ENV_PREFIX + key(option).toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** {@code --data-dir} → {@code data-dir}, the option's key in a configuration file. */
  public static String key(String option) {
    return option.replaceFirst("^-+", "");
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option) || option.usageHelp() || option.versionHelp()) {
      return null;
    }
    String name = option.longestName();
    String fromEnv = env.get(envName(name));
    // An empty variable (X= in a shell or a compose file) counts as unset.
    if (fromEnv != null && !fromEnv.isEmpty()) {
      origins.put(name, envName(name));
      return fromEnv;
    }
    String fromFile = file.get(key(name));
    if (fromFile != null) {
      origins.put(name, key(name) + " in " + file.path());
      return fromFile;
    }
    return null;
  }

  /**
   * How an error names a setting: {@code --port}, or {@code --port (TOKEN_AUTHORITY_PORT)} when
   * its value came from the environment, {@code --port (port in /etc/ta.properties)} from the file.
   */
  public String describe(String option) {
    String origin = origins.get(option);
    return origin == null ? option : option + " (" + origin + ")";
  }
}
