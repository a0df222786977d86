#include "it_util.h"
int main(void) { return it_env_ready() ? 0 : 1; }
