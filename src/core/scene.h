/* Red-packet scenes: presets with a suggested amount range and a default wishing (pure). */
#ifndef HB_CORE_SCENE_H
#define HB_CORE_SCENE_H

#include <stddef.h>
#include <stdint.h>

typedef struct scene {
    const char *name;       /* stored with the packet */
    const char *title;      /* shown (Chinese first) */
    int64_t suggest_min;    /* suggested total, fen */
    int64_t suggest_max;
    int64_t suggest_count;  /* suggested shares */
    const char *wishing;    /* the default wishing */
} scene;

size_t scene_count(void);
const scene *scene_at(size_t i);
/* The scene of this name, or NULL. */
const scene *scene_find(const char *name);
/* A packet's wishing when it names neither a wishing nor a scene. */
#define SCENE_DEFAULT_WISHING "恭喜发财，大吉大利"

#endif
