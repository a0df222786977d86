/* common/cm_err.c — the one table of error codes and the helpers that fill
 * a cm_err. Must never log: the handler of an error does that. */
#include "common/cm.h"

#include <stdio.h>
#include <string.h>

typedef struct cm_err_info {
    int code;
    const char *name;
    bool retryable;
} cm_err_info;

static const cm_err_info cm_err_table[] = {
    {CM_OK, "ok", false},
    {CM_ENOMEM, "out of memory", false},
    {CM_EINVAL, "invalid input", false},
    {CM_EIO, "i/o error", false},
    {CM_EPG, "database error", false},
    {CM_EPGCONN, "database connection lost", true},
    {CM_EJOURNAL, "journal error", false},
    {CM_ECORRUPT, "damaged data", false},
    {CM_ECLOUD, "cloud error", false},
    {CM_ERETRY, "cloud asked to retry", true},
    {CM_ENET, "network error", true},
    {CM_ENOTFOUND, "not found", false},
    {CM_EEXISTS, "already exists", false},
    {CM_EBUSY, "busy", true},
    {CM_ECONFIG, "configuration error", false},
    {CM_EFULL, "journal full", false},
    {CM_EBADREPLY, "malformed cloud response", false},
};

static const cm_err_info *cm_err_lookup(int code)
{
    for (size_t i = 0; i < sizeof cm_err_table / sizeof cm_err_table[0]; i++)
        if (cm_err_table[i].code == code)
            return &cm_err_table[i];
    return NULL;
}

const char *cm_err_name(int code)
{
    const cm_err_info *info = cm_err_lookup(code);
    return info ? info->name : "unknown error";
}

bool cm_err_retryable(int code)
{
    const cm_err_info *info = cm_err_lookup(code);
    return info ? info->retryable : false;
}

int cm_err_set(cm_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->cloud_code[0] = '\0';
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int cm_err_wrap(cm_err *err, const char *fmt, ...)
{
    if (!err)
        return CM_EINVAL;
    char prefix[512];
    char old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t rest = sizeof err->msg - n - 3;
    size_t m = strnlen(old, rest);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
    return err->code;
}

void cm_err_clear(cm_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
        err->cloud_code[0] = '\0';
    }
}

cm_err_parts cm_err_split(const char *msg)
{
    static const char detail_mark[] = " Detail: ", hint_mark[] = " Hint: ";
    cm_err_parts p = {.fact = msg};
    const char *h = strstr(msg, hint_mark);
    int end = h ? (int)(h - msg) : (int)strlen(msg);
    if (h) {
        p.hint = h + sizeof hint_mark - 1;
        p.hint_len = (int)strlen(p.hint);
    }
    const char *d = strstr(msg, detail_mark);
    if (d && d - msg < end) {
        p.detail = d + sizeof detail_mark - 1;
        p.detail_len = (int)(msg + end - p.detail);
        end = (int)(d - msg);
    }
    p.fact_len = end;
    return p;
}
