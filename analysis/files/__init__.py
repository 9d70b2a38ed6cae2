"""The project's own files (YAML, CSV): read and checked whole, pure parsers and writers."""
