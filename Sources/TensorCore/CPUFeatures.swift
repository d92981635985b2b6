import CKernels

/// What this CPU and OS run, read once (CPUID and XGETBV, `CKernels/implicit_conv.h`).
public enum CPUFeatures {
    /// AVX-512F with the OS saving its registers.
    public static let hasAVX512 = bd_cpu_has_avx512() != 0
    /// AVX2 and FMA with the OS saving the YMM registers.
    public static let hasAVX2FMA = bd_cpu_has_avx2_fma() != 0
}
