/*
 * config_node.h - a small node parser for a component's config ROM, in both
 * syntaxes of Genode's configs: XML (<config version="1"><log string="hi"/>
 * </config>) and HID, Genode's human-inclined data (doc/hid.txt):
 *
 *     config | version: 1
 *     + log | string: hi
 *     -
 *
 * It reads the whole tree (nodes with their type and attributes in the order
 * written; content is checked and dropped) into arrays indexed by node
 * number, so a component can walk the top-level node's sub nodes in order
 * (cn_first_child, cn_next_sibling) and read their attributes (cn_attr).
 *
 * The rules are those of the kernel's own parsers (Sources/PhantomKernel/
 * Config/HIDParser.swift, XMLConfigParser.swift), in bytes:
 *   XML  elements, attributes in single or double quotes (values decoded:
 *        &amp; &lt; &gt; &quot; &apos; &#N; &#xN;, and raw tabs and line
 *        breaks become spaces, as XML normalises them), comments, CDATA,
 *        processing instructions, text; one root element, end tags must
 *        match, a repeated attribute or a DOCTYPE is an error.
 *   HID  the top-level node's type at column 1; sub nodes "+ type" (and
 *        disabled ones "x type", dropped with everything under them) nest by
 *        indentation; "tag: value" attributes, several per line separated by
 *        "|"; a word after a node's type is its attribute "name"; ". "
 *        comments; ": " quoted content; "-" at column 1 ends the text.
 *        A repeated attribute keeps its first value (as Genode's runtime).
 *
 * Malformed input never crashes it: cn_parse returns -1 with a message
 * naming the line ("line 3: ...") in doc->error, and the document then holds
 * one empty top-level node "empty", like the <empty/> node Genode's
 * Attached_rom_dataspace::xml() hands out for a config that does not parse.
 * Nesting is limited to CN_MAX_DEPTH levels; memory comes from malloc and is
 * released by cn_free (a failed allocation is an error, not a crash).
 *
 * Header-only, no dependency beyond <stdlib.h>/<string.h>; builds for wasm32
 * and natively (Programs/test/t_dummy.c tests it, Fuzz/c/ fuzzes it).
 */
#ifndef PHANTOM_CONFIG_NODE_H
#define PHANTOM_CONFIG_NODE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CN_MAX_DEPTH 200
#define CN_NONE (-1)

enum { CN_SYNTAX_NONE = 0, CN_SYNTAX_XML = 1, CN_SYNTAX_HID = 2 };

typedef struct {
    uint32_t type;          /* pool offset of the type, NUL-terminated */
    uint32_t first_attr;    /* index of its first attribute in attrs */
    uint32_t attr_count;
    int32_t parent, first_child, last_child, next_sibling;
    uint32_t line;          /* where it starts (1-based) */
    uint32_t anchor;        /* HID: column of its '+' (0 for the top-level node) */
    uint8_t enabled;        /* HID: 0 for an "x" node (dropped when closed) */
    uint8_t has_content;    /* quoted content (HID) */
    uint8_t linked;         /* joined to its parent */
} cn_node_t;

typedef struct {
    uint32_t name, value;   /* pool offsets, NUL-terminated */
} cn_attr_t;

typedef struct {
    cn_node_t *nodes;
    uint32_t node_count, node_cap;
    cn_attr_t *attrs;
    uint32_t attr_count, attr_cap;
    char *pool;
    uint32_t pool_len, pool_cap;
    int syntax;             /* CN_SYNTAX_XML / _HID, NONE when it could not tell */
    int failed;             /* an allocation failed */
    char error[200];        /* the reason when cn_parse returned -1 */
} cn_doc_t;

/* ---- storage ------------------------------------------------------------------ */

static inline void cn_free(cn_doc_t *doc) {
    free(doc->nodes);
    free(doc->attrs);
    free(doc->pool);
    memset(doc, 0, sizeof *doc);
}

static inline int cn_grow(void **array, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return 0;
    uint32_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > 0x7fffffffu / 2) return -1;
        n *= 2;
    }
    if ((size_t)n > SIZE_MAX / elem) return -1;
    void *bigger = realloc(*array, (size_t)n * elem);
    if (!bigger) return -1;
    *array = bigger;
    *cap = n;
    return 0;
}

/* Appends n bytes and a NUL to the pool; returns the offset (0 on failure,
 * with doc->failed set: offset 0 always holds the empty string). */
static inline uint32_t cn_store(cn_doc_t *doc, const char *s, uint32_t n) {
    if (doc->failed) return 0;
    if (n > 0x7ffffff0u - doc->pool_len ||
        cn_grow((void **)&doc->pool, &doc->pool_cap, doc->pool_len + n + 1, 1) != 0) {
        doc->failed = 1;
        return 0;
    }
    uint32_t at = doc->pool_len;
    if (n) memcpy(doc->pool + at, s, n);
    doc->pool[at + n] = 0;
    doc->pool_len += n + 1;
    return at;
}

/* A string built byte by byte at the end of the pool (for decoded values). */
static inline uint32_t cn_begin(cn_doc_t *doc) { return doc->pool_len; }
static inline void cn_put(cn_doc_t *doc, char c) {
    if (doc->failed) return;
    if (doc->pool_len >= 0x7ffffff0u ||
        cn_grow((void **)&doc->pool, &doc->pool_cap, doc->pool_len + 2, 1) != 0) {
        doc->failed = 1;
        return;
    }
    doc->pool[doc->pool_len++] = c;
}
static inline uint32_t cn_end(cn_doc_t *doc, uint32_t start) {
    cn_put(doc, 0);
    return doc->failed ? 0 : start;
}

static inline int32_t cn_new_node(cn_doc_t *doc, const char *type, uint32_t type_len, int32_t parent,
                                  uint32_t line) {
    if (doc->failed || cn_grow((void **)&doc->nodes, &doc->node_cap, doc->node_count + 1, sizeof(cn_node_t)) != 0) {
        doc->failed = 1;
        return CN_NONE;
    }
    uint32_t t = cn_store(doc, type, type_len);
    if (doc->failed) return CN_NONE;
    cn_node_t *n = &doc->nodes[doc->node_count];
    memset(n, 0, sizeof *n);
    n->type = t;
    n->first_attr = doc->attr_count;
    n->parent = parent;
    n->first_child = n->last_child = n->next_sibling = CN_NONE;
    n->line = line;
    n->enabled = 1;
    return (int32_t)doc->node_count++;
}

/* Links node to its parent's children (in order). */
static inline void cn_link(cn_doc_t *doc, int32_t node) {
    cn_node_t *n = &doc->nodes[node];
    if (n->linked || n->parent == CN_NONE) return;
    cn_node_t *p = &doc->nodes[n->parent];
    if (p->last_child == CN_NONE) p->first_child = node;
    else doc->nodes[p->last_child].next_sibling = node;
    p->last_child = node;
    n->linked = 1;
}

/* The node's attribute named name (the first one), or CN_NONE. */
static inline int32_t cn_find_attr(const cn_doc_t *doc, int32_t node, const char *name, uint32_t name_len) {
    if (node < 0 || (uint32_t)node >= doc->node_count) return CN_NONE;
    const cn_node_t *n = &doc->nodes[node];
    for (uint32_t i = 0; i < n->attr_count; i++) {
        const char *an = doc->pool + doc->attrs[n->first_attr + i].name;
        if (strlen(an) == name_len && memcmp(an, name, name_len) == 0) return (int32_t)(n->first_attr + i);
    }
    return CN_NONE;
}

/* Adds an attribute to node, which must be the node most recently created
 * (attributes of a node are contiguous). value is stored by the caller. */
static inline int cn_add_attr(cn_doc_t *doc, int32_t node, uint32_t name, uint32_t value) {
    if (doc->failed || cn_grow((void **)&doc->attrs, &doc->attr_cap, doc->attr_count + 1, sizeof(cn_attr_t)) != 0) {
        doc->failed = 1;
        return -1;
    }
    doc->attrs[doc->attr_count].name = name;
    doc->attrs[doc->attr_count].value = value;
    doc->attr_count++;
    doc->nodes[node].attr_count++;
    return 0;
}

/* ---- errors -------------------------------------------------------------------- */

static inline void cn_puts_err(char *out, uint32_t *len, uint32_t cap, const char *s, uint32_t n) {
    for (uint32_t i = 0; i < n && s[i] && *len + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[(*len)++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[*len] = 0;
}

/* "line L: what[ 'detail']" into doc->error. */
static inline void cn_fail_at(cn_doc_t *doc, uint32_t line, const char *what, const char *detail, uint32_t detail_len) {
    if (doc->error[0]) return;   /* the first error wins */
    char digits[12];
    int d = 0;
    uint32_t v = line;
    do { digits[d++] = (char)('0' + v % 10); v /= 10; } while (v && d < 11);
    uint32_t len = 0;
    cn_puts_err(doc->error, &len, sizeof doc->error, "line ", 5);
    while (d) { char c = digits[--d]; cn_puts_err(doc->error, &len, sizeof doc->error, &c, 1); }
    cn_puts_err(doc->error, &len, sizeof doc->error, ": ", 2);
    cn_puts_err(doc->error, &len, sizeof doc->error, what, (uint32_t)strlen(what));
    if (detail) {
        if (detail_len > 40) detail_len = 40;
        cn_puts_err(doc->error, &len, sizeof doc->error, " '", 2);
        cn_puts_err(doc->error, &len, sizeof doc->error, detail, detail_len);
        cn_puts_err(doc->error, &len, sizeof doc->error, "'", 1);
    }
}

/* ---- XML ------------------------------------------------------------------------ */

typedef struct {
    cn_doc_t *doc;
    const char *s;
    uint32_t n, i, line;
} cn_xml_t;

static inline int cn_xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static inline int cn_xml_name_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static inline int cn_xml_name_char(unsigned char c) {
    return cn_xml_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static inline void cn_xml_advance(cn_xml_t *x, uint32_t k) {
    for (uint32_t j = 0; j < k && x->i < x->n; j++) {
        if (x->s[x->i] == '\n') x->line++;
        x->i++;
    }
}

static inline int cn_xml_starts(const cn_xml_t *x, const char *lit) {
    uint32_t k = (uint32_t)strlen(lit);
    return x->n - x->i >= k && memcmp(x->s + x->i, lit, k) == 0;
}

static inline void cn_xml_skip_space(cn_xml_t *x) {
    while (x->i < x->n && cn_xml_space(x->s[x->i])) cn_xml_advance(x, 1);
}

/* Skips past the terminator; -1 when it never comes. */
static inline int cn_xml_skip_past(cn_xml_t *x, const char *end, const char *what) {
    uint32_t line = x->line;
    while (x->i < x->n) {
        if (cn_xml_starts(x, end)) { cn_xml_advance(x, (uint32_t)strlen(end)); return 0; }
        cn_xml_advance(x, 1);
    }
    cn_fail_at(x->doc, line, what, 0, 0);
    return -1;
}

/* Comment, processing instruction or CDATA at x->i ('<' seen): 1 if it was
 * one (skipped), 0 if not, -1 on error. */
static inline int cn_xml_misc(cn_xml_t *x, int cdata_ok) {
    if (cn_xml_starts(x, "<!--")) {
        cn_xml_advance(x, 4);
        return cn_xml_skip_past(x, "-->", "unterminated comment") < 0 ? -1 : 1;
    }
    if (cn_xml_starts(x, "<?")) {
        cn_xml_advance(x, 2);
        return cn_xml_skip_past(x, "?>", "unterminated processing instruction") < 0 ? -1 : 1;
    }
    if (cn_xml_starts(x, "<![CDATA[")) {
        if (!cdata_ok) { cn_fail_at(x->doc, x->line, "CDATA outside the root element", 0, 0); return -1; }
        cn_xml_advance(x, 9);
        return cn_xml_skip_past(x, "]]>", "unterminated CDATA section") < 0 ? -1 : 1;
    }
    if (cn_xml_starts(x, "<!")) {
        cn_fail_at(x->doc, x->line, "unsupported markup (DOCTYPE or declaration)", 0, 0);
        return -1;
    }
    return 0;
}

/* Appends the UTF-8 encoding of code point cp. */
static inline int cn_put_utf8(cn_doc_t *doc, uint32_t cp) {
    if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    if (cp < 0x80) { cn_put(doc, (char)cp); }
    else if (cp < 0x800) { cn_put(doc, (char)(0xc0 | cp >> 6)); cn_put(doc, (char)(0x80 | (cp & 0x3f))); }
    else if (cp < 0x10000) {
        cn_put(doc, (char)(0xe0 | cp >> 12)); cn_put(doc, (char)(0x80 | ((cp >> 6) & 0x3f)));
        cn_put(doc, (char)(0x80 | (cp & 0x3f)));
    } else {
        cn_put(doc, (char)(0xf0 | cp >> 18)); cn_put(doc, (char)(0x80 | ((cp >> 12) & 0x3f)));
        cn_put(doc, (char)(0x80 | ((cp >> 6) & 0x3f))); cn_put(doc, (char)(0x80 | (cp & 0x3f)));
    }
    return 0;
}

/* Decodes the entity at x->i ('&'), appending its character when out is set
 * (text content is only checked). Returns 0 or -1. */
static inline int cn_xml_entity(cn_xml_t *x, int out) {
    uint32_t start = x->i + 1, j = start;
    while (j < x->n && j - start < 12 && x->s[j] != ';') j++;
    if (j >= x->n || x->s[j] != ';') {
        cn_fail_at(x->doc, x->line, "'&' that starts no entity (write &amp;)", 0, 0);
        return -1;
    }
    const char *e = x->s + start;
    uint32_t k = j - start;
    uint32_t cp = 0;
    if (k == 3 && memcmp(e, "amp", 3) == 0) cp = '&';
    else if (k == 2 && memcmp(e, "lt", 2) == 0) cp = '<';
    else if (k == 2 && memcmp(e, "gt", 2) == 0) cp = '>';
    else if (k == 4 && memcmp(e, "quot", 4) == 0) cp = '"';
    else if (k == 4 && memcmp(e, "apos", 4) == 0) cp = '\'';
    else if (k >= 2 && e[0] == '#') {
        int hex = e[1] == 'x';
        uint32_t p = hex ? 2 : 1;
        if (p >= k) cp = 0;
        for (; p < k; p++) {
            char c = e[p];
            uint32_t digit;
            if (c >= '0' && c <= '9') digit = (uint32_t)(c - '0');
            else if (hex && c >= 'a' && c <= 'f') digit = (uint32_t)(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F') digit = (uint32_t)(c - 'A' + 10);
            else { cp = 0; break; }
            cp = cp * (hex ? 16u : 10u) + digit;
            if (cp > 0x10ffff) { cp = 0; break; }
        }
    }
    if (cp == 0) {
        cn_fail_at(x->doc, x->line, "unknown entity", e - 1, k + 2);
        return -1;
    }
    if (out && cn_put_utf8(x->doc, cp) != 0) {
        cn_fail_at(x->doc, x->line, "character reference to an invalid character", e - 1, k + 2);
        return -1;
    }
    cn_xml_advance(x, k + 2);
    return 0;
}

static inline int cn_parse_xml(cn_doc_t *doc, const char *s, uint32_t n) {
    cn_xml_t x = { doc, s, n, 0, 1 };
    int32_t current = CN_NONE, root = CN_NONE;
    uint32_t depth = 0;
    for (;;) {
        if (doc->failed) { cn_fail_at(doc, x.line, "out of memory", 0, 0); return -1; }
        if (x.i >= n) break;
        char c = s[x.i];
        if (c != '<') {
            if (current == CN_NONE) {
                if (!cn_xml_space(c)) {
                    cn_fail_at(doc, x.line, root == CN_NONE ? "text before the root element" : "text after the root element", 0, 0);
                    return -1;
                }
                cn_xml_advance(&x, 1);
            } else if (c == '&') {
                if (cn_xml_entity(&x, 0) != 0) return -1;     /* content: checked, not kept */
            } else {
                if (c == '>' && x.i >= 2 && s[x.i - 1] == ']' && s[x.i - 2] == ']') {
                    cn_fail_at(doc, x.line, "']]>' in text", 0, 0);
                    return -1;
                }
                cn_xml_advance(&x, 1);
            }
            continue;
        }
        int m = cn_xml_misc(&x, current != CN_NONE);
        if (m < 0) return -1;
        if (m > 0) continue;
        if (cn_xml_starts(&x, "</")) {
            uint32_t line = x.line;
            cn_xml_advance(&x, 2);
            uint32_t ns = x.i;
            while (x.i < n && cn_xml_name_char((unsigned char)s[x.i])) cn_xml_advance(&x, 1);
            if (current == CN_NONE) { cn_fail_at(doc, line, "end tag without a start tag", s + ns, x.i - ns); return -1; }
            const char *open_type = doc->pool + doc->nodes[current].type;
            if (strlen(open_type) != x.i - ns || memcmp(open_type, s + ns, x.i - ns) != 0) {
                char what[80] = "end tag '";
                uint32_t len = 9;
                cn_puts_err(what, &len, sizeof what - 40, s + ns, x.i - ns);
                cn_puts_err(what, &len, sizeof what, "' does not match the open element", 33);
                cn_fail_at(doc, line, what, open_type, (uint32_t)strlen(open_type));
                return -1;
            }
            cn_xml_skip_space(&x);
            if (x.i >= n || s[x.i] != '>') { cn_fail_at(doc, line, "expected '>' after the end tag's name", 0, 0); return -1; }
            cn_xml_advance(&x, 1);
            cn_link(doc, current);
            current = doc->nodes[current].parent;
            depth--;
            continue;
        }
        /* a start tag */
        uint32_t line = x.line;
        if (current == CN_NONE && root != CN_NONE) { cn_fail_at(doc, line, "a second root element", 0, 0); return -1; }
        cn_xml_advance(&x, 1);
        uint32_t ns = x.i;
        if (x.i >= n || !cn_xml_name_start((unsigned char)s[x.i])) {
            cn_fail_at(doc, line, "expected an element name after '<'", 0, 0);
            return -1;
        }
        while (x.i < n && cn_xml_name_char((unsigned char)s[x.i])) cn_xml_advance(&x, 1);
        if (depth >= CN_MAX_DEPTH) { cn_fail_at(doc, line, "elements nest too deep", 0, 0); return -1; }
        int32_t node = cn_new_node(doc, s + ns, x.i - ns, current, line);
        if (node == CN_NONE) { cn_fail_at(doc, line, "out of memory", 0, 0); return -1; }
        if (root == CN_NONE) root = node;
        /* attributes */
        for (;;) {
            uint32_t before = x.i;
            cn_xml_skip_space(&x);
            if (x.i >= n) { cn_fail_at(doc, line, "unexpected end inside a start tag", 0, 0); return -1; }
            if (s[x.i] == '/' ) {
                if (x.i + 1 >= n || s[x.i + 1] != '>') { cn_fail_at(doc, x.line, "expected '>' after '/'", 0, 0); return -1; }
                cn_xml_advance(&x, 2);
                cn_link(doc, node);
                break;
            }
            if (s[x.i] == '>') {
                cn_xml_advance(&x, 1);
                current = node;
                depth++;
                break;
            }
            if (x.i == before || !cn_xml_name_start((unsigned char)s[x.i])) {
                cn_fail_at(doc, x.line, "malformed attribute in start tag of", doc->pool + doc->nodes[node].type,
                           (uint32_t)strlen(doc->pool + doc->nodes[node].type));
                return -1;
            }
            uint32_t as = x.i;
            while (x.i < n && cn_xml_name_char((unsigned char)s[x.i])) cn_xml_advance(&x, 1);
            uint32_t alen = x.i - as;
            cn_xml_skip_space(&x);
            if (x.i >= n || s[x.i] != '=') { cn_fail_at(doc, x.line, "expected '=' after attribute", s + as, alen); return -1; }
            cn_xml_advance(&x, 1);
            cn_xml_skip_space(&x);
            if (x.i >= n || (s[x.i] != '"' && s[x.i] != '\'')) {
                cn_fail_at(doc, x.line, "attribute value without quotes:", s + as, alen);
                return -1;
            }
            if (cn_find_attr(doc, node, s + as, alen) != CN_NONE) {
                cn_fail_at(doc, x.line, "attribute given twice:", s + as, alen);
                return -1;
            }
            char quote = s[x.i];
            cn_xml_advance(&x, 1);
            uint32_t name = cn_store(doc, s + as, alen);
            uint32_t value = cn_begin(doc);
            for (;;) {
                if (x.i >= n) { cn_fail_at(doc, line, "unterminated attribute value:", s + as, alen); return -1; }
                char v = s[x.i];
                if (v == quote) { cn_xml_advance(&x, 1); break; }
                if (v == '<') { cn_fail_at(doc, x.line, "'<' in the value of attribute", s + as, alen); return -1; }
                if (v == '&') { if (cn_xml_entity(&x, 1) != 0) return -1; continue; }
                cn_put(doc, cn_xml_space(v) ? ' ' : v);    /* attribute-value normalisation */
                cn_xml_advance(&x, 1);
            }
            value = cn_end(doc, value);
            if (doc->failed || cn_add_attr(doc, node, name, value) != 0) { cn_fail_at(doc, line, "out of memory", 0, 0); return -1; }
            if (x.i < n && !cn_xml_space(s[x.i]) && s[x.i] != '/' && s[x.i] != '>') {
                cn_fail_at(doc, x.line, "attributes must be separated by white space", 0, 0);
                return -1;
            }
        }
    }
    if (current != CN_NONE) {
        cn_fail_at(doc, doc->nodes[current].line, "element is not closed:", doc->pool + doc->nodes[current].type,
                   (uint32_t)strlen(doc->pool + doc->nodes[current].type));
        return -1;
    }
    if (root == CN_NONE) { cn_fail_at(doc, x.line, "no root element", 0, 0); return -1; }
    return 0;
}

/* ---- HID ------------------------------------------------------------------------- */

static inline int cn_hid_letter(char c) { return c >= 'a' && c <= 'z'; }
static inline int cn_hid_ident(char c) { return cn_hid_letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

/* Whether s[i..end) starts like "tag:" followed by a space or its end. */
static inline int cn_hid_tag_form(const char *s, uint32_t i, uint32_t end) {
    if (i >= end || !cn_hid_letter(s[i])) return 0;
    while (i < end && cn_hid_ident(s[i])) i++;
    if (i >= end || s[i] != ':') return 0;
    return i + 1 == end || s[i + 1] == ' ';
}

/* Trims spaces off [*a, *b). */
static inline void cn_hid_trim(const char *s, uint32_t *a, uint32_t *b) {
    while (*a < *b && s[*a] == ' ') (*a)++;
    while (*b > *a && s[*b - 1] == ' ') (*b)--;
}

typedef struct {
    cn_doc_t *doc;
    int32_t open[CN_MAX_DEPTH];   /* open nodes, top-level node first */
    uint32_t depth;
    int32_t root;
    int ended;
} cn_hid_t;

/* Closes the innermost open node: it joins its parent unless disabled. */
static inline void cn_hid_close(cn_hid_t *h) {
    if (h->depth == 0) return;
    int32_t node = h->open[--h->depth];
    if (h->doc->nodes[node].enabled && h->depth > 0) cn_link(h->doc, node);
}

/* "tag: value" in [i, end): adds it to the innermost open node. */
static inline int cn_hid_attribute(cn_hid_t *h, const char *s, uint32_t i, uint32_t end, uint32_t col, uint32_t line) {
    cn_doc_t *doc = h->doc;
    uint32_t t = i;
    if (!cn_hid_letter(s[t])) { cn_fail_at(doc, line, "expected an attribute 'tag: value', not", s + i, end - i); return -1; }
    while (t < end && cn_hid_ident(s[t])) t++;
    if (t >= end || s[t] != ':') { cn_fail_at(doc, line, "expected ':' after the attribute tag", s + i, t - i); return -1; }
    int32_t node = h->open[h->depth - 1];
    if (col < doc->nodes[node].anchor) {
        cn_fail_at(doc, line, "attribute is not under a node:", s + i, t - i);
        return -1;
    }
    if (doc->nodes[node].has_content) {
        cn_fail_at(doc, line, "attribute after quoted content:", s + i, t - i);
        return -1;
    }
    uint32_t va = t + 1, vb = end;
    cn_hid_trim(s, &va, &vb);
    for (uint32_t k = i; k < end; k++)
        if (s[k] == '\t') { cn_fail_at(doc, line, "tab character outside quoted content and comments", 0, 0); return -1; }
    if (cn_find_attr(doc, node, s + i, t - i) != CN_NONE) return 0;   /* the first value wins */
    /* attributes of a node stay contiguous: no node was created since this one */
    if ((uint32_t)node != doc->node_count - 1) {
        cn_fail_at(doc, line, "attribute after a sub node:", s + i, t - i);
        return -1;
    }
    uint32_t name = cn_store(doc, s + i, t - i);
    uint32_t value = cn_store(doc, s + va, vb - va);
    if (doc->failed || cn_add_attr(doc, node, name, value) != 0) { cn_fail_at(doc, line, "out of memory", 0, 0); return -1; }
    return 0;
}

/* A node's type at typeat and what follows it up to end (name or attribute). */
static inline int cn_hid_node(cn_hid_t *h, const char *s, uint32_t anchor, uint32_t typeat, uint32_t end,
                              int enabled, int top, uint32_t line) {
    cn_doc_t *doc = h->doc;
    uint32_t t = typeat;
    if (t >= end || !cn_hid_letter(s[t])) { cn_fail_at(doc, line, "expected a node type (a-z, then a-z, 0-9, '_' or '-')", 0, 0); return -1; }
    while (t < end && cn_hid_ident(s[t])) t++;
    if (t < end && s[t] != ' ') { cn_fail_at(doc, line, "bad node type", s + typeat, end - typeat); return -1; }
    for (uint32_t k = typeat; k < end; k++)
        if (s[k] == '\t') { cn_fail_at(doc, line, "tab character outside quoted content and comments", 0, 0); return -1; }
    int32_t parent = CN_NONE;
    if (!top) {
        while (h->depth > 1 && doc->nodes[h->open[h->depth - 1]].anchor >= anchor) cn_hid_close(h);
        parent = h->open[h->depth - 1];
        uint32_t child_indent = parent == h->root ? 0 : doc->nodes[parent].anchor + 2;
        if (anchor < child_indent) {
            cn_fail_at(doc, line, "sub node must be indented two columns more than its parent:", s + typeat, t - typeat);
            return -1;
        }
        if (doc->nodes[parent].has_content) {
            cn_fail_at(doc, line, "a node with quoted content cannot have sub nodes:", s + typeat, t - typeat);
            return -1;
        }
        if (h->depth >= CN_MAX_DEPTH) { cn_fail_at(doc, line, "nodes nest too deep", 0, 0); return -1; }
    }
    int32_t node = cn_new_node(doc, s + typeat, t - typeat, parent, line);
    if (node == CN_NONE) { cn_fail_at(doc, line, "out of memory", 0, 0); return -1; }
    doc->nodes[node].anchor = anchor;
    doc->nodes[node].enabled = (uint8_t)(enabled && (parent == CN_NONE || doc->nodes[parent].enabled));
    h->open[h->depth++] = node;
    if (top) h->root = node;
    uint32_t r = t;
    while (r < end && s[r] == ' ') r++;
    if (r >= end) return 0;
    if (cn_hid_tag_form(s, r, end)) return cn_hid_attribute(h, s, r, end, r, line);
    uint32_t a = r, b = end;
    cn_hid_trim(s, &a, &b);
    uint32_t name = cn_store(doc, "name", 4);
    uint32_t value = cn_store(doc, s + a, b - a);
    if (doc->failed || cn_add_attr(doc, node, name, value) != 0) { cn_fail_at(doc, line, "out of memory", 0, 0); return -1; }
    return 0;
}

static inline int cn_hid_line(cn_hid_t *h, const char *s, uint32_t n, uint32_t line) {
    cn_doc_t *doc = h->doc;
    for (uint32_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f) { cn_fail_at(doc, line, "control character in HID", 0, 0); return -1; }
    }
    if (h->ended) {
        for (uint32_t k = 0; k < n; k++)
            if (s[k] != ' ' && s[k] != '\t') { cn_fail_at(doc, line, "text after the end marker '-'", 0, 0); return -1; }
        return 0;
    }
    uint32_t pos = 0;
    int first = 1;
    for (;;) {
        uint32_t start = pos;
        while (start < n && s[start] == ' ') start++;
        if (start >= n) return 0;
        char c = s[start];
        char next = start + 1 < n ? s[start + 1] : 0;
        int at_line_start = first && start == 0;
        int prefixed = next == 0 || next == ' ';
        uint32_t end = start;
        while (end < n && s[end] != '|') end++;
        first = 0;
        if (c == '|') { pos = start + 1; continue; }
        if (c == '\t') { cn_fail_at(doc, line, "tab character outside quoted content and comments", 0, 0); return -1; }
        if (h->root == CN_NONE) {
            if (!at_line_start || !cn_hid_letter(c)) {
                cn_fail_at(doc, line, "expected the top-level node's type at column 1", 0, 0);
                return -1;
            }
            if (cn_hid_node(h, s, 0, start, end, 1, 1, line) != 0) return -1;
            pos = end;
            continue;
        }
        if (at_line_start && c == '-') {
            for (uint32_t k = start + 1; k < n; k++)
                if (s[k] != ' ') { cn_fail_at(doc, line, "the end marker '-' must stand alone on its line", 0, 0); return -1; }
            while (h->depth > 0) cn_hid_close(h);
            h->ended = 1;
            return 0;
        }
        if (at_line_start && cn_hid_letter(c) && !(c == 'x' && next == ' ')) {
            cn_fail_at(doc, line, "a second top-level node, or an attribute at column 1:", s + start, end - start);
            return -1;
        }
        if ((c == '+' || c == 'x') && next == ' ') {
            if (cn_hid_node(h, s, start, start + 2, end, c == '+', 0, line) != 0) return -1;
            pos = end;
        } else if (c == '+') {
            cn_fail_at(doc, line, "'+' must be followed by a space and a node type", 0, 0);
            return -1;
        } else if (c == '.') {
            if (!prefixed) { cn_fail_at(doc, line, "a comment's text must be separated from '.' by a space", 0, 0); return -1; }
            return 0;                       /* a comment takes the rest of the line */
        } else if (c == ':') {
            if (!prefixed) { cn_fail_at(doc, line, "quoted content must be separated from ':' by a space", 0, 0); return -1; }
            int32_t node = h->open[h->depth - 1];
            if (start < doc->nodes[node].anchor) { cn_fail_at(doc, line, "quoted content is not under a node", 0, 0); return -1; }
            if (doc->nodes[node].first_child != CN_NONE || (uint32_t)node != doc->node_count - 1) {
                cn_fail_at(doc, line, "a node with sub nodes cannot have quoted content", 0, 0);
                return -1;
            }
            doc->nodes[node].has_content = 1;   /* the text itself is not kept */
            return 0;                           /* content takes the rest of the line */
        } else if (c == '-' && (prefixed || next == '|')) {
            cn_fail_at(doc, line, "the end marker '-' must be at column 1", 0, 0);
            return -1;
        } else {
            if (cn_hid_attribute(h, s, start, end, start, line) != 0) return -1;
            pos = end;
        }
    }
}

static inline int cn_parse_hid(cn_doc_t *doc, const char *s, uint32_t n) {
    cn_hid_t h;
    h.doc = doc;
    h.depth = 0;
    h.root = CN_NONE;
    h.ended = 0;
    uint32_t i = 0, line = 0;
    while (i <= n) {
        line++;
        uint32_t e = i;
        while (e < n && s[e] != '\n') e++;
        uint32_t len = e - i;
        if (len > 0 && s[i + len - 1] == '\r') len--;
        if (cn_hid_line(&h, s + i, len, line) != 0) return -1;
        if (doc->failed) { cn_fail_at(doc, line, "out of memory", 0, 0); return -1; }
        i = e + 1;
    }
    if (h.root == CN_NONE) { cn_fail_at(doc, 1, "empty config: no top-level node", 0, 0); return -1; }
    if (!h.ended) { cn_fail_at(doc, line, "missing end marker '-' of the top-level node", 0, 0); return -1; }
    return 0;
}

/* ---- the interface --------------------------------------------------------------- */

/* Parses text (len bytes, need not be NUL-terminated) into doc (which it
 * initialises; release it with cn_free). Returns 0, or -1 with doc->error
 * set and doc holding just an empty top-level node "empty". */
static inline int cn_parse(cn_doc_t *doc, const char *text, uint32_t len) {
    memset(doc, 0, sizeof *doc);
    cn_store(doc, "", 0);                 /* offset 0: the empty string */
    uint32_t i = 0;
    if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf) i = 3;
    uint32_t j = i;
    while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) j++;
    int r;
    if (j < len && text[j] == '<') {
        doc->syntax = CN_SYNTAX_XML;
        r = cn_parse_xml(doc, text + i, len - i);
    } else if (j < len) {
        doc->syntax = CN_SYNTAX_HID;
        r = cn_parse_hid(doc, text + i, len - i);
    } else {
        cn_fail_at(doc, 1, "empty config", 0, 0);
        r = -1;
    }
    if (r == 0 && !doc->failed) return 0;
    if (!doc->error[0]) cn_fail_at(doc, 1, "out of memory", 0, 0);
    char error[sizeof doc->error];
    memcpy(error, doc->error, sizeof error);
    int syntax = doc->syntax;
    cn_free(doc);
    cn_store(doc, "", 0);
    cn_new_node(doc, "empty", 5, CN_NONE, 1);
    memcpy(doc->error, error, sizeof error);
    doc->syntax = syntax;
    return -1;
}

/* The top-level node: 0, or CN_NONE when even the empty node could not be made. */
static inline int32_t cn_root(const cn_doc_t *doc) { return doc->node_count ? 0 : CN_NONE; }

static inline int32_t cn_first_child(const cn_doc_t *doc, int32_t node) {
    return node < 0 || (uint32_t)node >= doc->node_count ? CN_NONE : doc->nodes[node].first_child;
}

static inline int32_t cn_next_sibling(const cn_doc_t *doc, int32_t node) {
    return node < 0 || (uint32_t)node >= doc->node_count ? CN_NONE : doc->nodes[node].next_sibling;
}

static inline const char *cn_type(const cn_doc_t *doc, int32_t node) {
    return node < 0 || (uint32_t)node >= doc->node_count ? "" : doc->pool + doc->nodes[node].type;
}

static inline int cn_type_is(const cn_doc_t *doc, int32_t node, const char *type) {
    return strcmp(cn_type(doc, node), type) == 0;
}

/* The value of the node's attribute name, or 0 when it has none. */
static inline const char *cn_attr(const cn_doc_t *doc, int32_t node, const char *name) {
    int32_t a = cn_find_attr(doc, node, name, (uint32_t)strlen(name));
    return a == CN_NONE ? 0 : doc->pool + doc->attrs[a].value;
}

static inline uint32_t cn_attr_count(const cn_doc_t *doc, int32_t node) {
    return node < 0 || (uint32_t)node >= doc->node_count ? 0 : doc->nodes[node].attr_count;
}

/* Name and value of the node's i-th attribute (in the order written). */
static inline const char *cn_attr_name(const cn_doc_t *doc, int32_t node, uint32_t i) {
    return i < cn_attr_count(doc, node) ? doc->pool + doc->attrs[doc->nodes[node].first_attr + i].name : "";
}
static inline const char *cn_attr_value(const cn_doc_t *doc, int32_t node, uint32_t i) {
    return i < cn_attr_count(doc, node) ? doc->pool + doc->attrs[doc->nodes[node].first_attr + i].value : "";
}

#endif
