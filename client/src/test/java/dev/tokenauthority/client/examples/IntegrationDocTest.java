package dev.tokenauthority.client.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/integration.md shows the example classes of this package verbatim: each Java block
 * follows an {@code <!-- example: Name.java -->} marker and must equal that file, so the code
 * a reader copies is code that compiles and whose tests pass.
 */
class IntegrationDocTest {
  private static final Path DOC = Path.of("..", "docs", "integration.md");
  private static final Path EXAMPLES = Path.of("src", "test", "java", "dev", "tokenauthority", "client", "examples");
  private static final Pattern EXAMPLE_BLOCK =
      Pattern.compile("<!-- example: (\\w+\\.java) -->\\s*\\n```java\\n(.*?)```", Pattern.DOTALL);

  private static Map<String, String> blocksOfTheDoc() throws IOException {
    Map<String, String> blocks = new LinkedHashMap<>();
    Matcher m = EXAMPLE_BLOCK.matcher(Files.readString(DOC, StandardCharsets.UTF_8));
    while (m.find()) {
      blocks.put(m.group(1), m.group(2));
    }
    return blocks;
  }

  @Test
  void everyExampleBlock_equalsItsSourceFile() throws IOException {
    Map<String, String> blocks = blocksOfTheDoc();

    assertThat(blocks).isNotEmpty();
    for (Map.Entry<String, String> block : blocks.entrySet()) {
      Path source = EXAMPLES.resolve(block.getKey());
      assertThat(source).as("the source of the block %s", block.getKey()).exists();
      assertThat(block.getValue()).as("docs/integration.md, block %s", block.getKey()).isEqualTo(Files.readString(source));
    }
  }

  @Test
  void everyExampleClass_isShownInTheDoc() throws IOException {
    List<String> examples;
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      examples =
          files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java") && !n.endsWith("Test.java")).sorted().toList();
    }

    assertThat(blocksOfTheDoc().keySet()).containsAll(examples);
  }

  @Test
  void noJavaBlock_isLeftUnchecked() throws IOException {
    String doc = Files.readString(DOC, StandardCharsets.UTF_8);
    long javaBlocks = Pattern.compile("```java\\n").matcher(doc).results().count();

    assertThat(javaBlocks).isEqualTo(blocksOfTheDoc().size());
  }
}
