// swift-tools-version:6.0
import PackageDescription

// Linux only (Debian 12 and similar): it links Debian's libprotobuf, libonnx and libzip, and uses
// Linux system calls (renameat2's RENAME_EXCHANGE, /proc, posix_spawn process groups). SwiftPM has
// no `platforms` entry for Linux; the package simply is not built elsewhere.
let package = Package(
    name: "tritonpack",
    products: [
        .executable(name: "tritonpack", targets: ["tritonpack"]),
        .library(name: "TritonPackKit", targets: ["TritonPackKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CProtobuf", pkgConfig: "protobuf", providers: [.apt(["libprotobuf-dev"])]),
        // libonnx-dev ships no pkg-config file, so its libraries are linked by name.
        .target(name: "CProtobufBridge", dependencies: ["CProtobuf"]),
        .target(name: "CSystemShims"),
        .systemLibrary(name: "CLibzip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
        .target(name: "CZipSupport", dependencies: ["CLibzip", "CSystemShims"]),
        .target(
            name: "COnnxBridge",
            dependencies: ["CProtobuf"],
            cxxSettings: [.define("ONNX_ML", to: "1"), .define("ONNX_NAMESPACE", to: "onnx")],
            linkerSettings: [.linkedLibrary("onnx"), .linkedLibrary("onnx_proto")]
        ),
        // Compiles templates/default and the Python runtimes under runtime/ into the targets that
        // carry them, at build time, so the binary needs no resource files beside it.
        .executableTarget(name: "embed-files"),
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["embed-files"]),
        // The library's layers, each depending only on those above it in this list (a test reads
        // this graph and fails on an upward or sideways dependency; docs/design.md draws it).
        .target(
            name: "TritonPackModels",
            dependencies: [
                "CProtobufBridge",
                "COnnxBridge",
                "CSystemShims",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "TritonPackRepository",
            dependencies: [
                "TritonPackModels",
                "CSystemShims",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "TritonPackS3",
            dependencies: [
                "TritonPackModels",
                "TritonPackRepository",
                "CSystemShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(name: "TritonPackLint", dependencies: ["TritonPackModels", "TritonPackRepository"]),
        .target(
            name: "TritonPackServing",
            dependencies: [
                "TritonPackModels",
                "TritonPackRepository",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            plugins: ["EmbedFiles"]
        ),
        .target(
            name: "TritonPackBundle",
            dependencies: [
                "TritonPackModels",
                "TritonPackRepository",
                "TritonPackLint",
                "TritonPackServing",
                "CLibzip",
                "CZipSupport",
                "CSystemShims",
            ],
            plugins: ["EmbedFiles"]
        ),
        // The operations the commands call (pack, promote, smoke, tune, rollout), over every layer.
        .target(
            name: "TritonPackKit",
            dependencies: [
                "TritonPackModels",
                "TritonPackRepository",
                "TritonPackS3",
                "TritonPackLint",
                "TritonPackServing",
                "TritonPackBundle",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "tritonpack",
            dependencies: [
                "TritonPackKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["TritonPackKit", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "TritonPackKitTests",
            dependencies: ["TritonPackKit", "TestSupport"],
            path: "Tests/TritonPackKitTests"
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["TritonPackKit", "TestSupport", "tritonpack"],
            path: "Tests/IntegrationTests"
        ),
    ],
    cxxLanguageStandard: .cxx17
)
