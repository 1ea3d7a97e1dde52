#include "core/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <time.h>

#include "core/invariant.h"

static int64_t real_now_ms(const hb_clock *self)
{
    (void)self;
    struct timespec ts;
    ASSERT(clock_gettime(CLOCK_REALTIME, &ts) == 0);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t fixed_now_ms(const hb_clock *self)
{
    return self->fixed_ms;
}

static const hb_clock real_clock = {.now_ms = real_now_ms, .fixed_ms = 0};

const hb_clock *clock_real(void)
{
    return &real_clock;
}

void clock_fixed_init(hb_clock *clock, int64_t fixed_ms)
{
    clock->now_ms = fixed_now_ms;
    clock->fixed_ms = fixed_ms;
}

int64_t clock_monotonic_ns(void)
{
    struct timespec ts;
    ASSERT(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_business_day(int64_t now_ms, int64_t *minute_of_day)
{
    time_t now_s = (time_t)(now_ms / 1000);
    struct tm local;
    int64_t offset_s = localtime_r(&now_s, &local) != NULL ? local.tm_gmtoff : 0;
    int64_t t = now_ms / 1000 + offset_s;
    int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    if (minute_of_day != NULL) *minute_of_day = (t - day * 86400) / 60;
    return day;
}

int64_t clock_day_start_ms(int64_t day)
{
    /* midnight UTC shifted by the zone's offset there, then corrected once more for an offset
     * that differs at the guess (a change of offset around the day's start) */
    int64_t guess = day * 86400;
    for (int i = 0; i < 2; i++) {
        time_t t = (time_t)guess;
        struct tm local;
        int64_t offset = localtime_r(&t, &local) != NULL ? local.tm_gmtoff : 0;
        guess = day * 86400 - offset;
    }
    return guess * 1000;
}

/* Howard Hinnant's days_from_civil and civil_from_days (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int clock_day_parse(const char *text, int64_t *day)
{
    if (text == NULL || strlen(text) != 10 || text[4] != '-' || text[7] != '-') return -1;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) return -1;
    }
    int64_t y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
    int64_t m = (text[5] - '0') * 10 + (text[6] - '0');
    int64_t d = (text[8] - '0') * 10 + (text[9] - '0');
    static const int64_t month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || d < 1) return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > month_days[m - 1] + (m == 2 && leap ? 1 : 0)) return -1;
    *day = days_from_civil(y, m, d);
    return 0;
}

/* civil_from_days: the year, month and day of a day number. */
static void civil(int64_t day, int64_t *year, int64_t *month, int64_t *mday)
{
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = m <= 2 ? y + 1 : y;
    *month = m;
    *mday = d;
}

int64_t clock_day_year(int64_t day)
{
    int64_t y = 0, m = 0, d = 0;
    civil(day, &y, &m, &d);
    return y;
}

void clock_day_format(int64_t day, char *out, size_t size)
{
    int64_t y = 0, m = 0, d = 0;
    civil(day, &y, &m, &d);
    snprintf(out, size, "%04lld-%02lld-%02lld", (long long)y, (long long)m, (long long)d);
}
