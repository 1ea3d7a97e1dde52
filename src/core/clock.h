/* An injectable clock so that tests can fix time. Production uses clock_real(). */
#ifndef HB_CORE_CLOCK_H
#define HB_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct hb_clock {
    /* Wall-clock time in milliseconds since the Unix epoch. Thread-safe. */
    int64_t (*now_ms)(const struct hb_clock *self);
    int64_t fixed_ms; /* used by clock_fixed() */
} hb_clock;

/* The system's real-time clock (CLOCK_REALTIME). Never NULL; static storage. */
const hb_clock *clock_real(void);
/* A clock that always reads clock->fixed_ms; the caller owns *clock and may change fixed_ms. */
void clock_fixed_init(hb_clock *clock, int64_t fixed_ms);
/* Monotonic nanoseconds for measuring durations. */
int64_t clock_monotonic_ns(void);

/* Business days: days since 1970-01-01. The day of a time in the process's time zone (TZ,
 * which `serve` sets from the policy), and the minutes since that day's local midnight. */
int64_t clock_business_day(int64_t now_ms, int64_t *minute_of_day);
/* The first millisecond of a business day (its local midnight in the process's zone). */
int64_t clock_day_start_ms(int64_t day);
/* "YYYY-MM-DD" (a real date, 1970..9999) to a day number: 0 on success, -1 otherwise. */
int clock_day_parse(const char *text, int64_t *day);
/* The calendar year of a day number. */
int64_t clock_day_year(int64_t day);
/* A day number as "YYYY-MM-DD" (out holds at least 11 bytes). */
void clock_day_format(int64_t day, char *out, size_t size);

static inline int64_t clock_now_ms(const hb_clock *clock)
{
    return clock->now_ms(clock);
}

#endif
