/* tests/unit/unit_jnl.h — a journal in a fresh temporary folder as a cmocka
 * fixture, for the unit tests that need a real one. */
#ifndef IASQL_UNIT_JNL_H
#define IASQL_UNIT_JNL_H

#include <stdio.h>
#include <stdlib.h>

#include "journal/jnl.h"

static int unit_jnl_open(void **state)
{
    char dir[] = "/tmp/iasql-unit-jnl.XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    jnl *j;
    cm_err err;
    if (jnl_open(&j, dir, &err))
        return -1;
    *state = j;
    return 0;
}

static int unit_jnl_remove(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", jnl_dir(*state));
    jnl_free(*state);
    return system(cmd);
}

#endif
