/// The one version string of swift-presence: `presence --version`, `/health/info`, the
/// `presence_build_info` metric. `openapi.yaml`'s `info.version` must equal it (a test checks).
public enum ServiceVersion {
    /// The version of this build.
    public static let current = "0.3.0-dev"
}
