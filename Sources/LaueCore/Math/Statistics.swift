/// Order statistics of Double samples (the one implementation the stages share; the peak search keeps
/// its own in-place Float quickselect, `BackgroundModel.median`, for frame-sized data).
public enum Statistics {
    /// The median: the middle value, or the mean of the two middle values of an even count; nan when
    /// `values` is empty. NaNs are not expected (they sort arbitrarily).
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
