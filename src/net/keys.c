/* keys.c - see keys.h. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* File layout: magic, secret key, public key. The public key is stored so a
 * corrupted file is detected (it must match the one derived from sk). */
static const char KEY_MAGIC[8] = {'M', 'E', 'S', 'H', 'K', 'E', 'Y', '1'};
enum { KEY_FILE_BYTES = 8 + 2 * MESH_KEY_BYTES };

/* Fixed protocol salt: K must be the same on every node for one authkey. */
static const uint8_t PWHASH_SALT[crypto_pwhash_SALTBYTES] = "mesh-protocol-v1";
static const char TAG_LABEL[] = "mesh-tag";

/* Argon2id cost: what one start-up can afford, about 0.5 s on a 2-core
 * machine of 2024 (measured: ops 4 x 128 MiB took 0.42-0.53 s, while the
 * old INTERACTIVE 2 x 64 MiB took 0.16 s). Every offline guess at the
 * authkey costs an attacker the same. Changing it changes K: nodes with
 * other costs form another mesh (different tag). */
enum { PWHASH_OPSLIMIT = 4 };
#define PWHASH_MEMLIMIT ((size_t)128 << 20)

uint64_t mesh_node_id_of(const uint8_t pk[MESH_KEY_BYTES])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, pk, MESH_KEY_BYTES, NULL, 0);
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = (id << 8) | h[i];
    return id;
}

void mesh_id_to_hex(uint64_t id, char out[MESH_ID_HEX_LEN + 1])
{
    snprintf(out, MESH_ID_HEX_LEN + 1, "%016" PRIx64, id);
}

static void set_identity(struct mesh_keys *keys)
{
    keys->node_id = mesh_node_id_of(keys->pk);
    mesh_id_to_hex(keys->node_id, keys->id_hex);
}

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return -1;
}

static int read_key_file(struct mesh_keys *keys, int fd, const char *path,
                         char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(err, errlen, "cannot stat", path);
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen, "%s is accessible by others (mode %03o): chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    uint8_t buf[KEY_FILE_BYTES + 1];
    ssize_t n = read(fd, buf, sizeof buf);
    int ok = n == KEY_FILE_BYTES && memcmp(buf, KEY_MAGIC, 8) == 0;
    if (ok) {
        memcpy(keys->sk, buf + 8, MESH_KEY_BYTES);
        uint8_t derived[MESH_KEY_BYTES];
        ok = crypto_scalarmult_base(derived, keys->sk) == 0 &&
             sodium_memcmp(derived, buf + 8 + MESH_KEY_BYTES, MESH_KEY_BYTES) == 0;
        memcpy(keys->pk, derived, MESH_KEY_BYTES);
    }
    sodium_memzero(buf, sizeof buf);
    if (!ok) {
        snprintf(err, errlen, "%s is not a valid mesh key file", path);
        return -1;
    }
    set_identity(keys);
    return 0;
}

/* Write to a private temp file, fsync, then rename: a crash never leaves a
 * half-written key, and two nodes racing on one data dir agree on one key
 * (link() fails for the loser, who then loads the winner's file). */
static int create_key_file(struct mesh_keys *keys, const char *path,
                           char *err, size_t errlen)
{
    char tmp[4096 + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, errlen, "cannot create", tmp);
    crypto_box_keypair(keys->pk, keys->sk);
    uint8_t buf[KEY_FILE_BYTES];
    memcpy(buf, KEY_MAGIC, 8);
    memcpy(buf + 8, keys->sk, MESH_KEY_BYTES);
    memcpy(buf + 8 + MESH_KEY_BYTES, keys->pk, MESH_KEY_BYTES);
    int ok = write(fd, buf, sizeof buf) == (ssize_t)sizeof buf && fsync(fd) == 0;
    sodium_memzero(buf, sizeof buf);
    close(fd);
    if (!ok || link(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return saved == EEXIST ? 1 : fail(err, errlen, "cannot write", path);
    }
    unlink(tmp);
    set_identity(keys);
    return 0;
}

int mesh_keys_load_or_create(struct mesh_keys *keys, const char *data_dir,
                             char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return -1;
    }
    memset(keys, 0, sizeof *keys);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/node.key", data_dir) >= sizeof path) {
        snprintf(err, errlen, "data dir path too long");
        return -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            int rc = read_key_file(keys, fd, path, err, errlen);
            close(fd);
            return rc;
        }
        if (errno != ENOENT)
            return fail(err, errlen, "cannot open", path);
        int rc = create_key_file(keys, path, err, errlen);
        if (rc <= 0)
            return rc;
        /* rc == 1: another process created it first; load theirs. */
    }
    snprintf(err, errlen, "cannot create %s", path);
    return -1;
}

int mesh_keys_derive_authkey(struct mesh_keys *keys, const char *authkey, size_t len)
{
    if (sodium_init() < 0)
        return -1;
    if (crypto_pwhash(keys->K, sizeof keys->K, authkey, len, PWHASH_SALT,
                      PWHASH_OPSLIMIT, PWHASH_MEMLIMIT,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -1;
    uint8_t tag[8];
    crypto_generichash(tag, sizeof tag, (const uint8_t *)TAG_LABEL,
                       sizeof TAG_LABEL - 1, keys->K, sizeof keys->K);
    sodium_bin2hex(keys->tag_hex, sizeof keys->tag_hex, tag, sizeof tag);
    return 0;
}

void mesh_keys_wipe(struct mesh_keys *keys)
{
    sodium_memzero(keys->sk, sizeof keys->sk);
    sodium_memzero(keys->K, sizeof keys->K);
}
