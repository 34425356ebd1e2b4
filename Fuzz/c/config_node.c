/*
 * config_node.c - libFuzzer target for Programs/c/config_node.h, the config
 * parser of our C components (dummy): any input parses or fails with a
 * message, never crashes, and the tree it gives is well formed: a root,
 * parents and children that agree, every string inside the pool.
 *
 * Built and run by Fuzz/run.sh config-node (clang-14 with ASan and UBSan).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include "config_node.h"

static void check_string(const cn_doc_t *doc, const char *s) {
    assert(s >= doc->pool && s < doc->pool + doc->pool_len);
    assert(s + strlen(s) < doc->pool + doc->pool_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 20) return 0;
    cn_doc_t doc;
    int r = cn_parse(&doc, (const char *)data, (uint32_t)size);
    assert(r == 0 || r == -1);
    assert(r == 0 || (doc.error[0] && doc.node_count <= 1));
    int32_t root = cn_root(&doc);
    assert(root == 0 || (r == -1 && root == CN_NONE));
    uint32_t seen = 0;
    /* walk the tree depth first without recursion: every linked node once */
    int32_t node = root;
    while (node != CN_NONE) {
        seen++;
        assert(seen <= doc.node_count);
        check_string(&doc, cn_type(&doc, node));
        for (uint32_t i = 0; i < cn_attr_count(&doc, node); i++) {
            check_string(&doc, cn_attr_name(&doc, node, i));
            check_string(&doc, cn_attr_value(&doc, node, i));
            assert(cn_attr(&doc, node, cn_attr_name(&doc, node, i)) != 0);
        }
        int32_t child = cn_first_child(&doc, node);
        if (child != CN_NONE) {
            assert(doc.nodes[child].parent == node);
            node = child;
            continue;
        }
        while (node != CN_NONE && cn_next_sibling(&doc, node) == CN_NONE) node = doc.nodes[node].parent;
        if (node != CN_NONE) {
            int32_t next = cn_next_sibling(&doc, node);
            assert(doc.nodes[next].parent == doc.nodes[node].parent);
            node = next;
        }
    }
    cn_free(&doc);
    return 0;
}
