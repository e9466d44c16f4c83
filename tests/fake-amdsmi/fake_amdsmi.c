/*
 * A stand-in for AMD SMI's libamd_smi.so, for testing footprint's AMD path without an AMD
 * GPU. The test suite compiles it (`cc -shared -fPIC`) into a directory on LD_LIBRARY_PATH.
 * It implements only what footprint calls. Its GPUs come from $FAKE_AMDSMI_SCRIPT:
 *
 *   gpu bdf=0000:c1:00.0 power=450 resolution=15.3 fail_after=0.5
 *
 * The energy accumulator counts units of `resolution` microjoules at `power` watts since
 * amdsmi_init; after `fail_after` seconds amdsmi_get_energy_count fails (status 2, not
 * supported), as on a GPU reset. Without the script, amdsmi_init fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX 16
struct gpu { uint64_t bdf; double power, resolution, fail_after; };
static struct gpu gpus[MAX];
static unsigned count;
static double t0;
static int socket_tag;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint32_t amdsmi_init(uint64_t flags) {
    (void)flags;
    const char *path = getenv("FAKE_AMDSMI_SCRIPT");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return 8; /* AMDSMI_STATUS_INIT_ERROR */
    char line[256];
    count = 0;
    while (fgets(line, sizeof line, f) && count < MAX) {
        if (strncmp(line, "gpu ", 4)) continue;
        struct gpu *g = &gpus[count++];
        unsigned dom = 0, bus = 0, dev = 0, fn = 0;
        char *p = strstr(line, "bdf=");
        if (p) sscanf(p + 4, "%x:%x:%x.%x", &dom, &bus, &dev, &fn);
        g->bdf = ((uint64_t)dom << 16) | (bus << 8) | (dev << 3) | fn;
        g->power = (p = strstr(line, "power=")) ? atof(p + 6) : 100;
        g->resolution = (p = strstr(line, "resolution=")) ? atof(p + 11) : 15.3;
        g->fail_after = (p = strstr(line, "fail_after=")) ? atof(p + 11) : -1;
    }
    fclose(f);
    t0 = now();
    return 0;
}

uint32_t amdsmi_shut_down(void) { return 0; }

uint32_t amdsmi_get_socket_handles(uint32_t *n, void **handles) {
    if (!n) return 1;
    if (handles && *n >= 1) handles[0] = &socket_tag;
    *n = 1;
    return 0;
}

uint32_t amdsmi_get_processor_handles(void *socket, uint32_t *n, void **handles) {
    if (socket != &socket_tag || !n) return 1;
    if (handles)
        for (unsigned i = 0; i < count && i < *n; i++) handles[i] = &gpus[i];
    *n = count;
    return 0;
}

uint32_t amdsmi_get_gpu_device_bdf(void *h, uint64_t *bdf) {
    if (!h || !bdf) return 1;
    *bdf = ((struct gpu *)h)->bdf;
    return 0;
}

uint32_t amdsmi_get_energy_count(void *h, uint64_t *acc, float *res, uint64_t *ts) {
    if (!h || !acc || !res || !ts) return 1;
    struct gpu *g = h;
    double t = now() - t0;
    if (g->fail_after >= 0 && t >= g->fail_after) return 2;
    *res = (float)g->resolution;
    *acc = (uint64_t)(g->power * t * 1e6 / *res);
    *ts = (uint64_t)(t * 1e9);
    return 0;
}
