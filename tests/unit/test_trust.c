#include "config_dir.h"
#include "error.h"
#include "jsonio.h"
#include "tap.h"
#include "trust.h"
#include "trust_keys.h"
#include "util.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char data[] = "{\"format\": 1, \"members\": {}}";

static char *dir_file(const char *dir, const char *name)
{
	return cm_path_join(dir, name);
}

static void write_text(const char *path, const char *text)
{
	if (cm_write_file_atomic(path, text, strlen(text), 0600, NULL) < 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

/* A key made outside ctrmig: its private PEM (PKCS#8) and public PEM files. */
static void make_key(const char *type, const char *priv_path, const char *pub_path)
{
	EVP_PKEY *key = !strcmp(type, "RSA")  ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)
			: !strcmp(type, "EC") ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
					      : EVP_PKEY_Q_keygen(NULL, NULL, type);
	BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(priv, key, NULL, NULL, 0, NULL, NULL);
	PEM_write_bio_PUBKEY(pub, key);
	char *p;
	long n = BIO_get_mem_data(priv, &p);
	cm_write_file_atomic(priv_path, p, (size_t)n, 0600, NULL);
	n = BIO_get_mem_data(pub, &p);
	if (pub_path)
		cm_write_file_atomic(pub_path, p, (size_t)n, 0644, NULL);
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(key);
}

/* A signature document from a template: @K and @S are the key and the
 * signature, @k the key without its padding, @j its first 42 characters,
 * @s the signature's first 86. */
static char *fill(const char *tmpl, const char *k, const char *s)
{
	char *out = cm_strdup("");
	for (const char *p = tmpl; *p; p++) {
		char *next;
		if (*p == '@' && p[1]) {
			p++;
			next = *p == 'K' ? cm_strfmt("%s%s", out, k)
			     : *p == 'S' ? cm_strfmt("%s%s", out, s)
			     : *p == 'k' ? cm_strfmt("%s%.43s", out, k)
			     : *p == 'j' ? cm_strfmt("%s%.42s", out, k)
					 : cm_strfmt("%s%.86s", out, s);
		} else {
			next = cm_strfmt("%s%c", out, *p);
		}
		free(out);
		out = next;
	}
	return out;
}

static int verify_doc(const char *doc, char **signer, struct cm_error *err)
{
	json_t *sig = cm_trust_sig_parse(doc, strlen(doc), err);
	if (!sig)
		return -2;
	int r = cm_trust_verify(sig, data, strlen(data), signer, err);
	json_decref(sig);
	return r;
}

static void test_host_key(const char *dir, json_t **host_sig)
{
	struct cm_error err = { 0 };
	unsigned char pub[32];
	ok(cm_trust_host_public(pub, &err) == 1, "no host key before the first use");
	json_t *sig = cm_trust_sign(NULL, data, strlen(data), &err);
	ok(sig != NULL, "signing with the host key makes it: %s", err.msg ? err.msg : "ok");
	if (!sig)
		exit(done());
	ok(json_object_size(sig) == 3 && !strcmp(json_string_value(json_object_get(sig, "algorithm")), "ed25519") &&
		   strlen(json_string_value(json_object_get(sig, "key"))) == 44 &&
		   strlen(json_string_value(json_object_get(sig, "signature"))) == 88,
	   "the document has algorithm, key (32 bytes) and signature (64 bytes)");
	cm_autofree char *path = dir_file(dir, CM_TRUST_HOST_KEY_FILE);
	struct stat sb;
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "signing-key.pem is mode 0600");
	cm_autofree char *pem = cm_read_file(path, NULL, NULL);
	ok(pem && strstr(pem, "-----BEGIN PRIVATE KEY-----"), "as PKCS#8 PEM");

	char *signer = NULL;
	int v = cm_trust_verify(sig, data, strlen(data), &signer, &err);
	ok(v == CM_TRUST_TRUSTED, "the host's own signature is trusted");
	is_str(signer, CM_TRUST_HOST_NAME, "signed by this host");
	free(signer);

	json_t *again = cm_trust_sign(NULL, "other data", 10, &err);
	is_str(json_string_value(json_object_get(again, "key")), json_string_value(json_object_get(sig, "key")),
	       "the second signature uses the same key");
	json_decref(again);

	char changed[sizeof(data)];
	memcpy(changed, data, sizeof(data));
	changed[3] ^= 1;
	v = cm_trust_verify(sig, changed, strlen(changed), &signer, &err);
	ok(v == -1 && err.msg && strstr(err.msg, "ctrmig.manifest.sig: the signature does not match: the archive was changed after it was signed"),
	   "a changed byte fails: %s", err.msg);
	ok(cm_trust_verify(sig, data, strlen(data) - 1, NULL, &err) == -1, "a cut byte fails");
	ok(cm_trust_verify(NULL, data, strlen(data), &signer, &err) == CM_TRUST_UNSIGNED && !signer,
	   "no signature is UNSIGNED");
	cm_error_clear(&err);

	/* migrate's preflight: the verdict on a key alone, as the source sends it */
	v = cm_trust_key_verdict(json_string_value(json_object_get(sig, "key")), &signer, &err);
	ok(v == CM_TRUST_TRUSTED && signer && !strcmp(signer, CM_TRUST_HOST_NAME), "this host's key alone: trusted");
	free(signer);
	v = cm_trust_key_verdict("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &signer, &err);
	ok(v == CM_TRUST_UNTRUSTED && signer && !strncmp(signer, "SHA256:", 7), "another key: untrusted, by fingerprint");
	free(signer);
	v = cm_trust_key_verdict("not base64 at all; '$(rm -rf /)'", &signer, &err);
	ok(v == -1 && !signer && err.msg && strstr(err.msg, "not 32 bytes in base64"), "a forged key is refused");
	cm_error_clear(&err);
	v = cm_trust_key_verdict("AAAA", &signer, &err);
	ok(v == -1 && !signer, "a short key is refused");
	cm_error_clear(&err);
	*host_sig = sig;
}

static void test_other_key(const char *dir, json_t *host_sig)
{
	struct cm_error err = { 0 };
	cm_autofree char *priv = dir_file(dir, "../other.pem");
	cm_autofree char *pubf = dir_file(dir, "../other.pub");
	make_key("ED25519", priv, pubf);
	json_t *sig = cm_trust_sign(priv, data, strlen(data), &err);
	ok(sig != NULL, "--sign-key: an Ed25519 PEM private key signs: %s", err.msg ? err.msg : "ok");
	if (!sig)
		return;
	unsigned char pub[32];
	size_t pemlen;
	cm_autofree char *pem = cm_read_file(pubf, &pemlen, NULL);
	EVP_PKEY *k = cm_trust_parse_public(pem, pemlen, pubf, &err);
	cm_trust_raw_public(k, pub);
	EVP_PKEY_free(k);
	cm_autofree char *fp = cm_trust_fingerprint(pub);
	ok(!strncmp(fp, "SHA256:", 7) && strlen(fp) == 7 + 43 && !strchr(fp, '='),
	   "a fingerprint is SHA256: and 43 unpadded base64 characters: %s", fp);

	char *signer = NULL;
	int v = cm_trust_verify(sig, data, strlen(data), &signer, &err);
	ok(v == CM_TRUST_UNTRUSTED, "a valid signature by an unknown key is UNTRUSTED");
	is_str(signer, fp, "named by its fingerprint");
	free(signer);

	unsigned char got[32];
	ok(cm_trust_key_add(pem, pemlen, pubf, "other-host.1", got, &err) == 0 && !memcmp(got, pub, 32),
	   "trust add stores the key: %s", err.msg ? err.msg : "ok");
	v = cm_trust_verify(sig, data, strlen(data), &signer, &err);
	ok(v == CM_TRUST_TRUSTED, "once trusted, TRUSTED");
	is_str(signer, "other-host.1", "named by its file name without .pub");
	free(signer);

	/* the host's key claimed for the other's signature */
	json_t *forged = json_deep_copy(sig);
	json_object_set(forged, "key", json_object_get(host_sig, "key"));
	ok(cm_trust_verify(forged, data, strlen(data), NULL, &err) == -1 && strstr(err.msg, "changed after"),
	   "another key's signature under the host's key does not match");
	json_decref(forged);

	/* the store refuses duplicates and bad names */
	ok(cm_trust_key_add(pem, pemlen, pubf, "other-host.1", got, &err) == 0,
	   "the same key under the same name again changes nothing");
	cm_autofree char *third = dir_file(dir, "../third.pem"), *third_pub = dir_file(dir, "../third.pub");
	make_key("ED25519", third, third_pub);
	size_t third_len;
	cm_autofree char *third_pem = cm_read_file(third_pub, &third_len, NULL);
	ok(cm_trust_key_add(third_pem, third_len, third_pub, "other-host.1", got, &err) < 0 &&
		   strstr(err.msg, "another key is trusted as other-host.1"),
	   "a name in use is refused: %s", err.msg);
	ok(cm_trust_key_add(pem, pemlen, pubf, "again", got, &err) < 0 &&
		   strstr(err.msg, "trusted already as other-host.1"),
	   "a key trusted under another name is refused, naming it: %s", err.msg);
	EVP_PKEY *host = cm_trust_host_key(false, &err);
	cm_autofree char *host_pem = cm_trust_public_pem(host);
	EVP_PKEY_free(host);
	ok(cm_trust_key_add(host_pem, strlen(host_pem), "host.pub", "me", got, &err) < 0 &&
		   strstr(err.msg, "this host's own key"),
	   "the host's own key is refused: %s", err.msg);
	const char *bad_names[] = { "", ".hidden", "-x", "a/b", "..", "a b", "a\nb", "é" };
	int refused = 0;
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		refused += cm_trust_key_add(pem, pemlen, pubf, bad_names[i], got, &err) < 0;
	ok(refused == 8 && strstr(err.msg, "letters, digits"), "bad names are refused: %s", err.msg);
	char long_name[CM_TRUST_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ok(!cm_trust_name_valid(long_name) && cm_trust_name_valid("Host_1.example-2"), "name rules");

	cm_autofree char *priv_pem = cm_read_file(priv, &pemlen, NULL);
	ok(cm_trust_key_add(priv_pem, pemlen, priv, "priv", got, &err) < 0 && strstr(err.msg, "a private key"),
	   "a private key given to trust add is refused: %s", err.msg);
	ok(cm_trust_sign(pubf, data, 1, &err) == NULL && strstr(err.msg, "a public key; signing needs the private key"),
	   "a public key given to sign is refused: %s", err.msg);
	ok(cm_trust_key_add("hello", 5, "x.pub", "x", got, &err) < 0 && strstr(err.msg, "x.pub: not a PEM public key"),
	   "text that is not PEM is refused: %s", err.msg);

	struct cm_trust_key *keys;
	size_t n;
	ok(cm_trust_key_add(host_pem, strlen(host_pem), "host.pub", "aaa", got, &err) < 0, "(host key not added)");
	ok(cm_trust_keys_list(&keys, &n, &err) == 0 && n == 1 && !strcmp(keys[0].name, "other-host.1") &&
		   !memcmp(keys[0].pub, pub, 32),
	   "the list holds the added key");
	cm_trust_keys_free(keys, n);

	ok(cm_trust_key_remove("nope", &err) < 0 && strstr(err.msg, "no trusted key named nope"),
	   "removing an unknown name fails: %s", err.msg);
	ok(cm_trust_key_remove("../signing-key", &err) < 0 && strstr(err.msg, "no trusted key named"),
	   "a path is not a name");
	ok(cm_trust_key_remove(CM_TRUST_HOST_NAME, &err) < 0 && strstr(err.msg, "always trusted"),
	   "the host's key has nothing to remove: %s", err.msg);
	ok(cm_trust_key_remove("other-host.1", &err) == 0, "rm removes a trusted key");
	ok(cm_trust_verify(sig, data, strlen(data), NULL, &err) == CM_TRUST_UNTRUSTED, "and it is untrusted again");
	cm_error_clear(&err);
	json_decref(sig);
}

static void test_malformed(json_t *host_sig)
{
	struct cm_error err = { 0 };
	const char *k = json_string_value(json_object_get(host_sig, "key"));
	const char *s = json_string_value(json_object_get(host_sig, "signature"));
	char *signer = NULL;
	struct {
		const char *doc, *why, *want;
	} cases[] = {
		{ "[]", "not an object", "not a JSON object" },
		{ "{\"key\":\"@K\",\"signature\":\"@S\"}", "no algorithm", "no \"algorithm\"" },
		{ "{\"algorithm\":\"ed25519\",\"signature\":\"@S\"}", "no key", "no \"key\"" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@K\"}", "no signature", "no \"signature\"" },
		{ "{\"algorithm\":\"rsa\",\"key\":\"@K\",\"signature\":\"@S\"}", "another algorithm",
		  "algorithm \"rsa\" is not one" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@K\",\"signature\":\"@S\",\"x\":1}", "an unknown field",
		  "unknown field \"x\"" },
		{ "{\"algorithm\":1,\"key\":\"@K\",\"signature\":\"@S\"}", "a number for a string",
		  "\"algorithm\" is not a string" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@K\",\"signature\":\"@S\",\"key\":\"@K\"}", "a duplicate key",
		  "duplicate object key" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"AAAA\",\"signature\":\"@S\"}", "a short key",
		  "\"key\" is not 32 bytes in base64" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@S\",\"signature\":\"@S\"}", "a signature as key",
		  "\"key\" is not 32 bytes" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@K\",\"signature\":\"@K\"}", "a key as signature",
		  "\"signature\" is not 64 bytes" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@K\",\"signature\":\"!@S\"}", "bad base64", "\"signature\" is not 64" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\" @K\",\"signature\":\"@S\"}", "white space in base64",
		  "\"key\" is not 32" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@k\",\"signature\":\"@S\"}", "base64 without padding",
		  "\"key\" is not 32" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@j==\",\"signature\":\"@S\"}", "too much padding",
		  "\"key\" is not 32" },
		{ "{\"algorithm\":\"ed25519\",\"key\":\"@K\",\"signature\":\"@s=A\"}", "padding inside",
		  "\"signature\" is not 64" },
		{ "{\"algorithm\":\"ed25519\",", "truncated JSON", "ctrmig.manifest.sig: line 1" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *doc = fill(cases[i].doc, k, s);
		int v = verify_doc(doc, &signer, &err);
		ok(v < 0 && err.msg && strstr(err.msg, cases[i].want) && !strchr(err.msg, '\n') &&
			   !strncmp(err.msg, CM_TRUST_SIG_NAME ": ", strlen(CM_TRUST_SIG_NAME) + 2),
		   "%s is refused: %s", cases[i].why, err.msg);
		free(doc);
		cm_error_clear(&err);
	}

	/* canonical base64 only: set a bit that the padding leaves unused */
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *odd = cm_strdup(k);
	odd[42] = b64[(strchr(b64, odd[42]) - b64) | 1];
	char *doc = cm_strfmt("{\"algorithm\":\"ed25519\",\"key\":\"%s\",\"signature\":\"%s\"}", odd, s);
	ok(verify_doc(doc, NULL, &err) == -1, "a key with a stray bit under the padding is refused: %s", err.msg);
	free(doc);
	free(odd);

	char *big = cm_malloc(CM_TRUST_SIG_MAX + 2);
	memset(big, ' ', CM_TRUST_SIG_MAX + 1);
	big[0] = '{';
	big[CM_TRUST_SIG_MAX] = '}';
	ok(cm_trust_sig_parse(big, CM_TRUST_SIG_MAX + 1, &err) == NULL && strstr(err.msg, "more than a signature"),
	   "an oversized document is refused: %s", err.msg);
	free(big);

	json_t *bad = json_pack("{s:s, s:s, s:s}", "algorithm", "ed25519", "key", k, "signature", s);
	cm_autofree char *sig64 = cm_strdup(s);
	sig64[0] = sig64[0] == 'A' ? 'B' : 'A';
	json_object_set_new(bad, "signature", json_string(sig64));
	ok(cm_trust_verify(bad, data, strlen(data), NULL, &err) == -1 && strstr(err.msg, "changed after"),
	   "a changed signature fails");
	json_decref(bad);
	cm_error_clear(&err);
}

static void test_policy(const char *dir)
{
	struct cm_error err = { 0 };
	bool req = true;
	cm_autofree char *path = dir_file(dir, "policy.json");
	ok(cm_trust_policy_requires_signature(&req, &err) == 0 && !req, "no policy.json: not required");
	struct {
		const char *text;
		int ret;
		bool req;
		const char *want;
	} cases[] = {
		{ "{\"require_signature\": true}", 0, true, NULL },
		{ "{\"require_signature\": false}\n", 0, false, NULL },
		{ "{}", 0, false, NULL },
		{ "{\"require_signature\": true, \"other\": 1}", -1, false, "unknown key \"other\"" },
		{ "{\"require\\nsignature\": true}", -1, false, "unknown key \"require?signature\"" },
		{ "{\"require_signature\": \"yes\"}", -1, false, "require_signature must be true or false" },
		{ "{\"require_signature\": 1}", -1, false, "must be true or false" },
		{ "{\"require_signature\": true, \"require_signature\": false}", -1, false, "duplicate object key" },
		{ "[true]", -1, false, "not a JSON object" },
		{ "{\"require_signature\": tru", -1, false, "line 1" },
		{ "", -1, false, "line" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_text(path, cases[i].text);
		req = !cases[i].req;
		int r = cm_trust_policy_requires_signature(&req, &err);
		cm_autofree char *text = cm_json_quote(cases[i].text, 80);
		if (cases[i].ret == 0)
			ok(r == 0 && req == cases[i].req, "policy %s: %s", text, req ? "required" : "not required");
		else
			ok(r < 0 && strstr(err.msg, cases[i].want) && strstr(err.msg, path) && !strchr(err.msg, '\n'),
			   "policy %s refused: %s", text, err.msg);
		cm_error_clear(&err);
	}
	char *big = cm_malloc(128 << 10);
	memset(big, ' ', (128 << 10) - 1);
	big[0] = '{';
	big[(128 << 10) - 2] = '}';
	write_text(path, big);
	free(big);
	ok(cm_trust_policy_requires_signature(&req, &err) < 0 && strstr(err.msg, "larger than"),
	   "an oversized policy.json is refused: %s", err.msg);
	cm_error_clear(&err);
	unlink(path);
}

static void test_other_kinds(const char *dir)
{
	struct cm_error err = { 0 };
	unsigned char got[32];
	cm_autofree char *rsa = dir_file(dir, "../rsa.pem"), *rsa_pub = dir_file(dir, "../rsa.pub");
	make_key("RSA", rsa, rsa_pub);
	ok(cm_trust_sign(rsa, data, 1, &err) == NULL && strstr(err.msg, "rsa.pem: a key of type RSA; ctrmig takes Ed25519 keys only"),
	   "an RSA private key is refused: %s", err.msg);
	size_t len;
	cm_autofree char *pem = cm_read_file(rsa_pub, &len, NULL);
	ok(cm_trust_key_add(pem, len, rsa_pub, "rsa", got, &err) < 0 && strstr(err.msg, "rsa.pub: a key of type RSA"),
	   "an RSA public key is refused: %s", err.msg);
	cm_autofree char *ec = dir_file(dir, "../ec.pem"), *ec_pub = dir_file(dir, "../ec.pub");
	make_key("EC", ec, ec_pub);
	ok(cm_trust_sign(ec, data, 1, &err) == NULL && strstr(err.msg, "type EC"), "an EC key is refused: %s", err.msg);
	cm_autofree char *ed448 = dir_file(dir, "../ed448.pem");
	make_key("ED448", ed448, NULL);
	ok(cm_trust_sign(ed448, data, 1, &err) == NULL && strstr(err.msg, "type ED448"), "an Ed448 key is refused: %s",
	   err.msg);
	/* openssl genpkey -algorithm ed25519 -aes256 (ctrmig starts OpenSSL without cipher tables) */
	cm_autofree char *enc = dir_file(dir, "../enc.pem");
	write_text(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
			"MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhJItQkcfcXBAICCAAw\n"
			"DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEJgv8lWVtxzHD3ytOwq0gNsEQLXa\n"
			"S3sZ0mqnSU7RCyJHp4r7p4/z2rbZYOStruu6DChwwAgjo4B6VSVpy1TLB1IR4+4g\n"
			"oYjcTHplttOSNuA8NRE=\n"
			"-----END ENCRYPTED PRIVATE KEY-----\n");
	ok(cm_trust_sign(enc, data, 1, &err) == NULL && strstr(err.msg, "an encrypted key"),
	   "an encrypted key is refused without asking for a passphrase: %s", err.msg);
	ok(cm_trust_sign("/nonexistent/key.pem", data, 1, &err) == NULL && strstr(err.msg, "/nonexistent/key.pem"),
	   "a missing key file is named: %s", err.msg);
	cm_autofree char *huge = dir_file(dir, "../huge.pem");
	char *text = cm_malloc(CM_TRUST_PEM_MAX + 10);
	memset(text, 'A', CM_TRUST_PEM_MAX + 8);
	write_text(huge, text);
	free(text);
	ok(cm_trust_sign(huge, data, 1, &err) == NULL && strstr(err.msg, "huge.pem: larger than"),
	   "an oversized key file is refused: %s", err.msg);

	/* a file in trusted-keys/ that is not a key is an error naming it */
	cm_autofree char *junk = dir_file(dir, CM_TRUST_KEYS_DIR "/junk.pub");
	write_text(junk, "not a key\n");
	struct cm_trust_key *keys;
	size_t n;
	ok(cm_trust_keys_list(&keys, &n, &err) < 0 && strstr(err.msg, "junk.pub: not a PEM public key"),
	   "a broken trusted key is named: %s", err.msg);
	unlink(junk);
	cm_autofree char *ignored = dir_file(dir, CM_TRUST_KEYS_DIR "/README");
	write_text(ignored, "keys go here\n");
	ok(cm_trust_keys_list(&keys, &n, &err) == 0 && n == 0, "files without .pub are not keys");
	unlink(ignored);
	cm_error_clear(&err);
}

/* Commands racing to make the host key agree on one. */
static void test_race(const char *base)
{
	cm_autofree char *dir = cm_strfmt("%s/race", base);
	cm_config_dir_set(dir);
	enum { N = 6 };
	int fds[N][2];
	for (int i = 0; i < N; i++) {
		if (pipe(fds[i]) < 0)
			exit(1);
		if (fork() == 0) {
			json_t *sig = cm_trust_sign(NULL, data, strlen(data), NULL);
			const char *k = sig ? json_string_value(json_object_get(sig, "key")) : "failed";
			ssize_t w = write(fds[i][1], k, strlen(k));
			_exit(w > 0 ? 0 : 1);
		}
		close(fds[i][1]);
	}
	char keys[N][64];
	int same = 1;
	for (int i = 0; i < N; i++) {
		ssize_t n = read(fds[i][0], keys[i], sizeof(keys[i]) - 1);
		keys[i][n > 0 ? n : 0] = '\0';
		close(fds[i][0]);
		wait(NULL);
		same &= strlen(keys[i]) == 44 && !strcmp(keys[i], keys[0]);
	}
	ok(same, "%d commands making the host key at once all sign with one: %s", N, keys[0]);
	json_t *sig = cm_trust_sign(NULL, data, strlen(data), NULL);
	is_str(json_string_value(json_object_get(sig, "key")), keys[0], "the key kept is that one");
	json_decref(sig);
	DIR *d = opendir(dir);
	struct dirent *de;
	int entries = 0;
	while (d && (de = readdir(d)))
		entries += de->d_name[0] != '.';
	int hidden = 0;
	rewinddir(d);
	while (d && (de = readdir(d)))
		hidden += de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	ok(entries == 1 && hidden == 0, "no temp files left behind");
}

int main(void)
{
	char base[] = "/tmp/ctrmig-test-trust-XXXXXX";
	if (!mkdtemp(base)) {
		puts("Bail out! mkdtemp");
		return 1;
	}
	cm_autofree char *dir = cm_strfmt("%s/config", base);
	setenv("CTRMIG_CONFIG_DIR", "/nonexistent-env", 1);
	ok(!strcmp(cm_config_dir(), "/nonexistent-env"), "CTRMIG_CONFIG_DIR sets the folder");
	cm_config_dir_set(dir);
	ok(!strcmp(cm_config_dir(), dir), "--config-dir wins over the environment");

	json_t *host_sig = NULL;
	test_host_key(dir, &host_sig);
	test_other_key(dir, host_sig);
	test_malformed(host_sig);
	test_policy(dir);
	test_other_kinds(dir);
	test_race(base);
	json_decref(host_sig);
	cm_rm_rf(base, NULL);
	return done();
}
