/* OpenSSL's start-up, once per process, for every user of libcrypto
 * (sha256, trust): call it before the first OpenSSL function. */
#ifndef CM_CRYPTO_INIT_H
#define CM_CRYPTO_INIT_H

void cm_crypto_init(void);

#endif
