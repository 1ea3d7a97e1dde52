#include "service/voice.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/money.h"

void voice_text(int64_t amount_fen, const char *memo, bool english, char *out, size_t size)
{
    char yuan[MONEY_TEXT_MAX];
    money_format(amount_fen, yuan, sizeof yuan);
    char clean[256];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)memo; *p != '\0' && n + 1 < sizeof clean; p++) {
        if (*p >= 0x20 && *p != 0x7f) clean[n++] = (char)*p;
    }
    clean[n] = '\0';
    /* the text starts with a word, never with '-': espeak-ng could read that as an option */
    if (english) {
        snprintf(out, size, "Received %s yuan%s%s", yuan, n > 0 ? ". " : "", clean);
    } else {
        snprintf(out, size, "收款%s元%s%s", yuan, n > 0 ? "，" : "", clean);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

hb_err voice_wav(const char *text, const char *voice, uint8_t **wav, size_t *len)
{
    *wav = NULL;
    *len = 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return HB_ERR_UNAVAILABLE;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    /* posix_spawn takes char *const argv[]: copies, not casts of the caller's strings */
    char prog[] = "espeak-ng", v_flag[] = "-v", out_flag[] = "--stdout";
    char voice_arg[16], *text_arg = strdup(text);
    snprintf(voice_arg, sizeof voice_arg, "%s", voice);
    if (text_arg == NULL) {
        posix_spawn_file_actions_destroy(&actions);
        close(fds[0]);
        close(fds[1]);
        return HB_ERR_UNAVAILABLE;
    }
    char *argv[] = {prog, v_flag, voice_arg, out_flag, text_arg, NULL};
    pid_t pid = 0;
    /* a minimal environment, not the server's */
    char path_env[] = "PATH=/usr/bin:/bin", lang_env[] = "LANG=C.UTF-8";
    char *envp[] = {path_env, lang_env, NULL};
    int rc = posix_spawnp(&pid, "espeak-ng", &actions, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    free(text_arg);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return HB_ERR_UNAVAILABLE;
    }
    size_t cap = (size_t)256 * 1024, n = 0;
    uint8_t *buf = malloc(cap);
    bool ok = buf != NULL;
    int64_t deadline = now_ms() + VOICE_TIMEOUT_MS;
    while (ok) {
        int64_t left = deadline - now_ms();
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            ok = false; /* too slow */
            break;
        }
        if (n == cap) {
            if (cap >= VOICE_WAV_MAX) {
                ok = false; /* too long */
                break;
            }
            uint8_t *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                ok = false;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t got = read(fds[0], buf + n, cap - n);
        if (got == 0) break;
        if (got < 0) {
            if (errno == EINTR) continue;
            ok = false;
            break;
        }
        n += (size_t)got;
    }
    close(fds[0]);
    if (!ok) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    /* a canonical 44-byte header; espeak-ng streams it with unknown sizes: set them */
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || n < 44 ||
        memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0 ||
        memcmp(buf + 36, "data", 4) != 0) {
        free(buf);
        return HB_ERR_UNAVAILABLE;
    }
    put_le32(buf + 4, (uint32_t)(n - 8));
    put_le32(buf + 40, (uint32_t)(n - 44));
    *wav = buf;
    *len = n;
    return HB_ERR_OK;
}
