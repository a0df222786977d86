/* modules/aws/aws_gate.c — what every client of the process shares, per
 * service: a cool-down after the cloud throttled any request to it, and the
 * rule that background requests (the poller's lists) wait while a commit is
 * applying. Commits never queue behind a poll; a throttled service is left
 * alone by everybody for the length of the backoff. */
#include "modules/aws/aws.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define GATE_SERVICES 32

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int foreground;
static struct {
    char name[32];
    int64_t until_us; /* monotonic: no request before this */
} cool[GATE_SERVICES];

static int slot(const char *service)
{
    int free_slot = -1;
    for (int i = 0; i < GATE_SERVICES; i++) {
        if (strcmp(cool[i].name, service) == 0)
            return i;
        if (free_slot < 0 && !cool[i].name[0])
            free_slot = i;
    }
    if (free_slot >= 0)
        snprintf(cool[free_slot].name, sizeof cool[free_slot].name, "%s", service);
    return free_slot;
}

void aws_gate_foreground(bool on)
{
    pthread_mutex_lock(&gate_mu);
    foreground += on ? 1 : -1;
    if (foreground < 0)
        foreground = 0;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

bool aws_gate_busy(void)
{
    pthread_mutex_lock(&gate_mu);
    bool busy = foreground > 0;
    pthread_mutex_unlock(&gate_mu);
    return busy;
}

void aws_gate_throttled(const char *service, long ms)
{
    pthread_mutex_lock(&gate_mu);
    int i = slot(service);
    int64_t until = cm_mono_us() + (int64_t)ms * 1000;
    if (i >= 0 && cool[i].until_us < until)
        cool[i].until_us = until;
    pthread_mutex_unlock(&gate_mu);
}

/* Waits on the condition until wake (monotonic µs) at the latest. */
static void wait_until(int64_t wake)
{
    struct timespec now, ts;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t left = wake - cm_mono_us();
    if (left < 0)
        left = 0;
    int64_t ns = (int64_t)now.tv_nsec + (left % 1000000) * 1000;
    ts.tv_sec = now.tv_sec + (time_t)(left / 1000000) + (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&gate_cv, &gate_mu, &ts);
}

int64_t aws_gate_enter(const char *service, bool background)
{
    int64_t t0 = cm_mono_us();
    pthread_mutex_lock(&gate_mu);
    for (;;) {
        int i = slot(service);
        int64_t until = i >= 0 ? cool[i].until_us : 0;
        int64_t now = cm_mono_us();
        if (background && foreground > 0) {
            wait_until(now + 1000000);
            continue;
        }
        if (until <= now)
            break;
        wait_until(until);
    }
    pthread_mutex_unlock(&gate_mu);
    return cm_mono_us() - t0;
}
