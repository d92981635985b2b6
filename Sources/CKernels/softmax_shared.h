// Constants of the exponential both builds of the log-softmax rows share (include/softmax_rows.h).
#ifndef BACKDROP_SOFTMAX_SHARED_H
#define BACKDROP_SOFTMAX_SHARED_H

#define BD_LOG2E 1.44269504088896341f
// ln 2 = HI + LO, HI with few mantissa bits so n·HI is exact (Cephes).
#define BD_LN2_HI 0.693359375f
#define BD_LN2_LO -2.12194440e-4f
// e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln 2 / 2 (Cephes expf).
#define BD_EXP_P0 1.9875691500e-4f
#define BD_EXP_P1 1.3981999507e-3f
#define BD_EXP_P2 8.3334519073e-3f
#define BD_EXP_P3 4.1665795894e-2f
#define BD_EXP_P4 1.6666665459e-1f
#define BD_EXP_P5 5.0000001201e-1f
// ln 2⁻¹²⁶ (below: subnormal results, flushed to 0) and ln 2¹²⁷·⁵ (above: 2ⁿ would overflow).
#define BD_EXP_LOW -87.3365478515625f
#define BD_EXP_HIGH 88.3762626647949f

#endif
