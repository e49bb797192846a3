// swift-tools-version: 6.2
import PackageDescription

/// `NonisolatedNonsendingByDefault`: our nonisolated async functions run on their caller's executor
/// rather than hopping to the generic one on entry; with SwiftNIO's event loops as the global executor
/// (`TASKS_ON_EVENT_LOOPS`) each such hop re-enqueued the task on its loop (docs/performance.md).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "ecg-backend",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "auth-service", targets: ["AuthService"]),
        .executable(name: "media-service", targets: ["MediaService"]),
        .executable(name: "analysis-service", targets: ["AnalysisService"]),
        .executable(name: "caption-worker", targets: ["CaptionWorker"]),
        .executable(name: "ecg-kafka-broker", targets: ["EmbeddedKafka"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", exact: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", exact: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
    ],
    targets: [
        // MARK: - Shared libraries

        /// Debian's librdkafka (`librdkafka-dev`), including its mock cluster.
        .systemLibrary(
            name: "CRDKafka",
            path: "Shared/CRDKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        /// The Swift client over librdkafka: the only module that imports `CRDKafka`.
        .target(
            name: "ECGKafka",
            dependencies: [
                "CRDKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Kafka",
            swiftSettings: swiftSettings
        ),
        /// Debian's CMU PocketSphinx (`libpocketsphinx-dev`, with sphinxbase).
        .systemLibrary(
            name: "CPocketSphinx",
            path: "Shared/CPocketSphinx",
            pkgConfig: "pocketsphinx",
            providers: [.apt(["libpocketsphinx-dev"])]
        ),
        /// Speech recognition over PocketSphinx: the only module that imports `CPocketSphinx`.
        .target(
            name: "ECGSpeech",
            dependencies: ["CPocketSphinx"],
            path: "Shared/Speech",
            swiftSettings: swiftSettings
        ),
        /// The event contract of SPEC.md §5: CloudEvents envelope, event types and data, topics.
        .target(
            name: "ECGEvents",
            path: "Shared/Events",
            swiftSettings: swiftSettings
        ),
        /// Transactional outbox, its relay, and the idempotent consumer with its dead-letter topic.
        .target(
            name: "ECGMessaging",
            dependencies: [
                "ECGEvents",
                "ECGKafka",
                "ECGDatabase",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Messaging",
            swiftSettings: swiftSettings
        ),
        /// Ed25519 signing keys, JWKS, user and service token verification, service-token client.
        .target(
            name: "ECGTokens",
            dependencies: [
                "ECGEvents",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Tokens",
            swiftSettings: swiftSettings
        ),
        /// PostgreSQL client configuration and the schema migration runner.
        .target(
            name: "ECGDatabase",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/Database",
            swiftSettings: swiftSettings
        ),
        /// AWS Signature Version 4 and the S3 calls ECG makes: presigned PUT/GET URLs, HEAD object, create bucket.
        .target(
            name: "ECGS3",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Shared/S3",
            swiftSettings: swiftSettings
        ),
        /// Configuration, logging, the HTTP application scaffold, errors, common routes and OpenAPI.
        .target(
            name: "ECGPlatform",
            dependencies: [
                "ECGDatabase",
                "ECGEvents",
                "ECGKafka",
                "ECGMessaging",
                "ECGTokens",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/Platform",
            swiftSettings: swiftSettings
        ),

        // MARK: - Bench only (not a product; no image ships it)

        /// The framework's ceilings measured by `make bench`: a bare Hummingbird `/health` and a bare
        /// PostgresNIO lookup of `/me`'s row (bench/Ceiling/main.swift).
        .executableTarget(
            name: "bench-ceiling",
            dependencies: [
                "ECGDatabase",
                "ECGPlatform",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/Ceiling",
            swiftSettings: swiftSettings
        ),

        // MARK: - Services

        .executableTarget(
            name: "AuthService",
            dependencies: [
                "ECGPlatform",
                "ECGTokens",
                "ECGDatabase",
                "ECGEvents",
                "ECGMessaging",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/AuthService",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "MediaService",
            dependencies: [
                "ECGPlatform",
                "ECGDatabase",
                "ECGEvents",
                "ECGKafka",
                "ECGMessaging",
                "ECGS3",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Services/MediaService",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AnalysisService",
            dependencies: ["ECGPlatform", "ECGDatabase", "ECGEvents", "ECGMessaging"],
            path: "Services/AnalysisService",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        /// The reference ML worker: PocketSphinx captions with emotion from prosody, over Kafka.
        .executableTarget(
            name: "CaptionWorker",
            dependencies: [
                "ECGEvents",
                "ECGKafka",
                "ECGMessaging",
                "ECGPlatform",
                "ECGSpeech",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/CaptionWorker",
            swiftSettings: swiftSettings
        ),
        /// Hosts librdkafka's mock cluster as the local and test Kafka broker.
        .executableTarget(
            name: "EmbeddedKafka",
            dependencies: [
                "ECGKafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Services/EmbeddedKafka",
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests

        /// What the service test targets share: the reader of a router's published OpenAPI document and
        /// the in-memory repositories' one-transaction-at-a-time turn. Used by test targets only.
        .target(
            name: "TestSupport",
            dependencies: [
                "ECGPlatform",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlatformTests",
            dependencies: [
                "ECGPlatform",
                "ECGKafka",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/PlatformTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokensTests",
            dependencies: [
                "ECGTokens",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "Tests/TokensTests",
            swiftSettings: swiftSettings
        ),
        /// The event contract's wire format, byte for byte.
        .testTarget(
            name: "EventsTests",
            dependencies: ["ECGEvents"],
            path: "Tests/EventsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DatabaseTests",
            dependencies: [
                "ECGDatabase",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/DatabaseTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["ECGKafka"],
            path: "Tests/KafkaTests",
            swiftSettings: swiftSettings
        ),
        /// auth-service's validators, tokens, refresh state machine and routes (in memory, and against
        /// the test PostgreSQL when `ECG_TEST_PG_URL` is set).
        .testTarget(
            name: "AuthServiceTests",
            dependencies: [
                "AuthService",
                "ECGPlatform",
                "ECGTokens",
                "ECGDatabase",
                "ECGEvents",
                "ECGMessaging",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/AuthServiceTests",
            swiftSettings: swiftSettings
        ),
        /// caption-worker: captions from words, prosody, and recognition of real speech (LibriVox).
        .testTarget(
            name: "CaptionWorkerTests",
            dependencies: [
                "CaptionWorker",
                "ECGSpeech",
                "ECGEvents",
                "ECGKafka",
                "ECGMessaging",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/CaptionWorkerTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AnalysisServiceTests",
            dependencies: ["AnalysisService", "TestSupport"],
            path: "Tests/AnalysisServiceTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MessagingTests",
            dependencies: [
                "ECGMessaging",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/MessagingTests",
            swiftSettings: swiftSettings
        ),
        /// SigV4 against AWS's published examples; keys, addressing, presigning.
        .testTarget(
            name: "S3Tests",
            dependencies: ["ECGS3"],
            path: "Tests/S3Tests",
            swiftSettings: swiftSettings
        ),
        /// media-service's file keys, settings and routes (in memory).
        .testTarget(
            name: "MediaServiceTests",
            dependencies: [
                "MediaService",
                "ECGPlatform",
                "ECGS3",
                "ECGTokens",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/MediaServiceTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ECGDatabase",
                "ECGEvents",
                "ECGKafka",
                "ECGMessaging",
                "ECGTokens",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // The local OpenID provider that stands in for Google in AuthFlowTests.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                // MediaFlowTests: URLs signed by hand against the local S3.
                "ECGS3",
            ],
            path: "Tests/IntegrationTests",
            swiftSettings: swiftSettings
        ),
    ]
)
