#include "reference.h"
#include "error.h"
#include "util.h"

#include <ctype.h>
#include <string.h>

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return isalnum((unsigned char)c) != 0;
}

bool cm_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) || strlen(s) != 71)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* One path component: [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* */
static bool component_valid(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t start = i;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == start || i >= n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

/* host (dot-separated labels of letters, digits and inner '-') or [IPv6],
 * then an optional :port */
static bool domain_valid(const char *s)
{
	const char *p = s;
	if (*p == '[') {
		p++;
		const char *start = p;
		while (isxdigit((unsigned char)*p) || *p == ':')
			p++;
		if (p == start || *p != ']')
			return false;
		p++;
	} else {
		for (;;) {
			const char *label = p;
			while (is_alnum(*p) || *p == '-')
				p++;
			if (p == label || label[0] == '-' || p[-1] == '-')
				return false;
			if (*p != '.')
				break;
			p++;
		}
	}
	if (*p == ':') {
		p++;
		const char *digits = p;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == digits)
			return false;
	}
	return *p == '\0';
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static bool tag_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CM_REF_TAG_MAX || !(is_alnum(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(is_alnum(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static int bad(struct cm_error *err, const char *s, const char *why)
{
	cm_autofree char *q = strlen(s) > 300 ? cm_strfmt("%.300s...", s) : cm_strdup(s);
	return cm_err(err, 0, "invalid reference %s: %s", q, why);
}

static bool all_hex64(const char *s)
{
	return strlen(s) == 64 && cm_is_hex(s);
}

int cm_ref_parse(const char *s, struct cm_ref *ref, struct cm_error *err)
{
	memset(ref, 0, sizeof(*ref));
	if (!*s)
		return bad(err, s, "empty");
	if (strlen(s) > 1024)
		return bad(err, s, "longer than 1024 characters");
	if (all_hex64(s))
		return bad(err, s, "a 64-character hexadecimal string is an image id, not a name");
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return bad(err, s, "spaces, control and non-ASCII characters are not allowed");

	cm_autofree char *copy = cm_strdup(s);
	char *at = strchr(copy, '@');
	if (at) {
		*at = '\0';
		if (strncmp(at + 1, "sha256:", 7))
			return bad(err, s, "the digest must be sha256:<64 hex characters>");
		if (!cm_digest_valid(at + 1))
			return bad(err, s, "the digest must be sha256: and 64 lower-case hex characters");
	}
	/* A tag is after the last ':' that follows the last '/'. */
	char *slash = strrchr(copy, '/');
	char *colon = strrchr(slash ? slash : copy, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_valid(colon + 1))
			return bad(err, s, "a tag is letters, digits, '_', '.' and '-', at most 128, "
					   "not starting with '.' or '-'");
	}
	const char *name = copy;
	const char *first_slash = strchr(name, '/');
	cm_autofree char *domain = NULL, *path = NULL;
	if (first_slash) {
		size_t n = (size_t)(first_slash - name);
		bool upper = false;
		for (size_t i = 0; i < n; i++)
			upper |= isupper((unsigned char)name[i]) != 0;
		if (memchr(name, '.', n) || memchr(name, ':', n) || (n == 9 && !strncmp(name, "localhost", 9)) ||
		    upper) {
			domain = cm_strfmt("%.*s", (int)n, name);
			path = cm_strdup(first_slash + 1);
		}
	}
	if (!domain) {
		domain = cm_strdup("docker.io");
		path = cm_strdup(name);
	}
	if (!strcmp(domain, "index.docker.io")) {
		free(domain);
		domain = cm_strdup("docker.io");
	}
	if (!domain_valid(domain))
		return bad(err, s, "the registry must be a host name or [IPv6 address] with an optional :port");
	if (!strcmp(domain, "docker.io") && !strchr(path, '/')) {
		char *lib = cm_strfmt("library/%s", path);
		free(path);
		path = lib;
	}
	/* Each component, with a clear word for the usual mistake. */
	for (const char *p = path;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		for (size_t i = 0; i < n; i++)
			if (isupper((unsigned char)p[i]))
				return bad(err, s, "the repository name must be lower-case");
		if (!component_valid(p, n))
			return bad(err, s, "each part of a repository name is lower-case letters and digits, "
					   "joined by '.', '_', '__' or '-' (no '..', no empty part)");
		if (!end)
			break;
		p = end + 1;
	}
	if (strlen(domain) + 1 + strlen(path) > CM_REF_NAME_MAX)
		return bad(err, s, "the repository name is longer than 255 characters");

	ref->domain = cm_steal_ptr(&domain);
	ref->path = cm_steal_ptr(&path);
	ref->digest = at ? cm_strdup(at + 1) : NULL;
	ref->tag = colon ? cm_strdup(colon + 1) : at ? NULL : cm_strdup("latest");
	return 0;
}

void cm_ref_free(struct cm_ref *ref)
{
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

char *cm_ref_repository(const struct cm_ref *ref)
{
	return cm_strfmt("%s/%s", ref->domain, ref->path);
}

char *cm_ref_string(const struct cm_ref *ref)
{
	return cm_strfmt("%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "",
			 ref->tag ? ref->tag : "", ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

char *cm_ref_name_tag(const struct cm_ref *ref)
{
	if (ref->tag)
		return cm_strfmt("%s/%s:%s", ref->domain, ref->path, ref->tag);
	return cm_strfmt("%s/%s@%s", ref->domain, ref->path, ref->digest);
}

char *cm_ref_normalize(const char *s, struct cm_error *err)
{
	struct cm_ref r;
	if (cm_ref_parse(s, &r, err) < 0)
		return NULL;
	char *out = cm_ref_string(&r);
	cm_ref_free(&r);
	return out;
}
