/* TEMPORARY stand-in for the budgets branch's keyhash (replaced on merge). */
#ifndef IKETCP_KEYHASH_H
#define IKETCP_KEYHASH_H

#include <stddef.h>
#include <stdint.h>

int	keyhash_init(void);
uint64_t keyhash(const void *p, size_t n);

#endif
