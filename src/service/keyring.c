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
#include "core/limits.h"

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

enum { KEY_LINE = 2 * CRYPTO_KEY_LEN + 1 }; /* 64 hex digits and a newline */

static hb_err parse_masters(const char *text, size_t len,
                            uint8_t masters[KEYRING_VERSIONS][CRYPTO_KEY_LEN], int *count);
static hb_err derive(uint8_t masters[KEYRING_VERSIONS][CRYPTO_KEY_LEN], int count, keyring *out);

/* Read the key file's master keys (checking its mode). */
static hb_err read_masters(const char *path, uint8_t masters[KEYRING_VERSIONS][CRYPTO_KEY_LEN],
                           int *count, char *err_text, size_t size)
{
    *count = 0;
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
    char text[KEYRING_VERSIONS * (KEY_LINE + 1) + 8];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, text + len, sizeof text - len);
        if (n <= 0) break;
        len += (size_t)n;
        if (len == sizeof text) break;
    }
    close(fd);
    /* a file as long as the buffer is longer than any key file */
    hb_err err = len == sizeof text ? HB_ERR_INVALID_ARGUMENT : parse_masters(text, len, masters, count);
    OPENSSL_cleanse(text, sizeof text);
    if (err == HB_ERR_INVALID_ARGUMENT) {
        snprintf(err_text, size, "the key file %s does not hold 64-digit hex keys, one a line "
                 "(at most %d)", path, KEYRING_VERSIONS);
    }
    return err;
}

static hb_err parse_masters(const char *text, size_t len,
                            uint8_t masters[KEYRING_VERSIONS][CRYPTO_KEY_LEN], int *count)
{
    *count = 0;
    hb_err err = HB_ERR_OK;
    size_t at = 0;
    while (err == HB_ERR_OK && at < len) {
        size_t end = at;
        while (end < len && text[end] != '\n') end++;
        size_t line = end;
        if (line > at && text[line - 1] == '\r') line--;
        if (line > at) {
            if (*count == KEYRING_VERSIONS ||
                !crypto_unhex(text + at, line - at, masters[*count], CRYPTO_KEY_LEN)) {
                err = HB_ERR_INVALID_ARGUMENT;
            } else {
                (*count)++;
            }
        }
        at = end + 1;
    }
    if (err == HB_ERR_OK && *count == 0) err = HB_ERR_INVALID_ARGUMENT;
    return err;
}

hb_err keyring_load(const char *path, keyring *out, char *err_text, size_t size)
{
    uint8_t masters[KEYRING_VERSIONS][CRYPTO_KEY_LEN];
    int count = 0;
    memset(out, 0, sizeof *out);
    hb_err err = read_masters(path, masters, &count, err_text, size);
    if (err == HB_ERR_OK) err = derive(masters, count, out);
    OPENSSL_cleanse(masters, sizeof masters);
    return err;
}

hb_err keyring_load_text(const char *text, size_t len, keyring *out)
{
    uint8_t masters[KEYRING_VERSIONS][CRYPTO_KEY_LEN];
    int count = 0;
    memset(out, 0, sizeof *out);
    hb_err err = parse_masters(text, len, masters, &count);
    if (err == HB_ERR_OK) err = derive(masters, count, out);
    OPENSSL_cleanse(masters, sizeof masters);
    return err;
}

static hb_err derive(uint8_t masters[KEYRING_VERSIONS][CRYPTO_KEY_LEN], int count, keyring *out)
{
    hb_err err = HB_ERR_OK;
    for (int v = 0; err == HB_ERR_OK && v < count; v++) {
        err = crypto_keys_derive(masters[v], "hongbao data key v1", CRYPTO_SUITE_AES_GCM,
                                 &out->data[v]);
    }
    if (err == HB_ERR_OK) err = crypto_derive(masters[0], "hongbao lookup key v1", out->lookup_key);
    if (err == HB_ERR_OK) err = packet_token_keys_derive(masters[0], &out->packet_tokens);
    for (int i = 0; err == HB_ERR_OK && i < KEYRING_CODE_KEYS; i++) {
        err = code_token_key_derive(masters[0], (uint8_t)(i + 1), &out->code_tokens[i]);
    }
    for (int v = 2; err == HB_ERR_OK && v <= count; v++) {
        int id = KEYRING_CODE_KEYS + v - 1;
        err = code_token_key_derive(masters[v - 1], (uint8_t)id, &out->code_tokens[id - 1]);
    }
    if (err != HB_ERR_OK) {
        keyring_clear(out);
        return err;
    }
    out->versions = count;
    keyring_set_code_keys(out, 1, 1);
    return HB_ERR_OK;
}

hb_err keyring_rotate(const char *path, int *version, char *err_text, size_t size)
{
    uint8_t masters[KEYRING_VERSIONS][CRYPTO_KEY_LEN];
    int count = 0;
    hb_err err = read_masters(path, masters, &count, err_text, size);
    if (err == HB_ERR_OK && count == KEYRING_VERSIONS) {
        snprintf(err_text, size, "the key file %s holds %d keys already, the most it may",
                 path, KEYRING_VERSIONS);
        err = HB_ERR_INVALID_ARGUMENT;
    }
    if (err == HB_ERR_OK && RAND_bytes(masters[count], CRYPTO_KEY_LEN) != 1) {
        snprintf(err_text, size, "no randomness for a new key");
        err = HB_ERR_UNAVAILABLE;
    }
    char tmp[LIMIT_PATH_LEN + 16];
    char text[KEYRING_VERSIONS * KEY_LINE + 1];
    int fd = -1;
    if (err == HB_ERR_OK) {
        count++;
        for (int v = 0; v < count; v++) {
            crypto_hex(masters[v], CRYPTO_KEY_LEN, text + (size_t)v * KEY_LINE);
            text[(size_t)v * KEY_LINE + KEY_LINE - 1] = '\n';
        }
        snprintf(tmp, sizeof tmp, "%s.rotating", path);
        (void)unlink(tmp); /* a leftover of a failed rotation: never reused, whatever its mode */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        size_t len = (size_t)count * KEY_LINE;
        if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0 ||
            rename(tmp, path) != 0) {
            snprintf(err_text, size, "cannot write the key file %s: %s", path, strerror(errno));
            if (fd >= 0) unlink(tmp);
            err = HB_ERR_UNAVAILABLE;
        }
    }
    if (fd >= 0) close(fd);
    OPENSSL_cleanse(masters, sizeof masters);
    OPENSSL_cleanse(text, sizeof text);
    if (err != HB_ERR_OK) return err;
    /* the rename is durable once the directory is */
    char dir[LIMIT_PATH_LEN + 16];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else {
        slash[slash == dir ? 1 : 0] = '\0';
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    *version = count;
    return HB_ERR_OK;
}

void keyring_set_suite(keyring *k, crypto_suite suite)
{
    for (int v = 0; v < KEYRING_VERSIONS; v++) k->data[v].seal_suite = suite;
}

void keyring_set_code_keys(keyring *k, int current, int min)
{
    ASSERT(min >= 1 && min <= current && current <= KEYRING_CODE_KEYS);
    k->code_key_current = k->versions > 1 ? KEYRING_CODE_KEYS + k->versions - 1 : current;
    k->code_key_min = min;
}

const code_token_key *keyring_code_seal_key(const keyring *k)
{
    ASSERT(k->code_key_current >= 1 && k->code_key_current <= KEYRING_CODE_SLOTS);
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

enum { BOX_VERSIONED = 0x7E };

int keyring_box_version(const uint8_t *box, size_t box_len)
{
    if (box_len == 0) return 0;
    if (box[0] != BOX_VERSIONED) return 1;
    return box_len > 2 && box[1] >= 2 ? box[1] : 0;
}

size_t keyring_plain_len(const uint8_t *box, size_t box_len)
{
    int v = keyring_box_version(box, box_len);
    if (v == 0) return 0;
    return v == 1 ? crypto_plain_len(box, box_len) : crypto_plain_len(box + 2, box_len - 2);
}

hb_err keyring_seal(const keyring *k, const void *plain, size_t len, const void *aad,
                    size_t aad_len, uint8_t *box, size_t *box_len)
{
    ASSERT(k->versions >= 1 && k->versions <= KEYRING_VERSIONS);
    if (k->versions == 1) return crypto_seal(&k->data[0], plain, len, aad, aad_len, box, box_len);
    box[0] = BOX_VERSIONED;
    box[1] = (uint8_t)k->versions;
    hb_err err = crypto_seal(&k->data[k->versions - 1], plain, len, aad, aad_len, box + 2, box_len);
    if (err == HB_ERR_OK) *box_len += 2;
    return err;
}

hb_err keyring_open(const keyring *k, const uint8_t *box, size_t box_len, const void *aad,
                    size_t aad_len, uint8_t *plain, size_t *plain_len)
{
    int v = keyring_box_version(box, box_len);
    if (v < 1 || v > k->versions) return HB_ERR_INVALID_ARGUMENT;
    size_t skip = v == 1 ? 0 : 2;
    return crypto_open(&k->data[v - 1], box + skip, box_len - skip, aad, aad_len, plain, plain_len);
}

void keyring_clear(keyring *k)
{
    OPENSSL_cleanse(k, sizeof *k);
}
