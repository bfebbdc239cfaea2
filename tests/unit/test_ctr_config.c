/* What a config from an archive may hold, and what the command line allows it. */
#include "caps.h"
#include "ctr_config.h"
#include "error.h"
#include "jsonio.h"
#include "oci_spec.h"
#include "spec_check.h"
#include "tap.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *config_from(const char *text, struct cm_error *err)
{
	json_t *in = json_loads(text, JSON_ALLOW_NUL, NULL);
	json_t *out = cm_config_from_archive(in, ID, err);
	json_decref(in);
	return out;
}

static bool refused(const char *text, const char *want)
{
	struct cm_error err = { 0 };
	json_t *c = config_from(text, &err);
	bool ok_ = !c && err.msg && strstr(err.msg, want);
	if (!ok_)
		printf("#   got: %s\n", err.msg ? err.msg : "(accepted)");
	json_decref(c);
	cm_error_clear(&err);
	return ok_;
}

/* spec.dump as the archive's own config gives it, edited by fn. */
static bool spec_refused(void (*edit)(json_t *spec), const char *want)
{
	struct cm_error err = { 0 };
	json_t *config = json_pack("{s:[s], s:s}", "cmd", "sh", "network", "none");
	json_t *built = cm_oci_spec_build(config, ID, "/s/containers/" ID "/rootfs", &err);
	json_t *dumped = json_deep_copy(built);
	if (edit)
		edit(dumped);
	int r = cm_spec_check(dumped, built, ID, &err);
	bool ok_ = want ? r < 0 && strstr(err.msg, want) : r == 0;
	if (!ok_)
		printf("#   got: %s\n", err.msg ? err.msg : "(accepted)");
	cm_error_clear(&err);
	json_decref(config), json_decref(built), json_decref(dumped);
	return ok_;
}

static void add_cap(json_t *s)
{
	json_array_append_new(json_object_get(json_object_get(json_object_get(s, "process"), "capabilities"),
					      "effective"), json_string("CAP_SYS_ADMIN"));
}
static void drop_ns(json_t *s)
{
	json_array_remove(json_object_get(json_object_get(s, "linux"), "namespaces"), 0);
}
static void host_mount(json_t *s)
{
	json_array_append_new(json_object_get(s, "mounts"),
			      json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/h", "type", "bind",
					"source", "/", "options", "rbind"));
}
static void unmask(json_t *s)
{
	json_object_set_new(json_object_get(s, "linux"), "maskedPaths", json_array());
}
static void other_root(json_t *s)
{
	json_object_set_new(json_object_get(s, "root"), "path", json_string("/"));
}
static void criu_annotation(json_t *s)
{
	json_object_set_new(json_object_get(s, "annotations"), "org.criu.config", json_string("/x"));
}
static void label_annotation(json_t *s)
{
	json_object_set_new(json_object_get(s, "annotations"), "io.container.manager", json_string("x"));
}
static void hook(json_t *s)
{
	json_object_set_new(s, "hooks", json_pack("{s:[{s:s}]}", "poststart", "path", "/bin/sh"));
}
static void rw_sys(json_t *s)
{
	json_t *m;
	size_t i;
	json_array_foreach(json_object_get(s, "mounts"), i, m)
		if (!strcmp(cm_json_str(m, "destination"), "/sys"))
			json_object_set_new(m, "options", json_pack("[s]", "rw"));
}

int main(void)
{
	struct cm_error err = { 0 };
	json_t *c = config_from("{\"cmd\": [\"sh\"], \"network\": \"none\", \"env\": [\"A=1\"]}", &err);
	ok(c != NULL, "a plain config is taken");
	is_str(cm_json_str(c, "workdir"), "/", "workdir defaults to /");
	is_str(cm_json_str(c, "hostname"), "0123456789ab", "hostname defaults to the old short id");
	json_decref(c);

	ok(refused("[]", "no config"), "a config that is not an object");
	ok(refused("{\"network\": \"none\"}", "no command"), "no command");
	ok(refused("{\"cmd\": [], \"network\": \"none\"}", "no command"), "an empty command");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"none\", \"apparmor\": \"x\"}", "'apparmor' is unknown"),
	   "an unknown field is refused, not dropped");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"no/such\"}", "network"), "a network name with a slash");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"bridge\"}", "network"), "the mode bridge, never recorded");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"ctrmig\", \"ip\": \"10.99.0.300\"}", "ip"), "an address that is none");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"ctrmig\", \"mac\": \"01:00:5e:00:00:01\"}", "mac"), "a multicast MAC");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"ctrmig\", \"ports\": [{\"host_ip\": \"\", \"host_port\": 0, \"container_port\": 80, \"protocol\": \"tcp\"}]}", "ports[0]"),
	   "a published port 0");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"ctrmig\", \"ports\": [{\"host_ip\": \"\", \"host_port\": 80, \"container_port\": 80, \"protocol\": \"sctp\"}]}", "ports[0]"),
	   "a published port of another protocol");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"ctrmig\", \"dns_search\": [\"a\\nnameserver 1.2.3.4\"]}", "dns_search[0]"),
	   "a search domain that would add a line to resolv.conf");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"ctrmig\", \"add_hosts\": [\"x:1.2.3.4\\n5.6.7.8 y\"]}", "add_hosts[0]"),
	   "an extra host that would add a line to /etc/hosts");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"none\", \"env\": [\"=x\"]}", "env[0]"), "an env entry without a key");
	ok(refused("{\"cmd\": [\"s\\u0000h\"], \"network\": \"none\"}", "cmd[0]"), "a NUL inside a string");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"none\", \"workdir\": \"rel\"}", "workdir"), "a relative workdir");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"none\", \"tmpfs\": [\"/a/../b\"]}", "tmpfs[0]"), "a tmpfs path with ..");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"none\", \"volumes\": [{\"source\": \"/a\", \"destination\": \"/b\", \"ro\": false, \"x\": 1}]}",
		   "volumes[0]"), "a volume with an extra field");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"none\", \"hostname\": \"a b\"}", "hostname"), "a bad hostname");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"none\", \"privileged\": 1}", "privileged"), "privileged not a boolean");
	ok(refused("{\"cmd\": [\"sh\"], \"network\": \"none\", \"devices\": [{\"path\": \"dev\", \"destination\": \"/d\"}]}",
		   "devices[0]"), "a relative device path");

	/* grants */
	json_t *asked = config_from("{\"cmd\": [\"sh\"], \"network\": \"host\", \"privileged\": true, "
				    "\"cap_add\": [\"NET_ADMIN\"], \"volumes\": [{\"source\": \"/srv\", "
				    "\"destination\": \"/data\", \"ro\": false}], \"devices\": [{\"path\": "
				    "\"/dev/fuse\", \"destination\": \"/dev/fuse\", \"permissions\": \"rwm\"}]}", &err);
	ok(asked != NULL, "a config with every grant parses");
	struct cm_grant_opts g = { 0 };
	json_t *out = cm_config_grant(asked, &g, &err);
	ok(!out && strstr(err.msg, "host folder /srv at /data (-v SRC:/data)") &&
		   strstr(err.msg, "privileged mode (--privileged)") &&
		   strstr(err.msg, "capability CAP_NET_ADMIN (--cap-add NET_ADMIN)") &&
		   strstr(err.msg, "device /dev/fuse (--device /dev/fuse)") &&
		   strstr(err.msg, "the host's network (--network host)"),
	   "every grant is named with its flag");
	cm_error_clear(&err);
	g.trust_all = true;
	out = cm_config_grant(asked, &g, &err);
	ok(out && json_equal(out, asked), "--trust-archive-config allows the config as it is");
	json_decref(out);

	g = (struct cm_grant_opts){ .privileged = true, .network = "host" };
	g.volumes = json_pack("[{s:s, s:s, s:b}]", "source", "/other", "destination", "/data", "ro", 1);
	g.devices = json_pack("[{s:s, s:s, s:s}]", "path", "/dev/fuse", "destination", "/dev/fuse", "permissions", "r");
	out = cm_config_grant(asked, &g, &err);
	json_t *vol = json_array_get(json_object_get(out, "volumes"), 0);
	ok(out && !strcmp(cm_json_str(vol, "source"), "/other") && cm_json_bool(vol, "ro"),
	   "-v gives the recorded volume another source; --privileged covers capabilities");
	json_decref(out);
	json_decref(g.volumes);
	g.volumes = json_pack("[{s:s, s:s, s:b}]", "source", "/x", "destination", "/nowhere", "ro", 0);
	out = cm_config_grant(asked, &g, &err);
	ok(!out && strstr(err.msg, "no volume at /nowhere"), "-v for a volume the container never had");
	cm_error_clear(&err);
	json_decref(g.volumes), json_decref(g.devices), json_decref(asked);

	/* --device */
	json_t *d = cm_config_device_parse("/dev/fuse:rw", &err);
	ok(d && !strcmp(cm_json_str(d, "permissions"), "rw") && !strcmp(cm_json_str(d, "destination"), "/dev/fuse"),
	   "--device HOST:PERMS");
	json_decref(d);
	d = cm_config_device_parse("/dev/a:/dev/b:r", &err);
	ok(d && !strcmp(cm_json_str(d, "destination"), "/dev/b"), "--device HOST:CTR:PERMS");
	json_decref(d);
	ok(!cm_config_device_parse("/dev/a:/dev/b:x", &err), "bad device permissions");
	cm_error_clear(&err);

	/* spec.dump against the spec the config gives */
	ok(spec_refused(NULL, NULL), "spec.dump as ctrmig would write it passes");
	ok(spec_refused(label_annotation, NULL), "a label annotation is only dropped");
	ok(spec_refused(add_cap, "capability CAP_SYS_ADMIN"), "an extra capability");
	ok(spec_refused(drop_ns, "the host's pid namespace"), "a namespace shared with the host");
	ok(spec_refused(host_mount, "host path / mounted at /h"), "a host bind mount");
	ok(spec_refused(unmask, "unmasked /proc/acpi"), "masked paths removed");
	ok(spec_refused(other_root, "the root file system /"), "another root");
	ok(spec_refused(criu_annotation, "the annotation org.criu.config"), "CRIU's config annotation");
	ok(spec_refused(hook, "poststart hooks"), "a hook");
	ok(spec_refused(rw_sys, "a sysfs mount at /sys with other options"), "sysfs made writable");

	/* Mounts stacked at one destination (found by fuzz_json): a tmpfs over
	 * the default /sys, two volumes at /data. Each is one of ours. */
	json_t *stacked = config_from("{\"cmd\": [\"sh\"], \"network\": \"none\", \"tmpfs\": [\"/sys\", \"/data\"],"
				      " \"volumes\": [{\"source\": \"/a\", \"destination\": \"/data\"},"
				      " {\"source\": \"/b\", \"destination\": \"/data\", \"ro\": true}]}", &err);
	json_t *built = cm_oci_spec_build(stacked, ID, "/s/containers/" ID "/rootfs", &err);
	ok(built && cm_spec_check(built, built, ID, &err) == 0, "a spec with stacked mounts passes its own check: %s",
	   err.msg ? err.msg : "");
	cm_error_clear(&err);
	/* Still, every mount at such a destination must be one of ours. */
	json_t *dumped = json_deep_copy(built);
	json_array_append_new(json_object_get(dumped, "mounts"),
			      json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/sys", "type", "bind",
					"source", "/", "options", "rbind"));
	ok(cm_spec_check(dumped, built, ID, &err) < 0 && strstr(err.msg, "host path / mounted at /sys"),
	   "a host path among them is refused: %s", err.msg);
	cm_error_clear(&err);
	json_decref(dumped);
	json_decref(built);
	json_decref(stacked);

	ok(cm_cap_number("net_admin") == 12 && cm_cap_number("CAP_SYS_ADMIN") == 21 &&
		   cm_cap_number("CAP_NOPE") < 0 && !strcmp(cm_cap_name(40), "CAP_CHECKPOINT_RESTORE"),
	   "capability names and numbers");
	return done();
}
