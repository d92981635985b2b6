import NN

/// Analytic FLOP counts of the reference workload, computed like the PyTorch script
/// (`step_flops`): conv and linear multiply-accumulates only.
public enum ReferenceFlops {
    /// Forward multiply-accumulates of one image through `SmallResNet(width)` at `size`×`size`
    /// plus the projector (`out` outputs); also the stem's share (its input gradient is skipped).
    public static func macsPerView(width w: Int, size: Int, outDimension: Int = 64, includeProjector: Bool = true) -> (total: Int, stem: Int) {
        func conv(_ cin: Int, _ cout: Int, _ k: Int, _ hw: Int) -> Int { cout * hw * hw * cin * k * k }
        let s1 = size, s2 = (size - 1) / 2 + 1, s3 = (s2 - 1) / 2 + 1
        let stem = conv(3, w, 3, s1)
        var macs = stem
        macs += conv(w, w, 3, s1) + conv(w, w, 3, s1)                                   // layer1
        macs += conv(w, 2 * w, 3, s2) + conv(2 * w, 2 * w, 3, s2) + conv(w, 2 * w, 1, s2) // layer2
        macs += conv(2 * w, 4 * w, 3, s3) + conv(4 * w, 4 * w, 3, s3) + conv(2 * w, 4 * w, 1, s3) // layer3
        if includeProjector { macs += 4 * w * 4 * w + 4 * w * outDimension }
        return (macs, stem)
    }

    /// Training FLOPs of one step on `batch` images × 2 views: forward 2·MACs, weight gradients
    /// 2·MACs, input gradients 2·(MACs − stem).
    public static func trainingStep(width: Int, size: Int, batch: Int, outDimension: Int = 64) -> Double {
        let (macs, stem) = macsPerView(width: width, size: size, outDimension: outDimension)
        let n = Double(2 * batch)
        return 2 * Double(macs) * n + 2 * Double(macs) * n + 2 * Double(macs - stem) * n
    }
}
