/* A Podman archive's published ports (config.dump newPortMappings) as the
 * record cm_foreign_record makes of them: ranges and protocol lists unfolded,
 * what ctrmig cannot publish refused in one line. */
#include "error.h"
#include "foreign.h"
#include "jsonio.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>

/* A container on a network of its own with these newPortMappings. */
static json_t *record_with(const char *mappings, struct cm_error *err)
{
	cm_autofree char *text = cm_strfmt("{\"id\": \"%064d\", \"name\": \"web\", \"newPortMappings\": %s}", 1,
					   mappings);
	json_t *cfg = json_loads(text, 0, NULL);
	json_t *spec = json_loads("{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}, \"linux\": {\"namespaces\": "
				  "[{\"type\": \"network\", \"path\": \"/run/netns/x\"}]}, \"mounts\": []}",
				  0, NULL);
	json_t *rec = cm_foreign_record(cfg, spec, "Podman", err);
	json_decref(cfg);
	json_decref(spec);
	return rec;
}

static json_t *ports_of(json_t *rec)
{
	return json_object_get(json_object_get(rec, "config"), "ports");
}

static char *compact(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

int main(void)
{
	struct cm_error err = { 0 };
	json_t *rec = record_with("[{\"host_ip\": \"127.0.0.1\", \"container_port\": 80, \"host_port\": 8080, "
				  "\"range\": 1, \"protocol\": \"tcp\"}]",
				  &err);
	cm_autofree char *one = compact(ports_of(rec));
	is_str(one, "[{\"container_port\":80,\"host_ip\":\"127.0.0.1\",\"host_port\":8080,\"protocol\":\"tcp\"}]",
	       "one mapping, as ctrmig records it");
	json_decref(rec);

	rec = record_with("[{\"host_ip\": \"\", \"container_port\": 53, \"host_port\": 5353, \"range\": 2, "
			  "\"protocol\": \"tcp,udp\"}]",
			  &err);
	ok(json_array_size(ports_of(rec)) == 4, "a range of 2 for tcp and udp: 4 mappings");
	json_t *last = json_array_get(ports_of(rec), 3);
	ok(cm_json_int(last, "host_port", 0) == 5354 && cm_json_int(last, "container_port", 0) == 54 &&
		   !strcmp(cm_json_str(last, "protocol"), "udp"),
	   "the last is 5354->54/udp");
	json_decref(rec);

	rec = record_with("null", &err);
	ok(rec && !ports_of(rec), "null: no ports");
	json_decref(rec);

	rec = record_with("[{\"container_port\": 80, \"host_port\": 80, \"protocol\": \"sctp\"}]", &err);
	ok(!rec && err.msg && strstr(err.msg, "sctp port 80"), "sctp refused: %s", err.msg);
	cm_error_clear(&err);

	rec = record_with("[{\"host_ip\": \"::1\", \"container_port\": 80, \"host_port\": 80}]", &err);
	ok(!rec && err.msg && strstr(err.msg, "IPv4 only"), "an IPv6 host address refused: %s", err.msg);
	cm_error_clear(&err);

	rec = record_with("[{\"container_port\": 80, \"host_port\": 65535, \"range\": 2}]", &err);
	ok(!rec && err.msg && strstr(err.msg, "not valid"), "a range past 65535 refused: %s", err.msg);
	cm_error_clear(&err);

	rec = record_with("[{\"container_port\": 1, \"host_port\": 1, \"range\": 2000}]", &err);
	ok(!rec && err.msg && strstr(err.msg, "more than 1024"), "more than 1024 ports refused: %s", err.msg);
	cm_error_clear(&err);

	struct cm_error e3 = { 0 };
	json_t *cfg = json_loads("{\"id\": \"0000000000000000000000000000000000000000000000000000000000000001\", "
				 "\"name\": \"web\", \"portMappings\": [{\"hostPort\": 80, \"containerPort\": 80}]}",
				 0, NULL);
	json_t *spec = json_loads("{\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/x\"}]}}", 0, NULL);
	rec = cm_foreign_record(cfg, spec, "Podman", &e3);
	ok(!rec && e3.msg && strstr(e3.msg, "Podman 3's form"), "Podman 3's portMappings refused: %s", e3.msg);
	cm_error_clear(&e3);
	json_decref(cfg);
	json_decref(spec);

	return done();
}
