/* IPv4 addresses and subnets as ctrmig's networks use them (pure logic). */
#ifndef CM_SUBNET_H
#define CM_SUBNET_H

#include <stdbool.h>
#include <stdint.h>

struct cm_subnet {
	uint32_t addr; /* host order, the network address */
	int prefix;
};

/* Parses "A.B.C.D"; false if it is not one. */
bool cm_ipv4_parse(const char *s, uint32_t *out);
void cm_ipv4_format(uint32_t a, char out[16]);
/* Parses "A.B.C.D/N" with 8 <= N <= 30 whose host bits are zero. */
bool cm_subnet_parse(const char *s, struct cm_subnet *out);
void cm_subnet_format(const struct cm_subnet *s, char out[19]);
bool cm_subnet_contains(const struct cm_subnet *s, uint32_t a);
bool cm_subnet_overlaps(const struct cm_subnet *a, const struct cm_subnet *b);
/* The first host address, which ctrmig's bridges take as gateway. */
uint32_t cm_subnet_gateway(const struct cm_subnet *s);
/* Parses a MAC "aa:bb:cc:dd:ee:ff"; false unless a unicast, non-zero one. */
bool cm_mac_valid(const char *s);

#endif
