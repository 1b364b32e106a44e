/// LaueMap's identity, recorded in every output's provenance.
public enum LaueMapInfo {
    /// The version of LaueMap (`lauemap --version`).
    public static let version = "0.2.0"
}
