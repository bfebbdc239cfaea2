#include "error.h"
#include "tap.h"
#include "template.h"

#include <stdlib.h>

static char *render(const char *tmpl, json_t *data)
{
	struct cm_error err = { 0 };
	char *out = cm_template_render(tmpl, data, &err);
	if (!out) {
		out = err.msg;
		err.msg = NULL;
		char *tagged = malloc(strlen(out) + 8);
		sprintf(tagged, "ERROR: %s", out);
		free(out);
		out = tagged;
	}
	return out;
}

int main(void)
{
	json_t *d = json_pack("{s:s, s:{s:i, s:s, s:b}, s:{s:[s, s]}}", "Name", "web", "State", "Pid",
			      42, "Status", "running", "Running", 1, "Config", "Cmd", "sh", "-c");
	char *s;
	is_str(s = render("{{.State.Pid}}", d), "42", "an integer field");
	free(s);
	is_str(s = render("{{ .Name }} is {{.State.Status}}", d), "web is running",
	       "text around fields and spaces inside braces");
	free(s);
	is_str(s = render("{{.State.Running}}", d), "true", "a boolean prints as true");
	free(s);
	is_str(s = render("{{.Config.Cmd}}", d), "[sh -c]", "a list prints the Go way");
	free(s);
	is_str(s = render("{{json .Config.Cmd}}", d), "[\"sh\",\"-c\"]", "json of a list");
	free(s);
	is_str(s = render("{{json .Name}}", d), "\"web\"", "json of a string is quoted");
	free(s);
	is_str(s = render("plain", d), "plain", "no actions");
	free(s);
	ok(strstr(s = render("{{.State.Nope}}", d), "ERROR: template: no field Nope") != NULL,
	   "a missing field is an error naming it");
	free(s);
	ok(strstr(s = render("{{.Name", d), "unclosed") != NULL, "an unclosed action is an error");
	free(s);
	ok(strstr(s = render("{{Name}}", d), "expected a field") != NULL, "a path must start with a dot");
	free(s);
	json_decref(d);
	return done();
}
