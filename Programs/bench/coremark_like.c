/*
 * coremark_like.c - a mixed integer workload in the spirit of CoreMark
 * (independently written; not CoreMark and not comparable to its scores).
 *
 * usage: coremark_like [ITERS]   (default 55000 ~= 1 s native -O2;
 *                                 interpreter: 2000)
 *
 * Every iteration runs three kernels on data derived from the iteration
 * number, and folds their results into a running CRC-16:
 *   list   - build a 200-node linked list in a node pool, search it,
 *            reverse it, merge-sort it by value, walk it;
 *   matrix - 24x24 int16 matrices: multiply into int32, add a constant,
 *            multiply by a column vector, sum bit fields;
 *   state  - run a character-level state machine that classifies the
 *            comma-separated tokens of a generated string as integer,
 *            decimal, exponent, hex or invalid.
 * Prints "coremark_like iters=N list=XXXX matrix=XXXX state=XXXX crc=XXXX".
 */
#include "../c/pio.h"

/* ---- CRC-16/CCITT (poly 0x1021), bitwise ------------------------------- */
static uint16_t crc16_byte(uint16_t crc, uint8_t b) {
    crc ^= (uint16_t)b << 8;
    for (int i = 0; i < 8; i++)
        crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    return crc;
}
static uint16_t crc16_u32(uint16_t crc, uint32_t v) {
    for (int i = 0; i < 4; i++) crc = crc16_byte(crc, (uint8_t)(v >> (8 * i)));
    return crc;
}

/* ---- list kernel -------------------------------------------------------- */
#define LN 200
typedef struct node { struct node *next; int16_t value; uint16_t id; } node;
static node pool[LN];

static node *list_build(uint32_t seed) {
    node *head = 0;
    for (int i = 0; i < LN; i++) {
        seed = seed * 1103515245u + 12345u;
        pool[i].value = (int16_t)((seed >> 16) & 0x7fff) - 0x4000;
        pool[i].id = (uint16_t)i;
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static node *list_find(node *l, int16_t v) {
    for (; l; l = l->next) if (l->value == v) return l;
    return 0;
}

static node *list_reverse(node *l) {
    node *prev = 0;
    while (l) { node *n = l->next; l->next = prev; prev = l; l = n; }
    return prev;
}

/* bottom-up merge sort on value, then id (stable and total order) */
static int before(const node *a, const node *b) {
    return a->value < b->value || (a->value == b->value && a->id <= b->id);
}
static node *list_sort(node *l) {
    for (int width = 1;; width *= 2) {
        node *p = l, *tail = 0, *out = 0;
        int merges = 0;
        while (p) {
            merges++;
            node *q = p;
            int ps = 0;
            for (int i = 0; i < width && q; i++) { ps++; q = q->next; }
            int qs = width;
            while (ps > 0 || (qs > 0 && q)) {
                node *e;
                if (ps == 0) { e = q; q = q->next; qs--; }
                else if (qs == 0 || !q) { e = p; p = p->next; ps--; }
                else if (before(p, q)) { e = p; p = p->next; ps--; }
                else { e = q; q = q->next; qs--; }
                if (tail) tail->next = e; else out = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        l = out;
        if (merges <= 1) return l;
    }
}

static uint16_t list_kernel(uint32_t it, uint16_t crc) {
    node *l = list_build(it * 7919u + 1);
    int found = 0;
    for (int k = 0; k < 16; k++) {
        node *f = list_find(l, pool[(it + (uint32_t)k * 13) % LN].value);
        if (f) found += f->id;
        if (list_find(l, (int16_t)(k * 1021 - 8000))) found++;
    }
    l = list_reverse(l);
    crc = crc16_u32(crc, (uint32_t)l->id);
    l = list_sort(l);
    int16_t last = -32768;
    uint32_t walk = 0;
    for (node *p = l; p; p = p->next) {
        if (p->value < last) return 0xdead;   /* not sorted: fail loudly */
        last = p->value;
        walk = walk * 31 + (uint16_t)p->value + p->id;
    }
    crc = crc16_u32(crc, walk);
    return crc16_u32(crc, (uint32_t)found);
}

/* ---- matrix kernel ------------------------------------------------------ */
#define MN 24
static int16_t ma[MN][MN], mb[MN][MN];
static int32_t mc[MN][MN], vec[MN], res[MN];

static uint16_t matrix_kernel(uint32_t it, uint16_t crc) {
    uint32_t s = it ^ 0x5bd1e995u;
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            s = s * 1664525u + 1013904223u;
            ma[i][j] = (int16_t)(s >> 20) - 2048;
            mb[i][j] = (int16_t)((s >> 8) & 0xfff) - 2048;
        }
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            int32_t acc = 0;
            for (int k = 0; k < MN; k++) acc += (int32_t)ma[i][k] * mb[k][j];
            mc[i][j] = acc;
        }
    int32_t c = (int32_t)(it & 0xff) - 128;
    for (int i = 0; i < MN; i++) {
        vec[i] = (int32_t)i * 3 - 17;
        for (int j = 0; j < MN; j++) mc[i][j] += c;
    }
    uint32_t bits = 0;
    for (int i = 0; i < MN; i++) {
        int32_t acc = 0;
        for (int j = 0; j < MN; j++) acc += (mc[i][j] >> 4) * vec[j];
        res[i] = acc;
        bits += ((uint32_t)acc >> 3) & 0x3ff;
    }
    for (int i = 0; i < MN; i++) crc = crc16_u32(crc, (uint32_t)res[i]);
    return crc16_u32(crc, bits);
}

/* ---- state machine kernel ----------------------------------------------- */
enum { S_START, S_INT, S_SIGN, S_DOT, S_FRAC, S_EXP, S_EXPSIGN, S_EXPNUM,
       S_ZERO, S_HEX, S_INVALID, S_COUNT };
static char text[512];

static int classify(int state, char ch) {
    int digit = ch >= '0' && ch <= '9';
    int hexd = digit || (ch >= 'a' && ch <= 'f');
    switch (state) {
    case S_START:
        if (ch == '0') return S_ZERO;
        if (digit) return S_INT;
        if (ch == '+' || ch == '-') return S_SIGN;
        if (ch == '.') return S_DOT;
        return S_INVALID;
    case S_ZERO:
        if (ch == 'x') return S_HEX;
        if (digit) return S_INT;
        if (ch == '.') return S_DOT;
        return S_INVALID;
    case S_SIGN: return digit ? S_INT : (ch == '.' ? S_DOT : S_INVALID);
    case S_INT:
        if (digit) return S_INT;
        if (ch == '.') return S_DOT;
        if (ch == 'e') return S_EXP;
        return S_INVALID;
    case S_DOT: return digit ? S_FRAC : S_INVALID;
    case S_FRAC: return digit ? S_FRAC : (ch == 'e' ? S_EXP : S_INVALID);
    case S_EXP: return digit ? S_EXPNUM : ((ch == '+' || ch == '-') ? S_EXPSIGN : S_INVALID);
    case S_EXPSIGN:
    case S_EXPNUM: return digit ? S_EXPNUM : S_INVALID;
    case S_HEX: return hexd ? S_HEX : S_INVALID;
    default: return S_INVALID;
    }
}

static uint16_t state_kernel(uint32_t it, uint16_t crc) {
    static const char alphabet[] = "0123456789.e+-xab0123456789";
    uint32_t s = it * 2654435761u + 7;
    unsigned n = 0;
    while (n < sizeof text - 12) {
        s = s * 1103515245u + 12345u;
        unsigned len = 1 + ((s >> 16) % 8);
        for (unsigned i = 0; i < len; i++) {
            s = s * 1103515245u + 12345u;
            text[n++] = alphabet[(s >> 16) % (sizeof alphabet - 1)];
        }
        text[n++] = ',';
    }
    text[n] = 0;
    uint32_t counts[S_COUNT] = {0};
    uint32_t transitions = 0;
    int st = S_START;
    for (const char *p = text; *p; p++) {
        if (*p == ',') { counts[st]++; st = S_START; continue; }
        int nx = classify(st, *p);
        if (nx != st) transitions++;
        st = nx;
    }
    for (int i = 0; i < S_COUNT; i++) crc = crc16_u32(crc, counts[i]);
    return crc16_u32(crc, transitions);
}

int main(int argc, char **argv) {
    uint32_t iters = (uint32_t)pio_atou(pio_arg(argc, argv, 1), 55000);
    uint16_t cl = 0, cm = 0, cs = 0, crc = 0xffff;
    for (uint32_t it = 0; it < iters; it++) {
        cl = list_kernel(it, cl);
        cm = matrix_kernel(it, cm);
        cs = state_kernel(it, cs);
        crc = crc16_u32(crc, (uint32_t)cl << 16 | cm);
        crc = crc16_u32(crc, cs);
    }
    pio_s("coremark_like iters="); pio_u(iters);
    pio_s(" list="); pio_x(cl, 4); pio_s(" matrix="); pio_x(cm, 4);
    pio_s(" state="); pio_x(cs, 4); pio_s(" crc="); pio_x(crc, 4); pio_end();
    return 0;
}
