/* train_mnist's plot: loss and accuracy per epoch as two hand-written SVG panels. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "train_mnist.h"

enum { W = 360, H = 260, PAD = 40 };

static double field(const epoch_stats *s, int which) {
    switch (which) {
    case 0: return s->train_loss;
    case 1: return s->test_loss;
    case 2: return s->train_acc;
    default: return s->test_acc;
    }
}

static void panel(FILE *f, int x0, const char *title, const epoch_stats *s, const int *ep, int n, int a, int b) {
    double lo = 1e300, hi = -1e300;
    for (int i = 0; i < n; ++i)
        for (int k = a; k <= b; ++k) {
            double v = field(&s[i], k);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    double span = hi - lo;
    lo -= 0.05 * span;
    hi += 0.05 * span;
    fprintf(f, "<g transform=\"translate(%d,0)\">\n", x0);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", PAD, PAD / 2,
            W - PAD - 10, H - PAD - PAD / 2);
    fprintf(f, "<text x=\"%d\" y=\"14\" font-size=\"13\">%s</text>\n", PAD, title);
    fprintf(f, "<text x=\"2\" y=\"%d\" font-size=\"10\">%.3g</text>\n", PAD / 2 + 10, hi);
    fprintf(f, "<text x=\"2\" y=\"%d\" font-size=\"10\">%.3g</text>\n", H - PAD, lo);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\">epoch %d..%d</text>\n", W / 2 - 20, H - 8, ep[0], ep[n - 1]);
    static const char *colors[4] = {"#1f77b4", "#ff7f0e", "#1f77b4", "#ff7f0e"};
    for (int k = a; k <= b; ++k) {
        fprintf(f, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" points=\"", colors[k]);
        for (int i = 0; i < n; ++i) {
            double x = PAD + (n > 1 ? (double)i / (n - 1) : 0.5) * (W - PAD - 10);
            double y = PAD / 2 + (hi - field(&s[i], k)) / (hi - lo) * (H - PAD - PAD / 2);
            fprintf(f, "%.1f,%.1f ", x, y);
        }
        fprintf(f, "\"/>\n<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\">%s</text>\n", W - 70,
                PAD / 2 + 16 + 14 * (k - a), colors[k], k % 2 ? "test" : "train");
    }
    fprintf(f, "</g>\n");
}

int write_svg(const char *path, const epoch_stats *s, const int *epoch_no, int n) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "train_mnist: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n",
            2 * W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    panel(f, 0, "cross-entropy loss", s, epoch_no, n, 0, 1);
    panel(f, W, "accuracy", s, epoch_no, n, 2, 3);
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "train_mnist: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}
