/* libFuzzer target: the check of CRIU's images before a restore
 * (cm_criu_images_check). The input is cut into a pstree.img, a core-1.img
 * and a core-2.img, each written with CRIU's magic for it, then the fuzz bytes:
 *   u16 LE pstree length | u16 LE core-1 length | pstree | core-1 | core-2
 * (core-2.img is left out when it would be empty). The images are checked
 * against four policies: the spec ctrmig builds for a plain container, that
 * spec hardened (no_new_privs, seccomp, an AppArmor profile), a permissive
 * one (root, every capability) and a strict one (a user, one capability,
 * seccomp, no_new_privs, an AppArmor profile, three tasks). */
#include "caps.h"
#include "criu_images.h"
#include "criu_policy.h"
#include "error.h"
#include "fuzz.h"
#include "oci_spec.h"

#include <jansson.h>

#define IMG_COMMON_MAGIC 0x54564319u
#define PSTREE_MAGIC 0x50273030u
#define CORE_MAGIC 0x55053847u
#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

enum { BUILT, HARDENED, PERMISSIVE, STRICT, NPOL };
static struct cm_criu_policy pol[NPOL];
static json_t *specs[NPOL]; /* the policies point into them (lsm_profile) */
static char *img_dir;

static json_t *permissive_spec(void)
{
	json_t *caps = json_array();
	for (int n = 0; n <= CM_CAP_LAST; n++)
		json_array_append_new(caps, json_string(cm_cap_name(n)));
	return json_pack("{s:{s:{s:i, s:i}, s:{s:o}, s:s}, s:{s:[{s:s}]}}", "process", "user", "uid", 0, "gid", 0,
			 "capabilities", "bounding", caps, "apparmorProfile", "ctrmig-test", "linux",
			 "namespaces", "type", "pid");
}

static json_t *strict_spec(void)
{
	return json_pack("{s:{s:{s:i, s:i, s:[i]}, s:{s:[s]}, s:b, s:s, s:[{s:s, s:i, s:i}]},"
			 " s:{s:{}, s:[{s:s}], s:{s:{s:i}}}}",
			 "process", "user", "uid", 1000, "gid", 1000, "additionalGids", 1000, "capabilities",
			 "bounding", "CAP_CHOWN", "noNewPrivileges", 1, "apparmorProfile", "ctrmig-test",
			 "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "linux", "seccomp",
			 "namespaces", "type", "pid", "resources", "pids", "limit", 3);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	json_t *config = json_pack("{s:[s, s], s:s, s:s, s:s}", "cmd", "sleep", "1000", "network", "none",
				   "workdir", "/", "hostname", "fuzz");
	specs[BUILT] = cm_oci_spec_build(config, ID, "/containers/" ID "/rootfs", NULL);
	/* The seeds' tasks are root with the default capabilities, as in a plain
	 * container: this one lets them reach the checks after those. */
	specs[HARDENED] = json_deep_copy(specs[BUILT]);
	json_t *proc = json_object_get(specs[HARDENED], "process");
	json_object_set_new(proc, "noNewPrivileges", json_true());
	json_object_set_new(proc, "apparmorProfile", json_string("ctrmig-test"));
	json_object_set_new(json_object_get(specs[HARDENED], "linux"), "seccomp", json_object());
	specs[PERMISSIVE] = permissive_spec();
	specs[STRICT] = strict_spec();
	json_decref(config);
	for (int i = 0; i < NPOL; i++) {
		struct cm_error err = { 0 };
		if (!specs[i] || cm_criu_policy_from_spec(specs[i], &pol[i], &err) < 0) {
			fprintf(stderr, "fuzz: setup: policy %d: %s\n", i, err.msg ? err.msg : "no spec");
			abort();
		}
	}
	img_dir = cm_path_join(fuzz_dir(), "images");
	FUZZ_SETUP(mkdir(img_dir, 0700) == 0, img_dir);
	return 0;
}

static void write_image(const char *name, uint32_t magic, const uint8_t *body, size_t n)
{
	cm_autofree char *path = cm_path_join(img_dir, name);
	cm_autofree unsigned char *buf = cm_malloc(8 + n);
	uint32_t magics[2] = { IMG_COMMON_MAGIC, magic };
	memcpy(buf, magics, 8);
	if (n)
		memcpy(buf + 8, body, n);
	fuzz_write(path, buf, 8 + n);
}

static int check(int which)
{
	struct cm_error err = { 0 };
	int r = cm_criu_images_check(img_dir, &pol[which], &err);
	FUZZ_ASSERT(r > 0 || (r == -1 && err.msg), "policy %d: %d tasks, %s", which, r,
		    err.msg ? err.msg : "no message");
	cm_error_clear(&err);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	size_t n[3];
	n[0] = (size_t)data[0] | (size_t)data[1] << 8;
	n[1] = (size_t)data[2] | (size_t)data[3] << 8;
	const uint8_t *p = data + 4;
	size_t left = size - 4;
	n[0] = n[0] < left ? n[0] : left;
	left -= n[0];
	n[1] = n[1] < left ? n[1] : left;
	n[2] = left - n[1];
	write_image("pstree.img", PSTREE_MAGIC, p, n[0]);
	write_image("core-1.img", CORE_MAGIC, p + n[0], n[1]);
	cm_autofree char *core2 = cm_path_join(img_dir, "core-2.img");
	if (n[2])
		write_image("core-2.img", CORE_MAGIC, p + n[0] + n[1], n[2]);
	else
		unlink(core2);

	int r[NPOL];
	for (int i = 0; i < NPOL; i++)
		r[i] = check(i);
	/* The permissive policy grants all the others do. */
	for (int i = 0; i < NPOL; i++)
		FUZZ_ASSERT(r[i] < 0 || r[PERMISSIVE] == r[i], "policy %d accepts %d tasks, the permissive one %d", i,
			    r[i], r[PERMISSIVE]);
	return 0;
}
