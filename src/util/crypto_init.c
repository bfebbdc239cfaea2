#include "crypto_init.h"

#include <openssl/crypto.h>
#include <pthread.h>

/* OpenSSL's default start-up reads openssl.cnf and registers every cipher
 * and digest by name: a third of a short command's CPU time, for a hash that
 * needs none of it. Ed25519 and SHA-256 come from the default provider
 * without either; and a host's openssl.cnf has no say in how ctrmig signs. */
static void init_once(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
				    OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
			    NULL);
}

void cm_crypto_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_once);
}
