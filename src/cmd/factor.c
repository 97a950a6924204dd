/* factor.c - `mesh factor [N...]`: factor numbers locally, no node needed.
 *
 * A drop-in for coreutils `factor`: same stdout byte for byte for every
 * input both accept (arguments, else whitespace-separated numbers on
 * stdin), the same error lines on stderr for invalid numbers and options,
 * carry on after a bad number and exit 1. Differences: inputs of 2^1024 and
 * more are refused ("number exceeds 1024 bits"), and --number-timeout TIME
 * bounds the time per number: an unfinished number prints
 * "N: f1 f2 unfactored:C" (the format of factor_format_line) and the exit
 * status becomes 1. --jobs K puts K cores on each number past 140 bits
 * (forked SIQS workers, src/factor/siqs_mp_par.c); by default a single
 * NUMBER argument gets every core it may use (nproc), several or stdin get one each
 * (the output is the same either way). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd.h"
#include "cpus.h"
#include "factor.h"
#include "units.h"

enum {
    OUT_BUFFER_BYTES = 1 << 16,
    IN_CHUNK_BYTES = 1 << 16,
    MAX_JOBS = 64, /* SIQS_MP_MAX_JOBS */
};

struct factor_cmd {
    struct factor_ctx kernel;
    uint64_t budget_ms;   /* --number-timeout; 0 = unlimited */
    bool curly_quotes;    /* quote tokens like coreutils in a UTF-8 locale */
    /* Interactive use (a terminal on either side) sees each line as soon
     * as it is computed, as with coreutils; otherwise lines are written
     * out in blocks: one write per line was most of the cost of factoring
     * small numbers. */
    bool flush_each_line;
    int status;           /* EXIT_OK until something fails */
    size_t out_len;
    char out[OUT_BUFFER_BYTES];
};

static void out_flush(struct factor_cmd *cmd)
{
    if (cmd->out_len > 0 && fwrite(cmd->out, 1, cmd->out_len, stdout) != cmd->out_len)
        cmd->status = EXIT_FAIL;
    cmd->out_len = 0;
    if (fflush(stdout) != 0)
        cmd->status = EXIT_FAIL;
}

/* Room for len more bytes, flushing first when needed; false when a
 * single piece is bigger than the whole buffer (written through instead). */
static bool out_reserve(struct factor_cmd *cmd, size_t len)
{
    if (cmd->out_len + len > sizeof cmd->out)
        out_flush(cmd);
    return len <= sizeof cmd->out;
}

static void out_line_done(struct factor_cmd *cmd)
{
    if (cmd->flush_each_line)
        out_flush(cmd);
}

static void out_put_line(struct factor_cmd *cmd, const char *line)
{
    size_t len = strlen(line);
    if (out_reserve(cmd, len + 1)) {
        memcpy(cmd->out + cmd->out_len, line, len);
        cmd->out[cmd->out_len + len] = '\n';
        cmd->out_len += len + 1;
    } else if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF) {
        cmd->status = EXIT_FAIL;
    }
    out_line_done(cmd);
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "Usage: mesh factor [--number-timeout TIME] [--jobs K] [NUMBER]...\n"
            "Print the prime factors of each specified integer NUMBER (below\n"
            "2^1024). If none are specified on the command line, read them\n"
            "from standard input. Output is that of coreutils factor.\n"
            "\n"
            "      --number-timeout TIME  stop working on a number after TIME\n"
            "                           (500ms, 5s, 10m; a bare number is\n"
            "                           seconds) and print the rest as\n"
"                           'unfactored:C' (default none: no limit)\n"
            "      --jobs K             cores for each number past 140 bits\n"
            "                           (1..64; default: every core it may use when\n"
            "                           one NUMBER is given, else 1)\n"
            "      --help               display this help and exit\n");
}

/* coreutils quotes with the locale's quotation marks: U+2018/U+2019 in a
 * UTF-8 locale, apostrophes otherwise. Follows the same variables as
 * setlocale(LC_CTYPE, "") without changing the process locale. */
static bool locale_is_utf8(void)
{
    const char *names[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && v[0] != '\0')
            return strcasestr(v, "utf-8") != NULL || strcasestr(v, "utf8") != NULL;
    }
    return false;
}

/* Writes tok as coreutils' quote() does in its locale quoting style:
 * backslash and control characters as C escapes, so the message stays on
 * one line whatever the token holds. */
static void put_quoted(const char *tok, FILE *out)
{
    static const char escapes[] = "\\a\\b\\t\\n\\v\\f\\r";
    for (const unsigned char *c = (const unsigned char *)tok; *c != '\0'; c++) {
        if (*c == '\\')
            fputs("\\\\", out);
        else if (*c >= '\a' && *c <= '\r')
            fwrite(&escapes[2 * (*c - '\a')], 1, 2, out);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(out, "\\%03o", *c);
        else
            fputc(*c, out);
    }
}

static void report_bad_number(struct factor_cmd *cmd, const char *tok,
                              const char *why)
{
    out_flush(cmd); /* keep stdout and stderr in order on a terminal */
    fputs("factor: ", stderr);
    fputs(cmd->curly_quotes ? "\xe2\x80\x98" : "'", stderr);
    put_quoted(tok, stderr);
    fputs(cmd->curly_quotes ? "\xe2\x80\x99" : "'", stderr);
    if (why == NULL)
        fputs(" is not a valid positive integer\n", stderr);
    else
        fprintf(stderr, ": %s\n", why);
    cmd->status = EXIT_FAIL;
}

/* Below 2^64: no allocation, no GMP, straight into the output buffer. */
static bool factor_one_u64(struct factor_cmd *cmd, const char *tok, size_t len)
{
    uint64_t n, f[FACTOR_U64_FACTORS_MAX];
    if (!factor_parse_u64(tok, len, &n))
        return false;
    int count = factor_u64_checked(n, f);
    if (count < 0) {
        report_bad_number(cmd, tok, "internal error: verification failed");
        return true;
    }
    out_reserve(cmd, FACTOR_U64_LINE_MAX);
    /* A parsed token of digits that starts with 1-9 is n's canonical
     * form: echo it rather than format n ("+7" and "007" print as 7). */
    char *at = cmd->out + cmd->out_len;
    cmd->out_len += tok[0] >= '1' && tok[0] <= '9'
                        ? factor_format_u64_line_text(at, tok, len, f, count)
                        : factor_format_u64_line(at, n, f, count);
    out_line_done(cmd);
    return true;
}

/* tok is NUL-terminated; len is its strlen. Leading spaces (spaces only,
 * not tabs) are skipped as coreutils does: `factor " 12"` prints 12's
 * line; a token of spaces alone stays invalid, quoted as given. */
static void factor_one(struct factor_cmd *cmd, const char *tok, size_t len)
{
    size_t spaces = strspn(tok, " ");
    if (spaces < len) {
        tok += spaces;
        len -= spaces;
    }
    if (factor_one_u64(cmd, tok, len))
        return;
    struct factor_result res;
    enum factor_status st = factor_decimal(&cmd->kernel, tok, cmd->budget_ms, &res);
    char *line = st == FACTOR_ERROR ? NULL : factor_format_line(tok, &res);
    if (st == FACTOR_ERROR) {
        bool invalid = strcmp(res.error, factor_parse_message(FACTOR_PARSE_INVALID)) == 0;
        report_bad_number(cmd, tok, invalid ? NULL : res.error);
    } else if (line == NULL) {
        report_bad_number(cmd, tok, "out of memory");
    } else {
        out_put_line(cmd, line);
        if (st == FACTOR_PARTIAL)
            cmd->status = EXIT_FAIL;
    }
    free(line);
    factor_result_free(&res);
}

/* Tokens of any length separated by space, tab or newline -- exactly
 * coreutils' delimiters: "\r" or "\v" are part of a token (and make it
 * invalid). A NUL byte ends the token's text as it does for coreutils,
 * which reads C strings. Input is read in large chunks: getchar() per byte
 * cost more than factoring a small number. */
struct token {
    char *text;
    size_t len, cap;
};

static bool token_append(struct token *tok, const char *bytes, size_t len)
{
    if (tok->len + len + 1 > tok->cap) {
        size_t cap = tok->cap;
        while (tok->len + len + 1 > cap)
            cap *= 2;
        char *bigger = realloc(tok->text, cap);
        if (bigger == NULL)
            return false;
        tok->text = bigger;
        tok->cap = cap;
    }
    memcpy(tok->text + tok->len, bytes, len);
    tok->len += len;
    return true;
}

static void token_finish(struct factor_cmd *cmd, struct token *tok)
{
    if (tok->len == 0)
        return;
    tok->text[tok->len] = '\0';
    factor_one(cmd, tok->text, strlen(tok->text));
    tok->len = 0;
}

static bool is_delimiter(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

static void factor_stdin(struct factor_cmd *cmd)
{
    struct token tok = {malloc(64), 0, 64};
    char *chunk = malloc(IN_CHUNK_BYTES);
    ssize_t got;
    while (tok.text != NULL && chunk != NULL &&
           (got = read(STDIN_FILENO, chunk, IN_CHUNK_BYTES)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            cmd->status = EXIT_FAIL;
            break;
        }
        size_t i = 0, end = (size_t)got;
        while (i < end) {
            size_t start = i;
            while (i < end && !is_delimiter(chunk[i]))
                i++;
            if (!token_append(&tok, chunk + start, i - start)) {
                cmd->status = EXIT_FAIL;
                break;
            }
            if (i < end) { /* a delimiter ends the token */
                token_finish(cmd, &tok);
                i++;
            }
        }
    }
    if (tok.text != NULL)
        token_finish(cmd, &tok);
    free(tok.text);
    free(chunk);
}

static bool is_prefix_of(const char *arg, const char *option, size_t min_len)
{
    size_t len = strcspn(arg, "=");
    return len >= min_len && strncmp(arg, option, len) == 0;
}

static int option_error(const char *fmt, const char *what)
{
    fprintf(stderr, fmt, what);
    fprintf(stderr, "Try 'mesh factor --help' for more information.\n");
    return EXIT_FAIL; /* coreutils factor exits 1 on a bad option */
}

/* The value of the option at argv[*i]: after its '=', else the next
 * argument (consumed); NULL when there is none. */
static const char *option_value(int argc, char **argv, int *i)
{
    const char *eq = strchr(argv[*i], '=');
    if (eq != NULL)
        return eq + 1;
    return *i + 1 < argc ? argv[++*i] : NULL;
}

/* Options may appear anywhere before "--" (GNU getopt permutation, as in
 * coreutils). Moves the operands to the front of argv, returns their count,
 * or -1 - exit code when the command must stop now. */
static int parse_args(struct factor_cmd *cmd, int argc, char **argv)
{
    int operands = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            argv[operands++] = arg;
        } else if (strcmp(arg, "--") == 0) {
            options_done = true;
        } else if (arg[1] != '-') {
            char bad[2] = {arg[1], '\0'};
            return -1 - option_error("factor: invalid option -- '%s'\n", bad);
        } else if (is_prefix_of(arg, "--help", 3)) {
            print_usage(stdout);
            return -1 - EXIT_OK;
        } else if (is_prefix_of(arg, "--number-timeout", 3)) {
            const char *value = option_value(argc, argv, &i);
            if (value == NULL)
                return -1 - option_error("factor: option '%s' requires an argument\n", arg);
            uint64_t ms;
            if (units_parse_timeout_ms(value, &ms) != 0)
                return -1 - option_error("factor: invalid --number-timeout '%s'\n", value);
            cmd->budget_ms = ms;
        } else if (is_prefix_of(arg, "--jobs", 3)) {
            const char *value = option_value(argc, argv, &i);
            if (value == NULL)
                return -1 - option_error("factor: option '%s' requires an argument\n", arg);
            char *end;
            errno = 0;
            long jobs = strtol(value, &end, 10);
            if (errno != 0 || end == value || *end != '\0' || jobs < 1 || jobs > MAX_JOBS)
                return -1 - option_error("factor: invalid --jobs '%s' (1..64)\n", value);
            cmd->kernel.siqs_jobs = (unsigned)jobs;
        } else {
            return -1 - option_error("factor: unrecognized option '%s'\n", arg);
        }
    }
    return operands;
}

/* One hard number alone gets every core; a list gets one core per number
 * (numbers in a list are mostly small, and the kernel is one process). */
static unsigned default_jobs(int operands)
{
    unsigned cpus = usable_cpus();
    if (operands != 1)
        return 1;
    return cpus > MAX_JOBS ? MAX_JOBS : cpus;
}

static int cmd_factor_exec(const char *data_dir, int argc, char **argv)
{
    (void)data_dir; /* local work: no node, no data dir */
    static struct factor_cmd cmd; /* 64 KiB of output buffer: not on the stack */
    cmd = (struct factor_cmd){.budget_ms = 0, .status = EXIT_OK,
                              .curly_quotes = locale_is_utf8(),
                              .flush_each_line = isatty(STDIN_FILENO) ||
                                                 isatty(STDOUT_FILENO)};
    if (factor_ctx_init(&cmd.kernel) != 0) {
        fprintf(stderr, "factor: cannot initialise the factoring kernel\n");
        return EXIT_FAIL;
    }
    cmd.kernel.siqs_jobs = 0; /* not given */
    int operands = parse_args(&cmd, argc, argv);
    if (operands < 0) {
        factor_ctx_free(&cmd.kernel);
        return -1 - operands;
    }
    if (cmd.kernel.siqs_jobs == 0)
        cmd.kernel.siqs_jobs = default_jobs(operands);
    if (operands == 0)
        factor_stdin(&cmd);
    for (int i = 0; i < operands; i++)
        factor_one(&cmd, argv[i], strlen(argv[i]));
    factor_ctx_free(&cmd.kernel);
    out_flush(&cmd);
    return cmd.status;
}

const struct cmd_entry cmd_factor_entry = {
    "factor", "[--number-timeout TIME] [--jobs K] [N...]",
    "factor numbers locally, like coreutils factor", cmd_factor_exec,
};
