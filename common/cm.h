/* common/cm.h — the shared vocabulary of every folder: error codes, the
 * growable buffer, logging, and thin helpers over libpq and jansson.
 * Nothing here knows about AWS, LMDB or the journal. */
#ifndef IASQL_CM_H
#define IASQL_CM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IASQL_VERSION "0.1.0"

/* ---- errors ------------------------------------------------------------ */

/* Fallible functions return 0 or one of these negative codes. The table in
 * cm_err.c says, for each, a name and whether retrying may help. */
enum {
    CM_OK = 0,
    CM_ENOMEM = -1,     /* allocation failed or a buffer cap was reached */
    CM_EINVAL = -2,     /* bad argument or input */
    CM_EIO = -3,        /* file system */
    CM_EPG = -4,        /* PostgreSQL refused a statement */
    CM_EPGCONN = -5,    /* PostgreSQL connection lost (retryable) */
    CM_EJOURNAL = -6,   /* LMDB failed */
    CM_ECORRUPT = -7,   /* the journal's data is damaged */
    CM_ECLOUD = -8,     /* the cloud refused the request */
    CM_ERETRY = -9,     /* the cloud asked us to retry (throttling, 5xx) */
    CM_ENET = -10,      /* transport failure talking to the cloud (retryable) */
    CM_ENOTFOUND = -11, /* the thing asked for does not exist */
    CM_EEXISTS = -12,   /* the thing to create exists already */
    CM_EBUSY = -13,     /* someone else holds what we need */
    CM_ECONFIG = -14,   /* configuration or environment is wrong */
    CM_EFULL = -15,     /* journal map or disk full */
    CM_EBADREPLY = -16, /* the cloud's answer is malformed, truncated or too large */
    CM_ECODE_MIN = -16
};

/* An error with its detail text. The place that handles an error logs it
 * once; lower layers only fill this in. */
typedef struct cm_err {
    int code;
    char msg[1024];       /* fact[ Detail: specifics][ Hint: what to do]: cm_err_split */
    char cloud_code[128]; /* the cloud's error code (AWS's "NoSuchEntity"), "" if none */
} cm_err;

const char *cm_err_name(int code);
bool cm_err_retryable(int code);
/* Sets err (if not NULL) and returns code, so callers can write
 * `return cm_err_set(err, CM_EINVAL, "...")`. A new error: the cloud code
 * is cleared (cm_err_wrap keeps it). */
int cm_err_set(cm_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes context to an error already set: "context: old message". */
int cm_err_wrap(cm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cm_err_clear(cm_err *err);
/* A message is written as PostgreSQL reports: the fact (lower case, no
 * final period), then optionally " Detail: " and the specifics, then
 * optionally " Hint: " and what to do. These are its parts (pointers into
 * msg, with lengths; NULL when absent), as they reach psql's DETAIL and
 * HINT. */
typedef struct cm_err_parts {
    const char *fact, *detail, *hint;
    int fact_len, detail_len, hint_len;
} cm_err_parts;
cm_err_parts cm_err_split(const char *msg);

/* ---- growable buffer --------------------------------------------------- */

/* One byte buffer type for everything that grows with input. It is always
 * NUL-terminated when len > 0 and refuses to grow past max. */
typedef struct cm_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} cm_buf;

#define CM_BUF_DEFAULT_MAX ((size_t)64 << 20)

void cm_buf_init(cm_buf *b, size_t max);
int cm_buf_append(cm_buf *b, const void *data, size_t len);
int cm_buf_puts(cm_buf *b, const char *s);
int cm_buf_printf(cm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cm_buf_vprintf(cm_buf *b, const char *fmt, va_list ap);
void cm_buf_reset(cm_buf *b);
/* Returns the contents as a C string ("" when empty); valid until the next
 * change to b. */
const char *cm_buf_str(const cm_buf *b);
/* Hands the storage to the caller (free with free()); b is left empty. */
char *cm_buf_detach(cm_buf *b);
void cm_buf_free(cm_buf *b);

/* ---- logging ----------------------------------------------------------- */

typedef enum { CM_LOG_DEBUG, CM_LOG_INFO, CM_LOG_WARN, CM_LOG_ERROR } cm_log_level;

void cm_log_set_level(cm_log_level level);
/* One JSON object per line ({time, level, pid, msg}) instead of text. */
void cm_log_set_json(bool on);
/* One line to stderr: time, level, message. Never pass secrets. */
void cm_log(cm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- time -------------------------------------------------------------- */

int64_t cm_now_us(void);  /* wall clock, microseconds since the epoch */
int64_t cm_mono_us(void); /* monotonic clock, microseconds */
/* nbytes random bytes from the kernel as 2 * nbytes hex digits and a NUL in
 * out (2 * nbytes + 1 bytes); CM_EIO when the kernel gives none. */
int cm_random_hex(char *out, size_t nbytes);

#endif
