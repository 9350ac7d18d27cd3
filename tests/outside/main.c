/* An outside program: built against an installed lamina with pkg-config or find_package. */
#include <stdio.h>

#include <lamina.h>

int main(void)
{
    lam_device *d = lam_device_get("cpu");
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
    lam_scope_begin();
    lam_tensor *x = lam_from_data(a, LAM_F32, LAM_SHAPE(2, 3), d);
    lam_tensor *w = lam_from_data(b, LAM_F32, LAM_SHAPE(3, 2), d);
    double s = lam_item(lam_sum(lam_relu(lam_matmul(x, w))));   /* [[4, 5], [10, 11]] */
    lam_scope_end();
    printf("lamina outside: %d device(s), sum %g\n", lam_device_count(), s);
    return s == 30.0 ? 0 : 1;
}
