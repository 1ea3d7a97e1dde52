#include "core/clock.h"

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
