import Foundation
import Testing
import TandemEngine

@Suite struct SafetensorsTests {
    /// Save then load gives bit-identical parameters and the same config.
    @Test func roundTripIsExact() throws {
        try withTemporaryDirectory { directory in
            let weights = try ModelWeights.random(config: smallConfig, seed: 3)
            let path = directory + "/model.safetensors"
            try weights.save(to: path)
            let loaded = try ModelWeights.load(path: path)
            #expect(loaded.config == weights.config)
            let same = (0..<weights.parameterCount).allSatisfy {
                loaded.storage[$0].bitPattern == weights.storage[$0].bitPattern
            }
            #expect(same, "a parameter changed in the round trip")
            #expect(!FileManager.default.fileExists(atPath: directory + "/.model.safetensors.tmp-\(getpid())"))
        }
    }

    /// F16 and BF16 tensors are read and widened exactly.
    @Test func readsHalfPrecision() throws {
        try withTemporaryDirectory { directory in
            let values: [Float] = [1, -2.5, 0.1875, 65504]
            let half = values.map { Float16($0).bitPattern }
            let brain = values.map { UInt16($0.bitPattern >> 16) }
            var body = Data()
            for bits in half + brain { withUnsafeBytes(of: bits.littleEndian) { body.append(contentsOf: $0) } }
            let header = #"{"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"#
                + #""b":{"dtype":"BF16","shape":[4],"data_offsets":[8,16]}}"#
            let path = directory + "/half.safetensors"
            try fileBytes(header: header, body: body).write(to: URL(fileURLWithPath: path))
            let (tensors, _) = try Safetensors.read(path: path)
            #expect(tensors["a"]!.shape == [2, 2])
            #expect(tensors["a"]!.values == values.map { Float(Float16($0)) })
            #expect(tensors["b"]!.values == brain.map { Float(bitPattern: UInt32($0) << 16) })
        }
    }

    func fileBytes(header: String, body: Data) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        data.append(body)
        return data
    }

    /// Each malformed file fails with an error naming the problem (and the tensor when there
    /// is one), never a crash.
    @Test func malformedFilesGiveClearErrors() throws {
        try withTemporaryDirectory { directory in
            let good = directory + "/good.safetensors"
            try ModelWeights.random(config: smallConfig, seed: 1).save(to: good)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
            let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
            let body = bytes.suffix(from: 8 + headerLength)

            func expectFailure(_ name: String, _ data: Data, mentions fragments: [String]) throws {
                let path = directory + "/\(name).safetensors"
                try data.write(to: URL(fileURLWithPath: path))
                do {
                    _ = try ModelWeights.load(path: path)
                    Issue.record("\(name): loading succeeded, expected an error mentioning \(fragments)")
                } catch let error as CheckpointError {
                    for fragment in fragments {
                        #expect(error.description.contains(fragment),
                                "\(name): '\(error)' does not mention '\(fragment)'")
                    }
                } catch {
                    Issue.record("\(name): unexpected error type \(error)")
                }
            }
            try expectFailure("empty", Data(), mentions: ["truncated"])
            try expectFailure("short_header", bytes.prefix(100), mentions: ["header length"])
            try expectFailure("truncated_body", bytes.prefix(bytes.count - 1000),
                              mentions: ["data_offsets", "truncated"])
            try expectFailure("not_json", fileBytes(header: String(repeating: "x", count: 16), body: body),
                              mentions: ["JSON"])
            let embedding = ParameterTable.embedding
            try expectFailure("wrong_dtype",
                              fileBytes(header: header.replacingOccurrences(of: "\"F32\"", with: "\"I64\""),
                                        body: body),
                              mentions: ["dtype I64"])
            try expectFailure("missing_tensor",
                              fileBytes(header: header.replacingOccurrences(of: embedding,
                                                                            with: "model.embed_tokens.typo"),
                                        body: body),
                              mentions: [embedding, "missing"])
            try expectFailure("mismatched_config",
                              fileBytes(header: header.replacingOccurrences(of: "\"width\":\"40\"",
                                                                            with: "\"width\":\"48\""),
                                        body: body),
                              mentions: ["shape"])
            try expectFailure("bad_metadata",
                              fileBytes(header: header.replacingOccurrences(of: "\"layer_count\":\"3\"",
                                                                            with: "\"layer_count\":\"three\""),
                                        body: body),
                              mentions: ["layer_count"])
            try expectFailure("missing_file", Data(), mentions: ["truncated"])
            do {
                _ = try ModelWeights.load(path: directory + "/nope.safetensors")
                Issue.record("loading a missing file succeeded")
            } catch let error as CheckpointError {
                #expect(error.description.contains("nope.safetensors"), "\(error)")
            }
        }
    }
}
