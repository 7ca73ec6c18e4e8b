/* A minimal adapter in C: answers encoding/varuint_encode, says "unsupported" to everything else.
 * Build: cc -O2 -o adapter adapter.c     Run: elastos conform --impl ./adapter --suite encoding */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the value of "key":"..." in line, copied to out (no escapes: adapter inputs here are plain) */
static int field(const char *line, const char *key, char *out, size_t n) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return 0;
    p += strlen(pat);
    while (*p == ' ') p++;
    int quoted = (*p == '"');
    if (quoted) p++;
    size_t i = 0;
    while (*p && i + 1 < n && (quoted ? *p != '"' : (*p != ',' && *p != '}'))) out[i++] = *p++;
    out[i] = 0;
    return 1;
}

static void varuint(const char *id, const char *value) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (value[0] == '-' || *end || errno == ERANGE) {
        printf("{\"id\":%s,\"reject\":\"VALUE_OUT_OF_RANGE\"}\n", id);
        return;
    }
    unsigned char b[9];
    int n;
    if (v < 0xFD) { b[0] = (unsigned char)v; n = 1; }
    else if (v <= 0xFFFF) { b[0] = 0xFD; n = 3; }
    else if (v <= 0xFFFFFFFFULL) { b[0] = 0xFE; n = 5; }
    else { b[0] = 0xFF; n = 9; }
    for (int i = 1; i < n; i++) b[i] = (unsigned char)(v >> (8 * (i - 1)));  /* little-endian */
    printf("{\"id\":%s,\"ok\":{\"bytes\":\"", id);
    for (int i = 0; i < n; i++) printf("%02x", b[i]);
    printf("\"}}\n");
}

int main(void) {
    static char line[1 << 20];
    char id[32], handler[128], value[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strstr(line, "\"hello\"")) {
            printf("{\"hello\":{\"protocol\":1,\"name\":\"c-example\",\"version\":\"0.1\","
                   "\"handlers\":[\"encoding/varuint_encode\"]}}\n");
        } else if (field(line, "id", id, sizeof id) && field(line, "handler", handler, sizeof handler)) {
            if (strcmp(handler, "encoding/varuint_encode") == 0 && field(line, "value", value, sizeof value))
                varuint(id, value);
            else
                printf("{\"id\":%s,\"unsupported\":true}\n", id);
        }
        fflush(stdout);
    }
    return 0;
}
