import Foundation

/// Prints a progress line (epoch, step, loss, learning rate, images/s, input wait, ETA) at most
/// every `interval` seconds and at the end of every epoch. "input wait" is the share of the
/// session's wall time the loop spent waiting for the data loader's next batch: near 0% when
/// loading overlaps compute, large when training is input-bound.
public final class ProgressReporter {
    public let interval: Double
    private let write: (String) -> Void
    private var lastPrint: Double = -Double.infinity

    /// - Parameters:
    ///   - interval: minimum seconds between two lines within an epoch.
    ///   - write: where lines go (default: standard error, one line each).
    public init(interval: Double = 5, write: ((String) -> Void)? = nil) {
        self.interval = interval
        self.write = write ?? { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// Called by the loop after each step.
    /// - Parameters:
    ///   - imagesPerSecond: throughput of this session so far (images of both views counted once).
    ///   - remainingSteps, secondsPerStep: for the ETA.
    ///   - inputWaitFraction: share of the session's wall time spent waiting for batches.
    func stepFinished(epoch: Int, epochs: Int, step: Int, totalSteps: Int, loss: Float, learningRate: Float,
                      imagesPerSecond: Double, secondsPerStep: Double, inputWaitFraction: Double, endOfEpoch: Bool) {
        let now = Date().timeIntervalSinceReferenceDate
        guard endOfEpoch || now - lastPrint >= interval else { return }
        lastPrint = now
        let eta = Double(totalSteps - step - 1) * secondsPerStep
        write(String(format: "epoch %d/%d  step %d/%d  loss %.4f  lr %.4g  %.0f img/s  input wait %.0f%%  ETA %@",
                     epoch + 1, epochs, step + 1, totalSteps, loss, learningRate, imagesPerSecond, 100 * inputWaitFraction, Self.duration(eta)))
    }

    func message(_ line: String) { write(line) }

    /// `1h02m`, `3m05s`, `42s`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
