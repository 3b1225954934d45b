package dev.tokenauthority.server.config;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * What went wrong with a file, in a few words, for the one-line errors of a start: a
 * {@link FileSystemException}'s message is often the path alone, which the line names already.
 */
public final class FileProblems {
  private FileProblems() {}

  /** "permission denied", "no such file or directory", the system's reason, or the message's first line. */
  public static String reason(Exception e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof NotDirectoryException) {
      return "not a directory";
    }
    if (e instanceof FileAlreadyExistsException) {
      // What creating a directory where a file is says.
      return "a file of that name is in the way of a directory";
    }
    if (e instanceof FileSystemException fse) {
      return fse.getReason() != null ? fse.getReason() : e.getClass().getSimpleName();
    }
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return message.lines().findFirst().orElse(message);
  }
}
