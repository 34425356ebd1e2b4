/*
 * t_dummy.c - native tests of kernel/dummy.c and config_node.h (run.sh).
 *
 * One translation unit: dummy.c is included with its main renamed, so the
 * tests reach its helpers too. This file is the stub of everything dummy
 * needs from outside: the session ABI, the wait for a config change
 * (dummy_wait_config) and sleeping (dummy_sleep_ms, which only prints).
 *
 * Each scenario runs dummy in a child process (fork), in a scratch directory
 * whose rom/config the stub rewrites, with its stdout in a file. A scenario
 * is a list of steps: config changes and events of the LOG service, fed to
 * dummy in order as it waits for them (a config step when it looks at its
 * config, a server step when it calls service_next). The stub's own lines
 * ("stub: ...") and dummy's log lines together must equal the expected text.
 * When the steps are used up, the stub prints "stub: end" and ends the
 * process with 99; dummy's own exit gives its value.
 *
 * usage: t_dummy [SCENARIO]   (runs the parser tests and every scenario, or one)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define DUMMY_SERVE_SLICE_NS 7
#define main dummy_main
#include "kernel/dummy.c"
#undef main

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* ---- the stub -------------------------------------------------------------------------- */

enum { S_END, S_CONFIG, S_OPEN, S_CALL, S_CLOSE, S_BIG_CALL };

typedef struct {
    int kind;
    uint32_t session;
    const char *text;
} step_t;

static const step_t *steps;
static uint32_t step_index;
static uint32_t stub_next_handle = 1, stub_max_sessions = 1000, stub_open_sessions;
static uint32_t stub_request = 100, stub_awaited;
static int stub_replied = 1;
static const char *stub_denied_service = "";
static char big_payload[5000];

static void stub_end(void) {
    printf("stub: end\n");
    fflush(stdout);
    _exit(99);
}

static void write_config(const char *text) {
    FILE *f = fopen("rom/config", "w");
    if (!f) { perror("rom/config"); _exit(97); }
    fputs(text, f);
    fclose(f);
}

static int stub_unwatchable;   /* dummy_wait_config refuses; sleeps take the config steps */

int dummy_wait_config(int fd, int64_t timeout_ns) {
    (void)fd;
    if (stub_unwatchable) {
        printf("stub: cannot wait for the config\n");
        return -1;
    }
    if (steps[step_index].kind == S_END) stub_end();
    if (steps[step_index].kind == S_CONFIG) {
        write_config(steps[step_index++].text);
        return 1;
    }
    if (timeout_ns < 0) {
        printf("stub: dummy waits for its config, but the next step is an event of its service\n");
        fflush(stdout);
        _exit(96);
    }
    return 0;
}

void dummy_sleep_ms(uint64_t ms) {
    if (ms >= 86400ull * 1000) {
        printf("stub: sleeping forever\n");
        fflush(stdout);
        _exit(98);
    }
    printf("stub: sleep %llu ms\n", (unsigned long long)ms);
    if (stub_unwatchable && ms == 1000) {
        if (steps[step_index].kind == S_END) stub_end();
        if (steps[step_index].kind == S_CONFIG) write_config(steps[step_index++].text);
    }
}

int32_t session_open(const char *service, uint32_t service_len, const char *label, uint32_t label_len,
                     uint64_t ram_quota) {
    int32_t r;
    if (strlen(stub_denied_service) == service_len && memcmp(service, stub_denied_service, service_len) == 0)
        r = PHANTOM_DENIED;
    else if (stub_open_sessions >= stub_max_sessions) r = PHANTOM_QUOTA;
    else { r = (int32_t)stub_next_handle++; stub_open_sessions++; }
    printf("stub: open %.*s \"%.*s\" ram %llu -> %d\n", (int)service_len, service, (int)label_len, label,
           (unsigned long long)ram_quota, r);
    return r;
}

int32_t session_call(int32_t handle, const void *request, uint32_t request_len, void *reply,
                     uint32_t reply_capacity, uint32_t *reply_len) {
    (void)request; (void)request_len; (void)reply; (void)reply_capacity; (void)reply_len;
    printf("stub: unexpected session_call on %d\n", handle);
    return PHANTOM_INVALID;
}

int32_t session_close(int32_t handle) {
    printf("stub: close %d\n", handle);
    stub_open_sessions--;
    return 0;
}

int32_t memory_discard(void *start, uint32_t len) {
    (void)start;
    printf("stub: discard %u bytes\n", len);
    return 0;
}

int32_t parent_resource_request(uint64_t ram_quota, uint64_t caps) {
    printf("stub: resource request ram %llu caps %llu\n", (unsigned long long)ram_quota, (unsigned long long)caps);
    return PHANTOM_DENIED;
}

int32_t session_upgrade(int32_t handle, uint64_t ram_quota) {
    printf("stub: upgrade %d by %llu\n", handle, (unsigned long long)ram_quota);
    return 0;
}

int32_t service_announce_flags(const char *service, uint32_t len, uint32_t flags) {
    (void)flags;
    printf("stub: announce %.*s\n", (int)len, service);
    return 0;
}

int32_t service_announce(const char *service, uint32_t len) {
    printf("stub: announce %.*s\n", (int)len, service);
    return 0;
}

int32_t service_next(void *buffer, uint32_t capacity, phantom_request_t *info, int64_t timeout_ns) {
    CHECK(stub_replied, "service_next before the reply to request %u", stub_awaited);
    CHECK(timeout_ns == DUMMY_SERVE_SLICE_NS, "service_next with timeout %lld", (long long)timeout_ns);
    const step_t *s = &steps[step_index];
    if (s->kind == S_END) stub_end();
    if (s->kind == S_CONFIG) return PHANTOM_TIMEOUT;
    const char *data = s->kind == S_BIG_CALL ? big_payload : s->text ? s->text : "";
    uint32_t len = (uint32_t)strlen(data);
    memset(info, 0, sizeof *info);
    info->kind = s->kind == S_OPEN ? PHANTOM_EVENT_OPEN : s->kind == S_CLOSE ? PHANTOM_EVENT_CLOSE : PHANTOM_EVENT_CALL;
    info->session = s->session;
    info->request = s->kind == S_CLOSE ? 0 : stub_request + 1;
    info->length = len;
    if (len > capacity) {
        printf("stub: %u bytes do not fit %u\n", len, capacity);
        return PHANTOM_TOO_BIG;    /* the event stays queued */
    }
    memcpy(buffer, data, len);
    step_index++;
    if (s->kind != S_CLOSE) {
        stub_awaited = ++stub_request;
        stub_replied = 0;
    }
    return 0;
}

int32_t service_reply(uint32_t request, int32_t status, const void *data, uint32_t len) {
    (void)data;
    CHECK(request == stub_awaited && !stub_replied, "reply to %u (awaiting %u, replied %d)", request, stub_awaited, stub_replied);
    stub_replied = 1;
    printf("stub: reply %u status %d len %u\n", request, status, len);
    return 0;
}

/* ---- parser tests ----------------------------------------------------------------------- */

static void dump(const cn_doc_t *doc, int32_t node, char *out, size_t cap) {
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%s", cn_type(doc, node));
    uint32_t n = cn_attr_count(doc, node);
    for (uint32_t i = 0; i < n; i++) {
        len = strlen(out);
        snprintf(out + len, cap - len, "%s%s=", i ? "," : "[", cn_attr_name(doc, node, i));
        for (const char *v = cn_attr_value(doc, node, i); *v; v++) {
            len = strlen(out);
            if (*v == '\n') snprintf(out + len, cap - len, "\\n");
            else snprintf(out + len, cap - len, "%c", *v);
        }
    }
    if (n) strncat(out, "]", cap - strlen(out) - 1);
    int32_t child = cn_first_child(doc, node);
    if (child == CN_NONE) return;
    strncat(out, "(", cap - strlen(out) - 1);
    for (int first = 1; child != CN_NONE; child = cn_next_sibling(doc, child), first = 0) {
        if (!first) strncat(out, " ", cap - strlen(out) - 1);
        dump(doc, child, out, cap);
    }
    strncat(out, ")", cap - strlen(out) - 1);
}

static void expect_tree(const char *text, const char *want) {
    cn_doc_t doc;
    char got[2048] = "";
    int r = cn_parse(&doc, text, (uint32_t)strlen(text));
    CHECK(r == 0, "parse failed: %s\n--- text:\n%s", doc.error, text);
    if (r == 0) {
        dump(&doc, cn_root(&doc), got, sizeof got);
        CHECK(strcmp(got, want) == 0, "tree\n  got  %s\n  want %s\n--- text:\n%s", got, want, text);
    }
    cn_free(&doc);
}

static void expect_error(const char *text, const char *want) {
    cn_doc_t doc;
    int r = cn_parse(&doc, text, (uint32_t)strlen(text));
    CHECK(r == -1, "parsed, expected error '%s'\n--- text:\n%s", want, text);
    if (r == -1) {
        CHECK(strstr(doc.error, want) != 0, "error '%s', expected '%s'\n--- text:\n%s", doc.error, want, text);
        CHECK(cn_root(&doc) == 0 && cn_type_is(&doc, 0, "empty") && cn_first_child(&doc, 0) == CN_NONE &&
              cn_attr_count(&doc, 0) == 0, "not the empty node after an error");
    }
    cn_free(&doc);
}

static void parser_tests(void) {
    /* XML */
    expect_tree("<config version=\"1\"><log string=\"hi\"/><sleep ms=\"5\"/></config>",
                "config[version=1](log[string=hi] sleep[ms=5])");
    expect_tree("<config>\n\t<log string=\"a b\"/>\n</config>\n", "config(log[string=a b])");
    expect_tree("<c a=\"&lt;&amp;&gt;&quot;&apos;&#65;&#x42;&#10;&#xe9;\"/>", "c[a=<&>\"'AB\\n\xc3\xa9]");
    expect_tree("<c\n  a = 'x \"y\"'\n  b\t=\"1\"\n/>", "c[a=x \"y\",b=1]");
    expect_tree("<c a=\"x\ny\tz\"/>", "c[a=x y z]");
    expect_tree("\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c -->\n<config>text &amp; more<!-- x --><a/>"
                "<![CDATA[<b/>]]><?pi x?>more</config>\n<!-- end -->\n", "config(a)");
    expect_tree("<config><a><b x=\"1\"/></a><c></c ></config>", "config(a(b[x=1]) c)");
    expect_tree("<start name=\"s\" ram=\"2M\"><binary name=\"dummy\"/></start>",
                "start[name=s,ram=2M](binary[name=dummy])");
    expect_tree("<ns:x a.b-c_d:e=\"1\"/>", "ns:x[a.b-c_d:e=1]");
    expect_error("", "empty config");
    expect_error(" \n\t ", "empty config");
    expect_error("<config>", "element is not closed: 'config'");
    expect_error("<config>\n<a>\n</b>", "line 3: end tag 'b' does not match the open element 'a'");
    expect_error("<config a=\"1\" a=\"2\"/>", "attribute given twice: 'a'");
    expect_error("<config a=1/>", "attribute value without quotes: 'a'");
    expect_error("<config a=\"x<y\"/>", "'<' in the value of attribute 'a'");
    expect_error("<config a=\"&bogus;\"/>", "unknown entity '&bogus;'");
    expect_error("<config a=\"&#0;\"/>", "unknown entity");
    expect_error("<config a=\"&#xd800;\"/>", "invalid character");
    expect_error("<config a=\"& b\"/>", "'&' that starts no entity");
    expect_error("<config>a & b</config>", "'&' that starts no entity");
    expect_error("<a/><b/>", "a second root element");
    expect_error("<?pi?>\ntext<a/>", "line 2: text before the root element");
    expect_error("<a/>junk", "text after the root element");
    expect_error("<!DOCTYPE x><a/>", "unsupported markup");
    expect_error("<config><!-- unterminated", "unterminated comment");
    expect_error("<a b=\"1\"c=\"2\"/>", "separated by white space");
    expect_error("</a>", "end tag without a start tag");
    expect_error("<>", "expected an element name");
    expect_error("<a &/>", "malformed attribute");
    expect_error("<a b=\"1\"", "unexpected end inside a start tag");
    expect_error("<a b=\"1", "unterminated attribute value");
    expect_error("<a/ >", "expected '>' after '/'");
    expect_error("<a>]]></a>", "']]>' in text");
    expect_error("<![CDATA[x]]><a/>", "CDATA outside the root element");

    /* HID */
    expect_tree("config | version: 1\n+ log | string: hello world\n+ sleep | ms: 5\n-\n",
                "config[version=1](log[string=hello world] sleep[ms=5])");
    expect_tree("config\n+ start server | ram: 2M\n  + binary dummy\n  + route | + any-service | + parent\n-\n",
                "config(start[name=server,ram=2M](binary[name=dummy] route(any-service(parent))))");
    expect_tree("config\n  + log string: x\n  + log   a b c  \n-", "config(log[string=x] log[name=a b c])");
    expect_tree("config\n+ a\nx b | k: v\n  + c\n+ d\n-\n", "config(a d)");
    expect_tree("config\n. a comment | with a bar\n+ log | string: a . b | . the rest\n-\n",
                "config(log[string=a . b])");
    expect_tree("config\n+ inline\n  : text | not an attribute\n  :\n+ next\n-\n", "config(inline next)");
    expect_tree("config\n  | version: Version A\n  | x:\n+ log | string: x\n-\n",
                "config[version=Version A,x=](log[string=x])");
    expect_tree("config | a: 1 | a: 2\n-\n", "config[a=1]");
    expect_tree("config | v: 1\r\n+ log | string: x\r\n-\r\n", "config[v=1](log[string=x])");
    expect_tree("config\n+ log | string: a: b|c:d\n-\n", "config(log[string=a: b,c=d])");
    expect_tree("config\n+ a\n  + b\n    + c\n  + d\n+ e\n-\n  \n", "config(a(b(c) d) e)");
    expect_tree("config\n+ a\n      + b\n  + c\n-\n", "config(a(b c))");
    expect_tree("config | string: caf\xc3\xa9\n-\n", "config[string=caf\xc3\xa9]");
    expect_tree("config\n+ log |string:x\n-\n", "config(log[string=x])");
    expect_error("config\n+ log\n", "line 3: missing end marker");
    expect_error("config\n-\n+ log\n", "text after the end marker");
    expect_error("config\nlog\n-\n", "a second top-level node");
    expect_error("config\n\t+ log\n-\n", "tab character");
    expect_error("config\n+ log | string:\tx\n-\n", "tab character");
    expect_error("config\n+log\n-\n", "'+' must be followed");
    expect_error("config\n.comment\n-\n", "comment's text");
    expect_error("config\n+ log | string: a\x01\n-\n", "control character");
    expect_error("config\n+ a\n + b\n-\n", "line 3: sub node must be indented two columns more");
    expect_error("- \n", "top-level node's type at column 1");
    expect_error(". comment\nconfig\n-\n", "top-level node's type at column 1");
    expect_error("version: 1\n-\n", "bad node type 'version: 1'");
    expect_error("config\n+ Log\n-\n", "expected a node type");
    expect_error("config\n+ log-x:y\n-\n", "bad node type");
    expect_error("config\n+ a\n  + b\nstring: x\n-\n", "a second top-level node");
    expect_error("config\n    + a\n  k: v\n-\n", "attribute is not under a node: 'k'");
    expect_tree("config\n  + a\n | k: v\n-\n", "config(a[k=v])");
    expect_error("config\n+ a\n  : text\n  | k: v\n-\n", "attribute after quoted content");
    expect_error("config\n+ a\n  : text\n  + b\n-\n", "quoted content cannot have sub nodes");
    expect_error("config\n+ a | 7x: 1\n-\n", "expected an attribute");
    expect_error("config\n+ a | k 1\n-\n", "expected ':'");
    expect_error("config\n  - \n", "end marker '-' must be at column 1");
    expect_error("config\n-x\n", "must stand alone");
    expect_error("config\n+ a\n  :x\n-\n", "quoted content must be separated");

    /* depth */
    {
        static char text[65536];
        size_t len = 0;
        for (int i = 0; i < CN_MAX_DEPTH; i++) len += (size_t)sprintf(text + len, "<a>");
        for (int i = 0; i < CN_MAX_DEPTH; i++) len += (size_t)sprintf(text + len, "</a>");
        cn_doc_t doc;
        CHECK(cn_parse(&doc, text, (uint32_t)len) == 0, "%d levels: %s", CN_MAX_DEPTH, doc.error);
        cn_free(&doc);
        len = 0;
        for (int i = 0; i <= CN_MAX_DEPTH; i++) len += (size_t)sprintf(text + len, "<a>");
        expect_error(text, "elements nest too deep");
        len = (size_t)sprintf(text, "config\n");
        for (int i = 0; i < CN_MAX_DEPTH + 1; i++) len += (size_t)sprintf(text + len, "%*s+ a\n", 2 * i, "");
        sprintf(text + len, "-\n");
        expect_error(text, "nodes nest too deep");
    }

    /* a text that is not NUL-terminated, and one with a NUL in it */
    {
        cn_doc_t doc;
        const char text[] = "<a x=\"1\"/><b/>";
        CHECK(cn_parse(&doc, text, 10) == 0 && cn_attr(&doc, 0, "x") && !strcmp(cn_attr(&doc, 0, "x"), "1"), "prefix");
        CHECK(!cn_attr(&doc, 0, "y") && !cn_attr(&doc, CN_NONE, "x") && cn_first_child(&doc, 7) == CN_NONE, "absent");
        cn_free(&doc);
        const char nul[] = "config\n+ a\0b\n-\n";
        CHECK(cn_parse(&doc, nul, sizeof nul - 1) == -1 && strstr(doc.error, "control character"), "NUL in HID: %s", doc.error);
        cn_free(&doc);
    }

    /* random mutations of valid texts: never a crash, always a root */
    {
        static const char *seeds[] = {
            "<config version=\"1\"><log string=\"a&amp;b\"/><!-- c --><sleep ms=\"5\"/><x><y z='1'/></x></config>",
            "config | version: 1\n+ log | string: hi\n  + sub | a: b\nx off\n  : q\n. c\n+ s name | k: v | + t\n-\n",
        };
        uint64_t seed = 0x9e3779b97f4a7c15ull;
        static char buf[512];
        for (int round = 0; round < 200000; round++) {
            const char *s = seeds[round & 1];
            uint32_t len = (uint32_t)strlen(s);
            memcpy(buf, s, len);
            int edits = 1 + (int)(seed % 4);
            for (int e = 0; e < edits; e++) {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                uint32_t at = (uint32_t)(seed % len);
                static const char alphabet[] = "<>/=\"'&;#x:|+-. \n\t\rabz019!?[]";
                switch ((seed >> 32) % 3) {
                case 0: buf[at] = alphabet[(seed >> 40) % (sizeof alphabet - 1)]; break;
                case 1: buf[at] = (char)(seed >> 48); break;
                default: if (len > 1) { memmove(buf + at, buf + at + 1, len - at - 1); len--; } break;
                }
            }
            cn_doc_t doc;
            int r = cn_parse(&doc, buf, len);
            if (r != 0) CHECK(doc.error[0] && cn_root(&doc) == 0, "round %d: error without message", round);
            int32_t root = cn_root(&doc);
            uint32_t count = 0;
            for (int32_t c = cn_first_child(&doc, root); c != CN_NONE && count < 1000; c = cn_next_sibling(&doc, c)) {
                count++;
                (void)cn_attr(&doc, c, "string");
            }
            CHECK(count < 1000, "round %d: a sibling cycle", round);
            cn_free(&doc);
        }
    }

    /* numbers and sizes as Genode writes them */
    uint64_t v;
    CHECK(parse_bytes("2M", &v) && v == 2u << 20, "2M");
    CHECK(parse_bytes("4000K", &v) && v == 4000u << 10, "4000K");
    CHECK(parse_bytes("1G", &v) && v == 1u << 30, "1G");
    CHECK(parse_bytes("0x10K", &v) && v == 16u << 10, "0x10K");
    CHECK(parse_bytes("123", &v) && v == 123, "123");
    CHECK(!parse_bytes("1m", &v) && !parse_bytes("", &v) && !parse_bytes("K", &v) && !parse_bytes("1MB", &v) &&
          !parse_bytes("0x", &v) && !parse_bytes("99999999999999999999", &v) && !parse_bytes("17179869184G", &v),
          "bad sizes");
    CHECK(parse_unsigned("0", &v) && v == 0 && parse_unsigned("0x1f", &v) && v == 31 &&
          parse_unsigned("18446744073709551615", &v) && v == UINT64_MAX, "unsigned");
    CHECK(!parse_unsigned("18446744073709551616", &v) && !parse_unsigned("-1", &v) && !parse_unsigned("1 ", &v) &&
          !parse_unsigned("", &v) && !parse_unsigned(0, &v), "bad unsigned");
    printf("parser: %s\n", failures ? "FAILED" : "ok");
}

/* ---- scenarios ---------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    const step_t *steps;           /* steps[0] is the initial config (S_CONFIG), or S_END for none */
    const char *want;              /* stdout */
    int status;                    /* exit status */
    uint32_t max_sessions;         /* 0: no limit */
    const char *denied;            /* a service the stub denies */
    int unwatchable;               /* the config cannot be waited for */
} scenario_t;

static const step_t basic_xml[] = {
    { S_CONFIG, 0, "<config version=\"one\">\n\t<log string=\"started\"/>\n\t<sleep/>\n\t<sleep ms=\"5\"/>\n"
                   "\t<create_log_connections count=\"2\"/>\n\t<destroy_log_connections/>\n"
                   "\t<destroy_log_connections/>\n\t<vfs/>\n\t<log string=\"done\"/>\n</config>\n" },
    { S_CONFIG, 0, "<config version=\"one\"><log string=\"same version: skipped\"/></config>" },
    { S_CONFIG, 0, "<config version=\"two\"><log string=\"second\"/><exit/><log string=\"never\"/></config>" },
    { S_END, 0, 0 },
};

static const step_t basic_hid[] = {
    { S_CONFIG, 0, "config | version: one\n+ log | string: started\n+ create_log_connections | count: 1 | ram_upgrade: 3M\n-\n" },
    { S_CONFIG, 0, "config | version: two\n+ create_log_connections | count: 2\n+ log | string: again\n-\n" },
    { S_CONFIG, 0, "config\n+ log | string: no version\n-\n" },
    { S_CONFIG, 0, "config\n+ log | string: no version again: skipped\n-\n" },
    { S_CONFIG, 0, "config | version: three\n+ destroy_log_connections\n+ sleep_forever\n+ log | string: never\n-\n" },
    { S_END, 0, 0 },
};

static const step_t versions[] = {
    { S_CONFIG, 0, "<config/>" },
    { S_CONFIG, 0, "<config version=\"\"><log string=\"empty version equals none: skipped\"/></config>" },
    { S_CONFIG, 0, "<config version=\"A\"/>" },
    { S_CONFIG, 0, "<config version=\"B\"/>" },
    { S_CONFIG, 0, "<config version=\"B\"><log string=\"skipped\"/></config>" },
    { S_CONFIG, 0, "<config version=\"A\"><log string=\"back to A\"/></config>" },
    { S_CONFIG, 0, "<config version=\"0123456789012345678901234567890123456789012345678X\"/>" },
    { S_CONFIG, 0, "<config version=\"0123456789012345678901234567890123456789012345678Y\"/>" },
    { S_END, 0, 0 },
};

static const step_t malformed[] = {
    { S_CONFIG, 0, "<config version=\"1\"><log string=\"a\"></config>" },
    { S_CONFIG, 0, "<config version=\"1\"><log string=\"fine\"/></config>" },
    { S_CONFIG, 0, "config | version: 2\n+ log | string: no end marker\n" },
    { S_CONFIG, 0, "" },
    { S_CONFIG, 0, "config | version: 3\n+ log | string: 0123456789012345678901234567890123456789012345678 cut\n+ log\n"
                   "+ sleep | ms: soon\n+ create_log_connections | count: -1 | ram_upgrade: 1m\n"
                   "+ consume_ram | amount: 12X\n+ log_service | verbose: maybe | delay_close_ms: 0x20\n-\n" },
    { S_END, 0, 0 },
};

static const step_t service[] = {
    { S_CONFIG, 0, "<config><log_service verbose=\"yes\"/></config>" },
    { S_OPEN, 7, "client" },
    { S_CALL, 7, "client started\n" },
    { S_CALL, 7, "colored\033[0m\nrest" },
    { S_OPEN, 8, "client -> 0" },
    { S_CALL, 8, "" },
    { S_CLOSE, 8, 0 },
    { S_CONFIG, 0, "<config version=\"delayed\"><log_service delay_close_ms=\"20\"/></config>" },
    { S_OPEN, 9, "quiet" },
    { S_CALL, 9, "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" },
    { S_BIG_CALL, 9, 0 },
    { S_CALL, 12, "unknown session" },
    { S_CLOSE, 12, 0 },
    { S_CLOSE, 9, 0 },
    { S_CLOSE, 7, 0 },
    { S_CONFIG, 0, "<config version=\"3\"><log_service/><exit/></config>" },
    { S_END, 0, 0 },
};

static const step_t resources[] = {
    { S_CONFIG, 0, "config | version: 1\n+ consume_ram | amount: 2M\n+ consume_ram | amount: 2359K\n+ consume_ram | amount: 1000\n"
                   "+ consume_caps | amount: 3\n+ handle_yield_requests\n+ handle_yield_requests\n-\n" },
    { S_CONFIG, 0, "config | version: 2\n+ consume_caps | amount: 150\n+ consume_ram | amount: 0\n+ consume_ram | amount: 64M\n-\n" },
    { S_CONFIG, 0, "config | version: 3\n+ consume_ram | amount: 16G\n+ create_log_connections | count: 3\n-\n" },
    { S_END, 0, 0 },
};

static const step_t denied[] = {
    { S_CONFIG, 0, "<config><create_log_connections count=\"2\"/><log string=\"goes on\"/>"
                   "<destroy_log_connections/><consume_caps amount=\"2\"/></config>" },
    { S_END, 0, 0 },
};

static const step_t no_config[] = { { S_END, 0, 0 } };

static const step_t unwatchable[] = {
    { S_CONFIG, 0, "<config version=\"1\"/>" },
    { S_CONFIG, 0, "<config version=\"2\"><log string=\"read again\"/></config>" },
    { S_END, 0, 0 },
};

static const scenario_t scenarios[] = {
    { "basic-xml", basic_xml,
      "config 1: one\n"
      "started\n"
      "stub: sleep 100 ms\n"
      "stub: sleep 5 ms\n"
      "going to create 2 LOG connections\n"
      "stub: open LOG \"0\" ram 0 -> 1\n"
      "stub: open LOG \"1\" ram 0 -> 2\n"
      "created all LOG connections\n"
      "stub: close 2\n"
      "stub: close 1\n"
      "destroyed all LOG connections\n"
      "done\n"
      "config 2: two\n"
      "second\n", 0, 0, 0, 0 },
    { "basic-hid", basic_hid,
      "config 1: one\n"
      "started\n"
      "going to create 1 LOG connections\n"
      "stub: open LOG \"0\" ram 0 -> 1\n"
      "upgrade connection 0\n"
      "stub: upgrade 1 by 3145728\n"
      "created all LOG connections\n"
      "config 2: two\n"
      "stub: close 1\n"
      "destroyed all LOG connections\n"
      "going to create 2 LOG connections\n"
      "stub: open LOG \"0\" ram 0 -> 2\n"
      "stub: open LOG \"1\" ram 0 -> 3\n"
      "created all LOG connections\n"
      "again\n"
      "no version\n"
      "config 4: three\n"
      "stub: close 3\n"
      "stub: close 2\n"
      "destroyed all LOG connections\n"
      "stub: sleeping forever\n", 98, 0, 0, 0 },
    { "versions", versions,
      "config 2: A\n"
      "config 3: B\n"
      "config 4: A\n"
      "back to A\n"
      "config 5: 0123456789012345678901234567890123456789012345678\n"
      "stub: end\n", 99, 0, 0, 0 },
    { "malformed", malformed,
      "Error: config: line 1: end tag 'config' does not match the open element 'log' (config ignored)\n"
      "config 2: 1\n"
      "fine\n"
      "Error: config: line 3: missing end marker '-' of the top-level node (config ignored)\n"
      "Error: config: line 1: empty config (config ignored)\n"
      "config 4: 3\n"
      "0123456789012345678901234567890123456789012345678\n"
      "\n"
      "Warning: sleep: ignoring ms=\"soon\", using 100\n"
      "stub: sleep 100 ms\n"
      "Warning: create_log_connections: ignoring count=\"-1\", using 0\n"
      "Warning: create_log_connections: ignoring ram_upgrade=\"1m\", using 0\n"
      "going to create 0 LOG connections\n"
      "created all LOG connections\n"
      "Warning: consume_ram: ignoring amount=\"12X\", using 0\n"
      "consume 0 bytes of memory\n"
      "Warning: log_service: ignoring verbose=\"maybe\", using no\n"
      "stub: announce LOG\n"
      "created LOG service\n"
      "stub: end\n", 99, 0, 0, 0 },
    { "service", service,
      "stub: announce LOG\n"
      "created LOG service\n"
      "opening session with label client\n"
      "stub: reply 101 status 0 len 0\n"
      "[client] client started\n"
      "stub: reply 102 status 0 len 0\n"
      "[client] colored\n"
      "stub: reply 103 status 0 len 0\n"
      "opening session with label client -> 0\n"
      "stub: reply 104 status 0 len 0\n"
      "[client -> 0] \n"
      "stub: reply 105 status 0 len 0\n"
      "close session without delay\n"
      "closing session with label client -> 0\n"
      "config 2: delayed\n"
      "created LOG service\n"
      "stub: reply 106 status 0 len 0\n"
      "[quiet] 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890\n"
      "stub: reply 107 status 0 len 0\n"
      "stub: 4999 bytes do not fit 1024\n"
      "[quiet] bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
      "stub: reply 108 status 0 len 0\n"
      "[?] unknown session\n"
      "stub: reply 109 status 0 len 0\n"
      "delay close by 20 ms\n"
      "stub: sleep 20 ms\n"
      "delay close by 20 ms\n"
      "stub: sleep 20 ms\n"
      "closing session with label client\n"
      "config 3: 3\n"
      "created LOG service\n", 0, 0, 0, 0 },
    { "resources", resources,
      "config 1: 1\n"
      "consume 2M bytes of memory\n"
      "release 2M bytes of memory\n"
      "stub: discard 2097152 bytes\n"
      "consume 2359K bytes of memory\n"
      "release 2359K bytes of memory\n"
      "stub: discard 2415616 bytes\n"
      "consume 1000 bytes of memory\n"
      "consume 3 caps\n"
      "stub: open PD \"cap 0\" ram 0 -> 1\n"
      "stub: open PD \"cap 1\" ram 0 -> 2\n"
      "stub: open PD \"cap 2\" ram 0 -> 3\n"
      "config 2: 2\n"
      "release 3 caps\n"
      "stub: close 3\n"
      "stub: close 2\n"
      "stub: close 1\n"
      "consume 150 caps\n"
      "CAPS\n"
      "release 1000 bytes of memory\n"
      "stub: discard 1000 bytes\n"
      "consume 0 bytes of memory\n"
      "consume 64M bytes of memory\n"
      "config 3: 3\n"
      "release 64M bytes of memory\n"
      "stub: discard 67108864 bytes\n"
      "consume 16G bytes of memory\n"
      "stub: resource request ram 17179869184 caps 0\n"
      "Error: cannot consume 16G bytes of memory: out of RAM\n"
      "going to create 3 LOG connections\n"
      "stub: open LOG \"0\" ram 0 -> -3\n"
      "Error: LOG connection 0 failed: -3 (quota)\n"
      "stub: end\n", 99, 100, 0, 0 },
    { "denied", denied,
      "going to create 2 LOG connections\n"
      "stub: open LOG \"0\" ram 0 -> -1\n"
      "Error: LOG connection 0 failed: -1 (denied)\n"
      "goes on\n"
      "destroyed all LOG connections\n"
      "consume 2 caps\n"
      "stub: open PD \"cap 0\" ram 0 -> 1\n"
      "stub: open PD \"cap 1\" ram 0 -> 2\n"
      "stub: end\n", 99, 0, "LOG", 0 },
    { "no-config", no_config,
      "Error: cannot open /rom/config: running with an empty config\n"
      "Error: config: line 1: empty config (config ignored)\n"
      "stub: sleeping forever\n", 98, 0, 0, 0 },
    { "unwatchable", unwatchable,
      "config 1: 1\n"
      "stub: cannot wait for the config\n"
      "Error: cannot wait for changes of /rom/config: reading it every second\n"
      "stub: sleep 1000 ms\n"
      "config 2: 2\n"
      "read again\n"
      "stub: sleep 1000 ms\n"
      "stub: end\n", 99, 0, 0, 1 },
};

/* The expected text with "CAPS" replaced by the 100 opens of consume_caps. */
static void expand(const char *want, char *out, size_t cap) {
    const char *mark = strstr(want, "CAPS\n");
    if (!mark) { snprintf(out, cap, "%s", want); return; }
    size_t len = (size_t)(mark - want);
    memcpy(out, want, len);
    for (int i = 0; i < 100; i++)
        len += (size_t)snprintf(out + len, cap - len, "stub: open PD \"cap %d\" ram 0 -> %d\n", i, i + 4);
    snprintf(out + len, cap - len, "%s", mark + 5);
}

static void run_scenario(const scenario_t *sc) {
    char dir[] = "/tmp/t_dummy.XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); failures++; return; }
    char path[256];
    snprintf(path, sizeof path, "%s/rom", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(95);
        FILE *out = freopen("out.txt", "w", stdout);
        if (!out) _exit(94);
        setvbuf(stdout, 0, _IONBF, 0);
        /* 1 GiB of address space: a consume_ram beyond fails as it would at a quota */
#if !defined(__has_feature) || !__has_feature(address_sanitizer)   /* (ASan: max_allocation_size_mb) */
        struct rlimit limit = { 1ul << 30, 1ul << 30 };
        setrlimit(RLIMIT_AS, &limit);
#endif
        steps = sc->steps;
        if (sc->max_sessions) stub_max_sessions = sc->max_sessions;
        if (sc->denied) stub_denied_service = sc->denied;
        stub_unwatchable = sc->unwatchable;
        memset(big_payload, 'b', sizeof big_payload - 1);
        if (steps[0].kind == S_CONFIG) write_config(steps[step_index++].text);
        dummy_main();
        _exit(93);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    static char got[65536], want[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(got, 1, sizeof got - 1, f) : 0;
    got[n] = 0;
    if (f) fclose(f);
    expand(sc->want, want, sizeof want);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (strcmp(got, want) != 0 || code != sc->status) {
        failures++;
        fprintf(stderr, "FAIL scenario %s: exit %d (want %d)\n--- got:\n%s--- want:\n%s---\n", sc->name, code, sc->status, got, want);
    } else {
        printf("scenario %s: ok\n", sc->name);
    }
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    if (system(path) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0);
    if (argc < 2) parser_tests();
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (argc < 2 || strcmp(argv[1], scenarios[i].name) == 0) run_scenario(&scenarios[i]);
    printf("t_dummy: %s\n", failures ? "FAILED" : "all ok");
    return failures ? 1 : 0;
}
