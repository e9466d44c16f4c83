/*
 * A stand-in for Habana's libhlml.so, for testing footprint's Intel Gaudi path without the
 * hardware. Compiled by the test suite into a directory on LD_LIBRARY_PATH. Devices come from
 * $FAKE_HLML_SCRIPT, one per line:  gaudi power=600 counter=yes name=HL-325L
 * The energy counter (mJ) integrates the scripted power since hlml_init; counter=no makes it
 * fail (not supported). Without the script, hlml_init fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX 8
struct dev { double power; int counter; char name[64]; };
static struct dev devs[MAX];
static unsigned count;
static double t0;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int hlml_init(void) {
    const char *path = getenv("FAKE_HLML_SCRIPT");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return 9;
    char line[256];
    count = 0;
    while (fgets(line, sizeof line, f) && count < MAX) {
        if (strncmp(line, "gaudi", 5)) continue;
        struct dev *d = &devs[count++];
        char *p;
        d->power = (p = strstr(line, "power=")) ? atof(p + 6) : 100;
        d->counter = !strstr(line, "counter=no");
        snprintf(d->name, sizeof d->name, "Gaudi");
        if ((p = strstr(line, "name="))) {
            p[strcspn(p, "\n")] = 0;
            snprintf(d->name, sizeof d->name, "%s", p + 5);
        }
    }
    fclose(f);
    t0 = now();
    return 0;
}

int hlml_shutdown(void) { return 0; }

int hlml_device_get_count(unsigned *n) {
    if (!n) return 2;
    *n = count;
    return 0;
}

int hlml_device_get_handle_by_index(unsigned i, void **h) {
    if (!h || i >= count) return 2;
    *h = &devs[i];
    return 0;
}

int hlml_device_get_name(void *h, char *out, unsigned len) {
    struct dev *d = h;
    if (!d || !out || strlen(d->name) + 1 > len) return 2;
    strcpy(out, d->name);
    return 0;
}

int hlml_device_get_power_usage(void *h, unsigned *mw) {
    struct dev *d = h;
    if (!d || !mw) return 2;
    *mw = (unsigned)(d->power * 1000);
    return 0;
}

int hlml_device_get_total_energy_consumption(void *h, unsigned long long *mj) {
    struct dev *d = h;
    if (!d || !mj) return 2;
    if (!d->counter) return 3;
    *mj = (unsigned long long)(d->power * (now() - t0) * 1000);
    return 0;
}
