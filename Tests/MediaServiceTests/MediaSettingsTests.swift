import ECGPlatform
import ECGS3
import Testing

@testable import MediaService

@Suite("media-service settings (SPEC.md §6)")
struct MediaSettingsTests {
    @Test("development defaults are the local stack's S3, path-style, 2 GiB, 6 h worker URLs, bucket created at start")
    func developmentDefaults() throws {
        let settings = EnvironmentSettings(environment: ["ECG_ENV": "development"])
        let media = MediaSettings(settings: settings)
        try settings.validate()
        #expect(media.s3.bucket == "ecg-videos")
        #expect(media.s3.region == "us-east-1")
        #expect(media.s3.endpoint == (try S3Endpoint(url: "http://127.0.0.1:9000")))
        #expect(media.s3.publicEndpoint == nil)
        #expect(media.s3.credentials == S3Credentials(accessKeyID: "ecg-local", secretAccessKey: "ecg-local-secret"))
        #expect(media.s3.forcePathStyle)
        #expect(media.maxUploadBytes == 2 * 1024 * 1024 * 1024)
        #expect(media.maxUserStorageBytes == 10 * 1024 * 1024 * 1024)
        #expect(media.workerURLSeconds == 21_600)
        #expect(media.browserURLSeconds == 3600)
        #expect(media.createBucketIfMissing)
    }

    @Test("every variable is read")
    func explicitValues() throws {
        let settings = EnvironmentSettings(environment: [
            "ECG_ENV": "test", "S3_BUCKET": "my.videos", "S3_REGION": "eu-west-1", "S3_ENDPOINT": "http://minio:9000",
            "S3_PUBLIC_ENDPOINT": "https://media.example.com", "S3_ACCESS_KEY_ID": "AK", "S3_SECRET_ACCESS_KEY": "SK", "S3_SESSION_TOKEN": "TOK",
            "S3_FORCE_PATH_STYLE": "false", "MAX_UPLOAD_BYTES": "1048576", "WORKER_URL_TTL_SECONDS": "600",
            "MAX_USER_STORAGE_BYTES": "5000000",
        ])
        let media = MediaSettings(settings: settings)
        try settings.validate()
        #expect(media.s3.bucket == "my.videos")
        #expect(media.s3.region == "eu-west-1")
        #expect(media.s3.endpoint.description == "http://minio:9000")
        #expect(media.s3.publicEndpoint?.description == "https://media.example.com")
        #expect(media.s3.credentials == S3Credentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOK"))
        #expect(!media.s3.forcePathStyle)
        #expect(media.maxUploadBytes == 1_048_576)
        #expect(media.maxUserStorageBytes == 5_000_000)
        #expect(media.workerURLSeconds == 600)
    }

    @Test("production: AWS's endpoint, virtual-host style, no bucket creation; keys required and development keys refused")
    func production() throws {
        let missing = EnvironmentSettings(environment: ["ECG_ENV": "production", "S3_REGION": "eu-west-1"])
        let media = MediaSettings(settings: missing)
        #expect(media.s3.endpoint.description == "https://s3.eu-west-1.amazonaws.com")
        #expect(!media.s3.forcePathStyle)
        #expect(!media.createBucketIfMissing)
        #expect(missing.problems.contains { $0.hasPrefix("S3_ACCESS_KEY_ID is required") })
        #expect(missing.problems.contains { $0.hasPrefix("S3_SECRET_ACCESS_KEY is required") })

        let local = EnvironmentSettings(environment: [
            "ECG_ENV": "production", "S3_ACCESS_KEY_ID": "ecg-local", "S3_SECRET_ACCESS_KEY": "ecg-local-secret",
        ])
        _ = MediaSettings(settings: local)
        #expect(local.problems.contains { $0.hasPrefix("S3_SECRET_ACCESS_KEY is set to the development default") })
    }

    @Test("bad values are reported, each naming its variable")
    func badValues() {
        let settings = EnvironmentSettings(environment: [
            "ECG_ENV": "test", "S3_BUCKET": "Bad_Bucket", "S3_REGION": "US East", "S3_ENDPOINT": "minio:9000", "S3_PUBLIC_ENDPOINT": "ftp://x",
            "S3_FORCE_PATH_STYLE": "maybe", "MAX_UPLOAD_BYTES": "0", "WORKER_URL_TTL_SECONDS": "999999999",
        ])
        _ = MediaSettings(settings: settings)
        for name in [
            "S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_PUBLIC_ENDPOINT", "S3_FORCE_PATH_STYLE", "MAX_UPLOAD_BYTES", "WORKER_URL_TTL_SECONDS",
        ] {
            #expect(settings.problems.contains { $0.hasPrefix(name) }, "\(name): \(settings.problems)")
        }
    }
}
