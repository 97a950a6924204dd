/* test_keys.c - node.key creation, permissions, reload; K and mesh tag. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"
#include "keys.h"

static void test_create_and_reload(void)
{
    char dir[64], path[128], err[256];
    harness_tmpdir(dir);
    snprintf(path, sizeof path, "%s/node.key", dir);
    struct mesh_keys a, b;
    CHECK(mesh_keys_load_or_create(&a, dir, err, sizeof err) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    CHECK_INT_EQ(strlen(a.id_hex), 16);
    CHECK_INT_EQ(a.node_id, mesh_node_id_of(a.pk));
    char hex[17];
    mesh_id_to_hex(a.node_id, hex);
    CHECK_STR_EQ(hex, a.id_hex);
    for (const char *p = a.id_hex; *p; p++)
        CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));

    CHECK(mesh_keys_load_or_create(&b, dir, err, sizeof err) == 0);
    CHECK_STR_EQ(a.id_hex, b.id_hex);
    CHECK(memcmp(a.pk, b.pk, 32) == 0 && memcmp(a.sk, b.sk, 32) == 0);

    /* A key others can read is refused, like ssh does. */
    CHECK(chmod(path, 0644) == 0);
    CHECK(mesh_keys_load_or_create(&b, dir, err, sizeof err) != 0);
    CHECK(strstr(err, "chmod 600") != NULL);
    CHECK(chmod(path, 0600) == 0);

    /* A corrupted key (pk no longer matches sk) is refused. */
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "X", 1, 60) == 1);
    close(fd);
    CHECK(mesh_keys_load_or_create(&b, dir, err, sizeof err) != 0);
    CHECK(strstr(err, "not a valid") != NULL);
    harness_rmdir(dir);

    /* Another data dir: another identity. */
    harness_tmpdir(dir);
    CHECK(mesh_keys_load_or_create(&b, dir, err, sizeof err) == 0);
    CHECK(a.node_id != b.node_id);
    harness_rmdir(dir);

    CHECK(mesh_keys_load_or_create(&b, "/nonexistent/dir", err, sizeof err) != 0);
}

static void test_authkey_derivation(void)
{
    struct mesh_keys a = {0}, b = {0}, c = {0};
    CHECK(mesh_keys_derive_authkey(&a, "secret", 6) == 0);
    CHECK(mesh_keys_derive_authkey(&b, "secret", 6) == 0);
    CHECK(mesh_keys_derive_authkey(&c, "secreT", 6) == 0);
    CHECK(memcmp(a.K, b.K, 32) == 0);
    CHECK_STR_EQ(a.tag_hex, b.tag_hex);
    CHECK_INT_EQ(strlen(a.tag_hex), 16);
    CHECK(memcmp(a.K, c.K, 32) != 0);
    CHECK(strcmp(a.tag_hex, c.tag_hex) != 0);
    /* K is not the authkey, and the tag is not a prefix of K. */
    CHECK(memmem(a.K, 32, "secret", 6) == NULL);
    mesh_keys_wipe(&a);
    static const uint8_t zero[32];
    CHECK(memcmp(a.K, zero, 32) == 0 && memcmp(a.sk, zero, 32) == 0);
}

int main(void)
{
    test_create_and_reload();
    test_authkey_derivation();
    printf("keys: ok\n");
    return 0;
}
