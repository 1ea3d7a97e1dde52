#include "core/digest.h"

#include <pthread.h>

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_MD_CTX *thread_ctx;
static pthread_key_t ctx_key;

static void free_ctx(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    ASSERT(sha256_md != NULL);
    ASSERT(pthread_key_create(&ctx_key, free_ctx) == 0);
}

const EVP_MD *digest_sha256_md(void)
{
    pthread_once(&sha256_once, fetch_sha256);
    return sha256_md;
}

hb_err digest_sha256(const void *data, size_t len, uint8_t out[32])
{
    const EVP_MD *md = digest_sha256_md();
    if (thread_ctx == NULL) {
        thread_ctx = EVP_MD_CTX_new();
        if (thread_ctx == NULL) return HB_ERR_UNAVAILABLE;
        /* freed when the thread exits */
        (void)pthread_setspecific(ctx_key, thread_ctx);
    }
    unsigned int n = 0;
    if (EVP_DigestInit_ex(thread_ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(thread_ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(thread_ctx, out, &n) != 1 || n != 32) {
        return HB_ERR_UNAVAILABLE;
    }
    return HB_ERR_OK;
}
