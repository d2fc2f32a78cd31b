#ifndef TRITONPACK_CPROTOBUFBRIDGE_H
#define TRITONPACK_CPROTOBUFBRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The outcome of parsing protobuf text format with libprotobuf's TextFormat::Parser
/// (default options, as Triton's ReadTextProto uses it).
typedef struct tp_text_parse {
  /// 1 when the text parsed; the message is then in `message`.
  int ok;
  /// The parsed message in binary wire format (malloc'd).
  uint8_t *message;
  size_t message_length;
  /// The parser's first error, NUL-terminated (malloc'd), with its 1-based line and column.
  char *error;
  int error_line;
  int error_column;
  /// Parser warnings, one per line as "line:column: message" (malloc'd, may be empty).
  char *warnings;
  /// Where every parsed field started, one per line as "path\tline\tcolumn" with 1-based
  /// positions; path like `input[0].dims[2]` or `max_batch_size` (malloc'd).
  char *locations;
} tp_text_parse;

/// Parses `text` as the message type `type_name` (e.g. "inference.ModelConfig").
/// Returns 0 when the type is unknown (nothing is allocated), else 1 with `out` filled.
int tp_parse_text_format(const char *type_name, const char *text, size_t length, tp_text_parse *out);

void tp_text_parse_free(tp_text_parse *result);

/// Prints a binary message of type `type_name` as text format in the style of Triton's
/// documentation (repeated messages as `field [ {...}, {...} ]`, repeated scalars as `[ a, b ]`).
/// Returns a malloc'd NUL-terminated string, or NULL if the type is unknown or the bytes do not parse.
char *tp_print_text_format(const char *type_name, const uint8_t *message, size_t length);

void tp_string_free(char *string);

#ifdef __cplusplus
}
#endif

#endif
