/* units.h - durations and sizes as people write them on a command line:
 * "7d", "12h", "90m", "30s", "250ms"; "1GiB", "512MiB", "64KiB", "2G". */
#ifndef MESH_UNITS_H
#define MESH_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* A whole number with one unit: ms, s, m, h, d (a bare number is seconds).
 * 0 with *ms set, or -1 (empty, no digits, an unknown unit, overflow). */
int units_parse_duration_ms(const char *s, uint64_t *ms);
/* A per-number budget, the same on every command line that takes one:
 * a duration as above ("500ms", "5s", "10m"), a bare number of seconds
 * that may have a fraction ("0.3"), or "none" / "0" for no limit (0).
 * 0 with *ms set, or -1. */
int units_parse_timeout_ms(const char *s, uint64_t *ms);
/* A whole number with one unit: B, K/KiB/KB, M/MiB/MB, G/GiB/GB, T/TiB/TB,
 * all powers of 1024 (a bare number is bytes). 0 with *bytes, or -1. */
int units_parse_size(const char *s, uint64_t *bytes);
/* "7d", "36h", "90m", "45s", "250ms": the largest unit that is exact. */
void units_format_duration(uint64_t ms, char *buf, size_t len);
/* "1.0 GiB", "512 MiB", "3.2 KiB", "17 B": three significant digits. */
void units_format_size(uint64_t bytes, char *buf, size_t len);

#endif
