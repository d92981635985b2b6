/// The source revision this binary was compiled from, recorded at build time (the `BuildInfo`
/// plugin runs `scripts/build-info.sh` before every build), so it is right wherever the binary
/// runs — not read from the working directory at run time.
public enum BuildInfo {
    /// `git rev-parse HEAD` of the package at build time, or `unknown` when built outside a checkout.
    public static let gitCommit: String = generatedGitCommit
    /// Whether `git status --porcelain` listed anything at build time; nil outside a checkout.
    public static let gitDirty: Bool? = generatedGitDirty
    /// Backdrop's release version.
    public static let version = "0.1.0"

    /// `0.1.0 (commit 96bd3ed0c1a2, dirty)` — what `backdrop --version` prints.
    public static var versionLine: String {
        let commit = gitCommit == "unknown" ? "commit unknown" : "commit \(gitCommit.prefix(12))"
        let state = gitDirty == true ? ", uncommitted changes" : ""
        return "\(version) (\(commit)\(state))"
    }
}
