/* libFuzzer target: template compilation and rendering. The input is the
 * template source, a NUL, then a value used for every variable and the query. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

/* libFuzzer entry points */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    const char *nul = memchr(src, '\0', size);
    size_t srclen = nul ? (size_t)(nul - src) : size;
    yh_span value = nul ? (yh_span){nul + 1, size - srclen - 1} : (yh_span){"", 0};
    struct route_vars vars = {2, {"name", "tail"}};
    for (int esc = TPL_RAW; esc <= TPL_JSON; esc++) {
        struct tpl *t = tpl_new();
        char err[128];
        size_t err_off = 0;
        if (tpl_append_source(t, src, srclen, esc, &vars, err, sizeof(err), &err_off) == 0) {
            yh_span vals[2] = {value, value};
            struct http_header h = {YH_SPAN_LIT("Host"), value};
            struct tpl_ctx ctx = {vals,
                                  2,
                                  YH_SPAN_LIT("GET"),
                                  YH_SPAN_LIT("/p"),
                                  value,
                                  YH_SPAN_LIT("127.0.0.1"),
                                  value,
                                  &h,
                                  1};
            struct buf out = {0};
            tpl_render(t, &ctx, &out);
            size_t n;
            if (tpl_is_constant(t) && !tpl_constant(t, &n))
                abort();
            buf_free(&out);
        } else if (err_off > srclen) {
            abort(); /* an error points inside the source */
        }
        tpl_free(t);
    }
    return 0;
}
