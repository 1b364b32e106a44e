/// How one spot reads on its own (shared/notes/laue-physics.md 5.2).
public enum SpotLabel: String, Sendable, CaseIterable {
    /// Point-spread limited.
    case sharp
    /// Wider than the point spread, without a direction.
    case broadIsotropic = "broad_isotropic"
    /// One continuous streak.
    case streak
    /// Two sub-peaks, each point-spread limited along the streak.
    case split2
    /// Two sub-peaks, at least one of them streaked.
    case split2Streak = "split2_streak"
    /// Three or more sub-peaks in a row.
    case multi
    /// Too weak, too short or inconsistent to read.
    case unclassified
}
