import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The pure parts of smoke: binary tensor requests and responses, tensor data, .npy files, the
/// /proc socket table, the timed loop.
final class BinaryTensorCodecTests: XCTestCase {
    func floats(_ values: [Float]) -> Data {
        var data = Data()
        for value in values { withUnsafeBytes(of: value) { data.append(contentsOf: $0) } }
        return data
    }

    func testRequestIsTheJSONHeaderThenEachInputsBytes() throws {
        let a = TensorData(dataType: .typeFp32, shape: [1, 2], bytes: floats([1, 2]))
        let b = TensorData(dataType: .typeString, shape: [1], bytes: Data([2, 0, 0, 0]) + Data("hi".utf8))
        let request = try BinaryTensorCodec.encode(model: "m", version: 3, inputs: [("A", a), ("B", b)], outputs: ["Y"])
        XCTAssertEqual(request.path, "v2/models/m/versions/3/infer")
        XCTAssertEqual(request.body.count, request.headerLength + a.bytes.count + b.bytes.count)
        XCTAssertEqual(request.body.suffix(a.bytes.count + b.bytes.count), a.bytes + b.bytes)
        let header = try XCTUnwrap(
            JSONSerialization.jsonObject(with: request.body.prefix(request.headerLength)) as? [String: Any])
        let inputs = try XCTUnwrap(header["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.map { $0["name"] as? String }, ["A", "B"])
        XCTAssertEqual(inputs.map { $0["datatype"] as? String }, ["FP32", "BYTES"])
        XCTAssertEqual(inputs[0]["shape"] as? [Int], [1, 2])
        XCTAssertEqual((inputs[1]["parameters"] as? [String: Any])?["binary_data_size"] as? Int, 6)
        let outputs = try XCTUnwrap(header["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.first?["name"] as? String, "Y")
        XCTAssertEqual((outputs.first?["parameters"] as? [String: Any])?["binary_data"] as? Bool, true)
    }

    func testPathWithoutVersion() throws {
        XCTAssertEqual(BinaryTensorCodec.path(model: "m", version: nil), "v2/models/m/infer")
    }

    func response(_ outputs: [[String: Any]], tail: Data) throws -> (Data, Int) {
        let json = try JSONSerialization.data(withJSONObject: ["model_name": "m", "outputs": outputs])
        return (json + tail, json.count)
    }

    func testBinaryOutputsAreCutFromTheBodyInOrder() throws {
        let (body, length) = try response(
            [
                ["name": "X", "datatype": "FP32", "shape": [1, 2], "parameters": ["binary_data_size": 8]],
                ["name": "Y", "datatype": "INT8", "shape": [3], "parameters": ["binary_data_size": 3]],
            ], tail: floats([5, 6]) + Data([1, 2, 255]))
        let decoded = try BinaryTensorCodec.decode(body, headerLength: length)
        XCTAssertEqual(decoded["X"], TensorData(dataType: .typeFp32, shape: [1, 2], bytes: floats([5, 6])))
        XCTAssertEqual(decoded["Y"]?.doubles(), [1, 2, -1])
    }

    func testJSONOutputsBecomeBinary() throws {
        let (body, _) = try response(
            [
                ["name": "X", "datatype": "FP32", "shape": [2], "data": [1.5, -2]],
                ["name": "S", "datatype": "BYTES", "shape": [1], "data": ["ab"]],
            ], tail: Data())
        let decoded = try BinaryTensorCodec.decode(body, headerLength: nil)
        XCTAssertEqual(decoded["X"]?.bytes, floats([1.5, -2]))
        XCTAssertEqual(decoded["S"]?.bytes, Data([2, 0, 0, 0]) + Data("ab".utf8))
        XCTAssertEqual(decoded["S"]?.dataType, .typeString)
    }

    func testTruncatedAndUnreadableResponsesAreErrors() throws {
        let (body, length) = try response(
            [["name": "X", "datatype": "FP32", "shape": [2], "parameters": ["binary_data_size": 8]]], tail: floats([1]))
        XCTAssertThrowsError(try BinaryTensorCodec.decode(body, headerLength: length)) { error in
            XCTAssertEqual((error as? TritonPackError)?.message, "truncated binary output X")
        }
        XCTAssertThrowsError(try BinaryTensorCodec.decode(Data("not json".utf8), headerLength: nil))
        XCTAssertThrowsError(try BinaryTensorCodec.decode(body, headerLength: body.count + 1))
    }

    func testErrorMessageIsTheErrorFieldOrTheBody() {
        XCTAssertEqual(BinaryTensorCodec.errorMessage(Data(#"{"error":"no such model"}"#.utf8)), "no such model")
        XCTAssertEqual(BinaryTensorCodec.errorMessage(Data("plain".utf8)), "plain")
    }
}

final class TensorDataTests: XCTestCase {
    func testWireNamesRoundTrip() {
        for type in [Inference_DataType.typeFp32, .typeFp16, .typeBf16, .typeInt64, .typeUint8, .typeBool, .typeString] {
            XCTAssertEqual(TensorData.type(wireName: TensorData.wireName(type)), type)
        }
        XCTAssertEqual(TensorData.wireName(.typeString), "BYTES")
        XCTAssertEqual(TensorData.wireName(.typeFp32), "FP32")
        XCTAssertNil(TensorData.type(wireName: "COMPLEX"))
    }

    func testDoublesReadEachType() {
        func tensor<T>(_ type: Inference_DataType, _ values: [T]) -> TensorData {
            var data = Data()
            for value in values { withUnsafeBytes(of: value) { data.append(contentsOf: $0) } }
            return TensorData(dataType: type, shape: [Int64(values.count)], bytes: data)
        }
        XCTAssertEqual(tensor(.typeFp16, [Float16(1.5).bitPattern, Float16(-2).bitPattern]).doubles(), [1.5, -2])
        XCTAssertEqual(tensor(.typeBf16, [UInt16(Float(3).bitPattern >> 16)]).doubles(), [3])
        XCTAssertEqual(tensor(.typeInt64, [Int64(-7), 9]).doubles(), [-7, 9])
        XCTAssertEqual(tensor(.typeUint32, [UInt32(4_000_000_000)]).doubles(), [4_000_000_000])
        XCTAssertNil(tensor(.typeFp32, [Float(1)]).withShape([2]).doubles(), "fewer bytes than the shape needs")
        XCTAssertNil(TensorData(dataType: .typeString, shape: [1], bytes: Data([0, 0, 0, 0])).doubles())
    }

    func testSyntheticDataIsSeededAndSized() {
        let a = TensorData.synthetic(.typeFp32, shape: [2, 3], seed: 7)
        XCTAssertEqual(a, TensorData.synthetic(.typeFp32, shape: [2, 3], seed: 7))
        XCTAssertNotEqual(a, TensorData.synthetic(.typeFp32, shape: [2, 3], seed: 8))
        XCTAssertEqual(a.bytes.count, 24)
        XCTAssertEqual(a.elementCount, 6)
        XCTAssertTrue(a.doubles()!.allSatisfy { $0 >= -1 && $0 <= 1 })
        XCTAssertEqual(TensorData.synthetic(.typeFp16, shape: [4], seed: 1).bytes.count, 8)
        XCTAssertTrue(TensorData.synthetic(.typeBool, shape: [16], seed: 1).doubles()!.allSatisfy { $0 == 0 || $0 == 1 })
        let strings = TensorData.synthetic(.typeString, shape: [2], seed: 1)
        let length = Int(strings.bytes[0])
        XCTAssertTrue(String(decoding: strings.bytes[4..<4 + length], as: UTF8.self).hasPrefix("item"))
    }
}

extension TensorData {
    fileprivate func withShape(_ shape: [Int64]) -> TensorData { TensorData(dataType: dataType, shape: shape, bytes: bytes) }
}

final class NPYTests: XCTestCase {
    func testWriteThenReadGivesTheSameTensor() throws {
        let folder = try temporaryDirectory(self)
        for tensor in [
            TensorData.synthetic(.typeFp32, shape: [2, 3], seed: 1), TensorData.synthetic(.typeInt64, shape: [5], seed: 2),
            TensorData.synthetic(.typeUint8, shape: [1, 1, 4], seed: 3), TensorData.synthetic(.typeFp64, shape: [3], seed: 4),
        ] {
            let url = folder.appendingPathComponent("t.npy")
            try? FileManager.default.removeItem(at: url)
            try NPY.write(tensor, to: url)
            XCTAssertEqual(try NPY.read(url), tensor)
            let data = try Data(contentsOf: url)
            let headerLength = Int(data[8]) | Int(data[9]) << 8
            XCTAssertEqual((10 + headerLength) % 64, 0, "the data starts 64-byte aligned")
        }
    }

    func testOneDimensionalShapeIsATuple() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("v.npy")
        try NPY.write(TensorData.synthetic(.typeInt32, shape: [4], seed: 0), to: url)
        XCTAssertTrue(String(decoding: try Data(contentsOf: url), as: UTF8.self).contains("'shape': (4,)"))
    }

    /// A .npy file as NumPy writes it (version 1 header), with the given dtype, shape and payload.
    func npy(_ descr: String, _ shape: String, fortran: Bool = false, _ payload: [UInt8]) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
            + Data(header.utf8) + Data(payload)
    }

    func read(_ data: Data) throws -> TensorData {
        let url = try temporaryDirectory(self).appendingPathComponent("x.npy")
        try data.write(to: url)
        return try NPY.read(url)
    }

    func testFixedWidthStringsBecomeBytesElements() throws {
        let bytes = try read(npy("|S3", "(2,)", Array("ab\0xyz".utf8)))
        XCTAssertEqual(bytes.dataType, .typeString)
        XCTAssertEqual(bytes.bytes, Data([2, 0, 0, 0]) + Data("ab".utf8) + Data([3, 0, 0, 0]) + Data("xyz".utf8))
        let unicode = try read(npy("<U1", "(1,)", [0xE9, 0, 0, 0]))
        XCTAssertEqual(unicode.bytes, Data([2, 0, 0, 0]) + Data("é".utf8))
    }

    func testUnsupportedFilesAreRefused() throws {
        for (data, message) in [
            (npy(">f4", "(1,)", [0, 0, 0, 0]), "big-endian"), (npy("<f4", "(1,)", fortran: true, [0, 0, 0, 0]), "Fortran"),
            (npy("<f4", "(2,)", [0, 0, 0, 0]), "fewer bytes"), (npy("<c8", "(1,)", [0, 0, 0, 0, 0, 0, 0, 0]), "no Triton type"),
            (Data("not numpy at all".utf8), "not a .npy file"),
        ] {
            XCTAssertThrowsError(try read(data)) { error in
                XCTAssertEqual((error as? TritonPackError)?.kind, .refused)
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }
}

final class ListeningSocketsTests: XCTestCase {
    let table = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:83B9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 745543 1 0000000000000000 100 0 0 10 0
           1: 0100007F:9769 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 745206 1 0000000000000000 100 0 0 10 0
           2: 00000000:B52B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 744129 1 0000000000000000 100 0 0 10 0
           3: 0100007F:9769 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 745300 1 0000000000000000 20 4 30 10 -1
        """

    func testOnlyListeningLoopbackSocketsOfTheProcessCount() {
        XCTAssertEqual(ListeningSockets.loopbackPorts(inTable: table, inodes: [745206]), [0x9769])
        XCTAssertEqual(
            ListeningSockets.loopbackPorts(inTable: table, inodes: [744129, 745300]), [], "not loopback, not listening")
        XCTAssertEqual(ListeningSockets.loopbackPorts(inTable: table, inodes: []), [])
    }

    /// The gRPC endpoint of a smoke server listens on 127.0.0.2: its row is told apart by address.
    func testASecondLoopbackAddressIsToldApart() {
        let grpc =
            table
            + "\n   4: 0200007F:A001 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 745600 1 0 100 0 0 10 0"
        XCTAssertEqual(ListeningSockets.loopbackPorts(inTable: grpc, inodes: [745206, 745600]), [0x9769])
        XCTAssertEqual(ListeningSockets.loopbackPorts(inTable: grpc, inodes: [745206, 745600], address: "127.0.0.2"), [0xA001])
        // gRPC core listens on an IPv6 socket with the v4-mapped address (a row of net/tcp6).
        let tcp6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0000000000000000FFFF00000200007F:B543 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3971722 1 0 100 0 0 10 0
               1: 00000000000000000000000000000000:46CC 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3935761 1 0 100 0 0 10 0
            """
        XCTAssertEqual(
            ListeningSockets.loopbackPorts(inTable: tcp6, inodes: [3_971_722, 3_935_761], address: "127.0.0.2"), [0xB543])
        XCTAssertEqual(ListeningSockets.loopbackPorts(inTable: tcp6, inodes: [3_971_722, 3_935_761]), [])
    }

    /// A socket listening on 127.0.0.1 at a port the kernel picks, and that port.
    private func listeningSocket() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(fd, 1), 0)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    func testAListeningSocketOfThisProcessIsFound() throws {
        let (fd, port) = listeningSocket()
        defer { close(fd) }
        XCTAssertTrue(ListeningSockets.loopbackPorts(of: getpid()).contains(port))
    }

    /// The table of a busy machine is longer than the one page a single read of /proc returns.
    func testEveryListeningSocketIsFoundWhenTheTableSpansPages() throws {
        let sockets = (0..<80).map { _ in listeningSocket() }
        defer { for (fd, _) in sockets { close(fd) } }
        let found = Set(ListeningSockets.loopbackPorts(of: getpid()))
        XCTAssertEqual(found.intersection(sockets.map(\.port)).count, sockets.count)
    }
}

final class TimedRequestsTests: XCTestCase {
    final class Gauge: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var calls = 0
        private(set) var inFlight = 0
        private(set) var mostInFlight = 0
        @discardableResult
        func enter() -> Int {
            lock.withLock {
                calls += 1
                inFlight += 1
                mostInFlight = max(mostInFlight, inFlight)
                return calls
            }
        }
        func leave() { lock.withLock { inFlight -= 1 } }
    }

    func testEveryTurnIsTakenOnceWithAtMostTheConcurrencyInFlight() async throws {
        let gauge = Gauge()
        let outcome = try await TimedRequests(total: 50, concurrency: 4).run {
            gauge.enter()
            try await Task.sleep(for: .milliseconds(2))
            gauge.leave()
        }
        XCTAssertEqual(outcome.latencies.count, 50)
        XCTAssertEqual(gauge.calls, 50)
        XCTAssertEqual(gauge.mostInFlight, 4)
        XCTAssertTrue(outcome.latencies.allSatisfy { $0 >= 2 })
        XCTAssertGreaterThan(outcome.seconds, 0)
    }

    func testTheFirstFailureStopsTheRun() async {
        struct Refused: Error {}
        let gauge = Gauge()
        do {
            _ = try await TimedRequests(total: 1000, concurrency: 3).run {
                let call = gauge.enter()
                defer { gauge.leave() }
                if call == 5 { throw Refused() }
                try await Task.sleep(for: .milliseconds(1))
            }
            XCTFail("no error")
        } catch {
            XCTAssertTrue(error is Refused, "\(error)")
        }
        XCTAssertLessThan(gauge.calls, 1000)
    }
}

/// The gRPC messages and the words around them, without a server.
final class GRPCTensorCodecTests: XCTestCase {
    let tensor = TensorData(dataType: .typeFp32, shape: [1, 2], bytes: Data([0, 0, 128, 63, 0, 0, 0, 64]))

    func testInputsTravelAsRawContentsAndAStreamAsksForTheFinalFlag() {
        let request = GRPCTensorCodec.request(model: "m", version: 3, inputs: [("INPUT0", tensor)], outputs: ["OUTPUT0"])
        XCTAssertEqual(request.modelName, "m")
        XCTAssertEqual(request.modelVersion, "3")
        XCTAssertEqual(request.inputs.map(\.datatype), ["FP32"])
        XCTAssertEqual(request.inputs.first?.shape, [1, 2])
        XCTAssertEqual(request.rawInputContents, [tensor.bytes])
        XCTAssertEqual(request.outputs.map(\.name), ["OUTPUT0"])
        XCTAssertTrue(request.parameters.isEmpty)
        let streamed = GRPCTensorCodec.request(model: "m", version: nil, inputs: [], outputs: [], streamed: true)
        XCTAssertEqual(streamed.modelVersion, "")
        XCTAssertEqual(streamed.parameters["triton_enable_empty_final_response"]?.boolParam, true)
    }

    func testOutputsAreReadFromRawOrTypedContents() throws {
        var response = Inference_ModelInferResponse()
        var raw = Inference_ModelInferResponse.InferOutputTensor()
        raw.name = "A"
        raw.datatype = "FP32"
        raw.shape = [1, 2]
        var typed = Inference_ModelInferResponse.InferOutputTensor()
        typed.name = "B"
        typed.datatype = "INT32"
        typed.shape = [2]
        typed.contents.intContents = [7, -1]
        response.outputs = [raw, typed]
        response.rawOutputContents = [tensor.bytes]
        let outputs = try GRPCTensorCodec.outputs(of: response)
        XCTAssertEqual(outputs["A"], tensor)
        XCTAssertEqual(outputs["B"]?.doubles(), [7, -1])
        XCTAssertFalse(GRPCTensorCodec.isFinal(response))
        var flag = Inference_InferParameter()
        flag.boolParam = true
        response.parameters["triton_final_response"] = flag
        XCTAssertTrue(GRPCTensorCodec.isFinal(response))
    }

    func testTritonsRefusalOfAResponseOverTheLimitNamesTheLimit() throws {
        let triton = "Response has byte size 2147483701 which exceeds gRPC's byte size limit 2147483647."
        let failure = try XCTUnwrap(GRPCMessageLimit.failure(triton))
        XCTAssertTrue(
            failure.message.contains("the response (2147483701 bytes) is larger than gRPC's message limit of 2147483647 bytes"))
        XCTAssertTrue(failure.message.contains("HTTP has no such limit"))
        XCTAssertNil(GRPCMessageLimit.failure("model 'm' is not ready"))
    }

    func testAddressesAndTimeouts() {
        XCTAssertTrue(GRPCAddress.hostAndPort("a.example:8001")! == ("a.example", 8001))
        XCTAssertTrue(GRPCAddress.hostAndPort("grpc://10.0.0.5:9001/")! == ("10.0.0.5", 9001))
        XCTAssertNil(GRPCAddress.hostAndPort("a.example"))
        XCTAssertNil(GRPCAddress.hostAndPort("http://a:8000/x"))
        XCTAssertNil(GRPCAddress.hostAndPort(":8001"))
        XCTAssertEqual(GRPCWireConnection.grpcTimeout(120), "120000m")
        XCTAssertEqual(GRPCWireConnection.grpcTimeout(0), "1m")
        XCTAssertEqual(GRPCWireConnection.grpcTimeout(1e7), "10000000S")
    }
}
