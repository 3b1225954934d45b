package dev.tokenauthority.server.http;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The path of a {@code google.api.http} rule (AIP-127): literal segments, {@code {field.path}}
 * variables that bind one segment each, and an optional {@code :verb} at the end. Wider
 * captures ({@code {name=**}}) are refused when the table is built, so a rule this transcoder
 * cannot serve fails the start instead of serving the wrong thing.
 */
final class PathTemplate {
  private final String template;
  /** A literal, or a field path when {@code variable}. */
  private record Segment(String text, boolean variable) {}

  private final List<Segment> segments;
  private final String verb;

  private PathTemplate(String template, List<Segment> segments, String verb) {
    this.template = template;
    this.segments = segments;
    this.verb = verb;
  }

  /** @throws IllegalArgumentException for a template outside the supported subset */
  static PathTemplate parse(String template) {
    if (!template.startsWith("/") || template.length() < 2) {
      throw new IllegalArgumentException("path template must start with '/': " + template);
    }
    String path = template;
    String verb = null;
    int lastSlash = path.lastIndexOf('/');
    int colon = path.indexOf(':', lastSlash);
    if (colon >= 0 && path.indexOf('}', colon) < 0) {
      verb = path.substring(colon + 1);
      path = path.substring(0, colon);
    }
    List<Segment> segments = new ArrayList<>();
    for (String part : path.substring(1).split("/", -1)) {
      if (part.startsWith("{") && part.endsWith("}")) {
        String field = part.substring(1, part.length() - 1);
        if (!field.matches("[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)*")) {
          throw new IllegalArgumentException("unsupported variable '" + part + "' in " + template);
        }
        segments.add(new Segment(field, true));
      } else if (part.isEmpty() || part.contains("{") || part.contains("}") || part.contains("*")) {
        throw new IllegalArgumentException("unsupported segment '" + part + "' in " + template);
      } else {
        segments.add(new Segment(part, false));
      }
    }
    return new PathTemplate(template, List.copyOf(segments), verb);
  }

  /** The variables bound by a request path (decoded), or empty when the path does not match. */
  Optional<Map<String, String>> match(String requestPath) {
    String path = requestPath;
    if (verb != null) {
      if (!path.endsWith(":" + verb)) {
        return Optional.empty();
      }
      path = path.substring(0, path.length() - verb.length() - 1);
    }
    if (!path.startsWith("/")) {
      return Optional.empty();
    }
    String[] parts = path.substring(1).split("/", -1);
    if (parts.length != segments.size()) {
      return Optional.empty();
    }
    Map<String, String> variables = new LinkedHashMap<>();
    for (int i = 0; i < parts.length; i++) {
      Segment s = segments.get(i);
      if (s.variable()) {
        String value = decode(parts[i]);
        if (value == null || value.isEmpty()) {
          return Optional.empty();
        }
        variables.put(s.text(), value);
      } else if (!s.text().equals(parts[i])) {
        return Optional.empty();
      }
    }
    return Optional.of(variables);
  }

  /** The field paths bound by the path, in order. */
  List<String> variables() {
    return segments.stream().filter(Segment::variable).map(Segment::text).toList();
  }

  /** The template as written, which is also its OpenAPI path. */
  @Override
  public String toString() {
    return template;
  }

  /** Percent-decoding of one segment ('+' stays '+'); null when malformed. */
  private static String decode(String segment) {
    try {
      return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
