/* modules/aws_lambda/mod_lambda.h — private to module aws_lambda: what its
 * two tables share (Lambda's rest-json service, its function listing). */
#ifndef IASQL_MOD_LAMBDA_H
#define IASQL_MOD_LAMBDA_H

#include "modules/mod_int.h"

extern const mod_rest_service lambda_api;
/* ListFunctions, 50 functions a page. */
extern const mod_rest_pager lambda_functions_pager;
/* Lambda's "not found" (a function, a policy, a statement, a URL). */
bool lambda_gone(const cm_err *err);

extern const mod_table lambda_permission_table;

#endif
