/* pari_path.c - libpari factoring under a time budget: the module
 * mesh-pari.so, which pari_load.c opens the first time a number needs it
 * (why a module: pari_path.h).
 *
 * PARI has no deadline parameter, so the budget is enforced the way gp's own
 * alarm() does it: SIGALRM raises a PARI error (e_ALARM) that unwinds to a
 * pari_CATCH. PARI defers signals inside its critical sections (its malloc
 * wrappers set PARI_SIGINT_block), and GMP allocates through those wrappers
 * because PARI installs them as GMP's memory functions, so unwinding never
 * leaves the heap half-updated. Our own bookkeeping between PARI calls is
 * wrapped in the same BLOCK_SIGINT_START/END for the same reason.
 *
 * PARI's state (stack, prime table, error context) is process-global; that
 * is unavoidable with libpari, and why the kernel is single-threaded per
 * process (the node runs one worker process per core). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <pari/pari.h>
#include <pari/paripriv.h> /* mpqs(): exported by libpari, declared here */

#include "factor.h"
#include "pari_path.h"

static int module_init(size_t stack_bytes)
{
    if (pari_mainstack != NULL)
        return 0; /* already initialised in this process */
    /* INIT_DFTm: default settings. Deliberately without INIT_SIGm: PARI must
     * not take over SIGSEGV/SIGFPE/SIGINT (a crash should crash the worker,
     * which the node restarts; sanitizers need those signals too), and
     * without INIT_JMPm: every PARI call here runs inside pari_CATCH. */
    pari_init_opts(stack_bytes, 500000, INIT_DFTm);
    return pari_mainstack != NULL ? 0 : -1;
}

/* Runs in signal context. Inside a PARI critical section, defer exactly as
 * PARI's own handlers do (BLOCK_SIGINT_END re-raises the signal). */
static void on_budget_alarm(int sig)
{
    if (PARI_SIGINT_block) {
        PARI_SIGINT_pending = sig;
        return;
    }
    pari_err(e_ALARM, "factoring budget exceeded");
}

static void set_timer_ms(uint64_t ms)
{
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_sec = (time_t)(ms / 1000);
    t.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &t, NULL);
}

struct pari_state {
    struct prime_list *primes;
    mpz_t *rest;
    int finished; /* set once rest reached 1 */
};

/* Records p^e. Blocked against the alarm so the list and rest stay
 * consistent: either both reflect p^e or neither does. */
static void record_prime(struct pari_state *st, const char *digits, long e)
{
    BLOCK_SIGINT_START
    mpz_t p;
    mpz_init_set_str(p, digits, 10);
    /* Divide only as often as p really divides: an exponent that is off
     * (never seen, but this is the boundary to PARI) cannot corrupt rest. */
    long divided = 0;
    while (divided < e && mpz_cmp_ui(p, 1) > 0 &&
           mpz_divisible_p(*st->rest, p)) {
        mpz_divexact(*st->rest, *st->rest, p);
        divided++;
    }
    if (divided > 0)
        prime_list_push(st->primes, p, (unsigned long)divided);
    mpz_clear(p);
    BLOCK_SIGINT_END
}

/* Records every prime of fa (a factor matrix) with exponents times e. */
static void record_factored(struct pari_state *st, GEN fa, long e)
{
    GEN primes = gel(fa, 1), exponents = gel(fa, 2);
    for (long i = 1; i < lg(primes); i++)
        record_prime(st, itostr(gel(primes, i)), e * itos(gel(exponents, i)));
}

/* x^e divides the input: records its primes (x is usually a BPSW prime
 * already; otherwise Z_factor splits it). */
static void record_divisor(struct pari_state *st, GEN x, long e)
{
    if (BPSW_psp(x))
        record_prime(st, itostr(x), e);
    else
        record_factored(st, Z_factor(x), e);
}

/* Balanced composites of 65..128 bits are the hard case, and for them the
 * quadratic sieve is what Z_factor ends up running anyway, after rounds of
 * rho and ECM that cost it a third of its time (measured on balanced 100-
 * and 124-bit semiprimes: mpqs alone 1.7 ms and 8.4 ms against Z_factor's
 * 2.5 ms and 12.7 ms, gp's factor() 2.1 ms and 11.7 ms). The price is on
 * composites with a 16..24-bit factor, which MPQS does not find early
 * (up to ~3x slower there, still milliseconds). mpqs() returns NULL when
 * it declines, a factor, or ifac-style [value, exponent, class] triples. */
enum { MPQS_MIN_BITS = 65, MPQS_MAX_BITS = 128 };

static void try_mpqs(GEN n, struct pari_state *st)
{
    long bits = expi(n) + 1;
    if (bits < MPQS_MIN_BITS || bits > MPQS_MAX_BITS)
        return;
    GEN r = mpqs(n);
    if (r == NULL)
        return;
    if (typ(r) == t_INT) {
        record_divisor(st, r, 1);
        record_divisor(st, diviiexact(n, r), 1);
        return;
    }
    if (typ(r) != t_VEC)
        return;
    for (long i = 1; i + 1 < lg(r); i += 3)
        if (gel(r, i) != NULL && gel(r, i + 1) != NULL &&
            typ(gel(r, i)) == t_INT && typ(gel(r, i + 1)) == t_INT)
            record_divisor(st, gel(r, i), itos(gel(r, i + 1)));
}

/* MPQS for the sizes where it wins, then Z_factor (as gp's factor() uses)
 * on whatever is left, so an odd mpqs() answer can only cost time. A call
 * cut off by the budget loses the primes PARI had not returned yet, which
 * for a hard number is everything but what trial division found. */
static void run_z_factor(const char *digits, uint64_t budget_ms,
                     struct pari_state *st)
{
    try_mpqs(strtoi(digits), st);
    if (mpz_cmp_ui(*st->rest, 1) > 0) {
        char *rest = mpz_get_str(NULL, 10, *st->rest);
        GEN n = strtoi(rest);
        free(rest);
        record_factored(st, Z_factor(n), 1);
    }
    if (budget_ms != 0)
        set_timer_ms(0); /* stop it before leaving the catch scope */
    st->finished = mpz_cmp_ui(*st->rest, 1) == 0;
}

/* The setjmp (pari_CATCH) lives here and touches no local of its own after
 * it, so nothing is left indeterminate by the longjmp: all state is in *st,
 * owned by the caller's frame. */
static void z_factor_with_catch(const char *digits, uint64_t budget_ms,
                            struct pari_state *st)
{
    pari_CATCH(CATCH_ALL) {
        /* Budget exceeded (or a PARI error): st holds what was found. */
        if (budget_ms != 0)
            set_timer_ms(0);
    } pari_TRY {
        run_z_factor(digits, budget_ms, st);
    } pari_ENDCATCH;
}

static int module_factor(const mpz_t c, uint64_t budget_ms, struct prime_list *primes,
                         mpz_t rest)
{
    char digits[FACTOR_MAX_DIGITS + 2];
    if (mpz_sizeinbase(c, 10) > FACTOR_MAX_DIGITS)
        return 1;
    mpz_get_str(digits, 10, c);
    struct pari_state st = {primes, (mpz_t *)rest, 0};
    struct sigaction on_alarm, previous;
    memset(&on_alarm, 0, sizeof on_alarm);
    on_alarm.sa_handler = on_budget_alarm;
    /* The handler longjmps and PARI's setjmp does not restore the signal
     * mask: SA_NODEFER keeps SIGALRM unblocked for the next number. */
    on_alarm.sa_flags = SA_NODEFER;
    sigemptyset(&on_alarm.sa_mask);
    pari_sp av = avma;
    if (budget_ms != 0) {
        sigaction(SIGALRM, &on_alarm, &previous);
        set_timer_ms(budget_ms);
    }
    z_factor_with_catch(digits, budget_ms, &st);
    if (budget_ms != 0) {
        if (PARI_SIGINT_pending == SIGALRM)
            PARI_SIGINT_pending = 0;
        sigaction(SIGALRM, &previous, NULL);
    }
    set_avma(av);
    return st.finished ? 0 : 1;
}

/* The module's one exported symbol (it is built with hidden visibility). */
__attribute__((visibility("default")))
const struct pari_module mesh_pari_module = {.init = module_init, .factor = module_factor};
