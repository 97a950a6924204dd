/* child.c - the worker child process (protocol in child.h). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "child.h"

enum { MAX_REQUEST_LINE = 4096 }; /* id + space + 309 digits, with room */

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

int factor_child_parse_request(const char *line, size_t len, uint64_t *id,
                               const char **number, size_t *number_len)
{
    const char *space = memchr(line, ' ', len);
    if (space == NULL || parse_u64(line, (size_t)(space - line), id) != 0)
        return -1;
    const char *tok = space + 1;
    size_t tok_len = len - (size_t)(tok - line);
    if (tok_len == 0 || memchr(tok, ' ', tok_len) != NULL ||
        memchr(tok, '\t', tok_len) != NULL || memchr(tok, '\0', tok_len) != NULL)
        return -1;
    *number = tok;
    *number_len = tok_len;
    return 0;
}

static size_t answer_length(const struct factor_result *res)
{
    size_t len = 20 + 1 + 8 + sizeof res->error + 2; /* id, kind, error, \n */
    for (size_t i = 0; i < res->count; i++)
        len += 1 + strlen(res->factors[i]);
    if (res->unfactored != NULL)
        len += 1 + strlen(res->unfactored);
    return len;
}

char *factor_child_format_answer(uint64_t id, enum factor_status status,
                                 const struct factor_result *res)
{
    size_t cap = answer_length(res);
    char *line = malloc(cap);
    if (line == NULL)
        return NULL;
    if (status == FACTOR_ERROR) {
        snprintf(line, cap, "%" PRIu64 " error %s\n", id, res->error);
        return line;
    }
    size_t at = (size_t)snprintf(line, cap, "%" PRIu64 " %s", id,
                                 status == FACTOR_DONE ? "done" : "partial");
    if (status == FACTOR_PARTIAL && res->unfactored != NULL)
        at += (size_t)snprintf(line + at, cap - at, " %s", res->unfactored);
    for (size_t i = 0; i < res->count; i++)
        at += (size_t)snprintf(line + at, cap - at, " %s", res->factors[i]);
    snprintf(line + at, cap - at, "\n");
    return line;
}

static void emit(const char *line)
{
    fputs(line, stdout);
    fflush(stdout); /* the node waits for each answer as it comes */
}

static void answer_request(struct factor_ctx *ctx, char *line, size_t len,
                           uint64_t budget_ms)
{
    uint64_t id = 0;
    const char *number;
    size_t number_len;
    char error_line[64];
    if (len > MAX_REQUEST_LINE ||
        factor_child_parse_request(line, len, &id, &number, &number_len) != 0) {
        snprintf(error_line, sizeof error_line, "%" PRIu64 " error malformed request\n", id);
        emit(error_line);
        return;
    }
    line[len] = '\0'; /* the token ends the line */
    struct factor_result res;
    enum factor_status status = factor_decimal(ctx, number, budget_ms, &res);
    char *answer = factor_child_format_answer(id, status, &res);
    factor_result_free(&res);
    if (answer == NULL) {
        snprintf(error_line, sizeof error_line, "%" PRIu64 " error out of memory\n", id);
        emit(error_line);
        return;
    }
    emit(answer);
    free(answer);
}

static int parse_options(int argc, char **argv, uint64_t *budget_ms)
{
    *budget_ms = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--number-timeout") == 0 && i + 1 < argc)
            value = argv[++i];
        else if (strncmp(argv[i], "--number-timeout=", 17) == 0)
            value = argv[i] + 17;
        if (value == NULL || parse_u64(value, strlen(value), budget_ms) != 0) {
            fprintf(stderr, "mesh __worker: bad argument '%s'\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

int factor_child_main(int argc, char **argv)
{
    /* Die with the node: an orphaned worker would factor for nobody. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    uint64_t budget_ms;
    if (parse_options(argc, argv, &budget_ms) != 0)
        return 2;
    struct factor_ctx ctx;
    if (factor_ctx_init(&ctx) != 0) {
        fprintf(stderr, "mesh __worker: cannot initialise the kernel\n");
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)got;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len == 0)
            continue;
        answer_request(&ctx, line, len, budget_ms);
    }
    free(line);
    factor_ctx_free(&ctx);
    return 0;
}
