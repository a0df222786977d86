/* common/cm_buf.c — the growable byte buffer with a hard cap. */
#include "common/cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cm_buf_init(cm_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : CM_BUF_DEFAULT_MAX;
}

static int cm_buf_reserve(cm_buf *b, size_t extra)
{
    if (extra > b->max || b->len + extra > b->max)
        return CM_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return CM_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int cm_buf_append(cm_buf *b, const void *data, size_t len)
{
    int rc = cm_buf_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int cm_buf_puts(cm_buf *b, const char *s)
{
    return cm_buf_append(b, s, strlen(s));
}

int cm_buf_vprintf(cm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return CM_EINVAL;
    int rc = cm_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int cm_buf_printf(cm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cm_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void cm_buf_reset(cm_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

const char *cm_buf_str(const cm_buf *b)
{
    return b->data ? b->data : "";
}

char *cm_buf_detach(cm_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void cm_buf_free(cm_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
