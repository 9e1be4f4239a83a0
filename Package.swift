// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "seqbridge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "seqbridge", targets: ["seqbridge"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The status rules as plain functions: no I/O, no clock, no dependencies.
        .target(name: "SeqbridgeCore"),
        // The storage contract every backend implements.
        .target(name: "SeqbridgeStore", dependencies: ["SeqbridgeCore"]),
        // Process-wide settings of the system libsqlite3 that only C can make.
        .systemLibrary(name: "CSQLiteTuning", providers: [.apt(["libsqlite3-dev"])]),
        // The embedded default backend on the system libsqlite3.
        .target(
            name: "SeqbridgeSQLite",
            dependencies: [
                "SeqbridgeCore", "SeqbridgeStore", "CSQLiteTuning",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // Reading CSV files as spreadsheets write them.
        .target(name: "SeqbridgeCSV"),
        // libxml2 from the system, for XML delivery status reports.
        .systemLibrary(
            name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]
        ),
        // Reading MIME messages: headers, encoded words, multiparts, transfer encodings, charsets.
        .target(name: "SeqbridgeMIME"),
        // Classifying raw email (delivery reports, complaints, auto-replies, replies) and XML reports.
        .target(
            name: "SeqbridgeInbound",
            dependencies: ["SeqbridgeCore", "SeqbridgeStore", "SeqbridgeMIME", "CLibXML2"]
        ),
        // Provider webhooks: authenticity checks and decoders into the normalized event model.
        .target(
            name: "SeqbridgeWebhooks",
            dependencies: [
                "SeqbridgeCore", "SeqbridgeStore", "SeqbridgeInbound", "SeqbridgeMIME",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        // Composing RFC 5322 messages and handing them to a transport.
        .target(name: "SeqbridgeMail", dependencies: ["SeqbridgeCore"]),
        // Sending through an SMTP server on SwiftNIO (STARTTLS, AUTH, pipelining).
        .target(
            name: "SeqbridgeSMTP",
            dependencies: [
                "SeqbridgeCore", "SeqbridgeMail", "SeqbridgeMIME", "SeqbridgeInbound",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The use cases behind each command, wired from injected seams.
        .target(
            name: "SeqbridgeApp",
            dependencies: [
                "SeqbridgeCore", "SeqbridgeStore", "SeqbridgeSQLite", "SeqbridgeMail", "SeqbridgeCSV",
                "SeqbridgeWebhooks", "SeqbridgeSMTP",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP listener of `seqbridge serve`.
        .target(
            name: "SeqbridgeHTTP",
            dependencies: [
                "SeqbridgeApp", "SeqbridgeStore", "SeqbridgeWebhooks", "SeqbridgeCore",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "seqbridge",
            dependencies: [
                "SeqbridgeApp", "SeqbridgeHTTP", "SeqbridgeCore", "SeqbridgeWebhooks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "seqbridge-bench",
            dependencies: ["SeqbridgeApp", "SeqbridgeCore", "SeqbridgeStore", "SeqbridgeSQLite", "SeqbridgeInbound"]
        ),
        .testTarget(name: "SeqbridgeCoreTests", dependencies: ["SeqbridgeCore"]),
        .testTarget(name: "SeqbridgeCSVTests", dependencies: ["SeqbridgeCSV"]),
        .testTarget(
            name: "SeqbridgeInboundTests",
            dependencies: ["SeqbridgeInbound", "SeqbridgeMIME", "SeqbridgeCore", "SeqbridgeStore"]
        ),
        .testTarget(
            name: "SeqbridgeWebhooksTests",
            dependencies: [
                "SeqbridgeWebhooks", "SeqbridgeCore", "SeqbridgeStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .testTarget(
            name: "SeqbridgeSQLiteTests",
            dependencies: [
                "SeqbridgeCore", "SeqbridgeStore", "SeqbridgeSQLite",
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "SeqbridgeAppTests",
            dependencies: [
                "SeqbridgeApp", "SeqbridgeCore", "SeqbridgeStore", "SeqbridgeMail", "SeqbridgeHTTP",
                "SeqbridgeWebhooks",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "SeqbridgeEndToEndTests",
            dependencies: ["SeqbridgeCore", "SeqbridgeStore", "SeqbridgeSQLite"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
