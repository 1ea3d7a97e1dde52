/* Spoken receipts (issue 10): the amount and memo of a payment read aloud as a WAV file, for
 * merchants' speakers, by espeak-ng (Debian's espeak-ng; without it: UNAVAILABLE). */
#ifndef HB_SERVICE_VOICE_H
#define HB_SERVICE_VOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"

#define VOICE_WAV_MAX ((size_t)4 * 1024 * 1024)
#define VOICE_TIMEOUT_MS 5000

/* The text a receipt says: "收款12.34元，午餐" (zh) or "Received 12.34 yuan. Lunch" (en),
 * without control characters. */
void voice_text(int64_t amount_fen, const char *memo, bool english, char *out, size_t size);
/* Synthesize text in the voice ("cmn" or "en") into a malloc'd WAV file (*wav, *len) whose
 * RIFF and data sizes are set. UNAVAILABLE when espeak-ng is missing, fails, takes longer
 * than VOICE_TIMEOUT_MS or says more than VOICE_WAV_MAX bytes. */
hb_err voice_wav(const char *text, const char *voice, uint8_t **wav, size_t *len) WARN_UNUSED;

#endif
