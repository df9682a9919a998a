/* libFuzzer target: YAML bytes -> config_load_bytes -> config_unref. Errors
 * must be reported, never crash or leak. Host names are not resolved and no
 * module is loaded while fuzzing (see the overrides below). */
#include <dlfcn.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "config.h"

/* libFuzzer entry points */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Only numeric hosts: the fuzzer must not send DNS queries. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    if (!real)
        real = (int (*)(const char *, const char *, const struct addrinfo *,
                        struct addrinfo **))dlsym(RTLD_NEXT, "getaddrinfo");
    struct addrinfo h = hints ? *hints : (struct addrinfo){0};
    h.ai_flags |= AI_NUMERICHOST;
    return real(node, service, &h, res);
}

/* No shared object named by the input is ever loaded. */
void *dlopen(const char *file, int mode)
{
    return NULL;
}

char *dlerror(void)
{
    return (char *)"dlopen is disabled while fuzzing";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf errors = {0};
    struct config *cfg = config_load_bytes("fuzz.yaml", (const char *)data, size, &errors);
    if (cfg)
        config_unref(cfg);
    else if (errors.len == 0)
        abort(); /* a refused config always says why */
    buf_free(&errors);
    return 0;
}
