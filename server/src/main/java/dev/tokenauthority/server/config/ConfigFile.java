package dev.tokenauthority.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * A configuration file: Java properties ({@code key = value} lines, {@code #} comments), one key
 * per option, named like the option without its dashes ({@code port = 50051},
 * {@code data-dir = /var/lib/token-authority}). A key that names no setting stops the start, so
 * that a typo is not silently ignored.
 */
public final class ConfigFile {
  /** The option that names the file; also the setting reported when the file itself is wrong. */
  public static final String OPTION = "--config";

  private final Path path;
  private final Map<String, String> values;

  private ConfigFile(Path path, Map<String, String> values) {
    this.path = path;
    this.values = values;
  }

  /** No file: every lookup is empty. */
  public static ConfigFile none() {
    return new ConfigFile(null, Map.of());
  }

  /**
   * Reads the file and checks every key against {@code knownKeys}.
   *
   * @throws SettingException naming {@code --config} when it cannot be read or has an unknown key
   */
  public static ConfigFile load(Path path, Set<String> knownKeys) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new SettingException(OPTION, "cannot read " + path + ": " + describe(e));
    }
    Map<String, String> values = new TreeMap<>();
    for (String key : properties.stringPropertyNames()) {
      if (!knownKeys.contains(key)) {
        throw new SettingException(
            OPTION, path + " has an unknown setting '" + key + "' (settings are the option names without dashes, e.g. port)");
      }
      values.put(key, properties.getProperty(key).strip());
    }
    return new ConfigFile(path, Collections.unmodifiableMap(values));
  }

  private static String describe(Exception e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** The value of a key ({@code port}), or null when the file does not set it. */
  public String get(String key) {
    return values.get(key);
  }

  /** The file, or null for {@link #none()}. */
  public Path path() {
    return path;
  }
}
