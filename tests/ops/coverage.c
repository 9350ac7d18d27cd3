/* Coverage: every public op of the op table (each unary row; each binary row and its scalar
 * form; each ternary row) and of src/ops/op_list.h has at least one harness case. */
#include <stdio.h>
#include <string.h>

#include "cl/op_table.h"
#include "harness.h"
#include "ops/op_list.h"

#define NAME_U(NAME, name, saves, f, df) "lam_" #name,
#define NAME_B(NAME, name, kind, f, da, db) "lam_" #name, "lam_" #name "_scalar",
#define NAME_T(NAME, name, f) "lam_" #name,
#define NAME_L(name, kind, arity, entry) "lam_" #name,
static const char *const public_ops[] = {
    LAM_UNARY_OPS(NAME_U) LAM_BINARY_OPS(NAME_B) LAM_TERNARY_OPS(NAME_T) LAM_OP_LIST(NAME_L)};

static bool covered(const char *op, const h_family *const *fams, int nfams) {
    for (int f = 0; f < nfams; ++f)
        for (int i = 0; i < fams[f]->count; ++i)
            if (!strcmp(fams[f]->cases[i].op, op)) return true;
    return false;
}

int h_check_coverage(const h_family *const *fams, int nfams) {
    int missing = 0;
    for (size_t k = 0; k < sizeof public_ops / sizeof *public_ops; ++k)
        if (!covered(public_ops[k], fams, nfams)) {
            printf("FAIL coverage: %s has no case in the op harness\n", public_ops[k]);
            missing++;
        }
    printf("coverage: %zu public ops, %d without a case\n", sizeof public_ops / sizeof *public_ops, missing);
    return missing;
}
