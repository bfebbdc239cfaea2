/* ctrmig inspect */
#include "cli.h"
#include "ctr_net.h"
#include "container.h"
#include "ctr_cgroup.h"
#include "error.h"
#include "image.h"
#include "image_config.h"
#include "jsonio.h"
#include "store.h"
#include "template.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char inspect_usage[] =
	"Usage: ctrmig inspect [OPTIONS] CONTAINER...\n"
	"\n"
	"Show containers' details as a JSON array, Podman's field names.\n"
	"\n"
	"Options:\n"
	"  -f, --format TEMPLATE  Go-template-style fields, e.g. '{{.State.Pid}}'\n"
	"  -l, --latest           the newest container\n"
	"  -h, --help             show this help\n";

static json_t *mounts_of(json_t *config)
{
	json_t *out = json_array(), *v;
	size_t i;
	json_array_foreach(json_object_get(config, "volumes"), i, v)
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source",
						     cm_json_str(v, "source"), "Destination",
						     cm_json_str(v, "destination"), "RW",
						     !cm_json_bool(v, "ro")));
	json_array_foreach(json_object_get(config, "tmpfs"), i, v)
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b}", "Type", "tmpfs", "Source",
						     "tmpfs", "Destination", json_string_value(v), "RW", 1));
	return out;
}

static json_t *inspect_json(struct cm_store *st, json_t *rec)
{
	struct cm_ctr_state s;
	cm_ctr_state_get(st, rec, &s);
	json_t *config = json_object_get(rec, "config"), *image = json_object_get(rec, "image");
	json_t *ckpt = json_object_get(rec, "checkpoint");
	bool running = s.status == CM_CTR_RUNNING;
	/* Podman's: a paused container is not Running, but keeps its Pid */
	bool paused = running && cm_cgroup_frozen((pid_t)cm_json_int(rec, "pid", 0));
	const char *started = cm_json_str(rec, "started_at");
	json_t *state = json_pack(
		"{s:s, s:b, s:I, s:i, s:s, s:s, s:b, s:s, s:b, s:b}", "Status",
		paused ? "paused" : cm_ctr_status_name(s.status), "Running", running && !paused, "Pid",
		running ? cm_json_int(rec, "pid", 0) : (json_int_t)0, "ExitCode", s.exit_code,
		"StartedAt", started ? started : "", "FinishedAt", s.finished_at ? s.finished_at : "",
		"Checkpointed", s.status == CM_CTR_CHECKPOINTED, "CheckpointedAt",
		ckpt ? cm_json_str(ckpt, "time") : "", "Restorable",
		s.status == CM_CTR_CHECKPOINTED && cm_json_bool(ckpt, "restorable"), "Restored",
		cm_json_bool(rec, "restored"));
	json_object_set_new(state, "Paused", json_boolean(paused));
	cm_ctr_state_free(&s);
	cm_autofree char *dir = cm_store_ctr_dir(st, cm_json_str(rec, "id"));
	cm_autofree char *log = cm_path_join(dir, "ctr.log");
	json_t *none = json_array();
	json_t *host = json_pack("{s:b, s:O, s:O, s:O, s:s}", "Privileged",
				 cm_json_bool(config, "privileged"), "CapAdd",
				 json_object_get(config, "cap_add") ? json_object_get(config, "cap_add") : none,
				 "CapDrop",
				 json_object_get(config, "cap_drop") ? json_object_get(config, "cap_drop") : none,
				 "Devices",
				 json_object_get(config, "devices") ? json_object_get(config, "devices") : none,
				 "NetworkMode", cm_json_str(config, "network") ? cm_json_str(config, "network") : "none");
	json_decref(none);
	const char *hostname = cm_json_str(config, "hostname");
	/* What the image declares but ctrmig does not act on (yet): shown as Podman shows it. */
	json_t *img = cm_image_find(st, cm_json_str(image, "id"), NULL);
	json_t *run = cm_image_run_config(img), *empty = json_object();
	json_t *labels = json_object_get(run, "Labels"), *ports = json_object_get(run, "ExposedPorts");
	json_t *extra = json_pack("{s:O, s:O, s:s, s:s}", "Labels", json_is_object(labels) ? labels : empty,
				  "ExposedPorts", json_is_object(ports) ? ports : empty, "User",
				  cm_json_str(config, "user") ? cm_json_str(config, "user") : "",
				  "StopSignal",
				  cm_json_str(config, "stop_signal") ? cm_json_str(config, "stop_signal") : "SIGTERM");
	json_decref(empty);
	json_decref(img);
	cm_autofree char *short_id = cm_strfmt("%.12s", cm_json_str(rec, "id"));
	json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:{s:O, s:O, s:s, s:s, s:s}, s:o, s:o, s:s, s:s}",
			 "Id", cm_json_str(rec, "id"), "Name", cm_json_str(rec, "name"), "Image",
			 cm_json_str(image, "id"), "ImageName", cm_json_str(image, "name"), "Created",
			 cm_json_str(rec, "created"), "State", state, "Config", "Cmd",
			 json_object_get(config, "cmd"), "Env", json_object_get(config, "env"),
			 "WorkingDir", cm_json_str(config, "workdir"), "NetworkMode",
			 cm_json_str(config, "network") ? cm_json_str(config, "network") : "none", "Hostname", hostname ? hostname : short_id,
			 "HostConfig", host, "Mounts", mounts_of(config), "LogPath", log,
			 "StoreDir", dir);
	json_object_update(json_object_get(out, "Config"), extra);
	json_decref(extra);
	json_object_set_new(out, "NetworkSettings", cm_ctr_net_settings(st, rec));
	return out;
}

int cm_cmd_inspect(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' }, { "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	bool latest = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "f:lh", longopts, inspect_usage, err)) != -1) {
		if (c == 'f' || c == 'l') {
			if (c == 'f')
				format = optarg;
			latest |= c == 'l';
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	json_t *recs = cm_cli_select_ctrs(st, false, latest, argc - optind, argv + optind,
					  inspect_usage, err), *rec;
	if (!recs)
		return -1;
	json_t *out = json_array();
	size_t i;
	json_array_foreach(recs, i, rec)
		json_array_append_new(out, inspect_json(st, rec));
	json_decref(recs);
	int ret = 0;
	if (format) {
		json_t *one;
		json_array_foreach(out, i, one) {
			cm_autofree char *text = cm_template_render(format, one, err);
			if (!text) {
				ret = -1;
				break;
			}
			puts(text);
		}
	} else {
		cm_autofree char *text = json_dumps(out, JSON_INDENT(4));
		puts(text);
	}
	json_decref(out);
	return ret;
}
