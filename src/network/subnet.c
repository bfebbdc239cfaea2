#include "subnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t mask_of(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

bool cm_ipv4_parse(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

void cm_ipv4_format(uint32_t a, char out[16])
{
	struct in_addr n = { htonl(a) };
	inet_ntop(AF_INET, &n, out, 16);
}

bool cm_subnet_parse(const char *s, struct cm_subnet *out)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash - s > 15)
		return false;
	char ip[16];
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	char *end;
	long prefix = strtol(slash + 1, &end, 10);
	if (!slash[1] || *end || prefix < 8 || prefix > 30 || !cm_ipv4_parse(ip, &out->addr))
		return false;
	out->prefix = (int)prefix;
	return (out->addr & ~mask_of(out->prefix)) == 0;
}

void cm_subnet_format(const struct cm_subnet *s, char out[19])
{
	char ip[16];
	cm_ipv4_format(s->addr, ip);
	snprintf(out, 19, "%s/%d", ip, s->prefix);
}

bool cm_subnet_contains(const struct cm_subnet *s, uint32_t a)
{
	return (a & mask_of(s->prefix)) == s->addr;
}

bool cm_subnet_overlaps(const struct cm_subnet *a, const struct cm_subnet *b)
{
	int p = a->prefix < b->prefix ? a->prefix : b->prefix;
	return (a->addr & mask_of(p)) == (b->addr & mask_of(p));
}

uint32_t cm_subnet_gateway(const struct cm_subnet *s)
{
	return s->addr + 1;
}

bool cm_mac_valid(const char *s)
{
	unsigned b[6];
	char tail;
	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
				      &b[5], &tail) != 6)
		return false;
	for (int i = 2; i < 17; i += 3)
		if (s[i] != ':')
			return false;
	unsigned any = b[0] | b[1] | b[2] | b[3] | b[4] | b[5];
	return any && !(b[0] & 1);
}
