#include "core/scene.h"

#include <string.h>

static const scene scenes[] = {
    {"wedding", "婚礼 Wedding", 20000, 50000, 10, "百年好合，永结同心"},
    {"birthday", "生日 Birthday", 6600, 18800, 10, "生日快乐，心想事成"},
    {"festival", "节日 Festival", 888, 8888, 20, "新春快乐，万事如意"},
    {"thanks", "感谢 Thanks", 500, 5000, 1, "谢谢你，辛苦了"},
    {"marketing", "营销 Marketing", 10000, 100000, 100, "感谢关注，好礼相送"},
    {"team", "团队 Team", 5000, 50000, 20, "团队辛苦，一起加油"},
};

size_t scene_count(void)
{
    return sizeof scenes / sizeof scenes[0];
}

const scene *scene_at(size_t i)
{
    return i < scene_count() ? &scenes[i] : NULL;
}

const scene *scene_find(const char *name)
{
    for (size_t i = 0; i < scene_count(); i++) {
        if (strcmp(scenes[i].name, name) == 0) return &scenes[i];
    }
    return NULL;
}
