/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_JSON_H
#define SLUICE_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A streaming JSON writer for --json output.  Inside an object every value
 * takes a key; inside an array (or at top level) the key is NULL.
 */
struct json;

struct json *json_new(FILE *out);
/* Ends the document with a newline and frees the writer. */
void json_free(struct json *j);

void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *value);
void json_u64(struct json *j, const char *key, uint64_t value);
void json_i64(struct json *j, const char *key, int64_t value);
void json_bool(struct json *j, const char *key, bool value);

#endif
