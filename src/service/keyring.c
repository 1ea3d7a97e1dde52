#include "service/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/invariant.h"

void keyring_default_path(const char *db, char *out, size_t size)
{
    const char *env = getenv("HONGBAO_KEY_FILE");
    if (env != NULL && env[0] != '\0') {
        snprintf(out, size, "%s", env);
    } else if (strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0) {
        snprintf(out, size, "hongbao.key"); /* a database url names no directory */
    } else {
        snprintf(out, size, "%s.key", db);
    }
}

hb_err keyring_create(const char *path, int *created, char *err_text, size_t size)
{
    *created = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return HB_ERR_OK;
    if (fd < 0) {
        snprintf(err_text, size, "cannot create the key file %s: %s", path, strerror(errno));
        return HB_ERR_UNAVAILABLE;
    }
    uint8_t master[CRYPTO_KEY_LEN];
    char line[2 * CRYPTO_KEY_LEN + 2];
    hb_err err = HB_ERR_UNAVAILABLE;
    if (RAND_bytes(master, sizeof master) == 1) {
        crypto_hex(master, sizeof master, line);
        line[(size_t)2 * CRYPTO_KEY_LEN] = '\n';
        ssize_t n = write(fd, line, sizeof line - 1);
        if (n == (ssize_t)(sizeof line - 1) && fsync(fd) == 0) err = HB_ERR_OK;
    }
    OPENSSL_cleanse(master, sizeof master);
    OPENSSL_cleanse(line, sizeof line);
    close(fd);
    if (err != HB_ERR_OK) {
        unlink(path);
        snprintf(err_text, size, "cannot write the key file %s", path);
        return err;
    }
    *created = 1;
    return HB_ERR_OK;
}

hb_err keyring_load(const char *path, keyring *out, char *err_text, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err_text, size, "cannot open the key file %s: %s", path, strerror(errno));
        return errno == ENOENT ? HB_ERR_NOT_FOUND : HB_ERR_UNAVAILABLE;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        snprintf(err_text, size, "the key file %s must be readable by its owner only (chmod 600)",
                 path);
        return HB_ERR_FORBIDDEN;
    }
    char text[2 * CRYPTO_KEY_LEN + 8];
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    uint8_t master[CRYPTO_KEY_LEN];
    size_t len = n > 0 ? (size_t)n : 0;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--;
    hb_err err = HB_ERR_INVALID_ARGUMENT;
    if (crypto_unhex(text, len, master, sizeof master)) {
        err = crypto_keys_derive(master, "hongbao data key v1", CRYPTO_SUITE_AES_GCM, &out->data);
        if (err == HB_ERR_OK) err = crypto_derive(master, "hongbao lookup key v1", out->lookup_key);
        if (err == HB_ERR_OK) err = packet_token_keys_derive(master, &out->packet_tokens);
        for (int i = 0; err == HB_ERR_OK && i < KEYRING_CODE_KEYS; i++) {
            err = code_token_key_derive(master, (uint8_t)(i + 1), &out->code_tokens[i]);
        }
        out->code_key_current = 1;
        out->code_key_min = 1;
    }
    OPENSSL_cleanse(master, sizeof master);
    OPENSSL_cleanse(text, sizeof text);
    if (err == HB_ERR_INVALID_ARGUMENT) {
        snprintf(err_text, size, "the key file %s does not hold a 64-digit hex key", path);
    }
    return err;
}

void keyring_set_suite(keyring *k, crypto_suite suite)
{
    k->data.seal_suite = suite;
}

void keyring_set_code_keys(keyring *k, int current, int min)
{
    ASSERT(min >= 1 && min <= current && current <= KEYRING_CODE_KEYS);
    k->code_key_current = current;
    k->code_key_min = min;
}

const code_token_key *keyring_code_seal_key(const keyring *k)
{
    ASSERT(k->code_key_current >= 1 && k->code_key_current <= KEYRING_CODE_KEYS);
    return &k->code_tokens[k->code_key_current - 1];
}

hb_err keyring_code_open(const keyring *k, const char *text, size_t len, int64_t now_s,
                         code_token *out)
{
    ASSERT(k->code_key_min >= 1 && k->code_key_min <= k->code_key_current);
    size_t count = (size_t)k->code_key_current - (size_t)k->code_key_min + 1;
    return code_token_open(&k->code_tokens[k->code_key_min - 1], count, text, len, now_s, out,
                           NULL);
}

void keyring_clear(keyring *k)
{
    OPENSSL_cleanse(k, sizeof *k);
}
