package dev.tokenauthority.server.audit;

import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;

/**
 * JSON escapes for lines a person or a line-oriented tool reads: besides what JSON requires
 * (C0 controls, quote, backslash), DEL and the C1 controls (U+0080-U+009F: NEL breaks lines,
 * CSI starts terminal sequences), the Unicode line and paragraph separators (U+2028, U+2029)
 * and the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which
 * reorder what a terminal shows, are written as {@code \\uXXXX}. The text still round-trips.
 */
final class SafeLineEscapes extends CharacterEscapes {
  private static final int[] ASCII = standardAsciiEscapesForJSON();

  static {
    ASCII[0x7F] = ESCAPE_STANDARD;
  }

  @Override
  public int[] getEscapeCodesForAscii() {
    return ASCII;
  }

  @Override
  public SerializableString getEscapeSequence(int c) {
    return escapes(c) ? new SerializedString(String.format("\\u%04X", c)) : null;
  }

  static boolean escapes(int c) {
    return (c >= 0x80 && c <= 0x9F)
        || c == 0x2028 || c == 0x2029
        || c == 0x061C || c == 0x200E || c == 0x200F
        || (c >= 0x202A && c <= 0x202E)
        || (c >= 0x2066 && c <= 0x2069);
  }
}
