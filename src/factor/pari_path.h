/* pari_path.h - libpari for the numbers beyond the 64-bit fast path and
 * SIQS (internal).
 *
 * PARI lives in a module of its own, mesh-pari.so (pari_path.c, the only
 * file that includes pari.h: PARI's headers define many short macros that
 * would leak into the rest of the kernel), which pari_load.c opens the
 * first time a number needs it. Why not linked: loading libpari (12,500
 * relocations) costs every start of the binary about 0.5 ms of CPU, a
 * third of what `mesh factor N` costs a shell loop per call, and the
 * numbers that need it (above 140 bits, or a SIQS failure) are rare.
 *
 * Where the module is looked for, first found wins:
 *   $MESH_PARI_MODULE     a path (the test executables, an unusual install);
 *   beside the executable (the build tree);
 *   MESH_PARI_MODULE_RELDIR from the executable's directory (an install,
 *                         also under DESTDIR or a moved prefix). */
#ifndef MESH_FACTOR_PARI_PATH_H
#define MESH_FACTOR_PARI_PATH_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "prime_list.h"

/* What mesh-pari.so exports, as PARI_MODULE_SYMBOL. */
struct pari_module {
    /* pari_init, once per process (PARI's state is process-global; a
     * second call is a no-op). 0 on success. */
    int (*init)(size_t stack_bytes);
    /* Factors c (composite, > 2^64) into primes appended to primes,
     * dividing each out of rest (which must start equal to c). Returns 0
     * when rest reached 1, 1 when the budget ran out (or PARI failed)
     * first: rest is then the product of what is left. budget_ms == 0:
     * unlimited. */
    int (*factor)(const mpz_t c, uint64_t budget_ms, struct prime_list *primes, mpz_t rest);
};
#define PARI_MODULE_FILE "mesh-pari.so"
#define PARI_MODULE_SYMBOL "mesh_pari_module"

/* Opens the module (pari_load.c): its calls, or NULL after saying on
 * stderr why and where it looked. It stays loaded for the life of the
 * process: PARI installs its allocator as GMP's, for every GMP user. */
const struct pari_module *pari_module_open(void);

#endif
