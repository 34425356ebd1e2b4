/*
 * sha256.c - SHA-256 (FIPS 180-4) over generated data, chained.
 *
 * usage: sha256 [MIB]   (default 280 ~= 1 s native -O2; interpreter: 4)
 *
 * First checks the implementation against the FIPS test vectors for "",
 * "abc" and the 448-bit two-block message ("selftest ok"). Then hashes MIB
 * rounds of a 1 MiB pseudo-random buffer; each round overwrites the first
 * 32 bytes of the buffer with the previous digest, so the rounds chain.
 * Prints "sha256 mib=M digest=<64 hex>".
 */
#include "../c/pio.h"

typedef struct {
    uint32_t h[8];
    uint8_t block[64];
    uint32_t used;
    uint64_t total;
} sha256_ctx;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void compress(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t S1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + S1 + ch + K[t] + w[t];
        uint32_t S0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha_init(sha256_ctx *c) {
    static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(c->h, iv, sizeof iv);
    c->used = 0;
    c->total = 0;
}

static void sha_update(sha256_ctx *c, const uint8_t *p, size_t n) {
    c->total += n;
    if (c->used) {
        while (n && c->used < 64) { c->block[c->used++] = *p++; n--; }
        if (c->used < 64) return;
        compress(c->h, c->block);
        c->used = 0;
    }
    for (; n >= 64; n -= 64, p += 64) compress(c->h, p);
    while (n--) c->block[c->used++] = *p++;
}

static void sha_final(sha256_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->total * 8;
    c->block[c->used++] = 0x80;
    if (c->used > 56) {
        while (c->used < 64) c->block[c->used++] = 0;
        compress(c->h, c->block);
        c->used = 0;
    }
    while (c->used < 56) c->block[c->used++] = 0;
    for (int i = 7; i >= 0; i--) c->block[c->used++] = (uint8_t)(bits >> (8 * i));
    compress(c->h, c->block);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

static void hex(const uint8_t d[32], char out[65]) {
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    out[64] = 0;
}

static int check(const char *msg, const char *want) {
    sha256_ctx c;
    uint8_t d[32];
    char h[65];
    sha_init(&c);
    /* feed in odd-sized pieces to exercise the buffering path */
    size_t n = strlen(msg), off = 0, step = 1;
    while (off < n) {
        size_t k = n - off < step ? n - off : step;
        sha_update(&c, (const uint8_t *)msg + off, k);
        off += k;
        step = step * 3 + 1;
    }
    sha_final(&c, d);
    hex(d, h);
    if (strcmp(h, want) == 0) return 1;
    pio_s("selftest FAILED for \""); pio_s(msg); pio_s("\": "); pio_s(h); pio_end();
    return 0;
}

#define BUF (1u << 20)
static uint8_t buf[BUF];

int main(int argc, char **argv) {
    uint32_t mib = (uint32_t)pio_atou(pio_arg(argc, argv, 1), 280);
    int ok = check("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") &
             check("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") &
             check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    if (!ok) return 1;
    pio_line_s("selftest ok");

    uint32_t x = 2463534242u;
    for (uint32_t i = 0; i < BUF; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    uint8_t d[32] = {0};
    for (uint32_t r = 0; r < mib; r++) {
        memcpy(buf, d, 32);
        sha256_ctx c;
        sha_init(&c);
        sha_update(&c, buf, BUF);
        sha_final(&c, d);
    }
    char h[65];
    hex(d, h);
    pio_s("sha256 mib="); pio_u(mib); pio_s(" digest="); pio_s(h); pio_end();
    return 0;
}
