import ECGPlatform
import ECGS3

/// media-service's own settings (SPEC.md §6), read through `EnvironmentSettings` so that every bad
/// variable is reported at once.
struct MediaSettings: Sendable {
    let s3: S3Configuration
    /// `MAX_UPLOAD_BYTES`: the largest upload accepted (default 2 GiB).
    let maxUploadBytes: Int64
    /// `MAX_USER_STORAGE_BYTES`: one user's uploaded plus pending bytes (default 10 GiB).
    let maxUserStorageBytes: Int64
    /// Lifetime of the browser's upload and download URLs (SPEC: `expires_in: 3600`).
    let browserURLSeconds: Int
    /// `WORKER_URL_TTL_SECONDS`: lifetime of the download URLs handed to ML workers (default 6 h).
    let workerURLSeconds: Int
    /// Development and test create the bucket at start when it is missing; production never does.
    let createBucketIfMissing: Bool

    enum Defaults {
        static let bucket = "ecg-videos"
        static let region = "us-east-1"
        /// The local stack's S3 (`rclone serve s3`), SPEC.md §2.
        static let localEndpoint = "http://127.0.0.1:9000"
        static let localAccessKeyID = "ecg-local"
        static let localSecretAccessKey = "ecg-local-secret"
        static let maxUploadBytes = 2 * 1024 * 1024 * 1024
        static let maxUserStorageBytes: Int64 = 10 * 1024 * 1024 * 1024
        static let workerURLSeconds = 6 * 3600
    }

    init(settings: EnvironmentSettings) {
        let environment = settings.environment
        let bucket = settings.string("S3_BUCKET", default: Defaults.bucket)
        if !Self.isValidBucketName(bucket) {
            settings.report("S3_BUCKET must be a valid bucket name: 3-63 lower-case letters, digits, dots and hyphens (got \(bucket))")
        }
        let region = settings.string("S3_REGION", default: Defaults.region)
        if region.isEmpty || !region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) {
            settings.report("S3_REGION must look like us-east-1 (got \(region))")
        }
        // Outside production the local stack's S3 is the default; in production AWS's regional endpoint.
        let endpointValue = settings.optional("S3_ENDPOINT") ?? (environment.isProduction ? nil : Defaults.localEndpoint)
        var endpoint = S3Endpoint.aws(region: region)
        if let endpointValue {
            do { endpoint = try S3Endpoint(url: endpointValue) } catch { settings.report("S3_ENDPOINT: \(error)") }
        }
        var publicEndpoint: S3Endpoint?
        if let value = settings.optional("S3_PUBLIC_ENDPOINT") {
            do { publicEndpoint = try S3Endpoint(url: value) } catch { settings.report("S3_PUBLIC_ENDPOINT: \(error)") }
        }
        let credentials = S3Credentials(
            accessKeyID: settings.required("S3_ACCESS_KEY_ID", developmentDefault: Defaults.localAccessKeyID),
            secretAccessKey: settings.required("S3_SECRET_ACCESS_KEY", developmentDefault: Defaults.localSecretAccessKey),
            sessionToken: settings.optional("S3_SESSION_TOKEN")
        )
        // A custom endpoint (MinIO, rclone) usually has no wildcard DNS for bucket hosts; AWS does.
        let forcePathStyle = settings.bool("S3_FORCE_PATH_STYLE", default: endpointValue != nil)
        self.s3 = S3Configuration(
            bucket: bucket,
            region: region,
            endpoint: endpoint,
            publicEndpoint: publicEndpoint,
            credentials: credentials,
            forcePathStyle: forcePathStyle
        )
        // A single PUT is limited to 5 GiB by S3.
        self.maxUploadBytes = Int64(settings.int("MAX_UPLOAD_BYTES", default: Defaults.maxUploadBytes, range: 1...(5 * 1024 * 1024 * 1024)))
        self.maxUserStorageBytes = Int64(
            settings.int("MAX_USER_STORAGE_BYTES", default: Int(Defaults.maxUserStorageBytes), range: 1...(1 << 50))
        )
        self.browserURLSeconds = 3600
        self.workerURLSeconds = settings.int("WORKER_URL_TTL_SECONDS", default: Defaults.workerURLSeconds, range: 60...604_800)
        self.createBucketIfMissing = !environment.isProduction
    }

    /// S3's rules for bucket names (the subset that also works with virtual-host addressing).
    static func isValidBucketName(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let first = name.first, let last = name.last else { return false }
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }
        return allowed && (first.isLetter || first.isNumber) && (last.isLetter || last.isNumber) && !name.contains("..")
    }
}
