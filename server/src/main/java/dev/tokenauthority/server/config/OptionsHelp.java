package dev.tokenauthority.server.config;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The option list of {@code --help}: every setting with its flag, its environment variable and
 * its built-in default (not the value the environment or file would give it), then what it does.
 */
public final class OptionsHelp implements CommandLine.IHelpSectionRenderer {
  private static final int WIDTH = 100;
  private static final String INDENT = "      ";

  @Override
  public String render(Help help) {
    StringBuilder out = new StringBuilder();
    for (OptionSpec option : help.commandSpec().options()) {
      if (option.hidden()) {
        continue;
      }
      String name = option.longestName();
      StringBuilder head = new StringBuilder("  ").append(String.join(", ", option.names()));
      if (option.arity().max() > 0) {
        head.append(' ').append(option.paramLabel());
      }
      if (!option.usageHelp() && !option.versionHelp()) {
        head.append("   env ").append(SettingsProvider.envName(name));
        if (!name.equals(ConfigFile.OPTION)) {
          head.append(", file key ").append(SettingsProvider.key(name));
        }
        head.append(", default ").append(option.defaultValue() == null ? "(not set)" : option.defaultValue());
      }
      out.append(head).append('\n');
      for (String line : wrap(String.join(" ", option.description()), WIDTH - INDENT.length())) {
        out.append(INDENT).append(line).append('\n');
      }
    }
    return out.toString();
  }

  private static List<String> wrap(String text, int width) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (String word : text.split("\\s+")) {
      if (word.isEmpty()) {
        continue;
      }
      if (line.length() > 0 && line.length() + 1 + word.length() > width) {
        lines.add(line.toString());
        line.setLength(0);
      }
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(word);
    }
    if (line.length() > 0) {
      lines.add(line.toString());
    }
    return lines;
  }
}
