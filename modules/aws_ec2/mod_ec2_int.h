/* modules/aws_ec2/mod_ec2_int.h — private to modules/aws_ec2/: the tables
 * of mod_ec2_volume.c, for the module's list in mod_ec2_instance.c. */
#ifndef IASQL_MOD_EC2_INT_H
#define IASQL_MOD_EC2_INT_H

#include "modules/aws/mod_ec2.h"

extern const mod_table ec2_volume_table;
extern const mod_table ec2_eip_assoc_table;

#endif
