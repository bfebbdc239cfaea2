/* For the end-to-end tests only: rewrites every core-*.img in a CRIU image
 * folder so that each thread holds every capability, as a forged archive
 * would. Unknown fields are kept (protobuf-c repacks them as read). */
#include "criu/core.pb-c.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int forge(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	static unsigned char buf[4 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	uint32_t len;
	if (n < 12)
		return -1;
	memcpy(&len, buf + 8, 4); /* after the two magics: the first entry's size */
	if (12 + (size_t)len > n)
		return -1;
	CmCriu__CoreEntry *core = cm_criu__core_entry__unpack(NULL, len, buf + 12);
	if (!core || !core->thread_core || !core->thread_core->creds)
		return -1;
	static uint32_t all[2] = { 0xffffffff, 0x1ff };
	CmCriu__CredsEntry *c = core->thread_core->creds;
	c->cap_prm = c->cap_eff = c->cap_bnd = all;
	c->n_cap_prm = c->n_cap_eff = c->n_cap_bnd = 2;
	size_t out_len = cm_criu__core_entry__get_packed_size(core);
	unsigned char *out = malloc(out_len);
	cm_criu__core_entry__pack(core, out);
	f = fopen(path, "wb");
	uint32_t l = (uint32_t)out_len;
	fwrite(buf, 1, 8, f);
	fwrite(&l, 1, 4, f);
	fwrite(out, 1, out_len, f);
	fwrite(buf + 12 + len, 1, n - 12 - len, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	DIR *d = opendir(argv[1]);
	struct dirent *de;
	int forged = 0;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "core-", 5))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		if (forge(path) < 0) {
			fprintf(stderr, "forge_criu_caps: %s: cannot rewrite\n", path);
			return 1;
		}
		forged++;
	}
	return forged ? 0 : 1;
}
