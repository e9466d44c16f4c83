/*
 * A stand-in for libnvidia-ml.so.1, for testing footprint's NVML path on machines without an
 * NVIDIA GPU. The test suite compiles it (`cc -shared -fPIC`) into a directory it puts first on
 * LD_LIBRARY_PATH, so footprint loads it through the normal dynamic-loader path, exactly as it
 * loads the real library. It implements only the calls footprint (through nvml-wrapper) makes.
 *
 * Its GPUs come from a script named by $FAKE_NVML_SCRIPT, one device per line:
 *
 *   driver 550.54.15
 *   gpu uuid=GPU-0a power=300 limit=700 counter=yes instant=no util=90 name=NVIDIA H100 80GB HBM3
 *   gpu uuid=GPU-1b trace=100,400 step=0.5 counter=no name=NVIDIA A100-SXM4-80GB
 *   mig parent=0 uuid=MIG-0a-1
 *
 * gpu keys (name= takes the rest of the line):
 *   power=W          constant board power
 *   trace=W,W,...    power that steps through these values every `step` seconds, cyclically
 *   counter=yes|no   whether nvmlDeviceGetTotalEnergyConsumption works (no: NOT_SUPPORTED)
 *   counter_start_mj=N   the counter's value when the library is initialised
 *   reset_after=S    the counter restarts from 0 after S seconds (a driver reload)
 *   lost_after=S     every call on the device fails with GPU_IS_LOST after S seconds
 *   open=fail        the device's handle cannot be had (GetHandleByIndex answers UNKNOWN)
 *   instant=yes|no   whether the instantaneous power field (NVML_FI_DEV_POWER_INSTANT) answers
 *   limit=W          enforced power limit;  util=%  GPU utilisation;  mig=0|1  MIG mode
 * The energy counter is the exact integral of the scripted power since initialisation, in mJ.
 * Without $FAKE_NVML_SCRIPT, initialisation fails with DRIVER_NOT_LOADED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int nvmlReturn_t;
enum {
    OK = 0,
    UNINITIALIZED = 1,
    INVALID_ARGUMENT = 2,
    NOT_SUPPORTED = 3,
    NOT_FOUND = 6,
    INSUFFICIENT_SIZE = 7,
    DRIVER_NOT_LOADED = 9,
    GPU_IS_LOST = 15,
};

#define MAX_GPUS 16
#define MAX_TRACE 64
#define MAX_MIGS 32

struct gpu {
    int is_mig;
    int parent; /* for a MIG instance: the index of its GPU */
    unsigned index;
    char name[96];
    char uuid[96];
    double trace[MAX_TRACE];
    int trace_len;
    double step_s;
    int counter;
    unsigned long long counter_start_mj;
    double reset_after_s;
    double lost_after_s;
    int open_fails;
    int instant;
    unsigned limit_mw;
    unsigned util;
    int mig;
};

typedef struct gpu *nvmlDevice_t;

typedef union {
    double dVal;
    int siVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    long long sllVal;
    unsigned short usVal;
} nvmlValue_t;

typedef struct {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    int valueType;
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;

typedef struct {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

static struct gpu gpus[MAX_GPUS];
static unsigned gpu_count;
static struct gpu migs[MAX_MIGS];
static unsigned mig_count;
static char driver[32] = "550.54.15";
static double t0;
static int initialised;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double since_init(void) { return now_s() - t0; }

static double power_at(const struct gpu *g, double t) {
    if (g->trace_len == 1 || g->step_s <= 0) return g->trace[0];
    long k = (long)(t / g->step_s);
    return g->trace[k % g->trace_len];
}

/* Integral of the scripted power over [a, b], in joules. */
static double energy_j(const struct gpu *g, double a, double b) {
    if (b <= a) return 0;
    if (g->trace_len == 1 || g->step_s <= 0) return g->trace[0] * (b - a);
    double e = 0, t = a;
    while (t < b) {
        double next = ((long)(t / g->step_s) + 1) * g->step_s;
        if (next > b) next = b;
        e += power_at(g, t) * (next - t);
        t = next;
    }
    return e;
}

static void parse_gpu(char *rest, struct gpu *g) {
    memset(g, 0, sizeof *g);
    g->trace[0] = 100;
    g->trace_len = 1;
    g->step_s = 1;
    g->counter = 1;
    g->reset_after_s = -1;
    g->lost_after_s = -1;
    g->limit_mw = 700000;
    g->util = 100;
    snprintf(g->name, sizeof g->name, "Fake GPU");
    char *p = rest;
    while (p && *p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '\n') break;
        if (strncmp(p, "name=", 5) == 0) {
            char *end = strchr(p, '\n');
            if (end) *end = 0;
            snprintf(g->name, sizeof g->name, "%s", p + 5);
            break;
        }
        char *end = p + strcspn(p, " \t\n");
        char saved = *end;
        *end = 0;
        char *eq = strchr(p, '=');
        if (eq) {
            *eq = 0;
            const char *k = p, *v = eq + 1;
            if (!strcmp(k, "uuid")) snprintf(g->uuid, sizeof g->uuid, "%s", v);
            else if (!strcmp(k, "power")) { g->trace[0] = atof(v); g->trace_len = 1; }
            else if (!strcmp(k, "trace")) {
                g->trace_len = 0;
                const char *q = v;
                while (*q && g->trace_len < MAX_TRACE) {
                    g->trace[g->trace_len++] = atof(q);
                    q = strchr(q, ',');
                    if (!q) break;
                    q++;
                }
            }
            else if (!strcmp(k, "step")) g->step_s = atof(v);
            else if (!strcmp(k, "counter")) g->counter = !strcmp(v, "yes");
            else if (!strcmp(k, "counter_start_mj")) g->counter_start_mj = strtoull(v, 0, 10);
            else if (!strcmp(k, "reset_after")) g->reset_after_s = atof(v);
            else if (!strcmp(k, "lost_after")) g->lost_after_s = atof(v);
            else if (!strcmp(k, "open")) g->open_fails = !strcmp(v, "fail");
            else if (!strcmp(k, "instant")) g->instant = !strcmp(v, "yes");
            else if (!strcmp(k, "limit")) g->limit_mw = (unsigned)(atof(v) * 1000);
            else if (!strcmp(k, "util")) g->util = (unsigned)atoi(v);
            else if (!strcmp(k, "mig")) g->mig = atoi(v);
            else if (!strcmp(k, "parent")) g->parent = atoi(v);
        }
        *end = saved;
        p = saved ? end + 1 : end;
    }
}

static nvmlReturn_t load_script(void) {
    const char *path = getenv("FAKE_NVML_SCRIPT");
    if (!path) return DRIVER_NOT_LOADED;
    FILE *f = fopen(path, "r");
    if (!f) return DRIVER_NOT_LOADED;
    char line[512];
    gpu_count = mig_count = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "driver ", 7)) {
            line[strcspn(line, "\n")] = 0;
            snprintf(driver, sizeof driver, "%s", line + 7);
        } else if (!strncmp(line, "gpu ", 4) && gpu_count < MAX_GPUS) {
            parse_gpu(line + 4, &gpus[gpu_count]);
            gpus[gpu_count].index = gpu_count;
            gpu_count++;
        } else if (!strncmp(line, "mig ", 4) && mig_count < MAX_MIGS) {
            struct gpu *m = &migs[mig_count++];
            parse_gpu(line + 4, m);
            m->is_mig = 1;
        }
    }
    fclose(f);
    return OK;
}

/* A valid handle, with a GPU that has not been lost. */
static nvmlReturn_t check(nvmlDevice_t d) {
    if (!initialised) return UNINITIALIZED;
    if (!d) return INVALID_ARGUMENT;
    const struct gpu *g = d->is_mig ? &gpus[d->parent] : d;
    if (g->lost_after_s >= 0 && since_init() >= g->lost_after_s) return GPU_IS_LOST;
    return OK;
}

static nvmlReturn_t copy_str(const char *s, char *out, unsigned len) {
    if (!out) return INVALID_ARGUMENT;
    if (strlen(s) + 1 > len) return INSUFFICIENT_SIZE;
    strcpy(out, s);
    return OK;
}

nvmlReturn_t nvmlInit_v2(void) {
    nvmlReturn_t r = load_script();
    if (r != OK) return r;
    t0 = now_s();
    initialised = 1;
    return OK;
}

nvmlReturn_t nvmlInitWithFlags(unsigned flags) {
    (void)flags;
    return nvmlInit_v2();
}

nvmlReturn_t nvmlShutdown(void) {
    initialised = 0;
    return OK;
}

const char *nvmlErrorString(nvmlReturn_t r) {
    static char buf[32];
    snprintf(buf, sizeof buf, "fake NVML error %d", r);
    return buf;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *out, unsigned len) {
    if (!initialised) return UNINITIALIZED;
    return copy_str(driver, out, len);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *count) {
    if (!initialised) return UNINITIALIZED;
    if (!count) return INVALID_ARGUMENT;
    *count = gpu_count;
    return OK;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t *d) {
    if (!initialised) return UNINITIALIZED;
    if (!d || i >= gpu_count) return INVALID_ARGUMENT;
    if (gpus[i].open_fails) return 999; /* NVML_ERROR_UNKNOWN */
    *d = &gpus[i];
    return check(*d);
}

nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *d) {
    if (!initialised) return UNINITIALIZED;
    if (!uuid || !d) return INVALID_ARGUMENT;
    for (unsigned i = 0; i < gpu_count; i++)
        if (!strcmp(gpus[i].uuid, uuid)) { *d = &gpus[i]; return check(*d); }
    for (unsigned i = 0; i < mig_count; i++)
        if (!strcmp(migs[i].uuid, uuid)) { *d = &migs[i]; return check(*d); }
    return NOT_FOUND;
}

nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t d, unsigned *i) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!i) return INVALID_ARGUMENT;
    if (d->is_mig) return NOT_SUPPORTED;
    *i = d->index;
    return OK;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *out, unsigned len) {
    nvmlReturn_t r = check(d);
    return r != OK ? r : copy_str(d->name, out, len);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *out, unsigned len) {
    nvmlReturn_t r = check(d);
    return r != OK ? r : copy_str(d->uuid, out, len);
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!mj) return INVALID_ARGUMENT;
    if (d->is_mig || !d->counter) return NOT_SUPPORTED;
    double t = since_init();
    double e;
    if (d->reset_after_s >= 0 && t >= d->reset_after_s)
        e = energy_j(d, d->reset_after_s, t) * 1e3; /* restarted from 0 */
    else
        e = d->counter_start_mj + energy_j(d, 0, t) * 1e3;
    *mj = (unsigned long long)e;
    return OK;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned *mw) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!mw) return INVALID_ARGUMENT;
    if (d->is_mig) return NOT_SUPPORTED;
    *mw = (unsigned)(power_at(d, since_init()) * 1e3);
    return OK;
}

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t d, int n, nvmlFieldValue_t *values) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!values || n < 0) return INVALID_ARGUMENT;
    for (int i = 0; i < n; i++) {
        /* Power fields only: NVML_FI_DEV_POWER_INSTANT (186) and its neighbours by scheme. */
        if (d->instant && !d->is_mig) {
            values[i].valueType = 1; /* unsigned int */
            values[i].value.uiVal = (unsigned)(power_at(d, since_init()) * 1e3);
            values[i].nvmlReturn = OK;
        } else {
            values[i].nvmlReturn = NOT_SUPPORTED;
        }
    }
    return OK;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned *mw) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!mw) return INVALID_ARGUMENT;
    *mw = d->limit_mw;
    return OK;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!u) return INVALID_ARGUMENT;
    if (d->is_mig) return NOT_SUPPORTED;
    u->gpu = d->util;
    u->memory = d->util / 2;
    return OK;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned *current, unsigned *pending) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!current || !pending) return INVALID_ARGUMENT;
    *current = *pending = (unsigned)d->mig;
    return OK;
}

nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t d, unsigned *is_mig) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!is_mig) return INVALID_ARGUMENT;
    *is_mig = (unsigned)d->is_mig;
    return OK;
}

nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t d, nvmlDevice_t *parent) {
    nvmlReturn_t r = check(d);
    if (r != OK) return r;
    if (!parent) return INVALID_ARGUMENT;
    if (!d->is_mig || d->parent < 0 || (unsigned)d->parent >= gpu_count) return INVALID_ARGUMENT;
    *parent = &gpus[d->parent];
    return OK;
}
