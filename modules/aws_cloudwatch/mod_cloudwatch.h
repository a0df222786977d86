/* modules/aws_cloudwatch/mod_cloudwatch.h — the tables of module
 * aws_cloudwatch that live in their own files, for the module's list in
 * mod_logs.c. */
#ifndef IASQL_MOD_CLOUDWATCH_H
#define IASQL_MOD_CLOUDWATCH_H

#include "modules/mod.h"

/* CloudWatch metric alarms (mod_alarm.c). */
extern const mod_table cw_metric_alarm_table;

#endif
