import BrainDomain
import Foundation

#if FUZZING
import CFuzzerDriver

/// `FUZZ_BODIES=1`: inputs are chunked bodies instead of heads (set once, before the driver).
nonisolated(unsafe) private var fuzzingBodies = false

/// libFuzzer's driver with the differential as its test: a disagreement stops the run, and
/// libFuzzer keeps the input as a crash.
@main
struct HeadParserFuzz {
    static func main() {
        fuzzingBodies = ProcessInfo.processInfo.environment["FUZZ_BODIES"] == "1"
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            guard let data else { return 0 }
            let bytes = Array(UnsafeBufferPointer(start: data, count: size))
            let problem = fuzzingBodies ? ChunkedBodyDifferential.disagreement(bytes) : HeadParserDifferential.disagreement(bytes)
            if let problem { fatalError(problem) }
            return 0
        }
        exit(status)
    }
}
#else
/// `head-parser-fuzz [--mutations N] [--seed S] FILE|DIR…`: every file (a corpus, crashes
/// found by the fuzzer) and N random mutations of each, judged by both parsers. Exit 1 on any
/// disagreement, listing them.
@main
struct HeadParserReplay {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var mutations = 0
        var bodyMutations = 0
        var seed: UInt64 = 1
        var files: [String] = []
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            switch argument {
            case "--mutations": mutations = Int(arguments.isEmpty ? "0" : arguments.removeFirst()) ?? 0
            case "--body-mutations": bodyMutations = Int(arguments.isEmpty ? "0" : arguments.removeFirst()) ?? 0
            case "--seed": seed = UInt64(arguments.isEmpty ? "1" : arguments.removeFirst()) ?? 1
            default: files.append(contentsOf: expand(argument))
            }
        }
        var random = SplitMix64(seed: seed)
        var findings: [String] = []
        var judged = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let bytes = Array(data)
            judged += 1
            if let problem = HeadParserDifferential.disagreement(bytes) { findings.append("\(file): \(problem)") }
            for _ in 0..<mutations {
                judged += 1
                if let problem = HeadParserDifferential.disagreement(HeadParserDifferential.mutate(bytes, random: &random)) {
                    findings.append("mutation of \(file): \(problem)")
                }
            }
        }
        // Chunked bodies: the built-in seeds and their mutations.
        for body in ChunkedBodyDifferential.seeds {
            for n in 0...bodyMutations {
                judged += 1
                let mutated = n == 0 ? body : HeadParserDifferential.mutate(body, random: &random)
                if let problem = ChunkedBodyDifferential.disagreement(mutated) { findings.append("chunked body: \(problem)") }
            }
        }
        print("judged \(judged) heads and bodies from \(files.count) files: \(findings.count) disagreements")
        for finding in findings.prefix(20) { print(finding) }
        if !findings.isEmpty || (files.isEmpty && bodyMutations == 0) { exit(1) }
    }

    static func expand(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }
    }
}
#endif
